"""SCIP sessions: one solve run in slices, with solutions added between them (the search's
``interleave``). Real SCIP solves on a generated set cover."""

from __future__ import annotations

import numpy as np
import pytest

from instances.registry import Family, generate_with
from instances.setcover import SetCoverParams
from service.problem.model import Problem
from service.problem.verify import verify
from service.solvers.scip import ScipBackend
from service.solvers.types import Incumbent, IncumbentSource, SolveOptions, Status


def set_cover(rows: int, cols: int, seed: int) -> Problem:
    return generate_with(Family.SET_COVER, SetCoverParams(n_rows=rows, n_cols=cols), seed)


def test_a_session_in_short_slices_reaches_the_optimum_of_one_solve() -> None:
    p = set_cover(250, 200, 1)
    one = ScipBackend().solve(p, SolveOptions(time_limit=60))
    assert one.status == Status.OPTIMAL and one.objective is not None
    session = ScipBackend().open_session(p, SolveOptions())
    outs = []
    while not session.finished and len(outs) < 2000:
        outs.append(session.run(0.05))
    session.close()
    assert session.finished and len(outs) > 3  # it took several slices
    assert outs[-1].status == Status.OPTIMAL
    assert outs[-1].objective == pytest.approx(one.objective)
    assert outs[-1].x is not None and verify(p, outs[-1].x).feasible
    # the search went on between slices: the node count only grows, the bound only tightens
    nodes = [o.nodes for o in outs]
    bounds = [o.bound for o in outs if o.bound is not None]
    assert nodes == sorted(nodes)
    assert bounds == sorted(bounds)  # minimize: the dual bound rises
    # after the end a slice changes nothing
    again = session.run(1.0)
    assert again.status == Status.OPTIMAL and again.objective == outs[-1].objective


def test_a_solution_offered_between_slices_becomes_the_incumbent() -> None:
    p = set_cover(400, 300, 2)
    best = ScipBackend().solve(p, SolveOptions(time_limit=60))
    assert best.x is not None and best.objective is not None
    session = ScipBackend().open_session(p, SolveOptions(params={"heuristics": "off"}))
    first = session.run(0.05)
    assert first.objective is None or first.objective > best.objective  # not solved yet
    assert session.offer(best.x)
    session.offer(np.ones(p.num_vars))  # worse: it may join SCIP's pool, not replace the best
    out = session.run(0.05)
    assert out.objective == pytest.approx(best.objective)
    assert out.x is not None and verify(p, out.x).feasible
    session.close()


def test_an_offer_before_the_first_slice_is_the_start() -> None:
    p = set_cover(150, 120, 3)
    session = ScipBackend().open_session(p, SolveOptions(params={"heuristics": "off"}))
    start = np.ones(p.num_vars)
    assert session.offer(start)
    out = session.run(0.0)  # no time: SCIP only takes the start in
    session.close()
    assert out.objective == pytest.approx(p.objective_value(start))


def test_the_session_reports_incumbents_and_one_solve_is_one_session() -> None:
    p = set_cover(250, 200, 4)
    seen: list[Incumbent] = []
    out = ScipBackend().solve(p, SolveOptions(time_limit=60), seen.append)
    assert out.status == Status.OPTIMAL and seen
    assert seen[-1].objective == pytest.approx(out.objective)
    assert {i.source for i in seen} == {IncumbentSource.SOLVER}


def test_the_time_limit_counts_building_the_model() -> None:
    p = set_cover(400, 300, 5)
    session = ScipBackend().open_session(p, SolveOptions(time_limit=30))
    assert session.build_seconds > 0
    session.run(None)
    session.close()
    limit = session.model.getParam("limits/time")
    assert limit == pytest.approx(30 - session.build_seconds)
