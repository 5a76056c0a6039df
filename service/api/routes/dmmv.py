"""/v1/dmmv: submit a DMMV search (discrete min-max violation) as a job.

The job then lives under /v1/jobs like any other (status, result, events, cancel).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import Caller, caller
from mipguide.api.deps import manager, metrics
from mipguide.api.routes.jobs import SUBMITTED, submitted
from mipguide.api.schemas import JobPublic
from mipguide.api.uploads import read_dmmv_submission
from mipguide.jobs.models import JobKind

router = APIRouter(prefix="/v1/dmmv", tags=["dmmv"])
Who = Annotated[Caller, Depends(caller)]

SUBMIT_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/DmmvCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "npz: A (or data/indices/indptr/shape), l, u, "
                            "levels, x0?, fixed?",
                        },
                        "name": {"type": "string"},
                        "time_limit": {"type": "number"},
                        "seed": {"type": "integer"},
                        "threads": {"type": "integer"},
                        "priority": {"type": "integer"},
                        "tags": {"type": "string", "description": "comma-separated"},
                    },
                }
            },
        },
        "required": True,
    }
}


@router.post(
    "",
    status_code=202,
    response_model=JobPublic,
    responses=SUBMITTED,
    openapi_extra=SUBMIT_DOC,
)
async def create_dmmv_job(
    request: Request,
    who: Who,
    wait: Annotated[float, Query(ge=0, description="seconds to wait for the end")] = 0.0,
) -> JSONResponse:
    """Submit a DMMV instance (JSON fields, or an npz ``file`` + option fields) as a job."""
    m = manager(request)
    sub = await read_dmmv_submission(request, m.settings)
    job = await run_in_threadpool(
        m.submit_dmmv, sub.instance, sub.options, who.owner, filename=sub.filename, name=sub.name
    )
    metrics(request).submitted.labels(JobKind.DMMV.value).inc()
    return await submitted(m, job, wait)
