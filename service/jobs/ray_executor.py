"""Ray executor (``MIPGUIDE_EXECUTOR=ray``): the solver workers are long-lived Ray actors.

Each worker is a ``_SolverActor`` holding ``ray_worker_cpus`` CPUs of the cluster
(``MIPGUIDE_RAY_ADDRESS``; empty: Ray starts a local one) and running the same
``worker_main`` as a local worker process, so a job runs exactly as it does locally: warm
imports, the same messages, incumbents and log lines streamed back while it runs. Long-lived
actors rather than one task per job: a worker's start-up (imports, solver warm-up) is paid once,
as for the local pool.

Messages go through one ``_Mailbox`` actor (an asyncio queue each way per worker; no CPU).
Everything else is the local executor's: the priority queue and per-key caps, the cooperative
cancel (the backend's interrupt) with escalation after ``cancel_grace`` (``ray.kill`` of the
actor instead of SIGTERM/SIGKILL), the watchdog, and a worker that dies (its actor killed, its
node lost) failing its job with the reason and being replaced.

A job's resources come from its options: a worker actor holds ``ray_worker_cpus`` CPUs, and a
job with more ``threads`` than that runs only once the rest are reserved on the actor's node (a
``_Reservation`` actor holding them for the job's duration), so Ray's accounting matches what
the solve uses. When the node has not that many free CPUs within ``RESERVE_WAIT`` seconds, the
job runs with the threads the actor holds and its log says so.

Inputs and results are files under ``data_dir``: the actors must see the same folder (one
machine, or a shared mount on every node).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
import uuid
from dataclasses import replace
from typing import Any

import ray
from ray.exceptions import RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from mipguide.jobs.executor import LocalExecutor, _Worker
from mipguide.jobs.records import JobRecord
from mipguide.jobs.worker import worker_main

# how long one remote get waits before the caller looks again (liveness, stop)
POLL_SECONDS = 0.5
# how often a worker sends its buffered log lines, incumbents and progress
FLUSH_SECONDS = 0.01
ACTOR_DIED = "Ray actor died (killed outside the service, or its node was lost)"
# how long a job with more threads than its worker's CPUs waits for the rest on the worker's node
RESERVE_WAIT = 2.0


@ray.remote(num_cpus=0)
class _Mailbox:
    """Both directions of every worker's connection: ``key`` -> (to the worker, from it)."""

    def __init__(self) -> None:
        self._queues: dict[str, tuple[asyncio.Queue[Any], asyncio.Queue[Any]]] = {}

    def _pair(self, key: str) -> tuple[asyncio.Queue[Any], asyncio.Queue[Any]]:
        if key not in self._queues:
            self._queues[key] = (asyncio.Queue(), asyncio.Queue())
        return self._queues[key]

    async def put(self, key: str, to_worker: bool, msg: Any) -> None:
        self._pair(key)[0 if to_worker else 1].put_nowait(msg)

    async def put_many(self, key: str, to_worker: bool, msgs: list[Any]) -> None:
        queue = self._pair(key)[0 if to_worker else 1]
        for msg in msgs:
            queue.put_nowait(msg)

    async def get(self, key: str, to_worker: bool, timeout: float) -> Any:
        """The next message (None after ``timeout`` seconds without one)."""
        queue = self._pair(key)[0 if to_worker else 1]
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            return None

    async def get_all(self, key: str, to_worker: bool, timeout: float) -> list[Any]:
        """Every message waiting, once there is one (empty after ``timeout`` seconds): one
        round trip for a solver's burst of log lines rather than one per line."""
        queue = self._pair(key)[0 if to_worker else 1]
        try:
            out = [await asyncio.wait_for(queue.get(), timeout)]
        except TimeoutError:
            return []
        while not queue.empty():
            out.append(queue.get_nowait())
        return out

    async def forget(self, key: str) -> None:
        self._queues.pop(key, None)


class _ActorConn:
    """The worker's end, inside the actor: ``recv`` blocks for the next command; EOFError once
    the mailbox is gone (the server went away: nobody can use our results).

    Log lines, incumbents and progress are buffered and sent together every ``FLUSH_SECONDS``
    (a solver's output is bursts of lines: one call each would cost the solve its time); the
    messages that end a job first send what is buffered, then wait until the mailbox holds
    them. Calls from one process to one actor keep their submission order, and both happen
    under one lock, so the order of the messages is kept."""

    def __init__(self, mailbox: Any, key: str) -> None:
        self.mailbox, self.key = mailbox, key
        self.node = ray.get_runtime_context().get_node_id()
        self._pending: list[Any] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._flush_loop, daemon=True).start()

    def _flush(self) -> None:  # caller holds the lock
        if self._pending:
            batch, self._pending = self._pending, []
            self.mailbox.put_many.remote(self.key, False, batch)

    def _flush_loop(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            with self._lock, contextlib.suppress(RayError):
                self._flush()

    def send(self, msg: tuple[Any, ...]) -> None:
        if msg[0] == "ready":  # the executor places reservations on this node
            msg = (*msg, self.node)
        try:
            if msg[0] not in ("ready", "result", "error"):
                with self._lock:
                    self._pending.append(msg)
                return
            with self._lock:
                self._flush()
                ref = self.mailbox.put.remote(self.key, False, msg)
            ray.get(ref)
        except RayError as exc:
            raise OSError("mailbox gone") from exc

    def recv(self) -> Any:
        while True:
            try:
                msg = ray.get(self.mailbox.get.remote(self.key, True, POLL_SECONDS * 10))
            except RayError as exc:
                raise EOFError("mailbox gone") from exc
            if msg is not None:
                return msg


@ray.remote(max_restarts=0)
class _Reservation:
    """Holds CPUs (its ``num_cpus``) on one node for a job's threads beyond its worker's."""

    def ready(self) -> bool:
        return True


@ray.remote(max_restarts=0)
class _SolverActor:
    """One solver worker: ``run`` is ``worker_main`` for as long as the actor lives."""

    def run(
        self, mailbox: Any, key: str, warm_solver: str, guidance: dict[str, str], device: Any
    ) -> None:
        conn = _ActorConn(mailbox, key)
        worker_main(conn, warm_solver, guidance, device)  # type: ignore[arg-type]


class _ActorProcess:
    """A solver actor seen as a process by the executor (pid, is_alive, join, terminate,
    kill, exitcode) through its ``run`` call, which ends only when the actor does."""

    def __init__(self, actor: Any, run_ref: Any) -> None:
        self.actor, self.run_ref = actor, run_ref
        self.pid: int | None = None  # the actor's process, from its "ready" message
        self.exitcode: int | None = None
        self.exit_reason: str | None = None
        self._stopped_by: str | None = None

    def _ended(self, timeout: float | None) -> bool:
        ready, _ = ray.wait([self.run_ref], timeout=timeout)
        if ready and self.exit_reason is None:
            self.exitcode = -9 if self._stopped_by else 0
            self.exit_reason = f"ray.kill ({self._stopped_by})" if self._stopped_by else ACTOR_DIED
        return bool(ready)

    def is_alive(self) -> bool:
        return not self._ended(0)

    def join(self, timeout: float | None = None) -> None:
        self._ended(timeout)

    def terminate(self) -> None:
        self._stop("after the cancel grace")

    def kill(self) -> None:
        self._stop("forced")

    def _stop(self, how: str) -> None:
        self._stopped_by = self._stopped_by or how
        ray.kill(self.actor, no_restart=True)


class _DriverConn:
    """The executor's end of a worker's connection."""

    def __init__(self, mailbox: Any, key: str, process: _ActorProcess) -> None:
        self.mailbox, self.key, self.process = mailbox, key, process
        self._inbox: collections.deque[Any] = collections.deque()  # fetched, not yet read

    def send(self, msg: tuple[Any, ...]) -> None:
        try:
            ray.get(self.mailbox.put.remote(self.key, True, msg), timeout=30)
        except RayError as exc:
            raise OSError("mailbox gone") from exc

    def recv(self) -> Any:
        while not self._inbox:
            try:
                batch = ray.get(self.mailbox.get_all.remote(self.key, False, POLL_SECONDS))
            except RayError as exc:
                raise EOFError("mailbox gone") from exc
            self._inbox.extend(batch)
            if not batch and not self.process.is_alive():  # what it sent was read above
                raise EOFError("worker actor ended")
        return self._inbox.popleft()


def _placed(ready_ref: Any, timeout: float) -> bool:
    """Whether an actor answered within ``timeout`` (an actor that cannot be placed on its node
    at all fails at once: that is an answer too, and a no)."""
    done, _ = ray.wait([ready_ref], timeout=timeout)
    if not done:
        return False
    try:
        return bool(ray.get(done[0]))
    except RayError:
        return False


class RayExecutor(LocalExecutor):
    """The local executor with its workers as Ray actors (see the module docstring)."""

    _mailbox: Any = None
    _owns_ray = False

    def start(self) -> None:
        if not ray.is_initialized():
            ray.init(
                address=self.settings.ray_address or None,
                namespace="mipguide",
                log_to_driver=False,
                include_dashboard=False,
                configure_logging=False,
            )
            self._owns_ray = True
        self._mailbox = _Mailbox.remote()  # type: ignore[attr-defined]
        super().start()

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        if self._mailbox is not None:
            ray.kill(self._mailbox)
        if self._owns_ray:
            ray.shutdown()

    def _make_worker(self, index: int) -> _Worker:
        key = uuid.uuid4().hex
        actor = _SolverActor.options(  # type: ignore[attr-defined]
            num_cpus=self.settings.ray_worker_cpus, name=f"mipguide-worker-{key[:8]}"
        ).remote()
        run_ref = actor.run.remote(
            self._mailbox, key, self.settings.default_solver, self._guidance(), self.device_client()
        )
        process = _ActorProcess(actor, run_ref)
        return _Worker(index, process, _DriverConn(self._mailbox, key, process))

    def _handle(self, w: _Worker, msg: tuple[Any, ...]) -> None:
        if msg[0] == "ready":
            w.process.pid = int(msg[1])
            w.node = msg[2] if len(msg) > 2 else None
        super()._handle(w, msg)

    def _start_job(self, w: _Worker, job: JobRecord) -> None:
        threads = int(job.options.get("threads") or 1)
        extra = threads - self.settings.ray_worker_cpus
        if extra <= 0:
            super()._start_job(w, job)
            return
        # placing the reservation may take a moment: not on the scheduler's thread
        args = (w, job, threads, extra)
        threading.Thread(target=self._start_reserved, args=args, daemon=True).start()

    def _start_reserved(self, w: _Worker, job: JobRecord, threads: int, extra: float) -> None:
        held = self.settings.ray_worker_cpus
        strategy = None if w.node is None else NodeAffinitySchedulingStrategy(w.node, soft=False)
        res = _Reservation.options(  # type: ignore[attr-defined]
            num_cpus=extra, scheduling_strategy=strategy
        ).remote()
        placed = _placed(res.ready.remote(), RESERVE_WAIT)
        if placed:
            with self._cv:
                current = w.job is not None and w.job.id == job.id
                if current:
                    w.reservation = res
            if not current:  # the job ended (cancelled) while its CPUs were being found
                ray.kill(res, no_restart=True)
                return
            line = f"{threads} CPUs on Ray: the worker's {held:g} and {extra:g} reserved beside it"
        else:
            ray.kill(res, no_restart=True)
            capped = max(1, int(held))
            job = replace(job, options={**job.options, "threads": capped})
            line = (
                f"threads capped to {capped}: the worker's Ray node has not {extra:g} more "
                f"free CPUs for threads={threads}"
            )
        self.logs.append(job.id, f"[mipguide] {line}")
        super()._start_job(w, job)

    def _release(self, w: _Worker, job: JobRecord) -> None:
        super()._release(w, job)
        res, w.reservation = w.reservation, None
        if res is not None:
            with contextlib.suppress(RayError):
                ray.kill(res, no_restart=True)

    def _on_death(self, w: _Worker) -> None:
        super()._on_death(w)
        conn = w.conn
        if isinstance(conn, _DriverConn):
            threading.Thread(target=self._forget, args=(conn.key,), daemon=True).start()

    def _forget(self, key: str) -> None:
        with contextlib.suppress(RayError):
            ray.get(self._mailbox.forget.remote(key), timeout=30)
