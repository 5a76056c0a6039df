"""Contracts of dmmv.solve / solve_batch: values in their domains, the reported max violation is
the recomputed one, fixed variables stay, limits are respected, batches match single solves.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.heuristics.dmmv import DmmvConfig, DmmvInstance, solve, solve_batch, stack_instances
from mipguide.heuristics.dmmv.evaluate import evaluate, row_violations
from tests.heuristics.dmmv_cases import random_instance

QUICK = DmmvConfig(time_limit=5.0, max_iterations=60, seed=3)


def _in_domain(inst: DmmvInstance, x: np.ndarray, idx: np.ndarray) -> bool:
    levels = np.broadcast_to(inst.levels, (len(x), np.shape(inst.levels)[-1]))
    return bool(np.array_equal(levels[np.arange(len(x)), idx], x))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 15), n=st.integers(1, 10))
def test_values_in_domain_and_violation_recomputed(seed: int, m: int, n: int) -> None:
    inst = random_instance(seed, m=m, n=n)
    res = solve(inst, QUICK)
    assert _in_domain(inst, res.x, res.level_index)
    v = row_violations(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(float(v.max()), abs=1e-12)
    assert v[res.argmax_row] == pytest.approx(res.max_violation, abs=1e-12)
    assert res.max_violation <= res.start_max_violation + 1e-12


def test_planted_feasible_instance_is_solved() -> None:
    rng = np.random.default_rng(5)
    A = rng.integers(-3, 4, size=(25, 20)).astype(float)
    planted = rng.integers(0, 4, 20).astype(float)
    b = A @ planted
    inst = DmmvInstance(A, b - 1.0, b + 1.0, np.arange(4.0), x0=planted + rng.normal(0, 0.8, 20))
    res = solve(inst, DmmvConfig(time_limit=5.0, seed=1))
    assert res.max_violation == 0.0
    assert res.counters["moves"] + res.counters["swaps"] > 0


def test_fixed_variables_keep_their_rounded_value() -> None:
    inst = random_instance(4, m=12, n=8)
    fixed = np.zeros(8, bool)
    fixed[[1, 5]] = True
    assert inst.x0 is not None
    pinned = DmmvInstance(inst.A, inst.lower, inst.upper, inst.levels, inst.x0, fixed)
    res = solve(pinned, QUICK)
    lv = inst.levels
    for j in (1, 5):
        finite = lv[j][np.isfinite(lv[j])]
        assert res.x[j] == finite[np.argmin(np.abs(finite - inst.x0[j]))]


def test_sparse_and_dense_inputs_agree() -> None:
    inst = random_instance(8, m=10, n=6)
    sparse = DmmvInstance(sp.csr_matrix(inst.A), inst.lower, inst.upper, inst.levels, inst.x0)
    a, b = solve(inst, QUICK), solve(sparse, QUICK)
    np.testing.assert_array_equal(a.level_index, b.level_index)
    assert a.max_violation == pytest.approx(b.max_violation, abs=1e-12)


def test_no_x0_uses_a_relaxed_start_and_shared_levels() -> None:
    rng = np.random.default_rng(2)
    A = rng.normal(size=(8, 5))
    b = A @ rng.integers(-2, 3, 5)
    res = solve(DmmvInstance(A, b, b, np.arange(-2.0, 3.0)), QUICK)
    assert set(res.x.tolist()) <= set(np.arange(-2.0, 3.0).tolist())
    assert res.max_violation == pytest.approx(evaluate(A, res.x, b, b).max_violation)


def test_time_limit_is_respected() -> None:
    inst = random_instance(9, m=40, n=30)
    res = solve(inst, DmmvConfig(time_limit=0.3, seed=0))
    assert res.seconds < 1.0


def test_batch_results_are_verified_per_instance() -> None:
    insts = [random_instance(s, m=14, n=9, matrix_seed=7) for s in range(5)]
    batch = stack_instances(insts)
    results = solve_batch(batch, QUICK)
    assert len(results) == 5
    for inst, res in zip(insts, results, strict=True):
        ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
        assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
        assert _in_domain(inst, res.x, res.level_index)


def test_invalid_levels_are_rejected() -> None:
    A = np.ones((1, 2))
    with pytest.raises(ValueError, match="ascending"):
        DmmvInstance(A, np.zeros(1), np.ones(1), np.array([1.0, 0.0])).as_batch()
    with pytest.raises(ValueError, match="at least one level"):
        DmmvInstance(A, np.zeros(1), np.ones(1), np.array([[np.nan], [1.0]])).as_batch()


def test_stop_ends_the_search_between_passes_with_the_best_point() -> None:
    inst = random_instance(11, m=40, n=30)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 5

    res = solve(inst, DmmvConfig(time_limit=60.0, seed=0), stop=stop)
    assert res.interrupted and res.iterations == 5
    assert res.seconds < 5.0
    assert res.max_violation <= res.start_max_violation
    assert res.to_dict()["interrupted"] is True


def test_progress_reports_decreasing_values_ending_at_the_result() -> None:
    inst = random_instance(12, m=30, n=20)
    seen: list[tuple[float, float]] = []
    res = solve(
        inst,
        DmmvConfig(time_limit=5.0, max_iterations=200, seed=0),
        on_improve=lambda t, v: seen.append((t, v)),
    )
    values = [v for _, v in seen]
    assert values and values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert values[0] == pytest.approx(res.start_max_violation, rel=1e-9)
    assert values[-1] == pytest.approx(res.max_violation, rel=1e-9, abs=1e-12)
    assert not res.interrupted


def test_passes_without_host_sync_keep_the_state_consistent() -> None:
    """The pass a CUDA graph captures (``sync=False``: the perturbation runs with an all-false
    mask when nothing is stuck) keeps r = A x, values on their levels, and the best point's
    keys true, here on the CPU."""
    import torch

    from mipguide.heuristics.dmmv.search import _Loop
    from mipguide.heuristics.dmmv.state import violations
    from mipguide.heuristics.dmmv.tensors import to_device_batch, to_device_matrix

    insts = [random_instance(s, m=20, n=12, matrix_seed=2) for s in range(4)]
    batch = stack_instances(insts)
    dev = torch.device("cpu")
    mat = to_device_matrix(batch.A, dev, torch.float64)
    dbatch = to_device_batch(batch, dev, torch.float64)
    from mipguide.heuristics.dmmv.evaluate import start_indices

    start = torch.as_tensor(start_indices(batch), dtype=torch.long)
    loop = _Loop(mat, dbatch, start, DmmvConfig(seed=3, recompute_every=0))
    first_mx = loop.best_mx.clone()
    for it in range(1, 60):
        loop.step(it, sync=False)
        torch.testing.assert_close(loop.state.r, loop.state.x @ mat.At)
        torch.testing.assert_close(loop.best.r, loop.best.x @ mat.At)
    v = violations(loop.best.r, dbatch.lower, dbatch.upper)
    torch.testing.assert_close(loop.best_mx, v.amax(1))
    assert bool((loop.best_mx <= first_mx).all())
    assert int(loop.count["restarts"].sum()) + int(loop.count["improvements"].sum()) > 0


def test_rounding_brackets_and_restarts() -> None:
    from mipguide.heuristics.dmmv.evaluate import rounding_brackets, start_indices
    from mipguide.heuristics.dmmv.types import DmmvBatch

    levels = np.array([[0.0, 1.0, 3.0, np.nan], [-1.0, 1.0, np.nan, np.nan]])
    x = np.array([[2.5, 1.0], [-3.0, 0.5]])  # one row per instance
    batch = DmmvBatch(np.eye(2), np.zeros((2, 2)), np.ones((2, 2)), levels, x0=x)
    lo, frac = rounding_brackets(batch, x, start_indices(batch, x))
    np.testing.assert_array_equal(lo, [[1, 1], [0, 0]])
    np.testing.assert_allclose(frac, [[0.75, 0.0], [0.0, 0.75]])
    inst = random_instance(4, m=30, n=20, slack=0.05)
    res = solve(inst, DmmvConfig(time_limit=5.0, max_iterations=300, rounding_restarts=0.5))
    assert res.counters["rounding_restarts"] > 0
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
    assert res.max_violation <= res.start_max_violation
