"""Predict-and-search (DESIGN steps 2-7): (Problem, solver, options, model) -> verified SolveResult.

1. features and GNN inference (counted in the budget);
2. the prediction rounded (and repaired where cheap, see ``rounding``); a feasible rounding is
   the first incumbent (source ``gnn``) and every later stage gets it as its start; otherwise
   the stages get the region's reference values on S as a partial start;
3. the trust-region subproblem (``trust_region``) under ``sub_share`` of the remaining budget;
   when it is proven infeasible, Delta is widened (``widen`` times), then the full model takes
   over; when no stage has improved for ``stall`` of the budget, it is stopped early;
4. the completion: the full model with the best solution as warm start and the rest of the
   budget, so optimality is still proven when time allows (skipped with ``complete=False``).

Only the completion's dual bound is reported: a bound inside the region is not one of the
original problem. A subproblem's "infeasible" or "optimal" says nothing about the original
problem, so without a completion the status is at most feasible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from models.registry import LoadedModel
from service.errors import UnsupportedProblemError
from service.pipeline.features import build_graph
from service.pipeline.pas_params import PasParams
from service.pipeline.predict import predict
from service.pipeline.result import SolveResult
from service.pipeline.rounding import repaired_start
from service.pipeline.solve import finish
from service.pipeline.trace import Trace
from service.pipeline.trust_region import Region, apply_region, choose_region
from service.problem.model import Problem, Sense
from service.problem.verify import verify
from service.solvers.base import SolverBackend, get_backend
from service.solvers.common import gap_closed
from service.solvers.types import (
    IncumbentCallback,
    IncumbentSource,
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)

# Below this many seconds a stage is not started (building the model alone takes longer).
MIN_STAGE_SECONDS = 0.05


@dataclass
class _Best:
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


def solve_pas(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    model: LoadedModel,
    params: PasParams | None = None,
    *,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
    t0: float | None = None,
) -> SolveResult:
    """Predict-and-search with one backend; the result is verified against ``problem``.

    Args:
        problem: the original model.
        solver: backend for the subproblem and the completion.
        options: the budget (``time_limit`` covers features, inference and both solves), seed,
            backend parameters; ``options.start`` is ignored (the prediction is the start).
        model: a loaded PaS model.
        params: PaS parameters (default ``PasParams()``).
        on_incumbent: called with each improving incumbent (times from the start of this call).
        interrupt: cooperative stop.
        read_seconds: reported in ``seconds["read"]``.
        t0: ``time.perf_counter()`` at which the budget started (default: now), e.g. before
            model selection; incumbent times and the time limit count from it.

    Raises:
        the errors of ``solve_problem`` (unknown solver, unsupported problem, solver failure).
    """
    params = params or PasParams()
    trace = Trace(problem.sense == Sense.MINIMIZE, on_incumbent, t0)
    backend = get_backend(solver)
    reason = backend.supports(problem)
    if reason is not None:
        raise UnsupportedProblemError(f"solver {solver!r} cannot solve {problem.name!r}: {reason}")
    t_before = trace.elapsed()
    graph = build_graph(problem)
    t_features = trace.elapsed()
    pred = predict(graph, model)
    t_predict = trace.elapsed()
    start = repaired_start(problem, pred.probs, pred.binary_index)
    best = _Best()
    if best.consider(problem, start):
        assert best.objective is not None
        trace.offer(best.objective, None, IncumbentSource.GNN)
    region = choose_region(
        pred.probs, pred.binary_index, params.k0, params.k1, params.delta, best.x
    )
    if best.x is None:
        # No feasible rounding: hand the solver only the confident part (x^ on S) as a partial
        # start; the whole rounding (e.g. every facility closed) is often infeasible.
        start = np.full(problem.num_vars, np.nan)
        start[region.index] = region.x_hat
    t_start = trace.elapsed()
    sub = _subproblem(problem, backend, options, params, region, start, best, trace, interrupt)
    t_sub = trace.elapsed()
    full: SolveOutput | None = None
    remaining = _remaining(options, trace)
    stopped = interrupt is not None and interrupt.is_set()
    if params.complete and not stopped and (remaining is None or remaining > MIN_STAGE_SECONDS):
        warm = best.x if best.x is not None else start
        opts = replace(options, time_limit=remaining, start=warm)
        full = backend.solve(problem, opts, trace.relay(keep_bound=True), interrupt)
        best.consider(problem, full.x)
    out = _final_output(problem, backend, full, sub.last, best, stopped)
    seconds_total = trace.elapsed()
    result = finish(
        problem, out, seed=options.seed, read_seconds=read_seconds, wall=seconds_total, mode="pas"
    )
    seconds = dict(
        result.seconds,
        features=t_features - t_before,
        predict=t_predict - t_features,
        start=t_start - t_predict,
        subproblem=t_sub - t_start,
        completion=seconds_total - t_sub if full is not None else 0.0,
    )
    extra = dict(
        result.extra,
        pas={
            "model": str(model.ref),
            "params": asdict(params),
            "binaries": int(pred.binary_index.size),
            "region_size": region.size,
            "delta": sub.region.delta,
            "widened": sub.widened,
            "stalled": sub.stalled,
            "subproblem_status": sub.last.status.value if sub.last is not None else None,
            "start_feasible": bool(trace.items and trace.items[0].source == IncumbentSource.GNN),
            "completed": full is not None,
        },
    )
    return replace(result, incumbents=tuple(trace.items), seconds=seconds, extra=extra)


def _remaining(options: SolveOptions, trace: Trace) -> float | None:
    if options.time_limit is None:
        return None
    return max(0.0, options.time_limit - trace.elapsed())


@dataclass
class _SubOutcome:
    region: Region
    widened: int = 0
    last: SolveOutput | None = None
    stalled: bool = False


def _subproblem(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    params: PasParams,
    region: Region,
    start: np.ndarray,
    best: _Best,
    trace: Trace,
    interrupt: Interrupt | None,
) -> _SubOutcome:
    """Solve the trust-region subproblem, widening Delta while it is proven infeasible."""
    outcome = _SubOutcome(region)
    if region.size == 0 or params.sub_share <= 0:
        return outcome
    remaining = _remaining(options, trace)
    total = params.sub_time_cap if remaining is None else remaining
    budget = params.sub_time_cap if remaining is None else params.sub_share * remaining
    deadline = trace.elapsed() + budget
    stall = StallInterrupt(trace, params.stall * total, interrupt)
    while True:
        left = deadline - trace.elapsed()
        if left <= MIN_STAGE_SECONDS or stall.is_set():
            return outcome
        warm = best.x if best.x is not None else start
        opts = replace(options, time_limit=left, start=warm)
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


class StallInterrupt(Interrupt):
    """Set when ``outer`` is set, or when the trace has not improved for ``seconds`` (counted
    from the later of this object's creation and the trace's last incumbent; 0: never)."""

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


def _final_output(
    problem: Problem,
    backend: SolverBackend,
    full: SolveOutput | None,
    sub: SolveOutput | None,
    best: _Best,
    stopped: bool,
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
        detail = "predict-and-search without completion (no proof of optimality)"
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
