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
from pathlib import Path, PurePath
from typing import Any

from mipguide.errors import MipguideError

CONFIG = "config.json"
CARD_JSON = "card.json"
_REF = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)@(?P<version>[A-Za-z0-9_.+-]+)$")


class ModelError(MipguideError):
    """A model reference is malformed, missing, or its files are damaged."""


class ModelNotFoundError(ModelError):
    """No registry directory holds the model."""


class ModelExistsError(ModelError):
    """A model of that reference exists already (references name one set of weights)."""


class ModelForbiddenError(ModelError):
    """The model is not the caller's to change (shipped, or the server's own)."""


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


def model_stamp(folder: Path) -> tuple[int, int]:
    """When a model's config and card last changed: a model trained again under the same
    reference, or whose card was rewritten, has a new stamp (caches key on it)."""
    card = folder / CARD_JSON
    return (
        (folder / CONFIG).stat().st_mtime_ns,
        card.stat().st_mtime_ns if card.is_file() else 0,
    )


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


def registry_roots(registry: Registry) -> list[Path]:
    """The folders of a registry (one, or a search path of them), in search order."""
    return [Path(registry)] if isinstance(registry, str | Path) else [Path(r) for r in registry]


def locate(registry: Registry, ref: str) -> Path:
    """The registry directory that holds ``ref`` (the first, on a search path).

    Raises:
        ModelError: malformed, or in none of the directories.
    """
    parsed = ModelRef.parse(ref)
    for root in registry_roots(registry):
        if (model_path(root, parsed) / CONFIG).is_file():
            return root
    raise ModelNotFoundError(f"model {ref} not found")


def split_path_ref(text: str) -> tuple[Path | None, str]:
    """``DIR/NAME@VERSION`` (a model given by its folder) -> (DIR, ``NAME@VERSION``); a plain
    ``NAME@VERSION`` -> (None, it). Only local commands take folders; the API takes names."""
    path = Path(text)
    if len(path.parts) <= 1:
        return None, text
    return path.parent, path.name


@dataclass(frozen=True)
class ModelInfo:
    """A registered model as listings show it.

    Attributes:
        ref: ``NAME@VERSION``.
        kind: ``pas`` or ``srg``.
        root: the registry directory that holds it.
        card: its card (empty when it has none).
    """

    ref: str
    kind: str
    root: Path
    card: dict[str, Any]


def model_kind(directory: Path) -> str:
    """The kind of the model in ``directory`` (``.../NAME@VERSION``): its config's, ``pas``
    when the config names none."""
    return str(json.loads((directory / CONFIG).read_text()).get("kind", "pas"))


def models(registry: Registry, kind: str | None = None) -> list[ModelInfo]:
    """Every registered model (or those of one kind), each reference once: from the first
    directory of a search path that holds it. A model without a kind in its config is ``pas``.
    """
    out = []
    seen: set[str] = set()
    for root, ref in ((d, r) for d in registry_roots(registry) for r in list_models(d)):
        if str(ref) in seen:
            continue
        seen.add(str(ref))
        directory = model_path(root, ref)
        found = model_kind(directory)
        if kind is not None and found != kind:
            continue
        card_file = directory / CARD_JSON
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        out.append(ModelInfo(str(ref), found, root, card))
    return out


def find_model(registry: Registry, ref: str) -> ModelInfo:
    """The registered model ``ref`` (the first on a search path).

    Raises:
        ModelError: a malformed reference; ModelNotFoundError: no such model.
    """
    ModelRef.parse(ref)
    for m in models(registry):
        if m.ref == ref:
            return m
    raise ModelNotFoundError(f"model {ref} not found")


def delete_model(own: Path, registry: Registry, ref: str) -> ModelInfo:
    """Delete ``ref`` from the caller's own directory ``own`` (the first on ``registry``).

    Raises:
        ModelError: malformed; ModelNotFoundError: not on the registry;
        ModelForbiddenError: found, but not in ``own``.
    """
    import shutil

    found = find_model(registry, ref)
    if found.root.resolve() != Path(own).resolve():
        raise ModelForbiddenError(
            f"model {ref} is not one of this key's own models (shipped or installed on the "
            "server); a key deletes only the models it trained"
        )
    target = model_path(own, ref)
    trash = target.with_name(f".{target.name}.deleted")
    target.rename(trash)  # gone from listings at once, even while the files are removed
    shutil.rmtree(trash, ignore_errors=True)
    return found


def model_cards(registry: Registry, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(ref, card) of every registered model, or of those of one kind (``pas``, ``srg``)."""
    return [(m.ref, m.card) for m in models(registry, kind)]


def summary(
    info: ModelInfo, shipped: Path, full: bool = False, own: Path | None = None
) -> dict[str, Any]:
    """What listings show of a model (the API's ``ModelPublic`` fields); ``full`` adds the card
    without the server's paths (training files by their names only). ``registry`` says whose it
    is: ``shipped``, ``user`` (the server's own registry) or ``key`` (the caller's, ``own``)."""
    card = info.card
    data = card.get("training_data", {})
    root = info.root.resolve()
    registry = "shipped" if root == Path(shipped).resolve() else "user"
    if own is not None and root == Path(own).resolve() and registry != "shipped":
        registry = "key"
    out: dict[str, Any] = {
        "ref": info.ref,
        "kind": info.kind,
        "registry": registry,
        "family": card.get("family"),
        "source": data.get("source", "generator"),
        "train_instances": len(data.get("train_instances", [])),
        "signature": [c.get("label", "") for c in card.get("signature", [])],
        "metrics": dict(card.get("metrics", {})),
    }
    if full:
        public = dict(card)
        if "files" in data:
            public["training_data"] = {**data, "files": [PurePath(f).name for f in data["files"]]}
        out["card"] = public
    return out
