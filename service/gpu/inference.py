"""The device worker's inference kinds: ``pas`` (PaS prediction, batched per model) and ``srg``
(SRG sampling), over ``mipguide.guidance.remote``'s requests. Models are loaded once per worker
(and again when their files change), on the worker's device."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mipguide.gpu.context import WorkerContext
from mipguide.guidance.remote import ModelAt, RemoteAnswer, run_pas_batch, run_srg
from mipguide.models.registry import LoadedModel, load_model


def _loader(ctx: WorkerContext) -> Callable[[ModelAt], LoadedModel]:
    def load(model: ModelAt) -> LoadedModel:
        loaded: LoadedModel = ctx.cached(
            model.key, lambda: load_model(model.ref, Path(model.registry), ctx.config.device)
        )
        return loaded

    return load


def handle_pas(payloads: list[Any], ctx: WorkerContext) -> list[RemoteAnswer]:
    return run_pas_batch(payloads, _loader(ctx))


def handle_srg(payloads: list[Any], ctx: WorkerContext) -> list[RemoteAnswer]:
    load = _loader(ctx)
    return [run_srg(p, load) for p in payloads]
