"""The solve-with-DMMV-start stage: the DMMV point is the start, an incumbent, and the fallback."""

from __future__ import annotations

from mipguide.pipeline import dmmv_solve as stage
from mipguide.pipeline.solve import finish
from mipguide.solvers.types import (
    IncumbentSource,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)
from tests.heuristics.test_dmmv_start_heuristic import _knapsack_like


def test_solve_with_dmmv_start_records_the_dmmv_incumbent(monkeypatch) -> None:
    p = _knapsack_like()
    seen = {}

    def no_solution(problem, solver, options, on_incumbent=None, interrupt=None, read_seconds=0.0):
        seen["start"] = options.start
        out = SolveOutput(
            Status.NO_SOLUTION,
            Termination(TerminationReason.TIME_LIMIT),
            None,
            None,
            None,
            solver,
            "0",
            0.0,
            0.0,
        )
        return finish(problem, out)

    monkeypatch.setattr(stage, "solve_problem", no_solution)
    got = []
    res = stage.solve_with_dmmv_start(
        p, "scip", SolveOptions(time_limit=5.0), dmmv_seconds=2.0, on_incumbent=got.append
    )
    assert seen["start"] is not None
    assert res.status == Status.FEASIBLE and res.max_violation is not None
    assert res.incumbents[0].source == IncumbentSource.DMMV
    assert got and got[0].source == IncumbentSource.DMMV
    assert res.seconds["dmmv"] > 0 and res.extra["dmmv"]["found"]
