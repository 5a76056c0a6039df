"""/v1/jobs: submit, list, inspect, result, incumbents, log, events (SSE), cancel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import Caller, caller
from mipguide.api.deps import get_job, manager, metrics, wait_for_end
from mipguide.api.formats import to_csv, to_sol
from mipguide.api.plot import job_plot_png
from mipguide.api.schemas import (
    IncumbentListPublic,
    IncumbentPublic,
    JobListPublic,
    JobPublic,
)
from mipguide.api.uploads import read_submission
from mipguide.errors import InvalidOptionError
from mipguide.jobs.manager import JobManager
from mipguide.jobs.models import JobKind, JobState
from mipguide.jobs.records import JobRecord

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
Who = Annotated[Caller, Depends(caller)]

# The largest offset or sequence number a query may name (the store's integers are 64-bit).
MAX_INDEX = 2**62
# Every error is JSON in the ErrorBody shape, whatever the route's own media type.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": "error (code, message, and where)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for code in (400, 401, 403, 404, 409, 413, 415, 422, 429, 500)
}
# OpenAPI links from a submitted job to what can be done with it (operation ids are the route
# functions' names: see create_app); clients and the stateful API tests follow them.
JOB_LINKS: dict[str, Any] = {
    op: {"operationId": op, "parameters": {"job_id": "$response.body#/id"}}
    for op in ("read_job", "read_result", "read_log", "read_incumbents", "cancel_job")
}
SUBMITTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "queued (Location: the job)", "links": JOB_LINKS},
    200: {"model": JobPublic, "description": "ended within ?wait", "links": JOB_LINKS},
    **ERRORS,
}
SUBMIT_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "solver": {
                            "type": "string",
                            "example": "scip",
                            "description": "a backend, or auto (default in the guided modes)",
                        },
                        "mode": {"type": "string", "enum": ["exact", "pas", "auto", "srg"]},
                        "model": {
                            "type": "string",
                            "description": "NAME@VERSION (pas, auto, srg)",
                        },
                        "pas": {"type": "string", "description": "JSON object: k0, k1, ..."},
                        "srg": {"type": "string", "description": "JSON object: k, steps, ..."},
                        "time_limit": {"type": "number"},
                        "gap": {"type": "number"},
                        "threads": {"type": "integer"},
                        "seed": {"type": "integer"},
                        "priority": {"type": "integer"},
                        "tags": {"type": "string", "description": "comma-separated"},
                        "params": {"type": "string", "description": "JSON object"},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}},
        },
        "required": True,
    }
}


async def public(m: JobManager, job: JobRecord, with_result: bool = False) -> JobPublic:
    """The wire form of a job (queue position while queued; the result when asked)."""

    def build() -> JobPublic:
        latest = None if job.state.terminal else m.store.latest_incumbents([job.id]).get(job.id)
        out = JobPublic.of(job, m.queue_position(job), latest)
        if with_result and job.result_path is not None:
            out.result = m.result(job)
        return out

    return await run_in_threadpool(build)


async def submitted(m: JobManager, job: JobRecord, wait: float) -> JSONResponse:
    """The answer to a submission: 202 + Location while the job runs after ``wait`` seconds,
    200 with its result once it has ended."""
    job = await wait_for_end(m, job, min(wait, m.settings.max_wait))
    body = await public(m, job, with_result=job.state.terminal)
    status = 200 if job.state.terminal else 202
    headers = {"Location": f"/v1/jobs/{job.id}"}
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


@router.post(
    "",
    status_code=202,
    response_model=JobPublic,
    responses=SUBMITTED,
    openapi_extra=SUBMIT_DOC,
)
async def create_job(
    request: Request,
    who: Who,
    wait: Annotated[float, Query(ge=0, description="seconds to wait for the end")] = 0.0,
) -> JSONResponse:
    """Submit one model (multipart ``file`` + option fields, or JSON ``{model, options}``)."""
    m = manager(request)
    uploads, raw = await read_submission(request, m.settings, many=False)
    jobs, _ = await run_in_threadpool(m.submit, uploads, raw, who.owner)
    metrics(request).submitted.labels(JobKind.SOLVE.value).inc()
    return await submitted(m, jobs[0], wait)


@router.get("", response_model=JobListPublic, responses=ERRORS)
async def list_jobs(
    request: Request,
    who: Who,
    state: JobState | None = None,
    tag: str | None = None,
    kind: JobKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
) -> JobListPublic:
    """This caller's jobs, newest first."""
    m = manager(request)

    def build() -> JobListPublic:
        jobs, total = m.store.list_jobs(
            owner=who.scope, state=state, tag=tag, kind=kind, limit=limit, offset=offset
        )
        running = [j.id for j in jobs if not j.state.terminal]
        latest = m.store.latest_incumbents(running)
        items = [JobPublic.of(j, m.queue_position(j), latest.get(j.id)) for j in jobs]
        return JobListPublic(items=items, total=total, limit=limit, offset=offset)

    return await run_in_threadpool(build)


@router.get("/{job_id}", response_model=JobPublic, responses=ERRORS)
async def read_job(
    request: Request,
    job_id: str,
    who: Who,
    wait: Annotated[float, Query(ge=0, description="long-poll: seconds to wait for the end")] = 0,
) -> JobPublic:
    """State, timestamps, queue position, options and outcome summary."""
    m = manager(request)
    job = await get_job(m, job_id, who)
    job = await wait_for_end(m, job, min(wait, m.settings.max_wait))
    return await public(m, job)


@router.get(
    "/{job_id}/result",
    responses={200: {"content": {"text/plain": {}, "text/csv": {}}}, **ERRORS},
)
async def read_result(
    request: Request,
    job_id: str,
    who: Who,
    format: Literal["json", "sol", "csv"] = "json",
) -> Response:
    """The verified result (409 while the job has none); a DMMV or training job's result is
    JSON only."""
    m = manager(request)
    job = await get_job(m, job_id, who)
    if job.kind != JobKind.SOLVE and format != "json":
        raise InvalidOptionError(
            "format", f"a {job.kind.value} job's result is JSON only", ["json"]
        )
    result = await run_in_threadpool(m.result, job)
    if format != "json":  # a download: job ids are the server's own, safe in a header
        text = to_sol(result) if format == "sol" else to_csv(result)
        media = "text/plain" if format == "sol" else "text/csv"
        disposition = f'attachment; filename="{job.id}.{format}"'
        return PlainTextResponse(
            text, media_type=media, headers={"Content-Disposition": disposition}
        )
    return JSONResponse(result)


@router.get("/{job_id}/incumbents", response_model=IncumbentListPublic, responses=ERRORS)
async def read_incumbents(
    request: Request, job_id: str, who: Who, since: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0
) -> IncumbentListPublic:
    """Improving solutions found so far with seq > since."""
    m = manager(request)
    job = await get_job(m, job_id, who)
    items = await run_in_threadpool(m.incumbents, job, since)
    return IncumbentListPublic(
        items=[IncumbentPublic.of(i) for i in items],
        next=items[-1].seq if items else since,
        state=job.state.value,
    )


@router.get(
    "/{job_id}/plot.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
async def read_plot(request: Request, job_id: str, who: Who) -> Response:
    """The job's progress as a PNG: objective and dual bound over time, each incumbent marked by
    its source, and the gap (a DMMV job: the max violation)."""
    m = manager(request)
    job = await get_job(m, job_id, who)

    def draw() -> bytes:
        return job_plot_png(job, m.incumbents(job, 0))

    png = await run_in_threadpool(draw)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/{job_id}/log", response_class=PlainTextResponse, responses=ERRORS)
async def read_log(
    request: Request, job_id: str, who: Who, offset: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0
) -> PlainTextResponse:
    """Log text from byte ``offset``; header ``X-Next-Offset`` says where to continue."""
    m = manager(request)
    job = await get_job(m, job_id, who)
    text, nxt = await run_in_threadpool(m.log, job, offset)
    headers = {"X-Next-Offset": str(nxt), "X-Job-State": job.state.value}
    return PlainTextResponse(text, headers=headers)


@router.get("/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
async def stream_events(request: Request, job_id: str, who: Who) -> EventSourceResponse:
    """Server-Sent Events: ``state``, ``incumbent``, ``log``; ``end`` closes the stream."""
    m = manager(request)
    await get_job(m, job_id, who)
    sub = m.bus.subscribe(job_id)

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            job = await run_in_threadpool(m.get, job_id, None)
            yield {"event": "state", "data": json.dumps({"state": job.state.value})}
            last = 0
            for inc in await run_in_threadpool(m.incumbents, job, 0):
                last = inc.seq
                yield {"event": "incumbent", "data": IncumbentPublic.of(inc).model_dump_json()}
            state = job.state
            while not state.terminal:
                event = await sub.get(30.0)
                if event is None:
                    state = (await run_in_threadpool(m.get, job_id, None)).state
                    continue
                if event.kind == "incumbent" and event.data.get("seq", 0) <= last:
                    continue
                yield {"event": event.kind, "data": json.dumps(event.data)}
                if event.kind == "state":
                    state = JobState(event.data["state"])
            yield {"event": "end", "data": json.dumps({"state": state.value})}
        finally:
            sub.close()

    return EventSourceResponse(events(), ping=15)


@router.delete("/{job_id}", response_model=JobPublic, responses={204: {}, **ERRORS})
async def cancel_job(
    request: Request,
    job_id: str,
    who: Who,
    purge: bool = False,
) -> Response:
    """Cancel (queued: at once; running: interrupt, then kill); ``?purge=true`` deletes it."""
    m = manager(request)
    job = await get_job(m, job_id, who)
    await run_in_threadpool(m.cancel, job)
    grace = m.settings.cancel_grace + m.settings.kill_grace + 3.0
    job = await wait_for_end(m, job, grace)
    if purge and job.state.terminal:
        await run_in_threadpool(m.purge, job.id)
        return Response(status_code=204)
    body = await public(m, job)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=200 if job.state.terminal else 202
    )
