"""The device worker pool: one long-lived worker process per device (a CPU worker when there
is no GPU), requests in, futures out; a crashed worker is respawned and its in-flight requests
are sent again once.

    pool = DevicePool.from_settings(get_settings())
    with pool:
        results = pool.dmmv(batch, DmmvConfig(time_limit=2.0))

A route is a thin wrapper over ``pool.dmmv`` (or ``pool.submit`` for other kinds).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from mipguide.errors import MipguideError
from mipguide.gpu.protocol import WorkerConfig, WorkerHello, WorkRequest, WorkResponse
from mipguide.gpu.worker import worker_main
from mipguide.settings import Settings

_CTX = mp.get_context("spawn")
RETRIES = 1


class WorkerCrashedError(MipguideError):
    """A request's worker died twice while running it."""


class RequestFailedError(MipguideError):
    """The worker's handler raised; the message carries its error."""


@dataclass(frozen=True)
class PoolStats:
    """Counters since the pool started.

    Attributes:
        requests: answered requests.
        batches: handler calls (one per coalesced group).
        coalesced_requests: requests answered from a batch that served more than one.
        max_batch_requests: largest number of requests served by one batch.
        respawns: workers started again after dying.
        retried: requests sent again after their worker died.
        fallbacks: answers marked as fallback.
        workers: pids of the live workers.
    """

    requests: int = 0
    batches: int = 0
    coalesced_requests: int = 0
    max_batch_requests: int = 0
    respawns: int = 0
    retried: int = 0
    fallbacks: int = 0
    workers: tuple[int, ...] = ()


@dataclass
class _Slot:
    config: WorkerConfig
    process: Any = None
    requests: Any = None
    responses: Any = None
    hello: WorkerHello | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    inflight: dict[int, tuple[WorkRequest, Future, int]] = field(default_factory=dict)


def base_config(settings: Settings) -> WorkerConfig:
    """A CPU worker's config from the settings (memory budget, batching, threads)."""
    return WorkerConfig(
        memory_budget_bytes=settings.gpu_memory_budget_mb << 20,
        max_batch=settings.gpu_max_batch,
        coalesce_wait=settings.gpu_coalesce_wait,
        threads=settings.threads,
    )


def device_configs(settings: Settings) -> list[WorkerConfig]:
    """One worker config per visible CUDA device, or one CPU worker."""
    base = base_config(settings)
    if settings.device == "cpu":
        return [base]
    import torch

    count = torch.cuda.device_count()
    if count == 0:
        if settings.device.startswith("cuda"):
            raise MipguideError("device 'cuda' requested but no CUDA device is visible")
        return [base]
    return [replace(base, device="cuda:0", visible_devices=str(i)) for i in range(count)]


def dmmv_request(batch: Any, config: Any = None) -> tuple[str, Any, str]:
    """(kind, payload, coalesce key) of a DMMV batch (or one DmmvInstance)."""
    from mipguide.gpu.dmmv_handler import DmmvRequest, coalesce_key
    from mipguide.heuristics.dmmv.tensors import matrix_key
    from mipguide.heuristics.dmmv.types import DmmvConfig, DmmvInstance

    if isinstance(batch, DmmvInstance):
        batch = batch.as_batch()
    req = DmmvRequest(batch, config or DmmvConfig(), matrix_key(batch.A))
    return "dmmv", req, coalesce_key(req)


class DevicePool:
    """Long-lived device workers behind ``submit`` (any kind) and ``dmmv`` (DMMV batches)."""

    def __init__(self, configs: list[WorkerConfig]) -> None:
        if not configs:
            raise ValueError("the pool needs at least one worker config")
        self._slots = [_Slot(c) for c in configs]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stats = PoolStats()
        self._seen_batches: set[tuple[int, int]] = set()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> DevicePool:
        return cls(device_configs(settings))

    # lifecycle -------------------------------------------------------------------------------

    def start(self, wait: float = 120.0) -> DevicePool:
        """Spawn the workers and wait until each has imported torch and said hello."""
        for slot in self._slots:
            self._spawn(slot)
        for i, slot in enumerate(self._slots):
            t = threading.Thread(
                target=self._read, args=(slot,), name=f"pool-read-{i}", daemon=True
            )
            t.start()
            self._threads.append(t)
        sup = threading.Thread(target=self._supervise, name="pool-supervise", daemon=True)
        sup.start()
        self._threads.append(sup)
        for slot in self._slots:
            if not slot.ready.wait(wait):
                raise MipguideError("a device worker did not start in time")
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers (politely, then by force) and fail what is still in flight."""
        self._stop.set()
        for slot in self._slots:
            if slot.process is not None and slot.process.is_alive():
                slot.requests.put(None)
        for slot in self._slots:
            if slot.process is not None:
                slot.process.join(timeout)
                if slot.process.is_alive():
                    slot.process.kill()
                    slot.process.join(timeout)
            with self._lock:
                for _, fut, _ in slot.inflight.values():
                    fut.set_exception(MipguideError("the device pool was closed"))
                slot.inflight.clear()
        for t in self._threads:
            t.join(timeout)

    def __enter__(self) -> DevicePool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # requests --------------------------------------------------------------------------------

    def submit(self, kind: str, payload: Any, coalesce_key: str = "") -> Future:
        """Queue one request on the least busy worker; the future resolves to its output."""
        if self._stop.is_set():
            raise MipguideError("the device pool is closed")
        req = WorkRequest(next(self._ids), kind, payload, coalesce_key)
        fut: Future = Future()
        with self._lock:
            slot = min(self._slots, key=lambda s: len(s.inflight))
            slot.inflight[req.id] = (req, fut, 0)
            slot.requests.put(req)
        return fut

    def dmmv(self, batch: Any, config: Any = None, timeout: float | None = None) -> list[Any]:
        """Solve a DmmvBatch (or DmmvInstance) on the pool; one DmmvResult per instance."""
        return self.dmmv_async(batch, config).result(timeout)

    def dmmv_async(self, batch: Any, config: Any = None) -> Future:
        return self.submit(*dmmv_request(batch, config))

    def stats(self) -> PoolStats:
        with self._lock:
            pids = tuple(s.process.pid for s in self._slots if s.process is not None)
            return replace(self._stats, workers=pids)

    def worker_info(self) -> list[WorkerHello | None]:
        return [s.hello for s in self._slots]

    # internals -------------------------------------------------------------------------------

    def _spawn(self, slot: _Slot) -> None:
        slot.ready.clear()
        slot.requests = _CTX.Queue()
        slot.responses = _CTX.Queue()
        slot.process = _CTX.Process(
            target=worker_main,
            args=(slot.config, slot.requests, slot.responses),
            name="mipguide-device-worker",
            daemon=True,
        )
        slot.process.start()

    def _read(self, slot: _Slot) -> None:
        while not self._stop.is_set():
            responses = slot.responses
            try:
                msg = responses.get(timeout=0.1)
            except (queue.Empty, OSError, EOFError, ValueError):
                continue
            if isinstance(msg, WorkerHello):
                slot.hello = msg
                slot.ready.set()
            elif isinstance(msg, WorkResponse):
                self._answer(slot, msg)

    def _answer(self, slot: _Slot, resp: WorkResponse) -> None:
        with self._lock:
            entry = slot.inflight.pop(resp.id, None)
            if entry is None:
                return
            s = self._stats
            key = (resp.worker_pid, resp.batch_id)
            new_batch = key not in self._seen_batches
            self._seen_batches.add(key)
            self._stats = replace(
                s,
                requests=s.requests + 1,
                batches=s.batches + int(new_batch),
                coalesced_requests=s.coalesced_requests + int(resp.batch_requests > 1),
                max_batch_requests=max(s.max_batch_requests, resp.batch_requests),
                fallbacks=s.fallbacks + int(resp.fallback),
            )
        fut = entry[1]
        if resp.ok:
            fut.set_result(resp.payload)
        else:
            fut.set_exception(RequestFailedError(resp.error))

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            for slot in self._slots:
                if slot.process is None or slot.process.is_alive() or self._stop.is_set():
                    continue
                self._respawn(slot)

    def _respawn(self, slot: _Slot) -> None:
        with self._lock:
            pending = list(slot.inflight.values())
            slot.inflight.clear()
            self._stats = replace(self._stats, respawns=self._stats.respawns + 1)
            self._spawn(slot)
            for req, fut, tries in pending:
                if tries >= RETRIES:
                    fut.set_exception(WorkerCrashedError(f"request {req.id}: worker died twice"))
                    continue
                slot.inflight[req.id] = (req, fut, tries + 1)
                slot.requests.put(req)
                self._stats = replace(self._stats, retried=self._stats.retried + 1)
