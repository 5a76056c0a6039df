"""Two API replicas on one real PostgreSQL and one real Ray cluster (loopback), sharing a data
folder: 200 concurrent submissions spread over both all complete once with the right answer,
event streams on either replica follow jobs that run on the other, and a replica killed with
jobs running loses none of them (the other re-queues them once their lease runs out)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.serverutil import KEY_A, TINY_MPS_TEXT, Server, launch, ready_workers
from tests.pg import PgCluster

pytestmark = pytest.mark.slow
LEASE = 4.0


@pytest.fixture
def replicas(
    ray_cluster: str, pg_cluster: PgCluster, tmp_path: Path
) -> Iterator[tuple[Server, Server]]:
    db = pg_cluster.new_database()
    settings = {
        "db_url": db,
        "executor": "ray",
        "ray_address": ray_cluster,
        "ray_worker_cpus": "0.5",
        "lease_seconds": str(LEASE),
        "max_running_per_key": "8",
    }
    a = launch(tmp_path, workers=2, **settings)
    b = launch(tmp_path, workers=2, **settings)
    yield a, b
    for srv in (a, b):
        srv.stop()


def _submit(srv: Server, name: str, data: bytes | str, **options: Any) -> str:
    with srv.http() as http:
        r = http.post("/v1/jobs", files={"file": (name, data)}, data=options)
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _follow(url: str, job_id: str, out: dict[str, list[tuple[str, Any]]]) -> None:
    """Read a job's event stream to its end (into ``out[job_id]``)."""
    events: list[tuple[str, Any]] = []
    kind = "message"
    with (
        httpx.Client(base_url=url, headers={"X-API-Key": KEY_A}, timeout=120) as http,
        http.stream("GET", f"/v1/jobs/{job_id}/events") as resp,
    ):
        for line in resp.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.split(":", 1)[1])))
                if kind == "end":
                    break
    out[job_id] = events


def _wait_all(srv: Server, ids: list[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    jobs: list[dict[str, Any]] = []
    with srv.http() as http:
        for job_id in ids:
            left = max(1.0, deadline - time.monotonic())
            job = http.get(f"/v1/jobs/{job_id}", params={"wait": min(left, 60)}).json()
            while job["state"] in ("queued", "running") and time.monotonic() < deadline:
                job = http.get(f"/v1/jobs/{job_id}", params={"wait": 30}).json()
            jobs.append(job)
    return jobs


def _log(srv: Server, job_id: str) -> str:
    with srv.http() as http:
        return http.get(f"/v1/jobs/{job_id}/log").text


def test_two_replicas_serve_200_concurrent_jobs_once_each(
    replicas: tuple[Server, Server], miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    a, b = replicas
    ready_workers(a, 2)
    ready_workers(b, 2)
    p0033 = (miplib_dir / "p0033.mps.gz").read_bytes()
    # a job that runs a few seconds, watched from both replicas while it runs
    slow = _submit(
        a,
        "markshare1.mps.gz",
        (miplib_dir / "markshare1.mps.gz").read_bytes(),
        solver="scip",
        time_limit="3",
    )
    on_a: dict[str, list[tuple[str, Any]]] = {}
    on_b: dict[str, list[tuple[str, Any]]] = {}
    watchers = [
        threading.Thread(target=_follow, args=(srv.url, slow, seen))
        for srv, seen in ((a, on_a), (b, on_b))
    ]
    for t in watchers:
        t.start()

    def submit(k: int) -> tuple[str, str]:
        srv = (a, b)[k % 2]
        if k % 3 == 0:
            return _submit(srv, "p0033.mps.gz", p0033, solver="scip"), "p0033"
        return _submit(srv, "tiny.mps", TINY_MPS_TEXT, solver="scip"), "tiny"

    with ThreadPoolExecutor(16) as pool:
        submitted = list(pool.map(submit, range(200)))
    ids = [job_id for job_id, _ in submitted]
    # streams on the replica that did not take the submission, for some of the jobs
    more: dict[str, list[tuple[str, Any]]] = {}
    followers = [
        threading.Thread(target=_follow, args=((b, a)[k % 2].url, ids[k], more))
        for k in range(0, 200, 10)
    ]
    for t in followers:
        t.start()
    jobs = _wait_all(a, ids, timeout=600)
    for t in [*watchers, *followers]:
        t.join(120)
    for job, (_, name) in zip(jobs, submitted, strict=True):
        assert job["state"] == "completed", job
        want = optimum("p0033") if name == "p0033" else -2.0
        assert job["objective"] == pytest.approx(want)
        assert job["attempts"] == 1, job  # claimed once: never run twice
    for job_id in ids[:40]:
        assert _log(b, job_id).count("[mipguide] running (attempt") == 1
    # every stream, on either replica, followed its job to the end
    for job_id, events in more.items():
        kinds = [k for k, _ in events]
        assert kinds[0] == "state" and kinds[-1] == "end", (job_id, kinds)
        assert events[-1][1]["state"] == "completed"
    assert len(more) == 20
    # the slow job: both replicas' streams saw its live incumbents (one of them through the
    # other replica's notifications) and its end
    for events in (on_a[slow], on_b[slow]):
        incumbents = [d for k, d in events if k == "incumbent"]
        assert incumbents and events[-1] == ("end", {"state": "completed"})
        assert [d["seq"] for d in incumbents] == sorted({d["seq"] for d in incumbents})


def test_a_killed_replica_loses_no_job(replicas: tuple[Server, Server], miplib_dir: Path) -> None:
    a, b = replicas
    ready_workers(a, 2)
    ready_workers(b, 2)
    data = (miplib_dir / "markshare1.mps.gz").read_bytes()
    ids = [_submit(a, "markshare1.mps.gz", data, solver="scip", time_limit="4") for _ in range(6)]
    deadline = time.monotonic() + 60
    with b.http() as http:  # both replicas run some of them
        while sum(http.get(f"/v1/jobs/{j}").json()["state"] == "running" for j in ids) < 4:
            assert time.monotonic() < deadline, "jobs did not start"
            time.sleep(0.1)
    a.stop(signal.SIGKILL)  # replica a dies with its jobs running (its Ray actors with it)
    jobs = _wait_all(b, ids, timeout=180)
    assert [j["state"] for j in jobs] == ["completed"] * 6, jobs
    logs = [_log(b, j) for j in ids]
    requeued = [log for log in logs if "re-queued: its replica's lease ran out" in log]
    assert requeued, "no job of the killed replica was re-queued"
    for job, log in zip(jobs, logs, strict=True):
        assert log.count("[mipguide] completed") == 1  # run to completion once
        assert job["attempts"] == (2 if "re-queued" in log else 1)
    with b.http() as http:  # the survivor goes on serving
        r = http.post("/v1/jobs", files={"file": ("tiny.mps", TINY_MPS_TEXT)}, params={"wait": 60})
        assert r.json()["state"] == "completed"
