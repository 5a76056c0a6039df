"""Features: a hand-computed 2x3 fixture; properties on random problems (finite, edges = nnz)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.features import (
    BipartiteGraph,
    EdgeFeature,
    RowFeature,
    VarFeature,
    build_graph,
)
from mipguide.problem.model import Sense, make_problem

INF = math.inf
S5 = math.sqrt(5.0)


def fixture_problem(sense: Sense = Sense.MINIMIZE):
    #   min  x0 - 2 x2
    #   r0:  x0 + 2 x1        <= 4
    #   r1:     - 3 x1 + 4 x2  = 1
    #   x0 binary, x1 integer in [0, 10], x2 continuous in [-5, inf)
    return make_problem(
        np.array([[1.0, 2.0, 0.0], [0.0, -3.0, 4.0]]),
        [-INF, 1.0],
        [4.0, 1.0],
        [1.0, 0.0, -2.0],
        col_lower=[0.0, 0.0, -5.0],
        col_upper=[1.0, 10.0, INF],
        integrality=[True, True, False],
        sense=sense,
    )


def test_hand_computed_var_features() -> None:
    g = build_graph(fixture_problem())
    V = VarFeature
    expected = np.zeros((3, len(V)))
    expected[:, V.OBJ] = [0.5, 0.0, -1.0]
    expected[:, V.IS_BINARY] = [1, 0, 0]
    expected[:, V.IS_INTEGER] = [0, 1, 0]
    expected[:, V.IS_CONTINUOUS] = [0, 0, 1]
    expected[:, V.HAS_LOWER] = [1, 1, 1]
    expected[:, V.HAS_UPPER] = [1, 1, 0]
    expected[:, V.LOWER] = [0.0, 0.0, -math.log(6.0)]
    expected[:, V.UPPER] = [math.log(2.0), math.log(11.0), 0.0]
    expected[:, V.DEGREE_REL] = [0.5, 1.0, 0.5]
    expected[:, V.DEGREE_LOG] = [math.log(2) / 10, math.log(3) / 10, math.log(2) / 10]
    expected[:, V.COEF_MEAN] = [1 / S5, (2 / S5 - 0.6) / 2, 0.8]
    expected[:, V.COEF_MIN] = [1 / S5, -0.6, 0.8]
    expected[:, V.COEF_MAX] = [1 / S5, 2 / S5, 0.8]
    expected[:, V.OBJ_LOG] = [1 + math.log(0.5) / 10, 0.0, 1.0]
    expected[:, V.OBJ_RANK] = [0.5, 0.0, 0.0]  # the lone binary sits in the middle
    expected[:, V.COST_RATIO_RANK] = [0.5, 0.0, 0.0]
    np.testing.assert_allclose(g.var_features, expected, rtol=1e-6, atol=1e-7)
    assert g.var_features.dtype == np.float32


def test_hand_computed_row_features() -> None:
    g = build_graph(fixture_problem())
    R = RowFeature
    expected = np.zeros((2, len(R)))
    expected[:, R.HAS_LOWER] = [0, 1]
    expected[:, R.HAS_UPPER] = [1, 1]
    expected[:, R.LOWER] = [0.0, math.log1p(0.2)]
    expected[:, R.UPPER] = [math.log1p(4 / S5), math.log1p(0.2)]
    expected[:, R.IS_LE] = [1, 0]
    expected[:, R.IS_EQ] = [0, 1]
    expected[:, R.DEGREE_REL] = [1.0, 1.0]
    expected[:, R.DEGREE_LOG] = [math.log(3) / 10] * 2
    expected[:, R.COEF_MEAN] = [1.5 / S5, 0.1]
    expected[:, R.COEF_MIN] = [1 / S5, -0.6]
    expected[:, R.COEF_MAX] = [2 / S5, 0.8]
    expected[:, R.OBJ_COSINE] = [0.2, -8 / (5 * S5)]
    expected[:, R.COEF_RANGE_LOG] = [math.log(2.0) / 10, math.log(4 / 3) / 10]
    np.testing.assert_allclose(g.row_features, expected, rtol=1e-6, atol=1e-7)


def test_hand_computed_edges() -> None:
    g = build_graph(fixture_problem())
    np.testing.assert_array_equal(g.edge_index, [[0, 0, 1, 1], [0, 1, 1, 2]])
    np.testing.assert_allclose(g.edge_attr[:, EdgeFeature.COEF], [1, 2, -3, 4])
    np.testing.assert_allclose(
        g.edge_attr[:, EdgeFeature.COEF_NORM], [1 / S5, 2 / S5, -0.6, 0.8], rtol=1e-6
    )
    np.testing.assert_array_equal(g.binary_mask, [True, False, False])


def test_maximize_flips_objective_direction() -> None:
    lo = build_graph(fixture_problem(Sense.MINIMIZE))
    hi = build_graph(fixture_problem(Sense.MAXIMIZE))
    np.testing.assert_allclose(hi.var_features[:, VarFeature.OBJ], [-0.5, 0.0, 1.0])
    np.testing.assert_allclose(
        hi.row_features[:, RowFeature.OBJ_COSINE], -lo.row_features[:, RowFeature.OBJ_COSINE]
    )


def test_magnitude_features_are_scale_free() -> None:
    # a big-M row (x - 500 y <= 0) and a cost 200 times below another: the row's range and the
    # objective's log scale say so, and neither moves when the row or the objective is rescaled
    def problem(row_scale: float, obj_scale: float):
        return make_problem(
            row_scale * np.array([[1.0, -500.0]]),
            [-INF],
            [0.0],
            obj_scale * np.array([1.0, 200.0]),
            col_upper=[INF, 1.0],
            integrality=[False, True],
        )

    base = build_graph(problem(1.0, 1.0))
    for scaled in (build_graph(problem(1e3, 1.0)), build_graph(problem(1.0, 1e-4))):
        np.testing.assert_allclose(scaled.row_features, base.row_features, rtol=1e-6)
        np.testing.assert_allclose(
            scaled.var_features[:, VarFeature.OBJ_LOG], base.var_features[:, VarFeature.OBJ_LOG]
        )
    assert base.row_features[0, RowFeature.COEF_RANGE_LOG] == np.float32(math.log(500.0) / 10)
    np.testing.assert_allclose(
        base.var_features[:, VarFeature.OBJ_LOG], [1 - math.log(200.0) / 10, 1.0], rtol=1e-6
    )
    # below e^-10 of the largest the log scale bottoms out at 0, as a zero cost does
    tiny = build_graph(
        make_problem(np.array([[1.0, 1.0]]), [-INF], [1.0], [1e-6, 1.0], col_upper=[1.0, 1.0])
    )
    np.testing.assert_allclose(tiny.var_features[:, VarFeature.OBJ_LOG], [0.0, 1.0])


def test_binary_rank_features() -> None:
    # four servers y0..y3 (costs 10, 12, 12, 30; capacities 5, 12, 6, 20: costs per unit of
    # capacity 2, 1, 2, 1.5) and a continuous x that loads them; x is not ranked
    A = np.array(
        [[-5.0, 0, 0, 0, 1.0], [0, -12.0, 0, 0, 1.0], [0, 0, -6.0, 0, 1.0], [0, 0, 0, -20.0, 1.0]]
    )

    def problem(sense: Sense, obj_scale: float, row_scale: float):
        return make_problem(
            row_scale * A,
            [-INF] * 4,
            [0.0] * 4,
            obj_scale * np.array([10.0, 12.0, 12.0, 30.0, 0.0]),
            col_upper=[1.0] * 4 + [INF],
            integrality=[True] * 4 + [False],
            sense=sense,
        )

    g = build_graph(problem(Sense.MINIMIZE, 1.0, 1.0))
    # ranks 1, 2.5, 2.5, 4 of four -> (r - 1) / 3
    np.testing.assert_allclose(g.var_features[:, VarFeature.OBJ_RANK], [0, 0.5, 0.5, 1, 0])
    # ratios 2, 1, 2, 1.5: ranks 3.5, 1, 3.5, 2
    np.testing.assert_allclose(
        g.var_features[:, VarFeature.COST_RATIO_RANK], [2.5 / 3, 0, 2.5 / 3, 1 / 3, 0], rtol=1e-6
    )
    # scale-free; maximizing reverses the cost's direction, and so the ranks
    scaled = build_graph(problem(Sense.MINIMIZE, 1e-3, 1e4))
    np.testing.assert_allclose(
        scaled.var_features[:, VarFeature.OBJ_RANK :],
        g.var_features[:, VarFeature.OBJ_RANK :],
        rtol=1e-6,
    )
    hi = build_graph(problem(Sense.MAXIMIZE, 1.0, 1.0))
    np.testing.assert_allclose(
        hi.var_features[:4, VarFeature.OBJ_RANK], 1 - g.var_features[:4, VarFeature.OBJ_RANK]
    )
    np.testing.assert_allclose(
        hi.var_features[:4, VarFeature.COST_RATIO_RANK],
        1 - g.var_features[:4, VarFeature.COST_RATIO_RANK],
        rtol=1e-6,
    )


def test_ranged_and_ge_rows() -> None:
    p = make_problem(np.ones((3, 2)), [0.0, 1.0, -INF], [2.0, INF, INF], [0.0, 0.0])
    g = build_graph(p)
    assert g.row_features[0, RowFeature.IS_RANGED] == 1
    assert g.row_features[1, RowFeature.IS_GE] == 1
    # a free row has no sense flag
    assert g.row_features[2, RowFeature.IS_LE : RowFeature.IS_RANGED + 1].sum() == 0


def _all_finite(g: BipartiteGraph) -> bool:
    return bool(
        np.isfinite(g.var_features).all()
        and np.isfinite(g.row_features).all()
        and np.isfinite(g.edge_attr).all()
    )


bound_values = st.sampled_from([-INF, INF, 0.0, 1.0, -1.0, 1e300, -1e300, 1e-300, 7.5])
coef_values = st.sampled_from([0.0, 0.0, 0.0, 1.0, -2.5, 1e300, -1e300, 1e-300, 3.0])


@st.composite
def random_problems(draw):  # noqa: ANN001, ANN201
    m = draw(st.integers(0, 6))
    n = draw(st.integers(1, 6))
    dense = np.array(draw(st.lists(coef_values, min_size=m * n, max_size=m * n))).reshape(m, n)
    lo = np.array(draw(st.lists(bound_values, min_size=m, max_size=m)))
    hi = np.array(draw(st.lists(bound_values, min_size=m, max_size=m)))
    c = np.array(draw(st.lists(coef_values, min_size=n, max_size=n)))
    clo = np.array(draw(st.lists(bound_values, min_size=n, max_size=n)))
    cup = np.array(draw(st.lists(bound_values, min_size=n, max_size=n)))
    integ = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    sense = draw(st.sampled_from([Sense.MINIMIZE, Sense.MAXIMIZE]))
    return make_problem(
        sp.csr_matrix(dense, shape=(m, n)),
        lo,
        hi,
        c,
        col_lower=clo,
        col_upper=cup,
        integrality=integ,
        sense=sense,
    )


@settings(max_examples=150, deadline=None)
@given(random_problems())
def test_random_problems_finite_and_edge_count(p) -> None:  # noqa: ANN001
    g = build_graph(p)
    assert g.num_edges == p.nnz
    assert g.var_features.shape == (p.num_vars, len(VarFeature))
    assert g.row_features.shape == (p.num_rows, len(RowFeature))
    assert g.edge_attr.shape == (p.nnz, len(EdgeFeature))
    assert _all_finite(g)
    # normalized coefficients and cosines stay in [-1, 1]
    assert np.abs(g.edge_attr[:, EdgeFeature.COEF_NORM]).max(initial=0) <= 1.0
    assert np.abs(g.row_features[:, RowFeature.OBJ_COSINE]).max(initial=0) <= 1.0
    # the edges are exactly the nonzeros of A
    A = p.A.tocoo()
    assert set(zip(A.row.tolist(), A.col.tolist(), strict=True)) == set(
        zip(g.edge_index[0].tolist(), g.edge_index[1].tolist(), strict=True)
    )


def test_empty_rows_columns_and_zero_objective() -> None:
    A = sp.csr_matrix((np.array([2.0]), (np.array([1]), np.array([2]))), shape=(3, 4))
    p = make_problem(A, [-INF] * 3, [INF, 1.0, 0.0], np.zeros(4))
    g = build_graph(p)
    assert _all_finite(g)
    assert (g.var_features[:, VarFeature.OBJ] == 0).all()
    assert g.var_features[0, VarFeature.DEGREE_REL] == 0
    assert g.row_features[0, RowFeature.COEF_MAX] == 0
