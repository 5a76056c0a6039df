"""The device pool: a CPU worker that hides CUDA before torch loads, coalesces concurrent
requests into batches, serves DMMV, and survives being killed.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import numpy as np
import pytest

from mipguide.gpu.pool import DevicePool, RequestFailedError
from mipguide.gpu.protocol import WorkerConfig
from mipguide.heuristics.dmmv import DmmvConfig
from mipguide.heuristics.dmmv.evaluate import evaluate
from tests.heuristics.dmmv_cases import random_instance

CONFIG = WorkerConfig(coalesce_wait=0.2, max_batch=16, memory_budget_bytes=64 << 20)


@pytest.fixture(scope="module")
def pool() -> Iterator[DevicePool]:
    p = DevicePool([CONFIG]).start()
    yield p
    p.close()


def test_worker_sets_cuda_visibility_before_torch(pool: DevicePool) -> None:
    (hello,) = pool.worker_info()
    assert hello is not None
    assert hello.cuda_visible_devices == ""
    assert hello.torch_imported_before_env is False
    assert hello.device == "cpu"


def test_concurrent_requests_are_coalesced(pool: DevicePool) -> None:
    before = pool.stats()
    busy = pool.submit("echo", {"sleep": 0.3}, "block")
    futures = [pool.submit("echo", {"i": i}, "same") for i in range(8)]
    assert [f.result(30)["i"] for f in futures] == list(range(8))
    busy.result(30)
    after = pool.stats()
    assert after.requests - before.requests == 9
    assert after.coalesced_requests - before.coalesced_requests >= 2
    assert after.batches - before.batches < 9
    assert after.max_batch_requests >= 2


def test_dmmv_requests_sharing_a_matrix_run_as_one_batch(pool: DevicePool) -> None:
    insts = [random_instance(s, m=12, n=8, matrix_seed=5) for s in range(3)]
    cfg = DmmvConfig(time_limit=2.0, max_iterations=50)
    before = pool.stats()
    futures = [pool.dmmv_async(i, cfg) for i in insts]
    results = [f.result(60)[0] for f in futures]
    for inst, res in zip(insts, results, strict=True):
        ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
        assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
        assert not res.fallback
    assert pool.stats().max_batch_requests >= 2
    assert pool.stats().batches - before.batches < 3


def test_handler_errors_come_back_as_exceptions(pool: DevicePool) -> None:
    with pytest.raises(RequestFailedError, match="unknown request kind"):
        pool.submit("no-such-kind", None).result(30)


def test_a_killed_worker_is_respawned(pool: DevicePool) -> None:
    old_pid = pool.stats().workers[0]
    inflight = pool.submit("echo", {"sleep": 1.0, "tag": "retried"}, "crash")
    time.sleep(0.3)
    os.kill(old_pid, signal.SIGKILL)
    assert inflight.result(120)["tag"] == "retried"
    res = pool.dmmv(random_instance(1, m=6, n=4), DmmvConfig(max_iterations=5), timeout=120)
    assert np.isfinite(res[0].max_violation)
    stats = pool.stats()
    assert stats.workers[0] != old_pid
    assert stats.respawns >= 1 and stats.retried >= 1
