"""The API end to end on PostgreSQL (a throwaway cluster, see tests/pg.py): solve, restart,
concurrent submissions, and inputs that SQLite stored but PostgreSQL used to refuse."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.serverutil import KEY_A, TINY_MPS, Server, launch, submit_concurrently
from tests.api.test_api_resilience import wait_running
from tests.pg import PgCluster


@pytest.fixture(scope="module")
def pg_server(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = launch(tmp_path_factory.mktemp("pg-server"), workers=2, db_url=pg_cluster.new_database())
    yield srv
    srv.stop()


def test_p0033_is_solved_to_its_optimum(
    pg_server: Server, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    with pg_server.client() as client:
        job = client.submit(miplib_dir / "p0033.mps.gz", time_limit=60, tags=["pg"], wait=60)
        assert job.state == "completed" and job.objective == pytest.approx(optimum("p0033"))
        assert job.objective == pytest.approx(3089)
        assert client.incumbents(job.id)[-1].objective == pytest.approx(3089)
        jobs, total = client.jobs(tag="pg")
        assert total == 1 and jobs[0].id == job.id
        assert job.raw["created_at"].endswith(("+00:00", "Z"))


def test_a_dmmv_job_is_stored_and_listed_by_kind(pg_server: Server) -> None:
    from tests.api.test_api_dmmv import planted_body

    with pg_server.http() as http:
        resp = http.post("/v1/dmmv", params={"wait": 60}, json=planted_body())
        assert resp.status_code == 200, resp.text
        job = resp.json()
        assert (job["kind"], job["state"], job["objective"]) == ("dmmv", "completed", 0.0)
        listed = http.get("/v1/jobs", params={"kind": "dmmv"}).json()
        assert [j["id"] for j in listed["items"]] == [job["id"]]


def test_50_concurrent_submissions_none_lost(pg_server: Server) -> None:
    tag = "c" + uuid.uuid4().hex[:8]

    responses = submit_concurrently(pg_server.url, KEY_A, tag, 50)
    assert [r.status_code for r in responses] == [202] * 50
    ids = {r.json()["id"] for r in responses}
    with pg_server.client() as client:
        for job_id in ids:
            assert client.wait(job_id, timeout=120).objective == pytest.approx(-2.0)
        jobs, total = client.jobs(tag=tag, limit=100)
        assert len(ids) == total == 50 and {j.id for j in jobs} == ids


def test_inputs_postgresql_used_to_refuse(pg_server: Server) -> None:
    long_name = "m" * 251 + ".mps"  # the longest file name accepted
    with pg_server.http() as http:
        resp = http.post("/v1/jobs", files={"file": (long_name, TINY_MPS)}, params={"wait": 30})
        assert resp.status_code == 200, resp.text
        assert resp.json()["objective"] == pytest.approx(-2.0)
        assert resp.json()["problem"]["filename"] == long_name
        longer = http.post("/v1/jobs", files={"file": ("m" + long_name, TINY_MPS)})
        assert longer.status_code == 422 and "at most 255" in longer.text
        bad = http.post("/v1/jobs", files={"file": ("t.mps", TINY_MPS)}, data={"gap": "inf"})
        assert bad.status_code == 422 and bad.json()["error"]["option"] == "gap"
        assert http.get("/v1/jobs/%00").status_code == 404
        assert http.get("/v1/jobs", params={"tag": "%"}).json()["total"] == 0


def test_restart_finds_the_jobs_and_requeues_the_running_one(
    pg_cluster: PgCluster, tmp_path: Path, miplib_dir: Path
) -> None:
    srv = launch(tmp_path, workers=1, db_url=pg_cluster.new_database())
    try:
        with srv.client() as client:
            solved = client.submit(miplib_dir / "p0033.mps.gz", wait=60)
            long = client.submit(miplib_dir / "markshare1.mps.gz", time_limit=600)
            wait_running(client, long.id)
        srv.restart()
        with srv.client() as client:
            again = client.job(solved.id)
            assert again.state == "completed" and again.objective == pytest.approx(3089)
            assert client.result(solved.id).objective == pytest.approx(3089)
            wait_running(client, long.id)
            assert client.job(long.id).raw["attempts"] == 2
            cancelled = client.cancel(long.id)
            assert cancelled is not None and cancelled.state == "cancelled"
    finally:
        srv.stop()
