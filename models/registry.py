"""Model registry: ``name@version`` <-> a directory with config.json, weights.safetensors,
card.json + card.md (training data, seed, metrics) and weights.sha256 (checked at load).

Layout: ``<model_dir>/<name>@<version>/``. The model code is chosen by ``config.json["kind"]``:
``pas`` (``mipguide.models.pas.PaSNet``) or ``srg`` (``mipguide.models.srg.SrgNet``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from mipguide.models.cards import (  # noqa: F401 (re-exported)
    CARD_JSON,
    CONFIG,
    ModelError,
    ModelRef,
    list_models,
    model_path,
)
from mipguide.models.pas import PaSConfig, PaSNet
from mipguide.models.srg import SrgConfig, SrgNet

WEIGHTS = "weights.safetensors"
CHECKSUM = "weights.sha256"
CARD_MD = "card.md"
_KINDS = ("pas", "srg")


class ChecksumError(ModelError):
    """The weights do not match the recorded sha256."""


@dataclass(frozen=True)
class LoadedModel:
    ref: ModelRef
    model: PaSNet | SrgNet
    config: dict[str, Any]
    card: dict[str, Any]
    device: torch.device


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> cuda when available else cpu; otherwise the given torch device string."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(spec)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _card_markdown(ref: ModelRef, card: dict[str, Any]) -> str:
    lines = [f"# {ref}", ""]
    for key, value in card.items():
        if isinstance(value, dict):
            lines.append(f"- **{key}**:")
            lines.extend(f"  - {k}: {v}" for k, v in value.items())
        else:
            lines.append(f"- **{key}**: {value}")
    return "\n".join(lines) + "\n"


def model_kind(model: PaSNet | SrgNet) -> str:
    """``"pas"`` or ``"srg"``: the registry kind of a network."""
    return "srg" if isinstance(model, SrgNet) else "pas"


def save_model(model: PaSNet | SrgNet, directory: Path, card: dict[str, Any]) -> Path:
    """Write a model directory; its name must be ``NAME@VERSION``.

    Args:
        model: the trained network (weights are moved to CPU for saving).
        directory: target ``.../NAME@VERSION`` (created; files inside are replaced).
        card: training data, seed, metrics, ... (JSON-serializable).
    """
    directory = Path(directory)
    ref = ModelRef.parse(directory.name)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "kind": model_kind(model),
        "name": ref.name,
        "version": ref.version,
        **model.config.to_dict(),
    }
    (directory / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS), metadata={"ref": str(ref)})
    digest = sha256_file(directory / WEIGHTS)
    (directory / CHECKSUM).write_text(f"{digest}  {WEIGHTS}\n")
    full_card = {"model": str(ref), "weights_sha256": digest, **card}
    (directory / CARD_JSON).write_text(json.dumps(full_card, indent=2, default=str) + "\n")
    (directory / CARD_MD).write_text(_card_markdown(ref, full_card))
    return directory


def update_card(directory: Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into a registered model's card (card.json and card.md; a None value
    removes its key); the weights and their checksum stay as they are. Returns the new card."""
    directory = Path(directory)
    card = json.loads((directory / CARD_JSON).read_text())
    for key, value in changes.items():
        if value is None:
            card.pop(key, None)
        else:
            card[key] = value
    (directory / CARD_JSON).write_text(json.dumps(card, indent=2, default=str) + "\n")
    (directory / CARD_MD).write_text(_card_markdown(ModelRef.parse(directory.name), card))
    return dict(card)


def load_model(ref: ModelRef | str, model_dir: Path, device: str = "cpu") -> LoadedModel:
    """Resolve ``name@version`` under ``model_dir``, verify the checksum, build and load.

    Raises:
        ModelError: malformed reference, missing directory/files, unknown kind.
        ChecksumError: the weights file does not match weights.sha256.
    """
    r = ModelRef.parse(ref) if isinstance(ref, str) else ref
    directory = model_path(model_dir, r)
    for f in (CONFIG, WEIGHTS, CHECKSUM):
        if not (directory / f).is_file():
            raise ModelError(f"model {r}: missing {directory / f}")
    expected = (directory / CHECKSUM).read_text().split()[0]
    actual = sha256_file(directory / WEIGHTS)
    if actual != expected:
        raise ChecksumError(f"model {r}: weights sha256 {actual} != recorded {expected}")
    config = json.loads((directory / CONFIG).read_text())
    kind = config.get("kind")
    if kind not in _KINDS:
        raise ModelError(f"model {r}: unknown kind {kind!r}")
    net = _network(kind, config)
    dev = resolve_device(device)
    net.load_state_dict(load_file(str(directory / WEIGHTS), device="cpu"))
    net.to(dev).eval()
    card_file = directory / CARD_JSON
    card = json.loads(card_file.read_text()) if card_file.is_file() else {}
    return LoadedModel(ref=r, model=net, config=config, card=card, device=dev)


def _network(kind: str, config: dict[str, Any]) -> PaSNet | SrgNet:
    """An untrained network of ``kind`` shaped by config.json."""
    if kind == "srg":
        fields = set(SrgConfig.__dataclass_fields__)
        return SrgNet(SrgConfig(**{k: v for k, v in config.items() if k in fields}))
    fields = set(PaSConfig.__dataclass_fields__)
    return PaSNet(PaSConfig(**{k: v for k, v in config.items() if k in fields}))
