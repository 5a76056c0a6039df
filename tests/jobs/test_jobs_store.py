"""JobStore contracts on SQLite and PostgreSQL: run order, transitions, recovery, retention,
filters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import StatementError

from mipguide.jobs.models import JobState, utcnow
from mipguide.jobs.records import ArchivedSolution, IncumbentRecord, JobSpec, Outcome
from mipguide.jobs.store import RESTART_REASON, JobStore
from mipguide.settings import Settings


def spec(job_id: str, priority: int = 0, owner: str = "", tags: tuple[str, ...] = ()) -> JobSpec:
    return JobSpec(
        id=job_id,
        owner=owner,
        options={"solver": "scip", "time_limit": 1.0},
        priority=priority,
        tags=tags,
        filename=f"{job_id}.mps",
        problem_name=job_id,
        num_vars=1,
        num_rows=1,
        nnz=1,
        input_path="",
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    """The same contracts on SQLite and on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = JobStore(url)
    yield s
    s.close()


def test_queue_order_is_priority_then_fifo(store: JobStore) -> None:
    store.create_jobs([spec("a"), spec("b", 5), spec("c"), spec("d", 5), spec("e", -1)])
    assert [j.id for j in store.queued()] == ["b", "d", "a", "c", "e"]
    positions = {j.id: store.queue_position(j) for j in store.queued()}
    assert positions == {"b": 0, "d": 1, "a": 2, "c": 3, "e": 4}


def test_transitions_are_guarded(store: JobStore) -> None:
    store.create_jobs([spec("a")])
    assert store.mark_running("a") and not store.mark_running("a")
    assert store.finish("a", Outcome(JobState.COMPLETED, objective=3.0, bound=2.5))
    assert not store.finish("a", Outcome(JobState.CANCELLED))  # an ended job stays ended
    job = store.get("a")
    assert job is not None and job.state == JobState.COMPLETED and job.attempts == 1
    assert job.objective == 3.0 and job.finished_at is not None and job.finished_at.tzinfo
    assert job.bound == 2.5


def test_recover_requeues_running_jobs_once_then_fails_them(store: JobStore) -> None:
    store.create_jobs([spec("a"), spec("q")])
    store.mark_running("a")
    store.add_incumbent("a", IncumbentRecord(1, 0.1, 5.0, None, "solver"))
    assert store.recover() == (["a"], [])
    assert store.get("a").state == JobState.QUEUED  # type: ignore[union-attr]
    assert store.incumbents("a") == []  # the re-run reports afresh
    store.mark_running("a")
    assert store.recover() == ([], ["a"])
    failed = store.get("a")
    assert failed is not None and failed.state == JobState.FAILED and failed.error == RESTART_REASON
    assert store.get("q").state == JobState.QUEUED  # type: ignore[union-attr]


def test_leases_claim_renew_expire_and_fence(store: JobStore) -> None:
    import time

    store.create_jobs([spec("a"), spec("b", owner="k")])
    job = store.claim("r1", 1.0, per_owner_cap=5)
    assert job is not None and job.id == "a" and job.state == JobState.RUNNING
    assert job.attempts == 1
    assert store.renew("r2", ["a"], 30.0) == set()  # not r2's lease
    assert store.renew("r1", ["a"], 1.0) == {"a"}
    assert store.expire_leases() == ([], [])  # still held
    time.sleep(1.3)  # r1 stops renewing: any replica re-queues the job once
    assert store.expire_leases() == (["a"], [])
    assert store.renew("r1", ["a"], 30.0) == set()  # r1 learns it lost the job
    again = store.claim("r2", 1.0, per_owner_cap=5)
    assert again is not None and again.id == "a" and again.attempts == 2
    assert not store.finish("a", Outcome(JobState.COMPLETED), holder="r1")  # fenced off
    time.sleep(1.3)
    assert store.expire_leases() == ([], ["a"])  # interrupted twice: failed with the reason
    failed = store.get("a")
    assert failed is not None and failed.state == JobState.FAILED
    assert failed.error is not None and "lease expired" in failed.error
    # the other job: claimed by r2, finished by r2
    b = store.claim("r2", 30.0, per_owner_cap=5)
    assert b is not None and b.id == "b"
    assert store.finish("b", Outcome(JobState.COMPLETED, objective=1.0), holder="r2")


def test_cancel_requests_and_recover_by_replica(store: JobStore) -> None:
    store.create_jobs([spec("a"), spec("b"), spec("q")])
    assert store.claim("r1", 30.0, per_owner_cap=5) is not None  # a
    assert store.claim("r2", 30.0, per_owner_cap=5) is not None  # b
    assert not store.request_cancel("q")  # queued: not a flag, the caller cancels it
    assert store.finish("q", Outcome(JobState.CANCELLED), only_queued=True)
    assert store.request_cancel("b")
    assert store.cancel_requests("r2") == ["b"] and store.cancel_requests("r1") == []
    assert not store.finish("a", Outcome(JobState.CANCELLED), only_queued=True)  # running
    # r1 restarts: its own job is re-queued at once, r2's keeps its lease
    assert store.recover("r1") == (["a"], [])
    assert store.get("b").state == JobState.RUNNING  # type: ignore[union-attr]
    assert store.count_queued() == 1


def test_filters_counts_and_retention(store: JobStore) -> None:
    store.create_jobs(
        [spec("a", owner="k1", tags=("x", "y")), spec("b", owner="k2", tags=("xy",)), spec("c")]
    )
    assert [j.id for j in store.list_jobs(tag="x")[0]] == ["a"]
    assert store.list_jobs(owner="k2")[1] == 1
    jobs, total = store.list_jobs(limit=2)
    assert total == 3 and [j.id for j in jobs] == ["c", "b"]
    store.finish("a", Outcome(JobState.CANCELLED))
    assert store.counts()["cancelled"] == 1 and store.counts(owner="k1")["queued"] == 0
    assert store.expired(utcnow() - timedelta(hours=1)) == []
    assert store.expired(utcnow() + timedelta(seconds=1)) == ["a"]
    store.delete_jobs(["a"])
    assert store.get("a") is None


def test_incumbents_since(store: JobStore) -> None:
    store.create_jobs([spec("a")])
    for k in range(1, 4):
        store.add_incumbent("a", IncumbentRecord(k, 0.1 * k, 10.0 - k, 1.0, "solver"))
    assert [i.seq for i in store.incumbents("a", since=1)] == [2, 3]


def test_tag_filter_is_exact_and_case_sensitive(store: JobStore) -> None:
    # LIKE would let "_" match "-" and, on SQLite only, "X" match "x"
    store.create_jobs([spec("a", tags=("a_b", "X")), spec("b", tags=("a-b", "x"))])
    assert [j.id for j in store.list_jobs(tag="a_b")[0]] == ["a"]
    assert [j.id for j in store.list_jobs(tag="X")[0]] == ["a"]
    assert store.list_jobs(tag="%")[1] == 0


def test_free_text_is_stored_alike_on_every_backend(store: JobStore) -> None:
    # PostgreSQL refuses NUL characters and over-long VARCHARs; SQLite took both
    long_name = "m" * 600 + ".mps"
    store.create_jobs([_named("a", long_name, "p\x00q")])
    job = store.get("a")
    assert job is not None and job.filename == long_name[:512] and job.problem_name == "pq"
    store.finish("a", Outcome(JobState.FAILED, error="bad\x00byte", termination="t" * 40))
    job = store.get("a")
    assert job is not None and job.error == "badbyte" and job.termination == "t" * 32
    assert store.get("a\x00") is None and store.list_jobs(batch_id="\x00") == ([], 0)


def test_json_is_strict_on_every_backend(store: JobStore) -> None:
    bad = replace(spec("a"), options={"gap": math.inf})
    with pytest.raises((ValueError, StatementError), match="Out of range float values"):
        store.create_jobs([bad])
    assert store.get("a") is None


def _named(job_id: str, filename: str, problem_name: str) -> JobSpec:
    return replace(spec(job_id), filename=filename, problem_name=problem_name)


@pytest.mark.parametrize(
    ("db_url", "expected"),
    [
        ("postgresql://u:p@db/mipguide", "postgresql+psycopg://u:p@db/mipguide"),
        ("postgres://u@db:5433/m", "postgresql+psycopg://u@db:5433/m"),
        ("postgresql+psycopg://u@db/m", "postgresql+psycopg://u@db/m"),
        ("sqlite:////x/j.db", "sqlite:////x/j.db"),
    ],
)
def test_postgres_urls_use_the_shipped_driver(db_url: str, expected: str) -> None:
    assert Settings(db_url=db_url).database_url == expected


def test_kind_is_stored_and_filters_the_list(store: JobStore) -> None:
    from dataclasses import replace

    from mipguide.jobs.models import JobKind

    store.create_jobs([spec("s1"), replace(spec("d1"), kind=JobKind.DMMV), spec("s2")])
    assert store.get("d1").kind == JobKind.DMMV  # type: ignore[union-attr]
    assert store.get("s1").kind == JobKind.SOLVE  # type: ignore[union-attr]
    dmmv, total = store.list_jobs(kind=JobKind.DMMV)
    assert total == 1 and [j.id for j in dmmv] == ["d1"]
    assert store.list_jobs(kind=JobKind.SOLVE)[1] == 2


def test_a_database_without_the_kind_and_bound_columns_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    from mipguide.jobs.models import JobKind

    path = tmp_path / "old.db"
    old = JobStore(f"sqlite:///{path}")
    old.create_jobs([spec("old1")])
    old.close()
    with sqlite3.connect(path) as conn:  # the table as an older release created it
        conn.execute("ALTER TABLE jobs DROP COLUMN kind")
        conn.execute("ALTER TABLE jobs DROP COLUMN bound")
        assert not {"kind", "bound"} & {r[1] for r in conn.execute("PRAGMA table_info(jobs)")}
    new = JobStore(f"sqlite:///{path}")
    try:
        job = new.get("old1")
        assert job is not None and job.kind == JobKind.SOLVE and job.bound is None
        new.create_jobs([spec("new1")])
        assert new.list_jobs()[1] == 2
        assert new.mark_running("new1")
        assert new.finish("new1", Outcome(JobState.COMPLETED, objective=1.0, bound=0.5))
        assert new.get("new1").bound == 0.5  # type: ignore[union-attr]
    finally:
        new.close()


def test_a_postgres_database_without_the_kind_and_bound_columns_is_migrated(pg_url: str) -> None:
    from sqlalchemy import text

    from mipguide.jobs.models import JobKind

    old = JobStore(pg_url)
    old.create_jobs([spec("old1")])
    with old.engine.begin() as conn:  # the table as an older release created it
        conn.execute(text("ALTER TABLE jobs DROP COLUMN kind"))
        conn.execute(text("ALTER TABLE jobs DROP COLUMN bound"))
    old.close()
    new = JobStore(pg_url)
    try:
        job = new.get("old1")
        assert job is not None and job.kind == JobKind.SOLVE and job.bound is None
        new.create_jobs([spec("new1")])
        assert new.list_jobs()[1] == 2
    finally:
        new.close()


def test_the_solution_archive_is_per_key_bounded_and_forgets_deleted_jobs(
    store: JobStore,
) -> None:
    def solution(job_id: str, digest: str, tags: tuple[str, ...] = ("t",)) -> ArchivedSolution:
        return ArchivedSolution(job_id, tags, digest, 1.5, 3, bytes([0b10100000]))

    assert store.add_solution("a", solution("j1", "h1"), keep=2) == []
    assert store.add_solution("a", solution("j2", "h2", ("t", "u")), keep=2) == []
    assert store.add_solution("b", solution("j3", "h1"), keep=2) == []  # another key
    # a third of key a's pushes out its oldest; h1 is still key b's, so nothing is orphaned
    assert store.add_solution("a", solution("j4", "h3"), keep=2) == []
    assert [s.job_id for s in store.solutions("a", "t")] == ["j2", "j4"]
    assert [s.job_id for s in store.solutions("a", "u")] == ["j2"]
    assert store.solutions("a", "v") == [] and store.solutions("a", "t\x00") == []
    got = store.solutions("b", "t")[0]
    assert (got.problem_hash, got.objective, got.num_binaries) == ("h1", 1.5, 3)
    assert got.x_bits == bytes([0b10100000]) and got.tags == ("t",)
    # deleting jobs forgets their solutions and says which problems nobody refers to now
    assert store.forget_jobs(["j3", "j2"]) == ["h1", "h2"]
    assert store.forget_jobs([]) == [] and store.solutions("b", "t") == []
    # the trim of key b's archive (keep 0) orphans the problem it alone referred to
    assert store.add_solution("b", solution("j5", "h9"), keep=0) == ["h9"]
    # one job's several solutions in one call: kept in order (the last is the newest), the
    # trim counting them all
    many = [solution("j6", "h5"), solution("j6", "h6"), solution("j6", "h7")]
    assert store.add_solutions("c", many, keep=2) == ["h5"]
    assert [s.problem_hash for s in store.solutions("c", "t")] == ["h6", "h7"]
    assert store.forget_jobs(["j6"]) == ["h6", "h7"]


def test_replicas_starting_together_on_a_fresh_postgres_all_start(pg_url: str) -> None:
    """Two API replicas on a new database both create the schema: one at a time (an advisory
    lock), so neither fails on the other's CREATE TABLE."""
    import threading

    stores: list[JobStore] = []
    errors: list[BaseException] = []
    go = threading.Barrier(4)

    def start() -> None:
        go.wait()
        try:
            stores.append(JobStore(pg_url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == [] and len(stores) == 4
        stores[0].create_jobs([spec("a")])
        assert all(s.get("a") is not None for s in stores)
    finally:
        for s in stores:
            s.close()
