"""Instance families and sizes: (family, size, seed) -> Problem, pure and deterministic.

The sizes are the benchmark protocol's (DESIGN.md): easy / medium / hard per family.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np

from mipguide.instances.cauction import AuctionParams, generate_auction
from mipguide.instances.facility import FacilityParams, generate_facility
from mipguide.instances.indset import IndependentSetParams, generate_independent_set
from mipguide.instances.setcover import SetCoverParams, generate_set_cover
from mipguide.problem.model import Problem


class Family(StrEnum):
    SET_COVER = "setcover"
    COMBINATORIAL_AUCTION = "cauction"
    INDEPENDENT_SET = "indset"
    FACILITY_LOCATION = "facility"


class Size(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


PARAMS: dict[Family, dict[Size, Any]] = {
    Family.SET_COVER: {
        Size.EASY: SetCoverParams(n_rows=500),
        Size.MEDIUM: SetCoverParams(n_rows=1000),
        Size.HARD: SetCoverParams(n_rows=2000),
    },
    Family.COMBINATORIAL_AUCTION: {
        Size.EASY: AuctionParams(n_items=100, n_bids=500),
        Size.MEDIUM: AuctionParams(n_items=200, n_bids=1000),
        Size.HARD: AuctionParams(n_items=300, n_bids=1500),
    },
    Family.INDEPENDENT_SET: {
        Size.EASY: IndependentSetParams(n_nodes=500),
        Size.MEDIUM: IndependentSetParams(n_nodes=1000),
        Size.HARD: IndependentSetParams(n_nodes=1500),
    },
    Family.FACILITY_LOCATION: {
        Size.EASY: FacilityParams(n_customers=100),
        Size.MEDIUM: FacilityParams(n_customers=200),
        Size.HARD: FacilityParams(n_customers=400),
    },
}

_BUILDERS: dict[Family, Callable[[Any, np.random.Generator, str], Problem]] = {
    Family.SET_COVER: generate_set_cover,
    Family.COMBINATORIAL_AUCTION: generate_auction,
    Family.INDEPENDENT_SET: generate_independent_set,
    Family.FACILITY_LOCATION: generate_facility,
}


def instance_name(family: Family | str, size: Size | str, seed: int) -> str:
    return f"{Family(family).value}-{Size(size).value}-{seed}"


def generate_with(family: Family | str, params: Any, seed: int, name: str | None = None) -> Problem:
    """An instance of ``family`` with explicit parameters (e.g. tiny ones for tests)."""
    fam = Family(family)
    rng = np.random.default_rng(seed)
    return _BUILDERS[fam](params, rng, name or f"{fam.value}-custom-{seed}")


def generate(family: Family | str, size: Size | str, seed: int) -> Problem:
    """The instance ``family``/``size`` with this seed; the same seed gives the same Problem.

    Raises:
        ValueError: unknown family or size.
    """
    fam, sz = Family(family), Size(size)
    return generate_with(fam, PARAMS[fam][sz], seed, instance_name(fam, sz, seed))


def parse_seeds(spec: str) -> list[int]:
    """``"A-B"`` (inclusive), ``"A"`` or ``"A,B,C"`` -> a list of seeds.

    Raises:
        ValueError: a malformed spec or B < A.
    """
    seeds: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        if not lo.strip().isdigit() or (sep and not hi.strip().isdigit()):
            raise ValueError(f"bad seed range {spec!r}: expected A-B, A or A,B,...")
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise ValueError(f"bad seed range {spec!r}: {b} < {a}")
        seeds.extend(range(a, b + 1))
    return seeds
