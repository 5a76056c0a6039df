"""Solve with a DMMV start: (Problem, solver, options, dmmv seconds) -> verified SolveResult.

DMMV runs first (pure-integer problems only); a feasible point it finds is recorded as an
incumbent with source ``dmmv`` and handed to the solver as its start. If the solver returns
nothing better, the DMMV point is the result (verified like any other).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from mipguide.heuristics.dmmv.start import dmmv_start
from mipguide.pipeline.result import SolveResult
from mipguide.pipeline.solve import finish, solve_problem
from mipguide.problem.model import Problem, Sense
from mipguide.solvers.types import (
    Incumbent,
    IncumbentCallback,
    IncumbentSource,
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
)


def solve_with_dmmv_start(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    dmmv_seconds: float,
    *,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
) -> SolveResult:
    """Run DMMV for up to dmmv_seconds, then the solver with the remaining time and the start.

    Raises:
        the errors of ``solve_problem``.
    """
    t0 = time.perf_counter()
    stop = interrupt.is_set if interrupt is not None else None
    x = dmmv_start(problem, dmmv_seconds, options.seed, stop)
    spent = time.perf_counter() - t0
    first: tuple[Incumbent, ...] = ()
    if x is not None:
        first = (Incumbent(spent, problem.objective_value(x), None, IncumbentSource.DMMV),)
        if on_incumbent is not None:
            on_incumbent(first[0])
    remaining = None if options.time_limit is None else max(0.0, options.time_limit - spent)
    sub = replace(options, time_limit=remaining, start=x if x is not None else options.start)

    def report(inc: Incumbent) -> None:  # live incumbents on the same clock as the result's
        if on_incumbent is not None:
            on_incumbent(replace(inc, t=inc.t + spent))

    result = solve_problem(
        problem,
        solver,
        sub,
        on_incumbent=report,
        interrupt=interrupt,
        read_seconds=read_seconds,
    )
    if x is not None and _worse(result, problem.objective_value(x), problem.sense):
        result = _from_dmmv(problem, result, x, options.seed)
    shifted = tuple(replace(i, t=i.t + spent) for i in result.incumbents)
    seconds = dict(result.seconds, dmmv=spent, total=result.seconds.get("total", 0.0) + spent)
    extra = dict(result.extra, dmmv={"seconds": spent, "found": x is not None})
    return replace(result, incumbents=first + shifted, seconds=seconds, extra=extra)


def _worse(result: SolveResult, objective: float, sense: Sense) -> bool:
    """The solver's answer has no solution, or a worse objective than the DMMV point."""
    if result.status not in (Status.OPTIMAL, Status.FEASIBLE) or result.objective is None:
        return True
    return sense * result.objective > sense * objective + 1e-9 * max(1.0, abs(objective))


def _from_dmmv(problem: Problem, result: SolveResult, x: np.ndarray, seed: int) -> SolveResult:
    out = SolveOutput(
        status=Status.FEASIBLE,
        termination=Termination(result.termination, result.termination_detail),
        x=x,
        objective=problem.objective_value(x),
        bound=result.bound,
        solver=result.solver,
        solver_version=result.solver_version,
        build_seconds=result.seconds.get("build", 0.0),
        solve_seconds=result.seconds.get("solve", 0.0),
        incumbents=result.incumbents,
        nodes=result.nodes,
        warnings=("the solver found nothing better than the DMMV start",),
    )
    return finish(problem, out, seed=seed, mode=result.mode)
