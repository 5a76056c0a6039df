"""Solution pools: brute force, SCIP and HiGHS agree on tiny problems; npz round trip; resumable
build; the pool solver chosen by name or by the plain selector."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.models import pools
from mipguide.models.pools import (
    PoolConfig,
    brute_force_pool,
    build_pools,
    highs_solution_pool,
    load_pool,
    pool_path,
    save_pool,
    scip_solution_pool,
)
from mipguide.problem.digest import problem_hash
from mipguide.problem.verify import verify

from .conftest import tiny_spec


def test_brute_force_pool_is_sorted_distinct_feasible(tiny_problem) -> None:  # noqa: ANN001
    pool = brute_force_pool(tiny_problem, k=16)
    assert pool.size == 16
    assert np.all(np.diff(pool.objectives) >= 0)  # minimize: best first
    assert len({row.tobytes() for row in pool.x_bin}) == pool.size
    for x, obj in zip(pool.x_bin, pool.objectives, strict=True):
        check = verify(tiny_problem, x.astype(float))
        assert check.feasible and check.objective == pytest.approx(obj)
    assert pool.instance_hash == problem_hash(tiny_problem)


def test_scip_pool_finds_the_optimum(tiny_problem) -> None:  # noqa: ANN001
    exact = brute_force_pool(tiny_problem, k=4)
    pool = scip_solution_pool(tiny_problem, k=4, time_limit=2.0)
    assert pool.size >= 1 and pool.source == "scip"
    assert pool.objectives[0] == pytest.approx(exact.objectives[0])
    assert verify(tiny_problem, pool.x_bin[0].astype(float)).feasible


def test_highs_pool_finds_the_optimum_and_keeps_only_verified_solutions(tiny_problem) -> None:  # noqa: ANN001
    exact = brute_force_pool(tiny_problem, k=4)
    pool = highs_solution_pool(tiny_problem, k=4, time_limit=2.0)
    assert 1 <= pool.size <= 4 and pool.source == "highs"
    assert pool.objectives[0] == pytest.approx(exact.objectives[0])
    assert np.all(np.diff(pool.objectives) >= 0)  # minimize: best first
    assert len({row.tobytes() for row in pool.x_bin}) == pool.size
    for x, obj in zip(pool.x_bin, pool.objectives, strict=True):
        check = verify(tiny_problem, x.astype(float))  # pure binary: the binaries are x
        assert check.feasible and check.objective == pytest.approx(obj)


def test_pools_of_each_solver_are_cached_apart(tmp_path) -> None:  # noqa: ANN001
    spec = tiny_spec(4)
    scip = build_pools([spec], tmp_path, PoolConfig(k=4, time_limit=1.0), progress=False)
    highs = build_pools(
        [spec], tmp_path, PoolConfig(k=4, time_limit=1.0, method="highs"), progress=False
    )
    assert scip == [pool_path(tmp_path, spec)] and highs == [pool_path(tmp_path, spec, "highs")]
    assert scip != highs
    assert [load_pool(p).source for p in scip + highs] == ["scip", "highs"]
    assert load_pool(scip[0]).objectives[0] == pytest.approx(load_pool(highs[0]).objectives[0])


def test_pool_solver_by_name_or_by_the_plain_selector(tmp_path) -> None:  # noqa: ANN001
    from mipguide.guidance.tuning import backend_order, pool_backend
    from mipguide.instances.registry import Family, Size, generate

    assert pool_backend("scip", tmp_path, []) == "scip"
    assert pool_backend("highs", tmp_path, []) == "highs"
    with pytest.raises(ValueError, match="unknown pool solver 'gurobi'"):
        pool_backend("gurobi", tmp_path, [])
    for family in (Family.VERTEX_COVER, Family.COMBINATORIAL_AUCTION):
        problems = [generate(family, Size.EASY, s) for s in (0, 1)]
        picked = pool_backend("auto", tmp_path, problems)
        assert picked == backend_order(tmp_path, problems)[0]  # the shipped selector's pick
    # the shipped selector measured HiGHS better on vertex cover, SCIP on auctions
    assert pool_backend("auto", tmp_path, [generate(Family.VERTEX_COVER, Size.EASY, 0)]) == "highs"
    auctions = [generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 0)]
    assert pool_backend("auto", tmp_path, auctions) == "scip"


def test_npz_round_trip(tiny_problem, tmp_path) -> None:  # noqa: ANN001
    pool = brute_force_pool(tiny_problem, k=9)
    path = tmp_path / "p.pool.npz"
    save_pool(pool, path)
    back = load_pool(path)
    np.testing.assert_array_equal(back.x_bin, pool.x_bin)
    np.testing.assert_array_equal(back.objectives, pool.objectives)
    np.testing.assert_array_equal(back.binary_index, pool.binary_index)
    assert (back.instance_hash, back.sense, back.source) == (
        pool.instance_hash,
        pool.sense,
        pool.source,
    )


def test_build_pools_resumes(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    specs = [tiny_spec(s) for s in (0, 1)]
    config = PoolConfig(k=4, method="bruteforce")
    paths = build_pools(specs, tmp_path, config, workers=1, progress=False)
    assert all(p.exists() for p in paths)

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("an existing pool was rebuilt")

    monkeypatch.setattr(pools, "make_pool", boom)
    assert build_pools(specs, tmp_path, config, workers=1, progress=False) == paths


def test_build_pools_in_worker_processes(tmp_path) -> None:  # noqa: ANN001
    specs = [tiny_spec(s) for s in (2, 3)]
    paths = build_pools(
        specs, tmp_path, PoolConfig(k=3, method="bruteforce"), workers=2, progress=False
    )
    for spec, path in zip(specs, paths, strict=True):
        assert load_pool(path).instance_hash == problem_hash(spec.build())


def test_brute_force_refuses_large_or_mixed(tiny_problem) -> None:  # noqa: ANN001
    from mipguide.instances.registry import Family, Size, generate

    with pytest.raises(ValueError):
        brute_force_pool(generate(Family.SET_COVER, Size.EASY, 0))
