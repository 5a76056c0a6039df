"""SRG parameters (no torch here: the job layer validates them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from service.pipeline.pas_params import LNS_MAX_STRETCH, LP_PRICINGS, SEARCH_BOOLS

REGIONS = ("consensus", "topk")
REPAIRS = ("auto", "dmmv", "greedy", "none")


@dataclass(frozen=True)
class SrgParams:
    """Parameters of ``mode=srg``: sampling, candidates, region, and the shared completion.

    Sampling (``service.pipeline.sample``):
        k: candidates sampled in one batch.
        steps: reverse-time steps.
        guidance: Lagrangian guidance on (False: the plain score model, like eta = 0).
        eta: guidance strength (the denoised estimate moves by eta * grad L per step).
        rho: step of the projected subgradient update of lambda.
        objective: weight of the normalized objective in L (0: feasibility only).
        seed: sampling seed (None: the solve's seed).
        sample_share: at most this share of the time limit goes to sampling (steps are
            reduced on graphs too big for ``steps`` forwards in that time; at least one).
        first_estimate: turn the first step's one-step estimate into the first incumbent
            before the other steps run (rounded and repaired or completed like PaS's
            prediction, within ``complete_seconds``).
    Candidates (``service.pipeline.candidates``):
        repair: how infeasible candidates are repaired: ``greedy`` (packing/covering rows),
            ``dmmv`` (min-max violation search, pure-integer problems), ``auto`` (greedy where
            it applies, else DMMV), ``none``.
        repair_seconds: time for the DMMV repair of the whole batch.
        complete_top: for problems with non-binary variables, how many of the best candidates
            get their other variables completed by a solve with the binaries fixed.
        complete_seconds: time cap of each such completion.
    Region (``service.pipeline.consensus``):
        region: ``consensus`` (S = binaries on which the candidates agree) or ``topk`` (PaS's
            choice on the candidates' mean, with k0, k1, topk_delta).
        agreement: smallest agreement (share of candidates with the majority value) in S.
        max_share: largest |S| as a fraction of the binaries (most agreeing first).
        delta_factor, delta_min: Delta = max(delta_min, ceil(delta_factor * median Hamming
            distance of the candidates to x^ on S)).
        k0, k1, topk_delta: the top-k region's fractions and Delta fraction.
    Completion (shared with PaS, ``service.pipeline.search``):
        sub_share, stall, widen, grow, complete, sub_time_cap, sub_heuristics,
            complete_heuristics, lns, lns_free, lns_round, lns_guide, lns_lp, lns_stretch,
            lns_relax, lns_cuts, interleave, lp_pricing: as in ``PasParams`` (the LNS guide is the
            candidates' mean).
    """

    k: int = 16
    steps: int = 20
    guidance: bool = True
    eta: float = 3.0
    rho: float = 1.0
    objective: float = 0.05
    seed: int | None = None
    sample_share: float = 0.25
    first_estimate: bool = True
    repair: str = "auto"
    repair_seconds: float = 0.2
    complete_top: int = 2
    complete_seconds: float = 2.0
    region: str = "consensus"
    agreement: float = 0.95
    max_share: float = 0.95
    delta_factor: float = 1.0
    delta_min: int = 1
    k0: float = 0.6
    k1: float = 0.02
    topk_delta: float = 0.02
    sub_share: float = 0.5
    stall: float = 0.1
    widen: int = 2
    grow: float = 0.0
    complete: bool = True
    sub_time_cap: float = 30.0
    sub_heuristics: bool = False
    complete_heuristics: bool = False
    lns: float = 0.0
    lns_free: float = 0.2
    lns_round: float = 0.05
    lns_guide: float = 0.5
    lns_lp: float = 0.0
    lns_stretch: float = 1.0
    lns_relax: float = 0.0
    lns_cuts: bool = False
    interleave: bool = False
    complete_warm: bool = True
    lp_pricing: str = ""

    def __post_init__(self) -> None:
        _check_types(self)
        checks = [
            ("k", 1 <= self.k <= 1024, "in [1, 1024]"),
            ("steps", 1 <= self.steps <= 1000, "in [1, 1000]"),
            ("eta", self.eta >= 0, ">= 0"),
            ("rho", self.rho >= 0, ">= 0"),
            ("objective", self.objective >= 0, ">= 0"),
            ("seed", self.seed is None or self.seed >= 0, ">= 0"),
            ("repair", self.repair in REPAIRS, f"one of {list(REPAIRS)}"),
            ("repair_seconds", self.repair_seconds >= 0, ">= 0"),
            ("complete_top", self.complete_top >= 0, ">= 0"),
            ("complete_seconds", self.complete_seconds > 0, "> 0"),
            ("region", self.region in REGIONS, f"one of {list(REGIONS)}"),
            ("agreement", 0.5 <= self.agreement <= 1.0, "in [0.5, 1]"),
            ("delta_factor", self.delta_factor >= 0, ">= 0"),
            ("delta_min", self.delta_min >= 0, ">= 0"),
            ("topk_delta", self.topk_delta >= 0, ">= 0"),
            ("widen", self.widen >= 0, ">= 0"),
            ("sub_time_cap", self.sub_time_cap > 0, "> 0"),
            ("lns_free", 0.0 < self.lns_free <= 1.0, "in (0, 1]"),
            ("lns_round", 0.0 < self.lns_round <= 1.0, "in (0, 1]"),
            (
                "lns_stretch",
                1.0 <= self.lns_stretch <= LNS_MAX_STRETCH,
                f"in [1, {LNS_MAX_STRETCH}]",
            ),
            ("lp_pricing", self.lp_pricing in LP_PRICINGS, f"one of {list(LP_PRICINGS)}"),
        ]
        checks += [(n, 0.0 <= getattr(self, n) <= 1.0, "in [0, 1]") for n in _FRACTIONS]
        for name, ok, want in checks:
            if not ok:
                raise ValueError(
                    f"SRG parameter {name} must be {want}, got {getattr(self, name)!r}"
                )

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> SrgParams:
        """Build from a dict (unknown keys rejected with ValueError naming them)."""
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown SRG parameters {sorted(unknown)}")
        return cls(**values)


_FRACTIONS = (
    "max_share",
    "k0",
    "k1",
    "sub_share",
    "stall",
    "sample_share",
    "grow",
    "lns",
    "lns_guide",
    "lns_lp",
    "lns_relax",
)
_INTS = ("k", "steps", "complete_top", "delta_min", "widen")
_BOOLS = ("guidance", "first_estimate", *SEARCH_BOOLS)
_STRS = ("repair", "region", "lp_pricing")


def _check_types(p: SrgParams) -> None:
    """Reject wrong types with a message naming the parameter (JSON gives strings, floats)."""
    for name in SRG_PARAM_NAMES:
        v = getattr(p, name)
        if name == "seed" and v is None:
            continue
        if name in _BOOLS:
            ok = isinstance(v, bool)
        elif name in _INTS or name == "seed":
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif name in _STRS:
            ok = isinstance(v, str)
        else:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not ok:
            raise ValueError(f"SRG parameter {name} has the wrong type: {v!r}")


SRG_PARAM_NAMES = tuple(SrgParams.__dataclass_fields__)
