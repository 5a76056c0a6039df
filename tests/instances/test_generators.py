"""Generators: deterministic in the seed, the protocol's sizes, and a known feasible point."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.instances.registry import PARAMS, Family, Size, generate, parse_seeds
from mipguide.problem.model import Sense
from mipguide.problem.verify import verify

FAMILIES = list(Family)


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_problem(family: Family) -> None:
    a, b = generate(family, Size.EASY, 7), generate(family, Size.EASY, 7)
    assert a.same_as(b)
    assert a.name == b.name == f"{family.value}-easy-7"


@pytest.mark.parametrize("family", FAMILIES)
def test_different_seed_different_problem(family: Family) -> None:
    a, b = generate(family, Size.EASY, 1), generate(family, Size.EASY, 2)
    assert not a.same_as(b)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("size", list(Size))
def test_sizes(family: Family, size: Size) -> None:
    p = generate(family, size, 0)
    params = PARAMS[family][size]
    if family == Family.SET_COVER:
        assert (p.num_rows, p.num_vars) == (params.n_rows, 1000)
        assert p.nnz >= int(params.n_rows * 1000 * 0.05)
        assert np.diff(p.A.indptr).min() >= 2  # every row covered twice
        assert np.diff(p.A.tocsc().indptr).min() >= 2  # every column covers two rows
        assert p.c.min() >= 1 and p.c.max() <= 100 and np.all(p.c == np.round(p.c))
        assert p.sense == Sense.MINIMIZE
    elif family == Family.COMBINATORIAL_AUCTION:
        assert p.num_vars == params.n_bids
        assert params.n_items // 2 <= p.num_rows  # items in some bid, plus dummy items
        assert p.sense == Sense.MAXIMIZE and (p.c > 0).all()
    elif family == Family.INDEPENDENT_SET:
        assert p.num_vars == params.n_nodes
        assert p.sense == Sense.MAXIMIZE and (p.c == 1).all()
        # each BA node has >= affinity edges, all covered by a clique or an edge row
        assert p.nnz >= params.n_nodes
    elif family == Family.FACILITY_LOCATION:
        nc, nf = params.n_customers, params.n_facilities
        assert p.num_vars == nf + nc * nf
        assert p.num_rows == nc + nf + nc * nf
        assert p.num_binaries == nf == 100
    else:
        _new_family_sizes(family, p, params)
    if family not in (Family.FACILITY_LOCATION, Family.LOAD_BALANCE, Family.LOT_SIZING):
        assert p.num_binaries == p.num_vars
    assert np.isfinite(p.A.data).all()


def _new_family_sizes(family: Family, p, params) -> None:  # noqa: ANN001
    if family == Family.VERTEX_COVER:
        assert p.num_vars == params.n_nodes and p.sense == Sense.MINIMIZE
        assert (p.row_lower == 1).all() and np.diff(p.A.indptr).max() == 2
    elif family == Family.GISP:
        assert p.sense == Sense.MAXIMIZE and (p.row_upper == 1).all()
        assert params.n_nodes < p.num_vars < params.n_nodes + p.num_rows  # some edges removable
    elif family == Family.BIN_PACKING:
        bins = p.num_vars // (params.n_items + 1)
        assert p.num_vars == bins * (params.n_items + 1)
        assert p.num_rows == params.n_items + 2 * bins - 1
    elif family == Family.LOAD_BALANCE:
        J, K = params.n_workloads, params.n_servers
        assert p.num_vars == K + J * K and p.num_binaries == K
        assert p.num_rows == K + 2 * J * K
    else:
        N, T = params.n_items, params.n_periods
        assert p.num_vars == 3 * N * T and p.num_binaries == N * T
        assert p.num_rows == 2 * N * T + T


def _known_point(family: Family, p) -> np.ndarray:  # noqa: ANN001
    if family in (Family.SET_COVER, Family.VERTEX_COVER):
        return np.ones(p.num_vars)
    if family in _NEW_POINTS:
        return _NEW_POINTS[family](p)
    if family != Family.FACILITY_LOCATION:
        return np.zeros(p.num_vars)
    nf = p.num_binaries
    nc = (p.num_vars - nf) // nf
    # capacity rows follow the nc demand rows: sum_i d_i x_ij - s_j y_j <= 0
    capacities = -p.A[nc : nc + nf, :nf].diagonal()
    # all facilities open; each customer split in proportion to capacity (total capacity is
    # ratio = 5 times total demand, so every facility is within capacity)
    return np.concatenate([np.ones(nf), np.tile(capacities / capacities.sum(), nc)])


def _packed_first_fit(p) -> np.ndarray:  # noqa: ANN001
    """First-fit decreasing on the instance's own weights (the bins it was given)."""
    from mipguide.instances.binpacking import first_fit_decreasing

    bins = sum(name.startswith("y_") for name in p.var_names)
    n = p.num_rows - 2 * bins + 1  # n item rows, m capacity rows, m - 1 order rows
    weights = p.A[n, : n * bins : bins].toarray().ravel()  # capacity row of bin 0
    capacity = -p.A[n, n * bins]
    assign = first_fit_decreasing(weights, capacity)
    x = np.zeros(p.num_vars)
    x[np.arange(n) * bins + assign] = 1
    x[n * bins : n * bins + assign.max() + 1] = 1
    return x


def _spread_evenly(p) -> np.ndarray:  # noqa: ANN001
    """Every server on, each workload split evenly over them."""
    K = p.num_binaries
    J = (p.num_vars - K) // K
    demand = p.row_lower[K + J * K :: K]  # the robust rows of server 0, one per workload
    return np.concatenate([np.ones(K), np.repeat(demand / (K - 1), K)])


def _lot_for_lot(p) -> np.ndarray:  # noqa: ANN001
    """Produce each period's demand in that period, set up everywhere."""
    NT = p.num_binaries
    return np.concatenate([p.row_lower[:NT], np.zeros(NT), np.ones(NT)])


_NEW_POINTS = {
    Family.BIN_PACKING: _packed_first_fit,
    Family.LOAD_BALANCE: _spread_evenly,
    Family.LOT_SIZING: _lot_for_lot,
}


@pytest.mark.parametrize("family", FAMILIES)
def test_feasible_point_exists(family: Family) -> None:
    p = generate(family, Size.EASY, 3)
    assert verify(p, _known_point(family, p)).feasible


def test_independent_set_rows_are_cliques_or_edges() -> None:
    p = generate(Family.INDEPENDENT_SET, Size.EASY, 0)
    assert (p.row_upper == 1).all() and np.isneginf(p.row_lower).all()
    assert (p.A.data == 1).all()


def test_parse_seeds() -> None:
    assert parse_seeds("3-5") == [3, 4, 5]
    assert parse_seeds("7") == [7]
    assert parse_seeds("1,4-5") == [1, 4, 5]
    for bad in ("5-3", "a-b", "", "1-"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_unknown_family_or_size() -> None:
    with pytest.raises(ValueError):
        generate("knapsack", "easy", 0)
    with pytest.raises(ValueError):
        generate("setcover", "huge", 0)


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_mps_bytes(family: Family, tmp_path) -> None:  # noqa: ANN001
    io = pytest.importorskip("mipguide.problem.io", reason="MPS writer not merged yet")
    a, b = tmp_path / "a.mps", tmp_path / "b.mps"
    io.write_problem(generate(family, Size.EASY, 5), a)
    io.write_problem(generate(family, Size.EASY, 5), b)
    assert a.read_bytes() == b.read_bytes()
    assert io.read_problem(a).same_as(generate(family, Size.EASY, 5), rtol=1e-12)


def test_cli_generate_writes_mps(tmp_path) -> None:  # noqa: ANN001
    pytest.importorskip("mipguide.problem.io", reason="MPS writer not merged yet")
    from typer.testing import CliRunner

    from mipguide.cli import app

    res = CliRunner().invoke(
        app, ["generate", "cauction", "--size", "easy", "--seeds", "0-1", "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert sorted(f.name for f in tmp_path.iterdir()) == [
        "cauction-easy-0.mps",
        "cauction-easy-1.mps",
    ]


def test_cli_generate_rejects_bad_input(tmp_path) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from mipguide.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["generate", "knapsack", "--out", str(tmp_path)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["generate", "setcover", "--seeds", "9-3", "--out", str(tmp_path)])
    assert res.exit_code == 2
