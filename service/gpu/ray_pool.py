"""The device pool on Ray: device workers as Ray actors.

One ``_DeviceActor`` per GPU share of the cluster (``ray_device_gpus`` GPUs each: 0.5 puts two
actors on one GPU), or one CPU actor (``ray_device_cpus`` CPUs) when the cluster has no GPU or
``device=cpu``. Each actor runs the local pool worker's loop (``mipguide.gpu.worker.serve``) on a
thread over an in-actor queue, so requests that reach an actor together are batched exactly as
in a local worker; Ray sets ``CUDA_VISIBLE_DEVICES`` for an actor that holds a GPU before its
process imports torch. The actor is threaded (concurrent ``run`` calls wait on their answers
while the loop works).

An actor whose process dies is restarted by Ray, and the calls it had in flight are sent again
once (``max_restarts=-1``, ``max_task_retries=1``): the local pool's respawn-and-retry-once.

``RayDevicePool`` has the local ``DevicePool``'s interface (``submit``, ``dmmv``, ``close``,
``stats``); ``RayDeviceClient`` is what job actors hold.
"""

from __future__ import annotations

import itertools
import os
import queue
import random
import threading
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

import ray
from ray.exceptions import RayError

from mipguide.errors import MipguideError
from mipguide.gpu.pool import PoolStats, RequestFailedError, WorkerCrashedError, base_config
from mipguide.gpu.protocol import WorkerConfig, WorkerHello, WorkRequest, WorkResponse
from mipguide.settings import Settings


class _Answers:
    """The loop's ``responses``: each answer resolves the future its ``run`` call waits on."""

    def __init__(self) -> None:
        self.waiting: dict[int, Future] = {}
        self.lock = threading.Lock()

    def put(self, resp: WorkResponse) -> None:
        with self.lock:
            fut = self.waiting.pop(resp.id, None)
        if fut is not None:
            fut.set_result(resp)


@ray.remote(max_restarts=-1, max_task_retries=1, max_concurrency=256)  # type: ignore[call-overload]
class _DeviceActor:
    def __init__(self, config: WorkerConfig) -> None:
        import torch

        from mipguide.gpu.allocator import keep_freed_memory
        from mipguide.gpu.worker import serve

        torch.set_num_threads(max(1, config.threads))
        keep_freed_memory()
        self._config = config
        self._requests: queue.Queue[WorkRequest | None] = queue.Queue()
        self._answers = _Answers()
        self._ids = itertools.count(1)
        threading.Thread(
            target=serve, args=(config, self._requests, self._answers), daemon=True
        ).start()

    def hello(self) -> WorkerHello:
        return WorkerHello(
            os.getpid(), self._config.device, os.environ.get("CUDA_VISIBLE_DEVICES"), False
        )

    def run(self, kind: str, payload: Any, coalesce_key: str = "") -> WorkResponse:
        fut: Future = Future()
        req = WorkRequest(next(self._ids), kind, payload, coalesce_key)
        with self._answers.lock:
            self._answers.waiting[req.id] = fut
        self._requests.put(req)
        resp: WorkResponse = fut.result()
        return resp


def _value(resp: WorkResponse) -> Any:
    if not resp.ok:
        raise RequestFailedError(resp.error)
    return resp.payload


@dataclass(frozen=True)
class RayDeviceClient:
    """A job actor's end of the pool (picklable inside the cluster: actor handles)."""

    actors: tuple[Any, ...]

    def run(self, kind: str, payload: Any, coalesce_key: str = "") -> Any:
        """Send one request (to the actor that batches its key, or any) and wait for it.

        Raises:
            RequestFailedError: the handler failed, or the actor died twice on it.
        """
        pick = hash(coalesce_key) if coalesce_key else random.randrange(len(self.actors))
        actor = self.actors[pick % len(self.actors)]
        try:
            resp: WorkResponse = ray.get(actor.run.remote(kind, payload, coalesce_key))
        except RayError as exc:
            raise RequestFailedError(f"the device actor failed: {type(exc).__name__}") from exc
        return _value(resp)

    def describe(self) -> str:
        return "device pool (ray)"


class RayDevicePool:
    """The device actors of the connected Ray cluster (``ray.init`` first)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._actors: list[Any] = []
        self._hellos: list[WorkerHello] = []
        self._lock = threading.Lock()
        self._inflight: dict[int, int] = {}
        self._stats = PoolStats()
        self._closed = False

    def _layout(self) -> tuple[WorkerConfig, int, float]:
        """(worker config, how many actors, GPUs each)."""
        s = self.settings
        base = replace(
            base_config(s),
            threads=max(1, int(s.ray_device_cpus)),
            visible_devices=None,  # Ray's, for the GPUs it gave the actor
        )
        gpus = float(ray.cluster_resources().get("GPU", 0.0))
        share = s.ray_device_gpus
        if s.device != "cpu" and gpus >= share:
            return replace(base, device="cuda:0"), int(gpus // share), share
        if s.device.startswith("cuda"):
            raise MipguideError("device 'cuda' requested but the Ray cluster has no GPU")
        return base, 1, 0.0

    def start(self, wait: float = 120.0) -> RayDevicePool:
        config, count, gpus = self._layout()
        for _ in range(count):
            actor = _DeviceActor.options(  # type: ignore[attr-defined]
                num_gpus=gpus, num_cpus=self.settings.ray_device_cpus
            ).remote(config)
            self._actors.append(actor)
        try:
            self._hellos = ray.get([a.hello.remote() for a in self._actors], timeout=wait)
        except RayError as exc:
            self.close()
            raise MipguideError(f"a device actor did not start: {type(exc).__name__}") from exc
        return self

    def close(self) -> None:
        self._closed = True
        for actor in self._actors:
            ray.kill(actor, no_restart=True)
        self._actors = []

    def __enter__(self) -> RayDevicePool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client(self) -> RayDeviceClient:
        return RayDeviceClient(tuple(self._actors))

    def actors(self) -> list[Any]:
        return list(self._actors)

    def worker_info(self) -> list[WorkerHello]:
        """Each actor's hello, asked now (a restarted actor has a new process)."""
        self._hellos = ray.get([a.hello.remote() for a in self._actors], timeout=60)
        return list(self._hellos)

    def submit(self, kind: str, payload: Any, coalesce_key: str = "") -> Future:
        """Queue one request on the least busy actor; the future resolves to its output."""
        if self._closed:
            raise MipguideError("the device pool is closed")
        with self._lock:
            i = min(range(len(self._actors)), key=lambda k: self._inflight.get(k, 0))
            self._inflight[i] = self._inflight.get(i, 0) + 1
        ref = self._actors[i].run.remote(kind, payload, coalesce_key)
        out: Future = Future()

        def done(fut: Future) -> None:
            with self._lock:
                self._inflight[i] -= 1
            try:
                resp: WorkResponse = fut.result()
            except RayError as exc:
                out.set_exception(WorkerCrashedError(f"device actor: {type(exc).__name__}"))
                return
            self._count(resp)
            try:
                out.set_result(_value(resp))
            except RequestFailedError as exc:
                out.set_exception(exc)

        ref.future().add_done_callback(done)
        return out

    def _count(self, resp: WorkResponse) -> None:
        with self._lock:
            s = self._stats
            self._stats = replace(
                s,
                requests=s.requests + 1,
                coalesced_requests=s.coalesced_requests + int(resp.batch_requests > 1),
                max_batch_requests=max(s.max_batch_requests, resp.batch_requests),
                fallbacks=s.fallbacks + int(resp.fallback),
            )

    def stats(self) -> PoolStats:
        with self._lock:
            return replace(self._stats, workers=tuple(h.pid for h in self._hellos))

    def dmmv(self, batch: Any, config: Any = None, timeout: float | None = None) -> list[Any]:
        """Solve a DmmvBatch (or DmmvInstance) on the pool; one DmmvResult per instance."""
        from mipguide.gpu.pool import dmmv_request

        kind, payload, key = dmmv_request(batch, config)
        result: list[Any] = self.submit(kind, payload, key).result(timeout)
        return result
