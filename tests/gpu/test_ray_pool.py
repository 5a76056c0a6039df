"""The device pool on Ray (a real one-node cluster on loopback): a CPU device actor when the
cluster has no GPU, requests sent together batched as in a local worker, DMMV served, a killed
actor restarted with its in-flight request sent again, and the pool's answer to a job actor
(``RayDeviceClient``) the same as to the driver."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from mipguide.settings import Settings
from tests.heuristics.dmmv_cases import random_instance

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_pool(ray_cluster: str) -> Iterator[object]:
    import ray

    from mipguide.gpu.ray_pool import RayDevicePool

    ray.init(address=ray_cluster, namespace="mipguide-test", log_to_driver=False)
    settings = Settings(device="auto", gpu_coalesce_wait=0.2, ray_device_cpus=1.0)
    pool = RayDevicePool(settings).start()
    yield pool
    pool.close()
    ray.shutdown()


def test_a_cpu_device_actor_when_the_cluster_has_no_gpu(ray_pool: object) -> None:
    from mipguide.gpu.ray_pool import RayDevicePool

    assert isinstance(ray_pool, RayDevicePool)
    (hello,) = ray_pool.worker_info()
    assert hello.device == "cpu" and hello.pid != os.getpid()


def test_requests_sent_together_are_batched_and_dmmv_is_served(ray_pool: object) -> None:
    from mipguide.gpu.ray_pool import RayDevicePool
    from mipguide.heuristics.dmmv import DmmvConfig
    from mipguide.heuristics.dmmv.evaluate import evaluate

    assert isinstance(ray_pool, RayDevicePool)
    busy = ray_pool.submit("echo", {"sleep": 0.5}, "block")
    futures = [ray_pool.submit("echo", {"i": i}, "same") for i in range(8)]
    assert [f.result(60)["i"] for f in futures] == list(range(8))
    busy.result(60)
    assert ray_pool.stats().max_batch_requests >= 2
    inst = random_instance(3, m=12, n=8)
    (res,) = ray_pool.dmmv(inst, DmmvConfig(time_limit=2.0, max_iterations=50), timeout=60)
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)


def test_a_job_actors_client_gets_the_same_answers(ray_pool: object) -> None:
    import ray

    from mipguide.gpu.pool import RequestFailedError
    from mipguide.gpu.ray_pool import RayDevicePool

    assert isinstance(ray_pool, RayDevicePool)
    client = ray_pool.client()

    @ray.remote(num_cpus=0)
    def from_a_task(c: object) -> object:
        return c.run("echo", {"from": "task"})  # type: ignore[attr-defined]

    assert ray.get(from_a_task.remote(client), timeout=60) == {"from": "task"}
    with pytest.raises(RequestFailedError, match="unknown request kind"):
        client.run("no-such-kind", None)


def test_a_killed_device_actor_is_restarted_and_its_request_sent_again(
    ray_pool: object,
) -> None:
    from mipguide.gpu.ray_pool import RayDevicePool

    assert isinstance(ray_pool, RayDevicePool)
    client = ray_pool.client()
    (hello,) = ray_pool.worker_info()
    inflight = ray_pool.submit("echo", {"sleep": 2.0, "tag": "retried"}, "crash")
    time.sleep(0.5)
    os.kill(hello.pid, signal.SIGKILL)
    assert inflight.result(120)["tag"] == "retried"
    assert client.run("echo", 7) == 7
    (after,) = ray_pool.worker_info()
    assert after.pid != hello.pid
