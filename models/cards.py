"""The registry's files without the networks: model references, directories and cards (no
torch), for what only needs to know which models exist and what they cover (the API at submit).
"""

from __future__ import annotations

import json
import re
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


def model_cards(model_dir: Path, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(ref, card) of every registered model, or of those of one kind (``pas``, ``srg``); a
    model without a card has an empty one, one without a kind in its config is ``pas``."""
    out = []
    for ref in list_models(model_dir):
        directory = model_path(model_dir, ref)
        if kind is not None:
            config = json.loads((directory / CONFIG).read_text())
            if config.get("kind", "pas") != kind:
                continue
        card_file = directory / CARD_JSON
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        out.append((str(ref), card))
    return out
