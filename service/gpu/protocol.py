"""What crosses the process boundary of the device worker pool: requests, responses, config.

This module must not import torch: the worker sets CUDA_VISIBLE_DEVICES before torch is first
imported, and the spawn start method unpickles the worker's config before the worker runs.
A request is a kind (which handler runs it) plus a picklable payload, so GNN and SRG inference
can be added as new kinds without touching the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorkRequest:
    """One unit of device work.

    Attributes:
        id: unique per pool.
        kind: handler name (``dmmv``; later ``gnn``, ``srg``).
        payload: the handler's input (picklable).
        coalesce_key: requests of one kind with equal keys may run as one batch.
    """

    id: int
    kind: str
    payload: Any
    coalesce_key: str = ""


@dataclass(frozen=True)
class WorkResponse:
    """The answer to one request.

    Attributes:
        id: the request's id.
        ok: False when the handler raised; error says what.
        payload: the handler's output for this request.
        batch_id: the worker's batch counter; requests answered from one batch share it.
        batch_requests: how many requests that batch served (coalescing).
        worker_pid: the worker process.
        fallback: the handler returned a marked fallback (e.g. after running out of memory).
    """

    id: int
    ok: bool
    payload: Any = None
    error: str = ""
    batch_id: int = 0
    batch_requests: int = 1
    worker_pid: int = 0
    fallback: bool = False


@dataclass(frozen=True)
class WorkerHello:
    """Sent once by a worker when it is ready."""

    pid: int
    device: str
    cuda_visible_devices: str | None
    torch_imported_before_env: bool


@dataclass(frozen=True)
class WorkerConfig:
    """How one worker runs.

    Attributes:
        device: torch device inside the worker ("cpu" or "cuda:0").
        visible_devices: CUDA_VISIBLE_DEVICES for the worker ("" hides every GPU; None: unset).
        memory_budget_bytes: device memory the worker's tiles may use.
        max_batch: most requests coalesced into one batch.
        coalesce_wait: seconds to wait for more requests after the first.
        threads: torch CPU threads.
        matrix_cache: matrices kept on the device (least recently used evicted).
    """

    device: str = "cpu"
    visible_devices: str | None = ""
    memory_budget_bytes: int = 1 << 30
    max_batch: int = 64
    coalesce_wait: float = 0.005
    threads: int = 1
    matrix_cache: int = 4
