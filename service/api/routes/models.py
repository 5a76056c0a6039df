"""/v1/models: the guided models a key can use (the shipped ones, the server's own registry and
the key's own), their training (a job of kind ``train``) and deletion."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import Caller, caller
from mipguide.api.deps import manager, metrics
from mipguide.api.routes.jobs import ERRORS, SUBMITTED, submitted
from mipguide.api.schemas import JobPublic, ModelListPublic, ModelPublic, TrainCreate
from mipguide.api.uploads import read_training
from mipguide.jobs.models import JobKind
from mipguide.models.cards import delete_model, find_model, models
from mipguide.settings import Settings

router = APIRouter(prefix="/v1/models", tags=["models"])
Who = Annotated[Caller, Depends(caller)]

TRAIN_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "training instances (MPS, LP, JSON; compressed too)",
                        },
                        **{
                            k: {"type": v.get("type", "string"), "description": v["description"]}
                            for k, v in TrainCreate.model_json_schema()["properties"].items()
                            if "description" in v
                        },
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/TrainCreate"}},
        },
        "required": True,
    }
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _own(settings: Settings, who: Caller) -> Path | None:
    """The caller's own registry as listings label it (None in open mode: the server's)."""
    return settings.own_model_dir(who.owner) if who.owner else None


@router.get("", response_model=ModelListPublic, responses=ERRORS)
async def list_models(
    request: Request, who: Who, kind: Annotated[Literal["pas", "srg"] | None, Query()] = None
) -> ModelListPublic:
    """Every model the ``model`` option may name for this key: its own, the server's, the
    shipped ones (``registry`` says which)."""
    settings = _settings(request)
    found = await run_in_threadpool(models, settings.registry_for(who.owner), kind)
    own = _own(settings, who)
    return ModelListPublic(items=[ModelPublic.of(m, settings.model_dir, own=own) for m in found])


@router.get("/{ref}", response_model=ModelPublic, responses=ERRORS)
async def read_model(request: Request, ref: str, who: Who) -> ModelPublic:
    """One model with its whole card (training data, configuration, validation figures)."""
    settings = _settings(request)
    registry = settings.registry_for(who.owner)
    found = await run_in_threadpool(find_model, registry, ref)  # 422 / 404
    return ModelPublic.of(found, settings.model_dir, full=True, own=_own(settings, who))


@router.post(
    "", status_code=202, response_model=JobPublic, responses=SUBMITTED, openapi_extra=TRAIN_DOC
)
async def create_model(
    request: Request,
    who: Who,
    wait: Annotated[float, Query(ge=0, description="seconds to wait for the end")] = 0.0,
) -> JSONResponse:
    """Train a model (a job of kind ``train``) on uploaded instances (multipart ``file``
    fields) and/or this key's solved jobs with a tag (``from_tag``); follow it as a job
    (``/v1/jobs/{id}``: events, log, cancel). The model joins this key's registry."""
    m = manager(request)
    uploads, raw = await read_training(request, m.settings)
    job = await run_in_threadpool(m.submit_training, uploads, raw, who.owner)
    metrics(request).submitted.labels(JobKind.TRAIN.value).inc()
    return await submitted(m, job, wait)


@router.delete("/{ref}", status_code=204, responses={204: {}, **ERRORS})
async def remove_model(request: Request, ref: str, who: Who) -> Response:
    """Delete one of this key's own models (403 for shipped and server models)."""
    settings = _settings(request)
    registry = settings.registry_for(who.owner)
    await run_in_threadpool(delete_model, settings.own_model_dir(who.owner), registry, ref)
    return Response(status_code=204)
