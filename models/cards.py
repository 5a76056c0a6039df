"""The registry's files without the networks: model references, directories and cards (no
torch), for what only needs to know which models exist and what they cover (the API at submit).

A registry is one directory of ``NAME@VERSION`` folders, or a search path of several (the
user's own models, then the shipped ones): the first directory that holds a reference wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipguide.errors import MipguideError

CONFIG = "config.json"
CARD_JSON = "card.json"
_REF = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)@(?P<version>[A-Za-z0-9_.+-]+)$")


class ModelError(MipguideError):
    """A model reference is malformed, missing, or its files are damaged."""


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def parse(cls, ref: str) -> ModelRef:
        """``"pas-setcover@1"`` -> ModelRef. Raises ModelError when malformed."""
        m = _REF.match(ref)
        if m is None:
            raise ModelError(f"bad model reference {ref!r}: expected NAME@VERSION")
        return cls(m["name"], m["version"])


def model_path(model_dir: Path, ref: ModelRef | str) -> Path:
    r = ModelRef.parse(ref) if isinstance(ref, str) else ref
    return Path(model_dir) / str(r)


def list_models(model_dir: Path) -> list[ModelRef]:
    """All ``NAME@VERSION`` directories under model_dir that have a config."""
    root = Path(model_dir)
    if not root.is_dir():
        return []
    refs = []
    for d in sorted(root.iterdir()):
        if d.is_dir() and (d / CONFIG).is_file() and _REF.match(d.name):
            refs.append(ModelRef.parse(d.name))
    return refs


Registry = Path | Sequence[Path]


def _roots(registry: Registry) -> list[Path]:
    return [Path(registry)] if isinstance(registry, str | Path) else [Path(r) for r in registry]


def locate(registry: Registry, ref: str) -> Path:
    """The registry directory that holds ``ref`` (the first, on a search path).

    Raises:
        ModelError: malformed, or in none of the directories.
    """
    parsed = ModelRef.parse(ref)
    for root in _roots(registry):
        if (model_path(root, parsed) / CONFIG).is_file():
            return root
    raise ModelError(f"model {ref} not found")


def split_path_ref(text: str) -> tuple[Path | None, str]:
    """``DIR/NAME@VERSION`` (a model given by its folder) -> (DIR, ``NAME@VERSION``); a plain
    ``NAME@VERSION`` -> (None, it). Only local commands take folders; the API takes names."""
    path = Path(text)
    if len(path.parts) <= 1:
        return None, text
    return path.parent, path.name


def model_cards(registry: Registry, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(ref, card) of every registered model, or of those of one kind (``pas``, ``srg``); a
    model without a card has an empty one, one without a kind in its config is ``pas``. On a
    search path a reference is listed once, from the first directory that holds it."""
    out = []
    seen: set[str] = set()
    for model_dir, ref in ((root, r) for root in _roots(registry) for r in list_models(root)):
        if str(ref) in seen:
            continue
        seen.add(str(ref))
        directory = model_path(model_dir, ref)
        if kind is not None:
            config = json.loads((directory / CONFIG).read_text())
            if config.get("kind", "pas") != kind:
                continue
        card_file = directory / CARD_JSON
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        out.append((str(ref), card))
    return out
