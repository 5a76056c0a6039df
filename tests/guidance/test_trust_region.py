"""Trust-region stage: the one extra row, Delta = 0 equals hard fixing, PaS's choice of S."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipguide.guidance.trust_region import (
    TRUST_REGION_ROW,
    Region,
    apply_region,
    choose_region,
    trust_region,
)
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.model import Problem, Sense, make_problem
from mipguide.solvers.types import SolveOptions, Status


def small_problem(rng: np.random.Generator, n: int, m: int, mixed: bool) -> Problem:
    """A random feasible-or-not MILP: binaries, plus continuous columns when ``mixed``."""
    A = rng.integers(-3, 4, size=(m, n)).astype(float)
    x0 = rng.integers(0, 2, size=n).astype(float)
    act = A @ x0
    slack = rng.integers(0, 3, size=m)
    upper = act + slack
    lower = np.where(rng.random(m) < 0.5, act - slack, -np.inf)
    integrality = np.ones(n, dtype=bool)
    if mixed:
        integrality[rng.random(n) < 0.3] = False
    return make_problem(
        A,
        lower,
        upper,
        rng.integers(-5, 6, size=n).astype(float),
        col_lower=np.zeros(n),
        col_upper=np.ones(n),
        integrality=integrality,
        sense=Sense.MINIMIZE if rng.random() < 0.5 else Sense.MAXIMIZE,
    )


def fixed(problem: Problem, index: np.ndarray, x_hat: np.ndarray) -> Problem:
    lo, hi = problem.col_lower.copy(), problem.col_upper.copy()
    lo[index] = hi[index] = x_hat
    return make_problem(
        problem.A,
        problem.row_lower,
        problem.row_upper,
        problem.c,
        col_lower=lo,
        col_upper=hi,
        integrality=problem.integrality,
        sense=problem.sense,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 9),
    m=st.integers(1, 5),
    mixed=st.booleans(),
)
def test_delta_zero_equals_fixing(seed: int, n: int, m: int, mixed: bool) -> None:
    rng = np.random.default_rng(seed)
    problem = small_problem(rng, n, m, mixed)
    binaries = np.flatnonzero(problem.binary_mask)
    index = rng.permutation(binaries)[: rng.integers(0, binaries.size + 1)]
    x_hat = rng.integers(0, 2, size=index.size).astype(float)
    region = solve_problem(trust_region(problem, index, x_hat, 0), "scip", SolveOptions())
    hard = solve_problem(fixed(problem, index, x_hat), "scip", SolveOptions())
    assert region.status == hard.status
    if hard.status == Status.OPTIMAL:
        assert region.objective == pytest.approx(hard.objective, abs=1e-6)
        x = np.array([region.values[v] for v in problem.var_names])
        np.testing.assert_allclose(x[index], x_hat, atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), delta=st.integers(0, 6))
def test_row_holds_exactly_within_delta_flips(seed: int, delta: int) -> None:
    rng = np.random.default_rng(seed)
    problem = small_problem(rng, 8, 2, mixed=False)
    index = rng.permutation(8)[:6]
    x_hat = rng.integers(0, 2, size=6).astype(float)
    tr = trust_region(problem, index, x_hat, delta)
    x = rng.integers(0, 2, size=8).astype(float)
    flips = int(np.sum(x[index] != x_hat))
    row = tr.A[-1] @ x
    assert (row <= tr.row_upper[-1] + 1e-9) == (flips <= delta)
    assert Region(index, x_hat, delta).distance(x) == flips


def test_new_problem_has_one_extra_row_and_leaves_the_original() -> None:
    problem = small_problem(np.random.default_rng(0), 6, 3, mixed=False)
    before = problem.A.copy()
    tr = trust_region(problem, np.array([0, 2, 4]), np.array([1.0, 0.0, 1.0]), 1)
    assert tr.num_rows == problem.num_rows + 1 and tr.num_vars == problem.num_vars
    assert tr.row_names[-1] == TRUST_REGION_ROW
    np.testing.assert_array_equal(tr.A[-1].toarray().ravel(), [-1, 0, 1, 0, -1, 0])
    assert tr.row_upper[-1] == 1 - 2 and np.isneginf(tr.row_lower[-1])
    assert np.array_equal(problem.A.toarray(), before.toarray()) and problem.num_rows == 3
    again = trust_region(tr, np.array([1]), np.array([0.0]), 0)
    assert again.row_names[-1] == f"{TRUST_REGION_ROW}_1"


@pytest.mark.parametrize(
    ("index", "x_hat", "delta", "message"),
    [
        ([0, 0], [0, 1], 0, "repeated"),
        ([0], [0, 1], 0, "entries"),
        ([0], [1], -1, "delta"),
        ([9], [1], 0, "range"),
    ],
)
def test_bad_regions_are_rejected(index: list[int], x_hat: list[float], delta: int, message: str):  # noqa: ANN201
    problem = small_problem(np.random.default_rng(1), 4, 2, mixed=False)
    with pytest.raises(ValueError, match=message):
        trust_region(problem, np.array(index), np.array(x_hat), delta)


def test_continuous_variables_cannot_be_in_the_region() -> None:
    problem = make_problem(np.ones((1, 2)), [0], [1], [1, 1], col_upper=[1, 1])
    with pytest.raises(ValueError, match="binary"):
        trust_region(problem, np.array([0]), np.array([1.0]), 0)


def test_choose_region_takes_the_most_confident_and_caps_each_side() -> None:
    probs = np.array([0.01, 0.9, 0.4, 0.2, 0.995, 0.6, 0.05, 0.3, 0.45, 0.8])
    bidx = np.arange(10) + 100
    r = choose_region(probs, bidx, k0=0.3, k1=0.2, delta=0.5)
    assert dict(zip(r.index.tolist(), r.x_hat.tolist(), strict=True)) == {
        100: 0.0,
        106: 0.0,
        103: 0.0,
        104: 1.0,
        101: 1.0,
    }
    assert r.delta == 3  # ceil(0.5 * 5)
    # ordered by confidence |p - 1/2|, most confident first
    assert r.index.tolist() == [104, 100, 106, 101, 103]
    # k1 = 1 asks for all ten, but only four are predicted 1
    wide = choose_region(probs, bidx, k0=0.0, k1=1.0, delta=0.0)
    assert sorted(wide.index.tolist()) == [101, 104, 105, 109] and wide.delta == 0
    assert (wide.x_hat == 1).all()


def test_choose_region_takes_x_hat_from_a_reference() -> None:
    probs = np.array([0.1, 0.2, 0.9])
    reference = np.array([1.0, 0.0, 0.0])
    r = choose_region(probs, np.arange(3), k0=1.0, k1=1.0, delta=0.0, reference=reference)
    assert dict(zip(r.index.tolist(), r.x_hat.tolist(), strict=True)) == {0: 1.0, 1: 0.0, 2: 0.0}


def test_widening_grows_delta() -> None:
    r = Region(np.arange(4), np.zeros(4), 0)
    assert r.widened().delta == 1 and r.widened().widened().delta == 2
    assert Region(np.arange(40), np.zeros(40), 5).widened().delta == 10


def test_apply_region_is_trust_region() -> None:
    problem = small_problem(np.random.default_rng(2), 5, 2, mixed=False)
    r = Region(np.array([1, 3]), np.array([1.0, 1.0]), 1)
    assert apply_region(problem, r).same_as(trust_region(problem, r.index, r.x_hat, r.delta))
