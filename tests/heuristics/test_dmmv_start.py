"""DMMV as a MILP feasibility heuristic: dmmv_start on pure-integer problems."""

from __future__ import annotations

import numpy as np

from service.heuristics.dmmv_start import dmmv_instance, dmmv_start
from service.problem.model import make_problem
from service.problem.verify import verify


def _knapsack_like():
    rng = np.random.default_rng(0)
    A = rng.integers(1, 6, size=(6, 15)).astype(float)
    planted = rng.integers(0, 3, 15).astype(float)
    act = A @ planted
    return make_problem(
        A,
        act - 2,
        act + 2,
        c=rng.normal(size=15),
        col_lower=np.zeros(15),
        col_upper=np.full(15, 2.0),
        integrality=np.ones(15, bool),
    )


def test_dmmv_start_finds_a_feasible_point() -> None:
    p = _knapsack_like()
    x = dmmv_start(p, time_limit=3.0, seed=0)
    assert x is not None and verify(p, x).feasible


def test_dmmv_start_declines_problems_it_cannot_take() -> None:
    p = _knapsack_like()
    mixed = make_problem(p.A, p.row_lower, p.row_upper, p.c, col_upper=p.col_upper)
    assert dmmv_instance(mixed) is None
    unbounded = make_problem(p.A, p.row_lower, p.row_upper, p.c, integrality=np.ones(15, bool))
    assert dmmv_start(unbounded, 1.0) is None
