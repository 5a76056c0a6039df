"""Predict-and-search parameters (no torch here: the job layer validates them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# SCIP's lp/pricing values ("" : SCIP's default), for ``lp_pricing``
LP_PRICINGS = ("", "l", "a", "f", "p", "s", "q", "d")
# the largest ``lns_stretch``
LNS_MAX_STRETCH = 10.0
# the search's true/false parameters, shared by PasParams and SrgParams (type-checked in both)
SEARCH_BOOLS = (
    "complete",
    "sub_heuristics",
    "complete_heuristics",
    "lns_cuts",
    "interleave",
    "complete_warm",
)


@dataclass(frozen=True)
class PasParams:
    """Predict-and-search parameters.

    Attributes:
        k0, k1: fractions of the binaries fixed near 0 / near 1 (S = the k0 most likely 0 and
            the k1 most likely 1, each side capped by the predicted count on that side).
        delta: Delta as a fraction of |S| (rounded up); 0 is hard fixing.
        sub_share: share of the remaining budget (after inference) for the subproblem.
        stall: the subproblem is stopped early when no stage has improved the incumbent for
            this share of the remaining budget (0: never); measured at hard size, a region
            search that finds nothing in the first seconds rarely does later, while the warm-
            started full model often improves at once.
        widen: how many times Delta is doubled when the subproblem is infeasible.
        grow: when the subproblem is solved to optimality within its budget, this share of S
            (the least confident part) is freed and the larger region solved again, centred
            on the incumbent (0, the default: go to the full model at once). Measured at the
            hard size (auctions, seeds 1500-1503, 60 s): 0.25 raised the primal integral from
            0.0123 to 0.0166; on the other families the subproblem never ended optimal.
        complete: continue on the full model (False: heuristic only, no proof).
        sub_time_cap: subproblem seconds when the solve has no time limit.
        sub_heuristics: solve the subproblem for solutions, not bounds (SCIP: cutting planes
            off, primal heuristics aggressive; see ``search.SUB_HEURISTIC_PARAMS``); the
            completion keeps the user's settings.
        complete_heuristics: run the completion for solutions as well as bounds (SCIP: primal
            heuristics aggressive, cutting planes kept; see
            ``search.COMPLETION_HEURISTIC_PARAMS``): more solutions late in the budget, a
            slower proof. The user's own settings win.
        start_seconds: on problems with non-binary variables, seconds (at most 5 % of the
            budget left) for completing the rounded prediction into a first incumbent by a
            solve with the binaries fixed (0: hand the solver the partial rounding only).
        lns: share of the budget left after the subproblem spent on LNS rounds around the
            incumbent before the completion (0: none; see ``service.pipeline.lns``).
        lns_free: share of the binaries freed in the first round (then adapted).
        lns_round: each round's time limit as a share of the LNS budget.
        lns_guide: how much the prediction steers which binaries are freed (0: uniform at
            random; 1: in proportion to |P(x_j = 1) - x_j| on the incumbent).
        lns_lp: weight of the full model's LP relaxation in the LNS guide (0: the prediction
            alone; 1: the LP solution alone, as in RINS); the LP gets at most 10 % of the LNS
            budget.
        lns_stretch: factor (>= 1) by which the LNS rounds' time limit grows after each
            neighbourhood solved to optimality without improvement (1: every round gets
            ``lns_round`` of the LNS budget).
        lns_relax: share of each LNS round's freed binaries chosen by the local-branching LP
            relaxation around the incumbent (among those whose LP value moved, in proportion
            to the move; LB-RELAX, see ``service.pipeline.lns``), the rest drawn as without
            it (0: none).
        lns_cuts: with ``sub_heuristics``, the LNS rounds keep SCIP's cutting planes (primal
            heuristics still aggressive; see ``search.LNS_CUT_PARAMS``) instead of running
            without them like the subproblem, meant to let the larger neighbourhoods be
            searched within a round (no effect without ``sub_heuristics``, when the rounds run
            under the user's settings). No card uses it (set cover validation, README).
        interleave: with ``lns``, the completion runs from the first LNS round on, in slices
            between the rounds, instead of after them (backends with sessions: SCIP; see
            ``search.TreeSlices``): its tree search is not restarted, and it takes over while
            the rounds find nothing. The rounds and slices share the whole budget left (only
            under a time limit; without one, or with another backend, the completion follows
            the rounds).
        complete_warm: the completion starts from the best solution so far (false: from
            scratch, the earlier stages' best still standing when it finds nothing better).
            Not used with ``interleave``, whose slices are handed every improvement.
        lp_pricing: SCIP's LP pricing rule (``lp/pricing``: l, a, f, p, s, q, d) for every
            stage of the search (subproblem, LNS rounds, completion); "" keeps SCIP's default,
            a ``lp/pricing`` the user sets wins, other backends ignore it. Measured at the
            hard size: the facility location LP relaxation takes 22 s with SCIP's default and
            7 s with "q" (quick-start steepest edge).
    """

    k0: float = 0.6
    k1: float = 0.02
    delta: float = 0.02
    sub_share: float = 0.5
    stall: float = 0.1
    widen: int = 2
    grow: float = 0.0
    complete: bool = True
    sub_time_cap: float = 30.0
    sub_heuristics: bool = False
    complete_heuristics: bool = False
    start_seconds: float = 2.0
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
        for name in SEARCH_BOOLS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for name in (
            "k0",
            "k1",
            "sub_share",
            "stall",
            "grow",
            "lns",
            "lns_guide",
            "lns_lp",
            "lns_relax",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if not self.delta >= 0:
            raise ValueError(f"delta must be >= 0, got {self.delta}")
        if not self.start_seconds >= 0:
            raise ValueError(f"start_seconds must be >= 0, got {self.start_seconds}")
        if not 0.0 < self.lns_free <= 1.0 or not 0.0 < self.lns_round <= 1.0:
            raise ValueError("lns_free and lns_round must be in (0, 1]")
        if not 1.0 <= self.lns_stretch <= LNS_MAX_STRETCH:
            raise ValueError(
                f"lns_stretch must be in [1, {LNS_MAX_STRETCH}], got {self.lns_stretch}"
            )
        if self.lp_pricing not in LP_PRICINGS:
            want = list(LP_PRICINGS)
            raise ValueError(f"lp_pricing must be one of {want}, got {self.lp_pricing!r}")
        if self.widen < 0 or self.sub_time_cap <= 0:
            raise ValueError("widen must be >= 0 and sub_time_cap > 0")

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> PasParams:
        """Build from a dict (unknown keys rejected with ValueError)."""
        values = dict(values or {})
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown PaS parameters {sorted(unknown)}")
        return cls(**values)


PAS_PARAM_NAMES = tuple(PasParams.__dataclass_fields__)
