"""/v1/models: the guided models the server can use (the shipped ones and its own registry)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from mipguide.api.auth import caller
from mipguide.api.routes.jobs import ERRORS
from mipguide.api.schemas import ModelListPublic, ModelPublic
from mipguide.models.cards import find_model, models
from mipguide.settings import Settings

router = APIRouter(prefix="/v1/models", tags=["models"], dependencies=[Depends(caller)])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("", response_model=ModelListPublic, responses=ERRORS)
async def list_models(
    request: Request, kind: Annotated[Literal["pas", "srg"] | None, Query()] = None
) -> ModelListPublic:
    """Every model the ``model`` option may name, with what it was trained on."""
    settings = _settings(request)
    found = await run_in_threadpool(models, settings.model_dirs, kind)
    return ModelListPublic(items=[ModelPublic.of(m, settings.model_dir) for m in found])


@router.get("/{ref}", response_model=ModelPublic, responses=ERRORS)
async def read_model(request: Request, ref: str) -> ModelPublic:
    """One model with its whole card (training data, configuration, validation figures)."""
    settings = _settings(request)
    found = await run_in_threadpool(find_model, settings.model_dirs, ref)  # 422 / 404
    return ModelPublic.of(found, settings.model_dir, full=True)
