"""The Ray executor against a real Ray cluster on loopback (``ray start --head`` by the test):
jobs run on solver actors with the right answers, guided jobs run their network on the device
actor (``device_pool=on``), incumbents stream while they run, cancel through Ray within 2 s,
and a killed actor fails its job with the reason and is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.conftest import MODEL_DIR
from tests.api.serverutil import Server, launch, ready_workers
from tests.api.test_api_resilience import wait_running

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_server(ray_cluster: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # its actors start on the cluster before it is ready: slower than a local pool on a busy
    # machine
    srv = launch(
        tmp_path_factory.mktemp("ray"),
        workers=2,
        ready_seconds=180.0,
        executor="ray",
        ray_address=ray_cluster,
        device_pool="on",
        model_dir=str(MODEL_DIR),
    )
    yield srv
    srv.stop()


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_jobs_run_on_ray_actors_with_the_right_answers(
    ray_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    ready_workers(ray_server, 2)
    names = ["p0033", "stein27", "p0201", "lseu", "p0033", "stein27"]
    with ray_server.client() as client:
        jobs = [client.submit(miplib_dir / f"{n}.mps.gz", solver="scip") for n in names]
        for name, job in zip(names, jobs, strict=True):
            done = client.wait(job.id, timeout=120)
            assert done.state == "completed", done
            assert done.objective == pytest.approx(optimum(name)), name
        pid = int(client.log(jobs[0].id)[0].split("[worker ")[1].split("]")[0])
    # the worker was a Ray actor process, not a child of the server
    assert "_SolverActor" in _cmdline(pid) or "ray::" in _cmdline(pid)
    assert os.getppid() != pid and pid not in _children(ray_server.proc.pid)


def test_guided_jobs_run_their_network_on_the_device_actor(
    ray_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    ready_workers(ray_server, 2)
    with ray_server.client() as client:
        job = client.submit(
            miplib_dir / "p0033.mps.gz", solver="scip", mode="pas", model="pas-setcover@1"
        )
        done = client.wait(job.id, timeout=120)
        assert done.state == "completed", done
        result = client.result(job.id)
    assert result.objective == pytest.approx(optimum("p0033"))
    inference = result.extra["pas"]["inference"]
    assert inference["where"] == "device pool (ray)" and inference["device"] == "cpu"
    # a device actor's process: neither the job's actor nor a child of the server
    assert "_DeviceActor" in _cmdline(inference["worker_pid"])


def test_a_job_with_more_threads_than_its_worker_holds_reserves_the_rest(
    ray_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    # the cluster: 4 CPUs; two solver actors and the device actor hold 1 each: 1 is free
    ready_workers(ray_server, 2)
    with ray_server.client() as client:
        for _ in range(2):  # the second finds the CPU the first one's reservation gave back
            job = client.submit(miplib_dir / "p0033.mps.gz", solver="scip", threads=2, wait=120)
            assert job.objective == pytest.approx(optimum("p0033"))
            log, _ = client.log(job.id)
            assert "2 CPUs on Ray: the worker's 1 and 1 reserved beside it" in log, log
        # 2 more CPUs than the worker's: the node has them, but not free (after a wait);
        # 7 more: the node has not that many at all
        for threads, extra in ((3, 2), (8, 7)):
            big = client.submit(
                miplib_dir / "p0033.mps.gz", solver="scip", threads=threads, wait=120
            )
            assert big.objective == pytest.approx(optimum("p0033"))
            log, _ = client.log(big.id)
            line = (
                f"threads capped to 1: the worker's Ray node has not {extra} more free CPUs "
                f"for threads={threads}"
            )
            assert line in log, log


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(x) for x in out.stdout.split()}


def test_cancel_through_ray_within_2s_with_incumbents_streamed(
    ray_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    ready_workers(ray_server, 2)
    with ray_server.client() as client:
        long = client.submit(miplib_dir / "markshare1.mps.gz", solver="scip", time_limit=600)
        wait_running(client, long.id)
        deadline = time.monotonic() + 30
        while not client.incumbents(long.id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.incumbents(long.id), "no incumbent streamed while running"
        t0 = time.monotonic()
        cancelled = client.cancel(long.id)
        assert cancelled is not None and cancelled.state == "cancelled"
        assert time.monotonic() - t0 < 2.0
        assert client.result(long.id).objective is not None  # the partial result is kept
        after = client.submit(miplib_dir / "p0033.mps.gz", solver="scip", wait=60)
        assert after.objective == pytest.approx(optimum("p0033"))


def test_a_killed_ray_worker_fails_its_job_with_the_reason_and_is_replaced(
    ray_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    ready_workers(ray_server, 2)
    with ray_server.client() as client:
        job = client.submit(miplib_dir / "markshare1.mps.gz", solver="scip", time_limit=600)
        pid = wait_running(client, job.id)
        os.kill(pid, signal.SIGKILL)
        failed = client.wait(job.id, timeout=30)
        assert failed.state == "failed"
        assert failed.error is not None and "Ray actor died" in failed.error
        for _ in range(3):  # later jobs are served
            after = client.submit(miplib_dir / "p0033.mps.gz", solver="scip", wait=60)
            assert after.objective == pytest.approx(optimum("p0033"))
    ready_workers(ray_server, 2)


def test_unknown_executor_is_refused() -> None:
    from mipguide.errors import InvalidOptionError
    from mipguide.settings import Settings

    with pytest.raises(InvalidOptionError, match="executor"):
        Settings(executor="dask")
