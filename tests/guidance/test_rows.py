"""Guidance rows: the binaries' part of each row, the others at their most favourable activity,
scaled; rows the binaries cannot violate are left out."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance.rows import aggregate_rows, guidance_rows
from mipguide.instances.registry import Family, Size, generate
from mipguide.problem.model import Sense, make_problem


def test_mixed_rows_by_hand() -> None:
    # x0, x1 binary; z continuous in [0, 2]; w continuous, unbounded above
    #  r0: 2 x0 + 4 x1 + z <= 5        -> z at 0:      2 x0 + 4 x1 <= 5  -> scaled /4: <= 1.25
    #  r1: x0 + x1 - z >= 1            -> z at 0:      x0 + x1 >= 1
    #  r2: x0 + w >= 3                 -> w unbounded: never violated by the binaries (dropped)
    #  r3: z + w <= 4                  -> no binary (dropped)
    #  r4: -3 x0 + 6 x1 - z = 0        -> z in [0, 2]: -3 x0 + 6 x1 in [0, 2] -> /6: [0, 1/3]
    A = np.array(
        [[2, 4, 1, 0], [1, 1, -1, 0], [1, 0, 0, 1], [0, 0, 1, 1], [-3, 6, -1, 0]], dtype=float
    )
    p = make_problem(
        A,
        [-np.inf, 1, 3, -np.inf, 0],
        [5, np.inf, np.inf, 4, 0],
        [3.0, -6.0, 1.0, 0.0],
        col_lower=[0, 0, 0, 0],
        col_upper=[1, 1, 2, np.inf],
        integrality=[True, True, False, False],
        sense=Sense.MAXIMIZE,
    )
    g = guidance_rows(p, aggregates=False)
    assert g.rows.tolist() == [0, 1, 4]
    np.testing.assert_allclose(g.A.toarray(), [[0.5, 1.0], [1.0, 1.0], [-0.5, 1.0]])
    np.testing.assert_allclose(g.lower, [-np.inf, 1.0, 0.0])
    np.testing.assert_allclose(g.upper, [1.25, np.inf, 1 / 3])
    np.testing.assert_allclose(g.c, [-0.5, 1.0])  # maximize -> minimization direction, / 6
    v = g.violations(np.array([[1.0, 1.0], [0.0, 0.0]]))
    np.testing.assert_allclose(v, [[0.25, 0.0, 1 / 6], [0.0, 1.0, 0.0]])


def test_facility_rows_alone_cannot_be_violated_by_the_binaries() -> None:
    """Capacity and tightening rows hold for any y when x may be 0: row by row, nothing to
    guide."""
    g = guidance_rows(generate(Family.FACILITY_LOCATION, Size.EASY, 0), aggregates=False)
    assert g.num_rows == 0 or np.all(g.violations(np.zeros((1, g.c.size))) == 0)


def test_facility_aggregate_is_total_capacity_at_least_total_demand() -> None:
    p = generate(Family.FACILITY_LOCATION, Size.EASY, 0)
    rows = aggregate_rows(p)
    assert len(rows) == 1  # all zeros is excluded; all ones (every facility open) is not
    g, r = rows[0]
    nf, nc = 100, 100
    A = p.A.tocsr()
    capacity = -A[nc : nc + nf, :nf].toarray().diagonal()  # s_j: rows d_i x_ij - s_j y_j <= 0
    demand = A[nc : nc + nf, nf:].sum()  # each d_i once per facility
    total_demand = demand / nf
    # the row is a positive multiple of sum_j s_j y_j >= sum_i d_i
    np.testing.assert_allclose(g / r, capacity / total_demand, rtol=1e-6, atol=1e-9)
    plain, guided = guidance_rows(p), guidance_rows(p, aggregates=True)
    assert guided.num_rows == plain.num_rows + 1 and guided.rows[-1] == -1
    closed, open_ = np.zeros((1, nf)), np.ones((1, nf))
    assert guided.violations(closed)[0, -1] > 0 and guided.violations(open_)[0, -1] == 0
    # scaled by the total demand: sum_j (s_j / D) y_j >= 1, its residual the share missing
    np.testing.assert_allclose(guided.A[-1].toarray()[0], capacity / total_demand, rtol=1e-6)
    assert guided.lower[-1] == pytest.approx(1.0)
    assert guided.violations(closed)[0, -1] == pytest.approx(1.0)


def test_aggregate_rows_never_exclude_a_feasible_point() -> None:
    """x0, x1 binary, z continuous in [0, 1]: the rows z >= 1 - x0, z <= x1 imply x0 + x1 >= 1
    (no single row says so); both feasible assignments with x0 + x1 >= 1 satisfy every row."""
    A = np.array([[1, 0, 1], [0, -1, 1]], dtype=float)
    p = make_problem(
        A,
        [1, -np.inf],
        [np.inf, 0],
        [1.0, 1.0, 0.0],
        col_lower=[0, 0, 0],
        col_upper=[1, 1, 1],
        integrality=[True, True, False],
    )
    rows = aggregate_rows(p)
    assert len(rows) == 1
    g, r = rows[0]
    np.testing.assert_allclose(g / r, [1.0, 1.0])
    for x in ([1, 0], [0, 1], [1, 1]):
        assert np.dot(g, x) >= r - 1e-9
    assert np.dot(g, [0, 0]) < r
    assert aggregate_rows(generate(Family.SET_COVER, Size.EASY, 0)) == []  # pure binary


@pytest.mark.parametrize("family", [Family.SET_COVER, Family.INDEPENDENT_SET])
def test_pure_binary_rows_are_the_scaled_rows(family: Family) -> None:
    p = generate(family, Size.EASY, 0)
    g = guidance_rows(p)
    assert g.num_rows == p.num_rows and np.abs(g.A.data).max() == pytest.approx(1.0)
    x = np.random.default_rng(0).integers(0, 2, size=(3, p.num_vars)).astype(float)
    ax = p.A @ x.T
    raw = np.maximum(np.maximum(p.row_lower[:, None] - ax, ax - p.row_upper[:, None]), 0).T
    assert (g.violations(x) > 0).tolist() == (raw > 0).tolist()
