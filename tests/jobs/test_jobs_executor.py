"""Executor scheduling without processes: priority, FIFO, per-key running cap, queued cancel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.jobs.events import EventBus
from service.jobs.executor import LocalExecutor
from service.jobs.files import JobFiles
from service.jobs.logs import JobLogs
from service.jobs.models import JobState
from service.jobs.records import JobSpec
from service.jobs.store import JobStore
from service.settings import Settings


@pytest.fixture
def executor(tmp_path: Path) -> Iterator[LocalExecutor]:
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    files = JobFiles(tmp_path)
    ex = LocalExecutor(
        store, files, JobLogs(files), EventBus(), Settings(data_dir=tmp_path, max_running_per_key=1)
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
    first = executor._pop_runnable()
    assert first is not None and first.id == "a2"
    executor._running_by_owner["alice"] = 1  # alice is at her cap: bob goes next
    second = executor._pop_runnable()
    assert second is not None and second.id == "b1"
    executor._running_by_owner["bob"] = 1
    assert executor._pop_runnable() is None
    executor._running_by_owner["alice"] = 0
    third = executor._pop_runnable()
    assert third is not None and third.id == "a3"
    assert executor.queue_depth() == 1


def test_cancel_while_queued(executor: LocalExecutor) -> None:
    add(executor, "q", "")
    assert executor.cancel("q")
    job = executor.store.get("q")
    assert job is not None and job.state == JobState.CANCELLED
    assert executor._pop_runnable() is None
    assert not executor.cancel("q")
