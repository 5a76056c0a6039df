"""Shared route helpers: the app's JobManager and Metrics, job lookup, waiting for an end."""

from __future__ import annotations

import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import Caller
from mipguide.api.metrics import Metrics
from mipguide.jobs.manager import JobManager
from mipguide.jobs.models import JobState
from mipguide.jobs.records import JobRecord


def manager(request: Request) -> JobManager:
    m: JobManager = request.app.state.manager
    return m


def metrics(request: Request) -> Metrics:
    mt: Metrics = request.app.state.metrics
    return mt


async def get_job(m: JobManager, job_id: str, who: Caller) -> JobRecord:
    """The job if this caller may see it (else JobNotFoundError -> 404)."""
    return await run_in_threadpool(m.get, job_id, who.scope)


async def wait_for_end(m: JobManager, job: JobRecord, timeout: float) -> JobRecord:
    """The job once it has ended, or as it is after ``timeout`` seconds."""
    if job.state.terminal or timeout <= 0:
        return job
    deadline = time.monotonic() + timeout
    with m.bus.subscribe(job.id) as sub:
        # read after subscribing: an end published in between is already in the store
        current = await run_in_threadpool(m.store.get, job.id)
        if current is None or current.state.terminal:
            return current or job
        while (left := deadline - time.monotonic()) > 0:
            event = await sub.get(left)
            if event is None:
                break
            if event.kind == "state" and JobState(event.data["state"]).terminal:
                break
    return await run_in_threadpool(m.store.get, job.id) or job
