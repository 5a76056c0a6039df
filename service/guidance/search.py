"""Trust-region search and completion, shared by PaS and SRG (DESIGN step 6):
(Problem, region, start, budget) -> one SolveOutput with the best verified solution.

1. the trust-region subproblem (``trust_region``) under ``subproblem.share`` of the remaining
   budget; when it is proven infeasible, Delta is widened (``subproblem.widen`` times), then
   the full model takes over; when no stage has improved the incumbent for
   ``subproblem.stall`` of the remaining budget, it is stopped early (``StallInterrupt``).
   With ``subproblem.heuristics`` it runs under the backend's settings for finding solutions
   rather than bounds (``SUB_HEURISTIC_PARAMS``), as a solver's own large-neighbourhood
   heuristics run their sub-MIPs; the completion keeps the caller's settings;
2. LNS rounds around the incumbent for ``lns.share`` of the remaining budget (``lns``: sub-MIPs
   with a share of the binaries freed, drawn where the guide disagrees with the incumbent),
   under the subproblem's settings; with ``lns.stall``, they end when no stage has improved
   the incumbent for that share of their budget, and the completion gets the rest;
3. the completion: the full model with the best solution as warm start (from scratch with
   ``completion.warm`` false) and the rest of the budget, so optimality is still proven when
   time allows (skipped with ``completion.run`` false); with ``completion.heuristics``, under
   the backend's ``COMPLETION_HEURISTIC_PARAMS`` (more solutions late in the budget, a slower
   proof).

Every stage runs with SCIP's LP pricing rule ``lp_pricing`` when it is set (``search_options``).

Only the completion's dual bound is reported: a bound inside the region is not one of the
original problem. A subproblem's "infeasible" or "optimal" says nothing about the original
problem, so without a completion the status is at most feasible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mipguide.guidance.best import Best
from mipguide.guidance.lns import LnsOutcome, run_lns
from mipguide.guidance.params import SearchParams, SubproblemParams
from mipguide.guidance.trust_region import Region, apply_region
from mipguide.pipeline.trace import Trace
from mipguide.problem.model import Problem
from mipguide.solvers.base import SolverBackend
from mipguide.solvers.common import gap_closed
from mipguide.solvers.types import (
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
    is_stopped,
)

# Below this many seconds a stage is not started (building the model alone takes longer).
MIN_STAGE_SECONDS = 0.05

# backend -> parameters for a subproblem solved for its solutions (``subproblem.heuristics``):
# no cutting planes (the region's bound is never reported) and aggressive primal heuristics.
# Backends without an entry solve the subproblem with the caller's parameters alone.
SUB_HEURISTIC_PARAMS: dict[str, dict[str, str]] = {
    "scip": {"separating": "off", "heuristics": "aggressive"},
}
# backend -> parameters of a completion run for more solutions (``completion.heuristics``):
# aggressive primal heuristics, cutting planes as the caller set them (the bound still closes).
COMPLETION_HEURISTIC_PARAMS: dict[str, dict[str, str]] = {
    "scip": {"heuristics": "aggressive"},
}


@dataclass
class SubOutcome:
    region: Region
    widened: int = 0
    last: SolveOutput | None = None
    stalled: bool = False


@dataclass(frozen=True)
class SearchOutcome:
    """Attributes:
    output: for ``finish``: the best verified x, the completion's status and bound.
    sub: the subproblem's last region (Delta after widening), widenings and output.
    completed: the completion ran.
    sub_end: trace time at which the subproblem ended (the LNS or the completion started).
    lns: the LNS rounds; lns_end: trace time at which they ended.
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
    starts: tuple[np.ndarray, ...] = (),
) -> SearchOutcome:
    """Subproblem (widened while infeasible), LNS rounds around the incumbent, then the
    completion on the full model.

    Args:
        start: handed to the stages when ``best`` holds no solution (full or partial, NaN
            where unknown).
        best: updated with every verified improvement.
        label: the mode's name in the termination detail when there is no completion.
        guide: (binary indices, P(x = 1) on them) weighting the LNS neighbourhoods (None:
            uniform).
        starts: more solutions handed to the subproblem and the completion as starts
            (``SolveOptions.extra_starts``).
    """
    options = replace(search_options(options, backend.name, params.lp_pricing), extra_starts=starts)
    sub_params = params.subproblem
    sub = solve_subproblem(
        problem, backend, options, sub_params, region, start, best, trace, interrupt
    )
    sub_end = trace.elapsed()
    lns = LnsOutcome(free=params.lns.free)
    if params.lns.share > 0:
        left = remaining(options, trace)
        budget = params.lns.share * (sub_params.time_cap if left is None else left)
        bare = replace(options, extra_starts=())  # LNS rounds fix binaries: no use there
        round_options = subproblem_options(bare, backend.name, sub_params.heuristics)
        lns_stall = StallInterrupt(trace, params.lns.stall * budget, interrupt)
        lns = run_lns(
            problem,
            backend,
            bare,
            round_options,
            params.lns,
            guide,
            best,
            trace,
            lns_stall,
            budget,
        )
        lns.stalled = lns_stall.stalled
    lns_end = trace.elapsed()
    stopped = is_stopped(interrupt)
    full = (
        None
        if stopped
        else _complete(problem, backend, options, params, start, best, trace, interrupt)
    )
    out = final_output(problem, backend, full, sub.last, best, stopped, label)
    return SearchOutcome(out, sub, full is not None, sub_end, lns, lns_end)


def _complete(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    params: SearchParams,
    start: np.ndarray,
    best: Best,
    trace: Trace,
    interrupt: Interrupt | None,
) -> SolveOutput | None:
    """The completion: the full model for the rest of the budget, warm from the incumbent;
    None when it does not run (switched off or no time left)."""
    left = remaining(options, trace)
    completion = params.completion
    if not completion.run or (left is not None and left <= MIN_STAGE_SECONDS):
        return None
    warm = best.x if best.x is not None else start
    opts = stage_options(options, COMPLETION_HEURISTIC_PARAMS, backend.name, completion.heuristics)
    opts = replace(opts, time_limit=left, start=warm if completion.warm else None)
    full = backend.solve(problem, opts, trace.relay(keep_bound=True), interrupt)
    best.consider(problem, full.x)
    return full


def solve_subproblem(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    params: SubproblemParams,
    region: Region,
    start: np.ndarray,
    best: Best,
    trace: Trace,
    interrupt: Interrupt | None,
) -> SubOutcome:
    """Solve the trust-region subproblem, widening Delta while it is proven infeasible."""
    outcome = SubOutcome(region)
    if region.size == 0 or params.share <= 0:
        return outcome
    left = remaining(options, trace)
    budget = params.time_cap if left is None else params.share * left
    total = params.time_cap if left is None else left
    deadline = trace.elapsed() + budget
    stall = StallInterrupt(trace, params.stall * total, interrupt)
    sub_options = subproblem_options(options, backend.name, params.heuristics)
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
        solutions=_others(problem, best, full),
    )


def _others(problem: Problem, best: Best, full: SolveOutput | None) -> tuple[np.ndarray, ...]:
    """Up to ``best.keep`` other solutions for the archive, best first (``finish`` verifies
    them): the bests the search replaced, and the completion's other solutions."""
    pool = [*best.earlier, *(full.solutions if full is not None else ())]
    seen: set[bytes] = {best.x.tobytes()} if best.x is not None else set()
    unique = []
    for x in pool:
        if x.tobytes() not in seen:
            seen.add(x.tobytes())
            unique.append(x)
    unique.sort(key=lambda x: problem.sense * problem.objective_value(x))
    return tuple(unique[: best.keep])
