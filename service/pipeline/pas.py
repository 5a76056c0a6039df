"""Predict-and-search (DESIGN steps 2-7): (Problem, solver, options, model) -> verified SolveResult.

1. features and GNN inference (counted in the budget);
2. the prediction rounded (and repaired where cheap, see ``rounding``; on problems with other
   variables, completed by an LP with the binaries fixed, see ``completion``); a feasible one is
   the first incumbent (source ``gnn``) and every later stage gets it as its start; otherwise
   the stages get the region's reference values on S as a partial start;
3. the trust-region subproblem and the completion on the full model (``search``, shared with
   SRG): the subproblem under ``sub_share`` of the remaining budget, Delta widened while it is
   infeasible, S shrunk (the region grown) while it is solved to optimality, then the full
   model warm-started with the best solution (``complete=True``).
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np

from models.registry import LoadedModel
from service.errors import UnsupportedProblemError
from service.pipeline.completion import prediction_start
from service.pipeline.features import build_graph
from service.pipeline.pas_params import PasParams
from service.pipeline.predict import predict
from service.pipeline.result import SolveResult
from service.pipeline.search import Best, remaining, search_region
from service.pipeline.solve import finish
from service.pipeline.trace import Trace
from service.pipeline.trust_region import choose_region
from service.problem.model import Problem, Sense
from service.solvers.base import get_backend
from service.solvers.types import (
    IncumbentCallback,
    IncumbentSource,
    Interrupt,
    SolveOptions,
)


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
    left = remaining(options, trace)
    cap = params.start_seconds if left is None else min(params.start_seconds, 0.05 * left)
    start = prediction_start(problem, pred.probs, pred.binary_index, solver=solver, time_limit=cap)
    best = Best()
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
    found = search_region(
        problem,
        backend,
        options,
        params,
        region,
        start,
        best,
        trace,
        interrupt,
        "predict-and-search",
        guide=(pred.binary_index, pred.probs),
    )
    sub, out, t_sub = found.sub, found.output, found.sub_end
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
        lns=found.lns_end - t_sub,
        completion=seconds_total - found.lns_end if found.completed else 0.0,
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
            "grown": sub.grown,
            "last_region_size": sub.region.size,
            "stalled": sub.stalled,
            "subproblem_status": sub.last.status.value if sub.last is not None else None,
            "start_feasible": bool(trace.items and trace.items[0].source == IncumbentSource.GNN),
            "lns": asdict(found.lns),
            "completed": found.completed,
        },
    )
    return replace(result, incumbents=tuple(trace.items), seconds=seconds, extra=extra)
