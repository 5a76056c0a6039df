"""CLI argument parsing shared by the commands: KEY=VALUE pairs, guided parameters, families,
sizes and seed ranges. Every mistake is an ``InvalidOptionError`` naming the option."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mipguide.errors import InvalidOptionError

if TYPE_CHECKING:
    from mipguide.instances.registry import Family, Size


def key_values(pairs: list[str], option: str = "--param") -> dict[str, Any]:
    """``KEY=VALUE`` strings -> a dict; values are JSON-decoded when possible.

    Raises:
        InvalidOptionError: a pair without ``=``.
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidOptionError(option, f"expected KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def pas_overrides(pairs: list[str]) -> dict[str, Any]:
    """``--pas region.k0=0.5 --pas search.lns.share=0.8`` -> nested, validated overrides."""
    if not pairs:  # the parameter models (pydantic) load only when used
        return {}
    from mipguide.guidance.params import PasParams, dotted, parse_params

    values = dotted(key_values(pairs, "--pas"))
    parse_params(PasParams, "--pas", values)
    return values


def srg_overrides(pairs: list[str]) -> dict[str, Any]:
    """``--srg sampling.k=8`` -> nested, validated overrides."""
    if not pairs:
        return {}
    from mipguide.guidance.params import SrgParams, dotted, parse_params

    values = dotted(key_values(pairs, "--srg"))
    parse_params(SrgParams, "--srg", values)
    return values


def family_size_seeds(family: str, size: str, seeds: str) -> tuple[Family, Size, list[int]]:
    """Validate CLI spellings of a family, a size and a seed range."""
    from mipguide.instances.registry import Family, Size, parse_seeds

    if family not in {f.value for f in Family}:
        raise InvalidOptionError("family", f"unknown family {family!r}", [f.value for f in Family])
    if size not in {s.value for s in Size}:
        raise InvalidOptionError("--size", f"unknown size {size!r}", [s.value for s in Size])
    try:
        return Family(family), Size(size), parse_seeds(seeds)
    except ValueError as exc:
        raise InvalidOptionError("--seeds", str(exc)) from exc


def families(spec: str, size: str, seeds: str) -> tuple[list[Family], Size, list[int]]:
    """``all``, one family or a comma list, with a size and seeds (the same for each)."""
    from mipguide.instances.registry import PROTOCOL_FAMILIES

    if spec == "all":
        names = [f.value for f in PROTOCOL_FAMILIES]
    else:
        names = list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip())) or [spec]
    fams = [family_size_seeds(name, size, seeds)[0] for name in names]
    _, sz, seed_list = family_size_seeds(names[0], size, seeds)
    return fams, sz, seed_list
