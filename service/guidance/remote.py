"""Inference on the device pool: what a guide sends there, and what runs there.

A guide given a ``DeviceRunner`` (the job worker's end of the server's device pool,
``mipguide.gpu.client``) does not run its network itself: it sends a ``PasRequest`` (PaS:
the graph -> P(x = 1) per binary) or an ``SrgRequest`` (SRG: the graph, the guidance rows and
the sampling parameters -> K candidates), and the pool's worker, which owns the device, loads
the model once and answers. PaS requests for one model that reach the worker together run as
one batched forward pass (``models.data.collate``: the network works per node and per edge,
so a batch gives each graph what it would get alone).

Without a runner a guide runs its network in its own process, as before; so does a guide whose
request the pool failed to answer (the result's ``inference`` then says so).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mipguide.errors import MipguideError
from mipguide.features import BipartiteGraph
from mipguide.guidance.params import SamplingParams
from mipguide.guidance.rows import GuidanceRows
from mipguide.models.cards import model_path, model_stamp
from mipguide.models.registry import LoadedModel


class DeviceRunner(Protocol):
    """The job worker's end of the device pool: one request, its answer (blocking)."""

    def run(self, kind: str, payload: Any, coalesce_key: str = "") -> Any: ...

    def describe(self) -> str:
        """Where the work runs, for the result (``device pool (local)``, ``device pool (ray)``)."""
        ...


@dataclass(frozen=True)
class ModelAt:
    """A registered model by its folder (server-side: resolved by the registry, never by a
    caller) and a stamp of its files, so a model trained again under the same name is
    loaded afresh by the pool's worker."""

    ref: str
    registry: str
    stamp: tuple[int, int]

    @classmethod
    def of(cls, loaded: LoadedModel, registry: str) -> ModelAt:
        stamp = model_stamp(model_path(Path(registry), str(loaded.ref)))
        return cls(str(loaded.ref), registry, stamp)

    @property
    def key(self) -> str:
        return f"model:{self.registry}:{self.ref}:{self.stamp[0]}:{self.stamp[1]}"


@dataclass(frozen=True)
class PasRequest:
    model: ModelAt
    graph: BipartiteGraph


@dataclass(frozen=True)
class SrgRequest:
    model: ModelAt
    graph: BipartiteGraph
    rows: GuidanceRows
    params: SamplingParams
    seed: int
    budget: float | None
    first_estimate: bool


@dataclass(frozen=True)
class RemoteAnswer:
    """What the pool's worker returns: the output, the device and process it ran on, its
    seconds there, and how many requests shared its batch."""

    output: Any
    device: str
    pid: int
    seconds: float
    batch: int = 1

    def where(self, runner: DeviceRunner) -> dict[str, Any]:
        return {
            "where": runner.describe(),
            "device": self.device,
            "worker_pid": self.pid,
            "seconds": self.seconds,
            "batch": self.batch,
        }


def run_pas_batch(
    requests: list[PasRequest], load: Callable[[ModelAt], LoadedModel]
) -> list[RemoteAnswer]:
    """Every request's P(x = 1) on its binaries; requests of one model in one forward pass."""
    import torch

    from mipguide.guidance.predict import pas_network, predict
    from mipguide.models.data import collate, graph_to_data

    out: list[RemoteAnswer | None] = [None] * len(requests)
    by_model: dict[ModelAt, list[int]] = {}
    for i, req in enumerate(requests):
        by_model.setdefault(req.model, []).append(i)
    for model, idx in by_model.items():
        t0 = time.perf_counter()
        loaded = load(model)
        net = pas_network(loaded)
        if len(idx) == 1:
            for i in idx:
                t1 = time.perf_counter()
                probs = predict(requests[i].graph, loaded).probs
                seconds = time.perf_counter() - t1
                out[i] = RemoteAnswer(probs, str(loaded.device), os.getpid(), seconds)
            continue
        with torch.no_grad():
            data = collate([graph_to_data(requests[i].graph) for i in idx]).to(loaded.device)
            probs = net.predict_proba(data).double().cpu().numpy()
        seconds = time.perf_counter() - t0
        start = 0
        for i in idx:
            nb = int(np.count_nonzero(requests[i].graph.binary_mask))
            part = probs[start : start + nb]
            start += nb
            out[i] = RemoteAnswer(part, str(loaded.device), os.getpid(), seconds, len(idx))
    return [a for a in out if a is not None]


def run_srg(request: SrgRequest, load: Callable[[ModelAt], LoadedModel]) -> RemoteAnswer:
    """K candidates (``Samples``) and the first estimate (None unless asked for)."""
    from mipguide.guidance.sample import sample_candidates

    t0 = time.perf_counter()
    loaded = load(request.model)
    first: list[np.ndarray] = []
    samples = sample_candidates(
        request.graph,
        request.rows,
        loaded,
        request.params,
        request.seed,
        request.budget,
        first.append if request.first_estimate else None,
    )
    output = (samples, first[0] if first else None)
    return RemoteAnswer(output, str(loaded.device), os.getpid(), time.perf_counter() - t0)


@dataclass(frozen=True)
class Remote:
    """A guide's way to the device pool: the runner and the model, as the pool loads it."""

    runner: DeviceRunner
    model: ModelAt

    def pas(self, graph: BipartiteGraph) -> tuple[RemoteAnswer | None, str | None]:
        """The pool's answer, or None and why the pool failed (the guide then runs the network
        itself: a job does not fail because the pool did)."""
        return self._run("pas", PasRequest(self.model, graph), self.model.key)

    def srg(self, request: SrgRequest) -> tuple[RemoteAnswer | None, str | None]:
        """As ``pas``, for SRG sampling."""
        return self._run("srg", request, "")

    def _run(self, kind: str, payload: Any, key: str) -> tuple[RemoteAnswer | None, str | None]:
        try:
            answer: RemoteAnswer = self.runner.run(kind, payload, key)
        except MipguideError as exc:
            return None, f"{self.runner.describe()} failed: {exc}"
        return answer, None

    def fallback(self, device: str, why: str | None) -> dict[str, Any]:
        """The result's ``inference`` when the network ran in the job's worker instead."""
        return {"where": "job worker", "device": device, "fallback": why}
