"""The FastAPI app: ``create_app(settings)`` wires the job manager, routes, errors and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from mipguide.api.errors import install_error_handlers
from mipguide.api.metrics import Metrics
from mipguide.api.routes import batches, dmmv, health, jobs, models
from mipguide.api.routes.ui import install_ui
from mipguide.jobs.manager import JobManager
from mipguide.settings import Settings


def _version() -> str:
    try:
        return version("mipguide")
    except PackageNotFoundError:
        return "0+unknown"


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready-to-serve app; workers start with the app's lifespan and stop with it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = Metrics()
        mgr = JobManager(settings, on_finish=metrics.on_finish)
        metrics.bind(mgr)
        app.state.manager, app.state.metrics = mgr, metrics
        await run_in_threadpool(mgr.start)
        try:
            yield
        finally:
            await run_in_threadpool(mgr.stop)

    app = FastAPI(
        title="mipguide",
        version=_version(),
        summary="MILP solving as a service: jobs, batches, live incumbents, results.",
        lifespan=lifespan,
        # /docs and /redoc: served with local assets by install_ui
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.api_docs else None,
        # operation ids are the route functions' names (create_job, read_result, ...): stable,
        # and what the OpenAPI links between operations refer to
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(jobs.router)
    app.include_router(batches.router)
    app.include_router(dmmv.router)
    app.include_router(models.router)
    app.include_router(health.router)
    install_ui(app, settings.api_docs)
    _document_bodies(app)
    return app


def _document_bodies(app: FastAPI) -> None:
    """Add the JSON request bodies that routes read by hand (JobCreate, BatchCreate, DmmvCreate,
    TrainCreate) and the error body to the OpenAPI components their ``$ref``s point at."""
    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode, models_json_schema

    from mipguide.api.schemas import BatchCreate, DmmvCreate, ErrorBody, JobCreate, TrainCreate

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        bodies: tuple[type[BaseModel], ...] = (
            JobCreate,
            BatchCreate,
            DmmvCreate,
            TrainCreate,
            ErrorBody,
        )
        models = [(m, cast(JsonSchemaMode, "validation")) for m in bodies]
        _, extra = models_json_schema(models, ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(extra["$defs"])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
