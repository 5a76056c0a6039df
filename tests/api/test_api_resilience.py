"""Cancel, worker crash, watchdog and server restart against a one-worker server."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mipguide.client import ApiError, MipguideClient
from tests.api.serverutil import TINY_MPS, Server, launch


def wait_running(client: MipguideClient, job_id: str, timeout: float = 30.0) -> int:
    """Wait until the job's worker has started solving; return the worker's pid from the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log, _ = client.log(job_id)
        found = re.search(r"\[worker (\d+)\] solving", log)
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not start: {client.job(job_id)}")


def test_cancel_long_solve_stops_within_2s_and_next_job_runs(
    one_worker_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    with one_worker_server.client() as client:
        long = client.submit(miplib_dir / "markshare1.mps.gz", time_limit=600)
        wait_running(client, long.id)
        nxt = client.submit(miplib_dir / "p0033.mps.gz")
        assert client.job(nxt.id).queue_position == 0
        with pytest.raises(ApiError) as not_ready:
            client.result(nxt.id)
        assert not_ready.value.status == 409 and not_ready.value.body["state"] == "queued"
        t0 = time.monotonic()
        cancelled = client.cancel(long.id)
        assert cancelled is not None and cancelled.state == "cancelled"
        assert time.monotonic() - t0 < 2.0
        done = client.wait(nxt.id, timeout=30)
        assert done.objective == pytest.approx(optimum("p0033"))
        assert client.job(long.id).state == "cancelled"
        # cancelling again is harmless; purging deletes the job
        assert client.cancel(long.id, purge=True) is None
        with pytest.raises(Exception, match="404"):
            client.job(long.id)


def test_killed_worker_fails_its_job_and_later_jobs_are_served(
    one_worker_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    with one_worker_server.client() as client:
        job = client.submit(miplib_dir / "markshare1.mps.gz", time_limit=600)
        pid = wait_running(client, job.id)
        os.kill(pid, signal.SIGKILL)
        failed = client.wait(job.id, timeout=10)
        assert failed.state == "failed"
        assert failed.error == "worker died (signal 9)"
        after = client.submit(miplib_dir / "p0033.mps.gz", wait=60)
        assert after.objective == pytest.approx(optimum("p0033"))
    with one_worker_server.http(key=None) as http:
        assert http.get("/readyz").json()["workers"] == 1


def test_restart_keeps_jobs_results_logs_and_requeues_running_once(
    one_worker_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    srv = one_worker_server
    with srv.client() as client:
        solved = client.submit(miplib_dir / "p0033.mps.gz", wait=60)
        long = client.submit(miplib_dir / "markshare1.mps.gz", time_limit=600)
        wait_running(client, long.id)
        queued = client.submit(miplib_dir / "stein27.mps.gz")
        before_log, _ = client.log(solved.id)
    srv.restart()
    with srv.client() as client:
        again = client.job(solved.id)
        assert again.state == "completed"
        assert client.result(solved.id).objective == pytest.approx(optimum("p0033"))
        assert client.log(solved.id)[0] == before_log
        assert len(client.incumbents(solved.id)) >= 1
        # the running job was re-queued (it runs first: it is older); the queued one waits
        wait_running(client, long.id)
        assert "re-queued after a server restart" in client.log(long.id)[0]
        assert client.job(long.id).raw["attempts"] == 2
    srv.restart()  # interrupted a second time: failed with the reason
    with srv.client() as client:
        gone = client.job(long.id)
        assert gone.state == "failed" and "restart" in (gone.error or "")
        done = client.wait(queued.id, timeout=60)
        assert done.objective == pytest.approx(optimum("stein27"))


def test_watchdog_ends_jobs_that_overrun_their_time_limit(tmp_path: Path) -> None:
    """A backend that overruns its time limit is interrupted at time_limit + watchdog_grace
    (completed, termination time_limit); one that ignores the interrupt too is killed (failed,
    with the reason) and its worker replaced; the next job is served either way."""
    limit, grace, slack = 1.0, 0.5, 2.0
    srv = launch(tmp_path, workers=1, watchdog_grace=str(grace), allow_fake_solver="true")
    overrun = {"delay": 30, "ignore_time_limit": True}
    hung = {**overrun, "ignore_interrupt": True}
    try:
        with srv.client() as client:
            job = client.submit(
                ("t.mps", TINY_MPS), solver="fake", time_limit=limit, params=overrun
            )
            done = client.wait(job.id, timeout=30)
            assert (done.state, done.termination) == ("completed", "time_limit")
            assert _ran_for(done.raw) < limit + grace + slack

            job = client.submit(("t.mps", TINY_MPS), solver="fake", time_limit=limit, params=hung)
            pid = wait_running(client, job.id)
            done = client.wait(job.id, timeout=30)
            assert done.state == "failed" and (done.error or "").startswith("watchdog:")
            assert _ran_for(done.raw) < limit + grace + slack
            assert "[mipguide] failed: watchdog" in client.log(job.id)[0]

            after = client.submit(("t.mps", TINY_MPS), wait=30)
            assert after.objective == pytest.approx(-2.0)
            assert wait_running(client, after.id) != pid  # a fresh worker served it
    finally:
        srv.stop()


def _ran_for(job: dict[str, Any]) -> float:
    started = datetime.fromisoformat(job["started_at"])
    return (datetime.fromisoformat(job["finished_at"]) - started).total_seconds()


def test_a_job_queued_behind_a_terminated_one_runs_on_the_replacement(
    tmp_path: Path, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    """No cooperative grace: cancel goes straight to SIGTERM. The job waiting behind it must go
    to the replacement worker, not to the dead one while it is being replaced."""
    from tests.api.serverutil import launch

    srv = launch(tmp_path, workers=1, cancel_grace="0")
    try:
        with srv.client() as client:
            long = client.submit(miplib_dir / "markshare1.mps.gz", time_limit=600)
            wait_running(client, long.id)
            nxt = client.submit(miplib_dir / "p0033.mps.gz")
            assert client.cancel(long.id).state == "cancelled"  # type: ignore[union-attr]
            done = client.wait(nxt.id, timeout=30)
            assert done.objective == pytest.approx(optimum("p0033"))
    finally:
        srv.stop()


def test_a_server_not_ready_in_time_is_stopped_and_reaped(tmp_path: Path) -> None:
    """``start_server`` past its readiness deadline stops the server it started and waits for
    it: no server process outlives the failure (it would hold its port and warn at exit)."""
    from mipguide.bench.api import free_port, start_server

    with pytest.raises(RuntimeError, match="not ready after 0.01 s"):
        start_server(tmp_path, 1, free_port(), ready_seconds=0.01)
    mine = str(tmp_path)
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "serve" in cmdline and mine in cmdline:
                left.append(entry.name)
    assert left == []
