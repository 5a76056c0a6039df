"""Completion: fixing the binaries and solving the rest; a prediction turned into a first
incumbent (the rounding, else the shortest completable prefix of the ranking)."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance.completion import complete_binaries, complete_prediction, prediction_start
from mipguide.guidance.rounding import repaired_start
from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.problem.model import Problem, make_problem
from mipguide.problem.verify import verify


def _prefix(probs: np.ndarray, n: int) -> np.ndarray:
    values = np.zeros(probs.size)
    values[np.argsort(-probs, kind="stable")[:n]] = 1.0
    return values


def test_completion_of_the_continuous_part(small_facility: Problem) -> None:
    p = small_facility
    bidx = np.flatnonzero(p.binary_mask)
    x = complete_binaries(p, bidx, np.ones(bidx.size))
    assert x is not None and verify(p, x).feasible
    np.testing.assert_array_equal(x[bidx], 1.0)
    assert complete_binaries(p, bidx, np.zeros(bidx.size)) is None  # nobody serves


def test_a_prediction_below_one_half_gives_the_shortest_completable_prefix(
    small_facility: Problem,
) -> None:
    p = small_facility
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.random.default_rng(3).uniform(0.05, 0.45, bidx.size)  # rounding: all closed
    x = complete_prediction(p, probs, bidx, time_limit=30.0)
    assert x is not None and verify(p, x).feasible
    n = int(x[bidx].sum())
    assert 0 < n < bidx.size
    np.testing.assert_array_equal(x[bidx], _prefix(probs, n))  # the n most likely are open
    assert complete_binaries(p, bidx, _prefix(probs, n - 1)) is None  # one fewer cannot serve


@pytest.mark.parametrize("low", [0.05, 0.4])  # expected count 2 (no completion), 4 (one)
def test_each_completion_is_handed_on_as_it_is_found(small_facility: Problem, low: float) -> None:
    p = small_facility
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.random.default_rng(3).uniform(low, 0.45, bidx.size)
    found: list[np.ndarray] = []
    x = prediction_start(p, probs, bidx, time_limit=30.0, on_found=found.append)
    # the expected count of ones first when it is completable (else all of them), then each
    # shorter completable prefix, the answer last; every one a verified solution
    guess = int(np.ceil(probs.sum()))
    first = guess if complete_binaries(p, bidx, _prefix(probs, guess)) is not None else bidx.size
    assert len(found) >= 2
    assert all(verify(p, y).feasible for y in found)
    opened = [int(y[bidx].sum()) for y in found]
    assert opened[0] == first and opened == sorted(set(opened), reverse=True)
    np.testing.assert_array_equal(found[-1], x)


def test_a_stop_ends_the_bisection_with_the_best_completion_so_far(
    small_facility: Problem,
) -> None:
    """``stop`` is polled before each completion: true after the first one found, that one
    is the answer; true from the start, none is tried."""
    p = small_facility
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.random.default_rng(3).uniform(0.05, 0.45, bidx.size)
    found: list[np.ndarray] = []
    x = complete_prediction(
        p, probs, bidx, time_limit=30.0, on_found=found.append, stop=lambda: bool(found)
    )
    assert len(found) == 1 and x is not None and verify(p, x).feasible
    np.testing.assert_array_equal(found[0], x)
    assert complete_prediction(p, probs, bidx, time_limit=30.0, stop=lambda: True) is None


def test_a_completable_rounding_is_taken_as_it_is(small_facility: Problem) -> None:
    p = small_facility
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.full(bidx.size, 0.9)
    x = complete_prediction(p, probs, bidx)
    assert x is not None
    np.testing.assert_array_equal(x[bidx], 1.0)


def test_no_completion_at_all_is_none() -> None:
    # y binary, z in [0, 1]: z - y >= 1.5 holds for no y
    p = make_problem(
        np.array([[-1.0, 1.0]]), [1.5], [np.inf], [1.0, 1.0],
        col_upper=[1.0, 1.0], integrality=[True, False],
    )  # fmt: skip
    assert complete_prediction(p, np.array([0.2]), np.array([0])) is None
    start = prediction_start(p, np.array([0.2]), np.array([0]))
    assert np.isnan(start[1])  # the partial rounding: the solver gets to complete it


def test_prediction_start_on_a_pure_binary_problem_is_the_repaired_rounding() -> None:
    p = generate_with(Family.SET_COVER, SetCoverParams(n_rows=40, n_cols=30, density=0.1), 2)
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.random.default_rng(0).uniform(size=bidx.size)
    np.testing.assert_array_equal(prediction_start(p, probs, bidx), repaired_start(p, probs, bidx))


def test_prediction_start_without_time_is_the_partial_rounding(small_facility: Problem) -> None:
    p = small_facility
    bidx = np.flatnonzero(p.binary_mask)
    start = prediction_start(p, np.full(bidx.size, 0.3), bidx, time_limit=0.0)
    assert np.isnan(start).any()
    np.testing.assert_array_equal(start[bidx], 0.0)
