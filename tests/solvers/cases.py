"""Problems for the solver contract suite: small cases with known optima, a hard one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mipguide.problem.model import Problem, Sense, make_problem
from mipguide.solvers.base import SolverBackend
from mipguide.solvers.types import Status

REAL_BACKENDS = ["scip", "cpsat", "highs", "ortools-highs", "glop", "pdlp", "ortools-scip"]
ALL_BACKENDS = [*REAL_BACKENDS, "fake"]
INF = np.inf


@dataclass(frozen=True)
class Case:
    """A problem and what every backend must say about it."""

    name: str
    problem: Problem
    statuses: tuple[Status, ...]
    objective: float | None = None


def _cases() -> list[Case]:
    knapsack = make_problem(
        [[3, 4, 2, 3]],
        [-INF],
        [7],
        [10, 13, 7, 8],
        col_upper=[1] * 4,
        integrality=[True] * 4,
        sense=Sense.MAXIMIZE,
    )
    ranged = [[1, 2], [1, -1]]
    ranged_lp = make_problem(ranged, [1, -1], [4, 1], [-1, -1], col_upper=[3, 3])
    ranged_lp_lower = make_problem(ranged, [1, -1], [4, 1], [1, 1], col_upper=[3, 3])
    equality = make_problem(
        [[1, 1, 1], [2, 3, 5]],
        [5, 17],
        [5, 17],
        [3, 2, 4],
        col_upper=[10] * 3,
        integrality=[True] * 3,
        offset=-2.5,
    )
    max_offset = make_problem(
        [[6, 4], [1, 2]],
        [-INF, -INF],
        [24, 6],
        [5, 4],
        col_upper=[10, 10],
        integrality=[True, True],
        sense=Sense.MAXIMIZE,
        offset=100,
    )
    infeasible_mip = make_problem(
        [[1, 1]], [3], [INF], [1, 1], col_upper=[1, 1], integrality=[True, True]
    )
    infeasible_lp = make_problem([[1, 1]], [3], [INF], [1, 1], col_upper=[1, 1])
    unbounded_lp = make_problem([[1, -1]], [-INF], [1], [-1, -1])
    unbounded_mip = make_problem([[1, -1]], [-INF], [1], [-1, -1], integrality=[True, True])
    free_vars = make_problem(
        [[1, 1], [1, -1], [0, 1]],
        [-4, -2, -INF],
        [INF, INF, 3],
        [2, 1],
        col_lower=[-INF, -INF],
        col_upper=[INF, INF],
    )
    negative = make_problem(
        [[1, 1], [1, -1]],
        [-INF, -6],
        [-2, INF],
        [1, 2],
        col_lower=[-5, -3],
        col_upper=[-1, 2],
        integrality=[True, True],
        sense=Sense.MAXIMIZE,
    )
    fractional = make_problem(
        [[0.5, 0.25]],
        [-INF],
        [1.6],
        [1, 1],
        col_upper=[10, 10],
        integrality=[True, True],
        sense=Sense.MAXIMIZE,
    )
    opt = (Status.OPTIMAL,)
    infeasible = (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)
    unbounded = (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)
    return [
        Case("knapsack", knapsack, opt, 23.0),
        Case("ranged_lp", ranged_lp, opt, -3.0),
        Case("ranged_lp_lower", ranged_lp_lower, opt, 0.5),
        Case("equality_mip", equality, opt, 9.5),
        Case("maximize_offset", max_offset, opt, 120.0),
        Case("infeasible_mip", infeasible_mip, infeasible),
        Case("infeasible_lp", infeasible_lp, infeasible),
        Case("unbounded_lp", unbounded_lp, unbounded),
        Case("unbounded_mip", unbounded_mip, unbounded),
        Case("free_vars", free_vars, opt, -7.0),
        Case("negative_bounds", negative, opt, 0.0),
        Case("fractional_coefficients", fractional, opt, 6.0),
    ]


CASES = _cases()


def hard_problem(rows: int = 6, cols: int = 50, seed: int = 0) -> Problem:
    """A market-split (markshare-like) instance: equality knapsacks with integer slacks.

    min sum(s+ + s-)  s.t.  A x + s+ - s- = floor(sum(A)/2),  x binary, slacks integer.
    Hard to prove optimal at this size; all-integer and bounded, so CP-SAT takes it too.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(rows, cols))
    rhs = a.sum(axis=1) // 2
    A = np.hstack([a, np.eye(rows), -np.eye(rows)])
    return make_problem(
        A,
        rhs,
        rhs,
        [0] * cols + [1] * (2 * rows),
        col_upper=[1] * cols + [5000] * (2 * rows),
        integrality=[True] * (cols + 2 * rows),
        name="market_split",
    )


def refuse_or_none(backend: SolverBackend, problem: Problem) -> None:
    """Skip when the backend refuses the problem, after checking that it says why."""
    reason = backend.supports(problem)
    if reason is not None:
        assert reason.strip(), f"{backend.name} refused without a reason"
        pytest.skip(f"{backend.name} refuses: {reason}")
