"""Primal metrics on hand-made traces (Berthold's primal gap, normalized primal integral)."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.pipeline.primal import (
    best_so_far,
    gap_at,
    integral_parts,
    mean_gap_curve,
    primal_gap,
    primal_integral,
    time_to_first,
    time_to_within,
)


@pytest.mark.parametrize(
    ("objective", "reference", "gap"),
    [
        (0.0, 0.0, 0.0),
        (None, 5.0, 1.0),
        (-1.0, 2.0, 1.0),
        (1.0, -2.0, 1.0),
        (110.0, 100.0, 10 / 110),
        (90.0, 100.0, 0.1),
        (-90.0, -100.0, 0.1),
        (100.0, 100.0, 0.0),
        (0.0, 4.0, 1.0),
        (float("inf"), 4.0, 1.0),
    ],
)
def test_berthold_gap(objective: float | None, reference: float, gap: float) -> None:
    assert primal_gap(objective, reference) == pytest.approx(gap)


def test_integral_of_a_step_trace() -> None:
    # minimize, reference 100: nothing until 2 s, 200 (gap 0.5) until 6 s, then 100 (gap 0)
    trace = [(2.0, 200.0), (6.0, 100.0)]
    # 1 * 2 + 0.5 * 4 + 0 * 4 = 4 over T = 10
    assert primal_integral(trace, 100.0, 1, 10.0) == pytest.approx(0.4)
    assert gap_at(trace, 100.0, 1, 5.0) == pytest.approx(0.5)
    assert time_to_first(trace, 10.0) == 2.0
    assert time_to_within(trace, 100.0, 1, 10.0) == 6.0


def test_the_integral_split_at_edges_adds_up_to_the_whole() -> None:
    # the step trace above: gap 1 on [0, 2), 0.5 on [2, 6), 0 on [6, 10]
    trace = [(2.0, 200.0), (6.0, 100.0)]
    parts = integral_parts(trace, 100.0, 1, 10.0, [0.0, 1.0, 5.0, 10.0])
    # [0, 1): 1 * 1; [1, 5): 1 * 1 + 0.5 * 3; [5, 10]: 0.5 * 1; each over T = 10
    assert parts == pytest.approx([0.1, 0.25, 0.05])
    assert sum(parts) == pytest.approx(primal_integral(trace, 100.0, 1, 10.0))
    assert integral_parts([], 7.0, 1, 4.0, [0.0, 1.0, 4.0]) == pytest.approx([0.25, 0.75])
    with pytest.raises(ValueError, match="edges"):
        integral_parts(trace, 100.0, 1, 10.0, [0.0, 5.0])  # does not reach the horizon
    with pytest.raises(ValueError, match="edges"):
        integral_parts(trace, 100.0, 1, 10.0, [0.0, 6.0, 5.0, 10.0])


def test_incumbents_after_the_budget_do_not_count() -> None:
    trace = [(1.0, 50.0), (12.0, 100.0)]  # maximize; the optimum comes too late
    assert gap_at(trace, 100.0, -1, 10.0) == pytest.approx(0.5)
    assert primal_integral(trace, 100.0, -1, 10.0) == pytest.approx((1 + 0.5 * 9) / 10)
    assert time_to_within(trace, 100.0, -1, 10.0) is None
    assert time_to_first([(11.0, 3.0)], 10.0) is None


def test_no_solution_integrates_to_one_and_instant_optimum_to_zero() -> None:
    assert primal_integral([], 7.0, 1, 5.0) == 1.0
    assert primal_integral([(0.0, 7.0)], 7.0, 1, 5.0) == 0.0


def test_worse_later_offers_are_ignored() -> None:
    assert best_so_far([(1.0, 5.0), (2.0, 9.0), (3.0, 4.0)], 1, 10.0) == [(1.0, 5.0), (3.0, 4.0)]


def test_within_one_percent_is_inclusive() -> None:
    assert time_to_within([(3.0, 101.0)], 100.0, 1, 10.0) == 3.0
    assert time_to_within([(3.0, 102.0)], 100.0, 1, 10.0) is None


def test_mean_curve_over_instances() -> None:
    grid, curve = mean_gap_curve([[(5.0, 10.0)], []], [10.0, 1.0], [1, 1], 10.0, points=11)
    assert curve[0] == 1.0 and curve[-1] == pytest.approx(0.5)
    np.testing.assert_allclose(grid, np.arange(11.0))
    assert curve[5] == pytest.approx(0.5) and curve[4] == 1.0


def test_horizon_must_be_positive() -> None:
    with pytest.raises(ValueError):
        primal_integral([], 1.0, 1, 0.0)
