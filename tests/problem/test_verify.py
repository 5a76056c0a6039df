"""verify(problem, x): violations in float64, objective recomputed, feasibility flag."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.problem.model import Sense, make_problem
from mipguide.problem.verify import verify


def small_problem():
    # min x + 2y + 3 s.t. 1 <= x + y <= 4, x - y = 0, x in [0, 3] integer, y in [-1, 2]
    return make_problem(
        [[1.0, 1.0], [1.0, -1.0]],
        [1.0, 0.0],
        [4.0, 0.0],
        [1.0, 2.0],
        col_lower=[0.0, -1.0],
        col_upper=[3.0, 2.0],
        integrality=[True, False],
        offset=3.0,
    )


def test_feasible_point_has_zero_violation_and_exact_objective():
    check = verify(small_problem(), np.array([1.0, 1.0]))
    assert check.feasible
    assert check.max_violation == 0.0
    assert check.objective == pytest.approx(6.0, abs=0)


def test_each_kind_of_violation_is_measured():
    p = small_problem()
    rows = verify(p, np.array([2.0, 0.0]))  # x - y = 2 violates the equality by 2
    assert not rows.feasible and rows.max_row_violation == 2.0 and rows.worst_row == 1
    bounds = verify(p, np.array([3.0, 3.0]))  # y > 2 by 1, and x + y = 6 > 4 by 2
    assert bounds.max_bound_violation == 1.0 and bounds.worst_var == 1
    assert bounds.max_row_violation == 2.0
    integ = verify(p, np.array([1.5, 1.5]))
    assert integ.max_integrality_violation == 0.5 and not integ.feasible
    assert integ.max_row_violation == 0.0


def test_wrong_length_and_nan_are_refused():
    p = small_problem()
    with pytest.raises(ValueError, match="shape"):
        verify(p, np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        verify(p, np.array([np.nan, 0.0]))


def test_maximize_objective_keeps_problem_sense():
    p = make_problem([[1.0]], [-np.inf], [4.0], [1.0], sense=Sense.MAXIMIZE, offset=-1.0)
    assert verify(p, np.array([4.0])).objective == 3.0


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 6),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
)
def test_point_built_feasible_is_verified_feasible(m: int, n: int, seed: int):
    """Rows built around a random integer point always contain it: verify must agree."""
    rng = np.random.default_rng(seed)
    A = rng.integers(-5, 6, size=(m, n)).astype(float)
    x = rng.integers(-3, 4, size=n).astype(float)
    ax = A @ x
    lo = ax - rng.integers(0, 3, size=m)
    hi = ax + rng.integers(0, 3, size=m)
    p = make_problem(
        A,
        lo,
        hi,
        rng.normal(size=n),
        col_lower=x - 1,
        col_upper=x + 1,
        integrality=np.ones(n, dtype=bool),
    )
    check = verify(p, x)
    assert check.feasible and check.max_violation == 0.0
    # moving one variable out of its box is always caught
    x2 = x.copy()
    x2[0] += 2.0
    assert verify(p, x2).max_bound_violation == pytest.approx(1.0)
