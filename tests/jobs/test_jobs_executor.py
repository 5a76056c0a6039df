"""Executor scheduling: priority, FIFO, per-key running cap, queued cancel (no processes), and
the hand-over around a SIGTERM (a real sleeping child stands in for the worker)."""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mipguide.jobs.events import EventBus
from mipguide.jobs.executor import LocalExecutor, _Worker
from mipguide.jobs.files import JobFiles
from mipguide.jobs.logs import JobLogs
from mipguide.jobs.models import JobState
from mipguide.jobs.records import JobSpec, Outcome
from mipguide.jobs.store import JobStore
from mipguide.settings import Settings


@pytest.fixture
def executor(tmp_path: Path) -> Iterator[LocalExecutor]:
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    files = JobFiles(tmp_path)
    ex = LocalExecutor(
        store,
        files,
        JobLogs(files),
        EventBus(),
        Settings(data_dir=tmp_path, max_running_per_key=1, cancel_grace=0, kill_grace=0.5),
    )
    yield ex
    store.close()


def add(ex: LocalExecutor, job_id: str, owner: str, priority: int = 0) -> None:
    spec = JobSpec(job_id, owner, {}, priority, (), "f.mps", job_id, 1, 1, 1, "")
    ex.submit(ex.store.create_jobs([spec]))


def test_priority_fifo_and_per_key_cap(executor: LocalExecutor) -> None:
    add(executor, "a1", "alice")
    add(executor, "a2", "alice", priority=9)
    add(executor, "b1", "bob")
    add(executor, "a3", "alice", priority=9)
    store, me = executor.store, executor.replica

    def claim() -> str | None:
        job = store.claim(me, 30.0, executor.settings.max_running_per_key)
        return None if job is None else job.id

    assert claim() == "a2"
    assert claim() == "b1"  # alice runs one job, her cap: bob goes next
    assert claim() is None  # bob is at his cap too
    assert store.finish("a2", Outcome(JobState.COMPLETED), holder=me)
    assert claim() == "a3"
    assert executor.queue_depth() == 1


def test_cancel_while_queued(executor: LocalExecutor) -> None:
    add(executor, "q", "")
    assert executor.cancel("q")
    job = executor.store.get("q")
    assert job is not None and job.state == JobState.CANCELLED
    assert executor.store.claim(executor.replica, 30.0, 1) is None
    assert not executor.cancel("q")


@pytest.fixture
def sleeper() -> Iterator[_Worker]:
    """A ready worker whose process is a real child that sleeps (no solver behind it)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=time.sleep, args=(60,), daemon=True)
    proc.start()
    child.close()
    yield _Worker(0, proc, parent, ready=True)
    proc.kill()
    proc.join(5)


def start_and_cancel(ex: LocalExecutor, w: _Worker) -> None:
    """Hand "long" to ``w`` and cancel it with no grace: SIGTERM is due at once."""
    ex._workers = [w]
    add(ex, "long", "")
    (assigned,) = ex._assign()
    assert assigned == (w, w.job) and w.job is not None and w.job.id == "long"
    assert ex.cancel("long") and w.stop_reason == "cancel" and w.term_at is not None
    add(ex, "next", "")


def test_a_job_that_ends_before_the_sigterm_leaves_its_worker_in_service(
    executor: LocalExecutor, sleeper: _Worker
) -> None:
    start_and_cancel(executor, sleeper)
    job = sleeper.job
    assert job is not None
    executor._release(sleeper, job)  # its result came back first
    assert executor._finish(job, Outcome(JobState.CANCELLED))
    executor._enforce_stops()
    assert sleeper.kill_at is None and sleeper.process.is_alive()  # not signalled
    (assigned,) = executor._assign()
    assert assigned[1].id == "next"


def test_a_worker_sent_sigterm_takes_no_new_job_even_when_its_job_ends(
    executor: LocalExecutor, sleeper: _Worker
) -> None:
    start_and_cancel(executor, sleeper)
    executor._enforce_stops()  # SIGTERM
    assert sleeper.kill_at is not None
    job = sleeper.job
    assert job is not None
    executor._release(sleeper, job)  # its result arrives after the signal
    # the reader has not seen the death yet: the worker still looks ready and idle
    assert sleeper.ready and sleeper.job is None
    assert executor._assign() == []  # "next" waits for the replacement
    assert executor.queue_depth() == 1
    sleeper.process.join(5)
    assert sleeper.process.exitcode == -signal.SIGTERM  # it was the SIGTERM that ended it
