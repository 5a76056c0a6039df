"""Instance families and sizes: (family, size, seed) -> Problem, pure and deterministic.

The sizes are the benchmark protocol's (DESIGN.md): easy / medium / hard per family. The four
protocol families (``PROTOCOL_FAMILIES``: set cover, auctions, independent set, facility
location) have shipped models and are what ``all`` means; the others (vertex cover, GISP, bin
packing, load balancing, lot sizing) are for training on new distributions.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np

from mipguide.instances.binpacking import BinPackingParams, generate_bin_packing
from mipguide.instances.cauction import AuctionParams, generate_auction
from mipguide.instances.facility import FacilityParams, generate_facility
from mipguide.instances.gisp import GispParams, generate_gisp
from mipguide.instances.indset import IndependentSetParams, generate_independent_set
from mipguide.instances.loadbalance import LoadBalanceParams, generate_load_balance
from mipguide.instances.lotsizing import LotSizingParams, generate_lot_sizing
from mipguide.instances.setcover import SetCoverParams, generate_set_cover
from mipguide.instances.vertexcover import VertexCoverParams, generate_vertex_cover
from mipguide.problem.model import Problem


class Family(StrEnum):
    SET_COVER = "setcover"
    COMBINATORIAL_AUCTION = "cauction"
    INDEPENDENT_SET = "indset"
    FACILITY_LOCATION = "facility"
    VERTEX_COVER = "vertexcover"
    GISP = "gisp"
    BIN_PACKING = "binpacking"
    LOAD_BALANCE = "loadbalance"
    LOT_SIZING = "lotsizing"


# the benchmark protocol's families, with shipped models; ``all`` on the command line
PROTOCOL_FAMILIES = (
    Family.SET_COVER,
    Family.COMBINATORIAL_AUCTION,
    Family.INDEPENDENT_SET,
    Family.FACILITY_LOCATION,
)


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
    Family.VERTEX_COVER: {
        Size.EASY: VertexCoverParams(n_nodes=500),
        Size.MEDIUM: VertexCoverParams(n_nodes=1000),
        Size.HARD: VertexCoverParams(n_nodes=2000),
    },
    Family.GISP: {
        Size.EASY: GispParams(n_nodes=150),
        Size.MEDIUM: GispParams(n_nodes=250),
        Size.HARD: GispParams(n_nodes=350),
    },
    Family.BIN_PACKING: {
        Size.EASY: BinPackingParams(n_items=40),
        Size.MEDIUM: BinPackingParams(n_items=70),
        Size.HARD: BinPackingParams(n_items=100),
    },
    Family.LOAD_BALANCE: {
        Size.EASY: LoadBalanceParams(n_workloads=40, n_servers=24),
        Size.MEDIUM: LoadBalanceParams(n_workloads=60, n_servers=36),
        Size.HARD: LoadBalanceParams(n_workloads=100, n_servers=60),
    },
    Family.LOT_SIZING: {
        Size.EASY: LotSizingParams(n_items=15, n_periods=15),
        Size.MEDIUM: LotSizingParams(n_items=20, n_periods=20),
        Size.HARD: LotSizingParams(n_items=30, n_periods=30),
    },
}

_BUILDERS: dict[Family, Callable[[Any, np.random.Generator, str], Problem]] = {
    Family.SET_COVER: generate_set_cover,
    Family.COMBINATORIAL_AUCTION: generate_auction,
    Family.INDEPENDENT_SET: generate_independent_set,
    Family.FACILITY_LOCATION: generate_facility,
    Family.VERTEX_COVER: generate_vertex_cover,
    Family.GISP: generate_gisp,
    Family.BIN_PACKING: generate_bin_packing,
    Family.LOAD_BALANCE: generate_load_balance,
    Family.LOT_SIZING: generate_lot_sizing,
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
