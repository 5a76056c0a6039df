"""/healthz (the process answers), /readyz (store reachable, a worker ready), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import metrics_access
from mipguide.api.deps import manager, metrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the server process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the store answers and at least one worker is ready (else 503); whether the
    server's device pool runs (``device_pool``: where, or null)."""
    m = manager(request)
    try:
        db_ok = await run_in_threadpool(m.store.ping)
    except Exception:
        db_ok = False
    workers = m.executor.alive_workers()
    ready = db_ok and workers > 0
    pool = m.executor.device_pool()
    body = {
        "status": "ready" if ready else "not ready",
        "store": db_ok,
        "workers": workers,
        "device_pool": None if pool is None else pool.client.describe(),
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, dependencies=[Depends(metrics_access)])
async def prometheus(request: Request) -> Response:
    """Prometheus text format (needs an API key or the metrics token when keys are set)."""
    data = await run_in_threadpool(generate_latest, metrics(request).registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
