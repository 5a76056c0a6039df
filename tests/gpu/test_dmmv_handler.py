"""Tiles, out-of-memory halving and the marked fallback of the pool's DMMV handler (in-process)."""

from __future__ import annotations

import numpy as np

from mipguide.gpu.context import WorkerContext
from mipguide.gpu.dmmv_handler import DmmvRequest, handle_dmmv, merge, run_tiles, tile_size
from mipguide.gpu.protocol import WorkerConfig
from mipguide.heuristics.dmmv import DmmvConfig, solve_batch, stack_instances
from mipguide.heuristics.dmmv.tensors import matrix_key
from tests.heuristics.dmmv_cases import random_instance

CFG = DmmvConfig(max_iterations=10)


def _batch(count: int):
    return stack_instances([random_instance(s, m=10, n=6, matrix_seed=3) for s in range(count)])


def test_out_of_memory_halves_the_tile() -> None:
    calls: list[int] = []

    def flaky(batch, config, matrix=None):
        calls.append(batch.size)
        if batch.size > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return solve_batch(batch, config)

    results, halvings = run_tiles(_batch(8), CFG, 8, flaky)
    assert len(results) == 8 and halvings == 2
    assert not any(r.fallback for r in results)
    assert calls[:3] == [8, 4, 2]


def test_out_of_memory_at_one_instance_returns_marked_round_to_nearest() -> None:
    def broken(batch, config, matrix=None):
        raise MemoryError

    results, _ = run_tiles(_batch(3), CFG, 4, broken)
    assert len(results) == 3
    assert all(r.fallback and r.counters.get("out_of_memory") == 1 for r in results)
    assert all(r.max_violation == r.start_max_violation for r in results)


def test_tile_size_follows_the_budget() -> None:
    b = _batch(4)
    small = tile_size(b, CFG, budget=1 << 16, matrix_bytes=0)
    big = tile_size(b, CFG, budget=1 << 30, matrix_bytes=0)
    assert 1 <= small < big


def test_handler_merges_and_splits_requests_and_caches_the_matrix() -> None:
    b1, b2 = _batch(2), _batch(3)
    key = matrix_key(b1.A)
    ctx = WorkerContext(WorkerConfig())
    out = handle_dmmv([DmmvRequest(b1, CFG, key), DmmvRequest(b2, CFG, key)], ctx)
    assert [len(o) for o in out] == [2, 3]
    handle_dmmv([DmmvRequest(b1, CFG, key)], ctx)
    assert ctx.misses == 1 and ctx.hits == 1
    merged = merge([b1, b2])
    assert merged.size == 5
    np.testing.assert_array_equal(merged.lower[2:], b2.lower)
