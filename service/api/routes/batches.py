"""/v1/batches: many models with shared options; counts per state; cancel all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import Caller, caller
from mipguide.api.deps import manager, metrics
from mipguide.api.routes.jobs import ERRORS
from mipguide.api.schemas import BatchPublic
from mipguide.api.uploads import read_submission
from mipguide.jobs.models import JobKind

router = APIRouter(prefix="/v1/batches", tags=["batches"])
Who = Annotated[Caller, Depends(caller)]

BATCH_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "repeat the field once per model",
                        },
                        "solver": {"type": "string"},
                        "time_limit": {"type": "number"},
                        "tags": {"type": "string"},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/BatchCreate"}},
        },
        "required": True,
    }
}


BATCH_LINKS: dict[str, Any] = {
    op: {"operationId": op, "parameters": {"batch_id": "$response.body#/id"}}
    for op in ("read_batch", "cancel_batch")
}


@router.post(
    "",
    status_code=202,
    response_model=BatchPublic,
    responses={202: {"description": "queued", "links": BATCH_LINKS}, **ERRORS},
    openapi_extra=BATCH_DOC,
)
async def create_batch(request: Request, who: Who) -> JSONResponse:
    """Submit several models sharing options: one job each, all accepted or none."""
    m = manager(request)
    uploads, raw = await read_submission(request, m.settings, many=True)
    jobs, batch = await run_in_threadpool(m.submit, uploads, raw, who.owner, batch=True)
    metrics(request).submitted.labels(JobKind.SOLVE.value).inc(len(jobs))
    assert batch is not None
    body = await run_in_threadpool(BatchPublic.of, batch, m)
    return JSONResponse(body.model_dump(mode="json"), status_code=202)


@router.get("/{batch_id}", response_model=BatchPublic, responses=ERRORS)
async def read_batch(request: Request, batch_id: str, who: Who) -> BatchPublic:
    """Job ids and counts per state."""
    m = manager(request)
    batch = await run_in_threadpool(m.get_batch, batch_id, who.scope)
    return await run_in_threadpool(BatchPublic.of, batch, m)


@router.delete("/{batch_id}", response_model=BatchPublic, responses={204: {}, **ERRORS})
async def cancel_batch(request: Request, batch_id: str, who: Who, purge: bool = False) -> Response:
    """Cancel every job of the batch that has not ended; ``?purge=true`` deletes them all."""
    m = manager(request)
    batch = await run_in_threadpool(m.get_batch, batch_id, who.scope)
    done = await run_in_threadpool(m.cancel_batch, batch.id, purge)
    if purge and done:
        return Response(status_code=204)
    body = await run_in_threadpool(BatchPublic.of, batch, m)
    return JSONResponse(body.model_dump(mode="json"))
