"""Guidance rows: the binaries' part of each row, the others at their most favourable activity,
scaled; rows the binaries cannot violate are left out."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance.rows import guidance_rows
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
    g = guidance_rows(p)
    assert g.rows.tolist() == [0, 1, 4]
    np.testing.assert_allclose(g.A.toarray(), [[0.5, 1.0], [1.0, 1.0], [-0.5, 1.0]])
    np.testing.assert_allclose(g.lower, [-np.inf, 1.0, 0.0])
    np.testing.assert_allclose(g.upper, [1.25, np.inf, 1 / 3])
    np.testing.assert_allclose(g.c, [-0.5, 1.0])  # maximize -> minimization direction, / 6
    v = g.violations(np.array([[1.0, 1.0], [0.0, 0.0]]))
    np.testing.assert_allclose(v, [[0.25, 0.0, 1 / 6], [0.0, 1.0, 0.0]])


def test_facility_rows_cannot_be_violated_by_the_binaries() -> None:
    """Capacity and tightening rows hold for any y when x may be 0: nothing to guide."""
    g = guidance_rows(generate(Family.FACILITY_LOCATION, Size.EASY, 0))
    assert g.num_rows == 0 or np.all(g.violations(np.zeros((1, g.c.size))) == 0)


@pytest.mark.parametrize("family", [Family.SET_COVER, Family.INDEPENDENT_SET])
def test_pure_binary_rows_are_the_scaled_rows(family: Family) -> None:
    p = generate(family, Size.EASY, 0)
    g = guidance_rows(p)
    assert g.num_rows == p.num_rows and np.abs(g.A.data).max() == pytest.approx(1.0)
    x = np.random.default_rng(0).integers(0, 2, size=(3, p.num_vars)).astype(float)
    ax = p.A @ x.T
    raw = np.maximum(np.maximum(p.row_lower[:, None] - ax, ax - p.row_upper[:, None]), 0).T
    assert (g.violations(x) > 0).tolist() == (raw > 0).tolist()
