"""Trust-region search and completion, shared by PaS and SRG (DESIGN step 6):
(Problem, region, start, budget) -> one SolveOutput with the best verified solution.

1. the trust-region subproblem (``trust_region``) under ``sub_share`` of the remaining budget;
   when it is proven infeasible, Delta is widened (``widen`` times), then the full model takes
   over; when no stage has improved the incumbent for ``stall`` of the remaining budget, the
   subproblem is stopped early (``StallInterrupt``);
   With ``sub_heuristics`` the subproblem runs under the backend's settings for finding
   solutions rather than bounds (``SUB_HEURISTIC_PARAMS``), as a solver's own large-
   neighbourhood heuristics run their sub-MIPs; the completion keeps the user's settings;
2. LNS rounds around the incumbent for ``lns`` of the remaining budget (``lns``: sub-MIPs
   with a share of the binaries freed, drawn where the guide disagrees with the incumbent),
   under the subproblem's settings (with ``lns_cuts``, keeping the cutting planes);
3. the completion: the full model with the best solution as warm start (from scratch with
   ``complete_warm=False``) and the rest of the budget, so optimality is still proven when time
   allows (skipped with ``complete=False``); with ``complete_heuristics``, under the backend's
   ``COMPLETION_HEURISTIC_PARAMS`` (more solutions late in the budget, a slower proof). With
   ``interleave`` and a backend that runs sessions (SCIP), the completion starts with the LNS
   rounds instead and runs in slices between them (``TreeSlices``).

Every stage runs with SCIP's LP pricing rule ``lp_pricing`` when it is set (``search_options``).

Only the completion's dual bound is reported: a bound inside the region is not one of the
original problem. A subproblem's "infeasible" or "optimal" says nothing about the original
problem, so without a completion the status is at most feasible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from service.pipeline.lns import LnsOutcome, LnsParams, run_lns
from service.pipeline.trace import Trace
from service.pipeline.trust_region import Region, apply_region
from service.problem.model import Problem
from service.problem.verify import verify
from service.solvers.base import SolverBackend, SolverSession
from service.solvers.common import gap_closed
from service.solvers.types import (
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)

# Below this many seconds a stage is not started (building the model alone takes longer).
MIN_STAGE_SECONDS = 0.05
# ``interleave``: the bounds of a tree slice's length over the LNS round before it
TREE_MIN_RATIO = 0.1
TREE_MAX_RATIO = 16.0

# backend -> parameters for a subproblem solved for its solutions (``sub_heuristics``): no
# cutting planes (the region's bound is never reported) and aggressive primal heuristics.
# Backends without an entry solve the subproblem with the user's parameters alone.
SUB_HEURISTIC_PARAMS: dict[str, dict[str, str]] = {
    "scip": {"separating": "off", "heuristics": "aggressive"},
}
# backend -> parameters of a completion run for more solutions (``complete_heuristics``):
# aggressive primal heuristics, cutting planes as the user set them (the bound still closes).
COMPLETION_HEURISTIC_PARAMS: dict[str, dict[str, str]] = {
    "scip": {"heuristics": "aggressive"},
}
# backend -> parameters of the LNS rounds with ``sub_heuristics`` and ``lns_cuts``: the
# completion's (aggressive primal heuristics, cutting planes kept). Why: at the hard size (set
# cover, seeds 2000 and 2004) the rounds freeing 45 % of the binaries never ended within their
# 1.8 s without cuts (nor with SCIP's defaults in the rounds).
LNS_CUT_PARAMS = COMPLETION_HEURISTIC_PARAMS


class SearchParams(LnsParams, Protocol):
    """What the search needs of a mode's parameters (``PasParams``, ``SrgParams``)."""

    @property
    def sub_share(self) -> float: ...
    @property
    def stall(self) -> float: ...
    @property
    def widen(self) -> int: ...
    @property
    def grow(self) -> float: ...
    @property
    def complete(self) -> bool: ...
    @property
    def sub_time_cap(self) -> float: ...
    @property
    def sub_heuristics(self) -> bool: ...
    @property
    def complete_heuristics(self) -> bool: ...
    @property
    def lns_cuts(self) -> bool: ...
    @property
    def interleave(self) -> bool: ...
    @property
    def complete_warm(self) -> bool: ...
    @property
    def lp_pricing(self) -> str: ...


@dataclass
class Best:
    """The best verified solution so far (original problem)."""

    x: np.ndarray | None = None
    objective: float | None = None

    def consider(self, problem: Problem, x: np.ndarray | None) -> bool:
        if x is None or np.isnan(x).any() or not verify(problem, x).feasible:
            return False
        obj = problem.objective_value(x)
        if self.objective is not None and problem.sense * obj >= problem.sense * self.objective:
            return False
        self.x, self.objective = np.asarray(x, dtype=np.float64), obj
        return True


@dataclass
class SubOutcome:
    region: Region
    widened: int = 0
    grown: int = 0
    last: SolveOutput | None = None
    stalled: bool = False


@dataclass(frozen=True)
class SearchOutcome:
    """Attributes:
    output: for ``finish``: the best verified x, the completion's status and bound.
    sub: the subproblem's last region (Delta after widening), widenings and output.
    completed: the completion ran.
    sub_end: trace time at which the subproblem ended (the LNS or the completion started).
    lns: the LNS rounds (``lns``); lns_end: trace time at which they ended.
    """

    output: SolveOutput
    sub: SubOutcome
    completed: bool
    sub_end: float
    lns: LnsOutcome
    lns_end: float


def remaining(options: SolveOptions, trace: Trace) -> float | None:
    if options.time_limit is None:
        return None
    return max(0.0, options.time_limit - trace.elapsed())


def search_region(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    params: SearchParams,
    region: Region,
    start: np.ndarray,
    best: Best,
    trace: Trace,
    interrupt: Interrupt | None,
    label: str = "guided search",
    guide: tuple[np.ndarray, np.ndarray] | None = None,
) -> SearchOutcome:
    """Subproblem (widened while infeasible), LNS rounds around the incumbent (``lns``), then
    the completion on the full model.

    Args:
        start: handed to the stages when ``best`` holds no solution (full or partial, NaN
            where unknown).
        best: updated with every verified improvement.
        label: the mode's name in the termination detail when there is no completion.
        guide: (binary indices, P(x = 1) on them) weighting the LNS neighbourhoods (None:
            uniform).
    """
    options = search_options(options, backend.name, params.lp_pricing)
    sub = solve_subproblem(problem, backend, options, params, region, start, best, trace, interrupt)
    sub_end = trace.elapsed()
    lns = LnsOutcome(free=params.lns_free)
    full: SolveOutput | None = None
    left = remaining(options, trace)
    complete_options = stage_options(
        options, COMPLETION_HEURISTIC_PARAMS, backend.name, params.complete_heuristics
    )
    slices: TreeSlices | None = None
    if params.lns > 0:
        budget = params.lns * (params.sub_time_cap if left is None else left)
        span = None
        if params.interleave and params.complete and best.x is not None and left is not None:
            session = open_session(backend, problem, complete_options, best.x, trace)
            if session is not None:
                base = (1 - params.lns) / params.lns
                slices = TreeSlices(session, problem, best, interrupt, base)
                span = left
        sub_options = lns_options(options, backend.name, params.sub_heuristics, params.lns_cuts)
        lns = run_lns(
            problem,
            backend,
            options,
            sub_options,
            params,
            guide,
            best,
            trace,
            interrupt,
            budget,
            slices,
            span,
        )
    lns_end = trace.elapsed()
    left = remaining(options, trace)
    stopped = interrupt is not None and interrupt.is_set()
    if slices is not None:
        # the full model's search goes on where the last slice stopped, for the rest
        full = slices.finish(left or 0.0)
        lns.tree_slices = slices.slices
    elif params.complete and not stopped and (left is None or left > MIN_STAGE_SECONDS):
        warm = best.x if best.x is not None else start
        opts = replace(
            complete_options, time_limit=left, start=warm if params.complete_warm else None
        )
        full = backend.solve(problem, opts, trace.relay(keep_bound=True), interrupt)
        best.consider(problem, full.x)
    out = final_output(problem, backend, full, sub.last, best, stopped, label)
    return SearchOutcome(out, sub, full is not None, sub_end, lns, lns_end)


def open_session(
    backend: SolverBackend,
    problem: Problem,
    options: SolveOptions,
    start: np.ndarray,
    trace: Trace,
) -> SolverSession | None:
    """The full model's solve in slices (``interleave``), warm-started with ``start``; None
    when the backend cannot run one."""
    opener = getattr(backend, "open_session", None)
    if opener is None:
        return None
    session: SolverSession = opener(
        problem, replace(options, time_limit=None, start=start), trace.relay(keep_bound=True)
    )
    return session


class TreeSlices:
    """The completion interleaved with the LNS rounds (``interleave``): after each round, a
    slice of the full model's search, which keeps its tree, cuts and incumbent between slices.

    A slice lasts ``ratio`` times the round before it. ``ratio`` starts at ``base`` (the LNS
    share's complement over it: 0.25 for ``lns`` 0.8) and doubles after every round that does
    not improve the incumbent (at most ``TREE_MAX_RATIO``), so the tree search takes over while
    the neighbourhoods hold nothing better; any improvement, by a round or by the tree, sets it
    back to ``base``. Improvements pass both ways: a round's to the tree search, the tree's to
    the next round's centre (through ``best``).
    """

    def __init__(
        self,
        session: SolverSession,
        problem: Problem,
        best: Best,
        interrupt: Interrupt | None,
        base: float,
    ) -> None:
        self.session, self.problem, self.best, self.interrupt = session, problem, best, interrupt
        self.base = max(TREE_MIN_RATIO, base)
        self.ratio = self.base
        self.slices = 0
        self.last: SolveOutput | None = None

    def __call__(self, seconds: float, improved: bool, left: float) -> bool:
        if improved and self.best.x is not None:
            self.session.offer(self.best.x)
        self.ratio = self.base if improved else min(TREE_MAX_RATIO, 2 * self.ratio)
        length = min(left, max(MIN_STAGE_SECONDS, self.ratio * seconds))
        if length <= MIN_STAGE_SECONDS:
            return False
        self.run(length)
        return self.session.finished

    def run(self, seconds: float) -> SolveOutput:
        self.last = self.session.run(seconds, self.interrupt)
        self.slices += 1
        if self.best.consider(self.problem, self.last.x):
            self.ratio = self.base
        return self.last

    def finish(self, seconds: float) -> SolveOutput | None:
        """The last slice (the rest of the budget, unless the search has ended); the
        session is closed."""
        try:
            stopped = self.interrupt is not None and self.interrupt.is_set()
            if not self.session.finished and not stopped and seconds > MIN_STAGE_SECONDS:
                if self.best.x is not None:
                    self.session.offer(self.best.x)
                self.run(seconds)
            return self.last
        finally:
            self.session.close()


def solve_subproblem(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    params: SearchParams,
    region: Region,
    start: np.ndarray,
    best: Best,
    trace: Trace,
    interrupt: Interrupt | None,
) -> SubOutcome:
    """Solve the trust-region subproblem, widening Delta while it is proven infeasible and
    freeing part of S while it is solved to optimality (``params.grow``)."""
    outcome = SubOutcome(region)
    if region.size == 0 or params.sub_share <= 0:
        return outcome
    left = remaining(options, trace)
    budget = params.sub_time_cap if left is None else params.sub_share * left
    total = params.sub_time_cap if left is None else left
    deadline = trace.elapsed() + budget
    stall = StallInterrupt(trace, params.stall * total, interrupt)
    sub_options = subproblem_options(options, backend.name, params.sub_heuristics)
    while True:
        left = deadline - trace.elapsed()
        if left <= MIN_STAGE_SECONDS or stall.is_set():
            return outcome
        warm = best.x if best.x is not None else start
        opts = replace(sub_options, time_limit=left, start=warm)
        out = backend.solve(
            apply_region(problem, outcome.region), opts, trace.relay(keep_bound=False), stall
        )
        outcome.last = out
        outcome.stalled = stall.stalled
        best.consider(problem, out.x)
        if out.status == Status.OPTIMAL and params.grow > 0:
            # the region is exhausted: a larger one, centred on the incumbent
            outcome.region = outcome.region.shrunk(params.grow, best.x)
            outcome.grown += 1
            if outcome.region.size == 0:
                return outcome
            continue
        if out.status != Status.INFEASIBLE or outcome.widened >= params.widen:
            return outcome
        outcome.region = outcome.region.widened()
        outcome.widened += 1


def search_options(options: SolveOptions, backend: str, lp_pricing: str) -> SolveOptions:
    """The options of every stage of the search: SCIP's ``lp/pricing`` set to ``lp_pricing``
    under the user's own parameters (unchanged for "" and for other backends)."""
    return stage_options(options, {"scip": {"lp/pricing": lp_pricing}}, backend, bool(lp_pricing))


def subproblem_options(options: SolveOptions, backend: str, heuristics: bool) -> SolveOptions:
    """The subproblem's options: with ``heuristics``, the backend's ``SUB_HEURISTIC_PARAMS``
    under the user's own parameters (a parameter the user set keeps the user's value)."""
    return stage_options(options, SUB_HEURISTIC_PARAMS, backend, heuristics)


def lns_options(options: SolveOptions, backend: str, heuristics: bool, cuts: bool) -> SolveOptions:
    """The LNS rounds' options: the subproblem's (``subproblem_options``), except that with
    ``cuts`` the backend's cutting planes stay on (``LNS_CUT_PARAMS`` instead of
    ``SUB_HEURISTIC_PARAMS``)."""
    table = LNS_CUT_PARAMS if cuts else SUB_HEURISTIC_PARAMS
    return stage_options(options, table, backend, heuristics)


def stage_options(
    options: SolveOptions, table: dict[str, dict[str, str]], backend: str, on: bool
) -> SolveOptions:
    """``options`` with ``table[backend]`` under the user's own parameters when ``on`` (a
    parameter the user set keeps the user's value); unchanged for a backend not in ``table``."""
    extra = table.get(backend, {}) if on else {}
    if not extra:
        return options
    return replace(options, params={**extra, **options.params})


class StallInterrupt(Interrupt):
    """Set when ``outer`` is set, or when the trace has not improved for ``seconds`` (counted
    from the later of this object's creation and the trace's last incumbent; 0: never).

    Measured at the hard size: a region search that finds nothing for a few seconds rarely
    does later, while the warm-started full model often improves at once."""

    def __init__(self, trace: Trace, seconds: float, outer: Interrupt | None) -> None:
        super().__init__()
        self.trace, self.seconds, self.outer = trace, seconds, outer
        self.since = trace.elapsed()
        self.stalled = False

    def is_set(self) -> bool:
        if self.outer is not None and self.outer.is_set():
            return True
        if self.seconds > 0 and not self.stalled:
            last = max(self.since, self.trace.items[-1].t if self.trace.items else 0.0)
            self.stalled = self.trace.elapsed() - last > self.seconds
        return self.stalled or super().is_set()


def final_output(
    problem: Problem,
    backend: SolverBackend,
    full: SolveOutput | None,
    sub: SolveOutput | None,
    best: Best,
    stopped: bool,
    label: str = "guided search",
) -> SolveOutput:
    """One SolveOutput for ``finish``: the best verified x, the completion's status and bound."""
    notes: list[str] = []
    if full is not None:
        notes.extend(full.warnings)
        status, termination, bound = full.status, full.termination, full.bound
        same = best.x is not None and full.x is not None and np.array_equal(best.x, full.x)
        if best.x is not None and not same:
            # The completion returned nothing, or something worse than an earlier stage
            # (e.g. its start was rejected): the earlier solution stands, proven only if the
            # bound closes the gap.
            status = Status.OPTIMAL if gap_closed(best.objective, bound) else Status.FEASIBLE
            if full.status == Status.INFEASIBLE:
                notes.append("the completion reported infeasible despite a verified solution")
                bound = None
        build, solve = full.build_seconds, full.solve_seconds
        nodes = full.nodes
    else:
        reason = TerminationReason.INTERRUPTED if stopped else TerminationReason.TIME_LIMIT
        detail = f"{label} without completion (no proof of optimality)"
        termination = Termination(reason, detail)
        status = Status.FEASIBLE if best.x is not None else Status.NO_SOLUTION
        bound = None
        build = sub.build_seconds if sub is not None else 0.0
        solve = sub.solve_seconds if sub is not None else 0.0
        nodes = sub.nodes if sub is not None else None
    return SolveOutput(
        status=status,
        termination=termination,
        x=best.x,
        objective=best.objective,
        bound=bound,
        solver=backend.name,
        solver_version=backend.version(),
        build_seconds=build,
        solve_seconds=solve,
        incumbents=(),
        nodes=nodes,
        warnings=tuple(notes),
    )
