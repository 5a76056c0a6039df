"""Local executor: N long-lived solver worker processes (spawn) fed from the job store.

A supervisor thread per worker reads its pipe and writes the store; a scheduler thread claims
queued jobs from the store for idle workers (``JobStore.claim``: priority high first, FIFO
within a priority, a per-owner cap on running jobs counted over every replica) and enforces
cancellation (interrupt, then SIGTERM, then SIGKILL) and the watchdog (time_limit + grace). A
worker that dies fails its job with the reason and is replaced.

Several API replicas may share one PostgreSQL store: each is a ``replica`` (``replica_id``) that
holds a lease on the jobs it runs and renews it while they run (``lease_seconds``). A replica
that dies stops renewing; any other re-queues its jobs once their lease has run out (once; a
job interrupted twice fails with the reason). A cancel that reaches a replica which does not
run the job is a flag in the store that the running replica acts on within a second.

The watchdog, for a backend that overruns its time limit: at ``time_limit + watchdog_grace`` it
interrupts the job, which then ends *completed* with termination ``time_limit`` (its partial
result kept); if the backend ignores the interrupt too, SIGTERM follows after ``cancel_grace``
and SIGKILL after ``kill_grace``, the job ends *failed* with ``watchdog: ...`` and the worker is
replaced.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mipguide.gpu.client import ServedPool, start_pool
from mipguide.jobs.events import EventBus, JobEvent
from mipguide.jobs.files import JobFiles
from mipguide.jobs.logs import JobLogs
from mipguide.jobs.models import JobState
from mipguide.jobs.records import IncumbentRecord, JobRecord, Outcome
from mipguide.jobs.store import LEASE_REASON, JobStore
from mipguide.jobs.worker import worker_main
from mipguide.settings import Settings

OnFinish = Callable[[JobRecord, Outcome], None]


@dataclass
class _Worker:
    """The supervisor's view of one worker process."""

    index: int
    process: Any  # multiprocessing.context.SpawnProcess, or the Ray executor's actor handle
    conn: Any  # a multiprocessing Connection, or the Ray executor's mailbox connection
    ready: bool = False
    job: JobRecord | None = None
    started: float = 0.0
    incumbents: int = 0
    stop_reason: str | None = None  # "cancel" or "watchdog" once a stop was asked for
    term_at: float | None = None  # when to SIGTERM
    kill_at: float | None = None  # when to SIGKILL (set once SIGTERM was sent)
    killed: bool = False
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    node: str | None = None  # the Ray node of an actor worker
    reservation: Any = None  # CPUs held beside the worker for its job's threads (Ray)

    def send(self, msg: tuple[Any, ...]) -> None:
        # a dead worker cannot take messages; its reader thread reports the death
        with self.send_lock, contextlib.suppress(OSError, ValueError):
            self.conn.send(msg)


def job_context(settings: Settings, owner: str) -> dict[str, str]:
    """What a worker needs to know of a job's owner: the registry it sees (its own models,
    the server's, the shipped ones), where a training job registers, and how many of a solve's
    other solutions to keep for the archive."""
    keep = settings.archive_pool if settings.archive_per_key > 0 else 0
    return {
        "model_dir": os.pathsep.join(str(d) for d in settings.registry_for(owner)),
        "own_models": str(settings.own_model_dir(owner)),
        "keep_solutions": str(keep),
    }


def exit_reason(process: Any) -> str:
    """How a worker ended, for the job it leaves: its own words (a Ray actor's death cause), or
    the signal or exit code of a process."""
    reason = getattr(process, "exit_reason", None)
    if reason:
        return str(reason)
    code = process.exitcode
    return f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"


class Executor(Protocol):
    """What the job manager needs of an executor: the local one (worker processes on this
    machine) or the Ray one (``mipguide.jobs.ray_executor``: the same workers as Ray actors)."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...
    def submit(self, jobs: list[JobRecord]) -> None: ...
    def cancel(self, job_id: str) -> bool: ...
    def queue_depth(self) -> int: ...
    def busy_workers(self) -> int: ...
    def alive_workers(self) -> int: ...
    def worker_pids(self) -> list[int]: ...
    def device_pool(self) -> ServedPool | None: ...


class LocalExecutor:
    """Runs queued jobs on local worker processes.

    A worker is a ``_Worker``: a process handle (``pid``, ``is_alive``, ``join``, ``exitcode``,
    ``terminate``, ``kill``) and a connection (``send``, ``recv``) to ``worker_main``.
    ``_spawn`` makes one; the Ray executor overrides it and keeps everything else."""

    def __init__(
        self,
        store: JobStore,
        files: JobFiles,
        logs: JobLogs,
        bus: EventBus,
        settings: Settings,
        on_finish: OnFinish | None = None,
    ) -> None:
        self.store, self.files, self.logs, self.bus = store, files, logs, bus
        self.settings = settings
        self.on_finish = on_finish
        self._ctx = mp.get_context("spawn")
        self._cv = threading.Condition()
        self._workers: list[_Worker] = []
        self._stopping = False
        self._poked = False  # a job was submitted or a worker freed: claim without waiting
        self._scheduler: threading.Thread | None = None
        self._early_deaths = 0
        self.replica = settings.replica
        self._due: dict[str, float] = {}  # housekeeping task -> when it runs next
        self._device: ServedPool | None = None  # the server's device pool (device_pool)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._device = start_pool(self.settings)
        self._workers = [self._spawn(i) for i in range(self.settings.workers)]
        self._scheduler = threading.Thread(
            target=self._schedule_loop, name="scheduler", daemon=True
        )
        self._scheduler.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop all workers; jobs still running stay 'running' and are re-queued on restart."""
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        for w in self._workers:
            w.send(("stop",))
        deadline = time.monotonic() + timeout
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1.0)
        if self._scheduler is not None:
            self._scheduler.join(timeout)
        # the jobs interrupted here: another replica may re-queue them now (a restart of this
        # one re-queues them at start-up)
        running = [w.job.id for w in self._workers if w.job is not None]
        with contextlib.suppress(Exception):
            self.store.renew(self.replica, running, 0.0)
        if self._device is not None:
            self._device.close()
            self._device = None

    def device_client(self) -> Any:
        """What workers reach the server's device pool with (None: no pool)."""
        return None if self._device is None else self._device.client

    def device_pool(self) -> ServedPool | None:
        return self._device

    def _guidance(self) -> dict[str, str]:
        """Where workers find models, and their torch device (auto -> cpu unless CUDA)."""
        return {"model_dir": self.settings.registry_path, "device": self.settings.device}

    def _make_worker(self, index: int) -> _Worker:
        """A started worker process and the parent's end of its pipe."""
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=worker_main,
            args=(child, self.settings.default_solver, self._guidance(), self.device_client()),
            name=f"mipguide-worker-{index}",
            daemon=True,
        )
        proc.start()
        child.close()
        return _Worker(index, proc, parent)

    def _spawn(self, index: int) -> _Worker:
        worker = self._make_worker(index)
        threading.Thread(
            target=self._read_loop, args=(worker,), name=f"worker-{index}-reader", daemon=True
        ).start()
        return worker

    # --- public API -----------------------------------------------------------------------
    def submit(self, jobs: list[JobRecord]) -> None:
        """The jobs are queued in the store already: claim them now rather than at the next
        poll (another replica may take them first)."""
        with self._cv:
            self._poked = True
            self._cv.notify_all()

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job (here, or on another replica); True if it had not
        ended."""
        with self._cv:
            for w in self._workers:
                if w.job is not None and w.job.id == job_id:
                    self._ask_stop(w, "cancel")
                    return True
        job = self.store.get(job_id)
        if job is None or job.state.terminal:
            return False
        outcome = Outcome(JobState.CANCELLED, error="cancelled while queued")
        if job.state == JobState.QUEUED and self._finish(job, outcome, only_queued=True):
            return True
        # running (on another replica, or claimed here meanwhile): its replica stops it
        return self.store.request_cancel(job_id)

    def queue_depth(self) -> int:
        return self.store.count_queued()

    def busy_workers(self) -> int:
        with self._cv:
            return sum(1 for w in self._workers if w.job is not None)

    def alive_workers(self) -> int:
        with self._cv:
            return sum(1 for w in self._workers if w.ready and w.process.is_alive())

    def worker_pids(self) -> list[int]:
        with self._cv:
            return [w.process.pid for w in self._workers if w.process.pid]

    # --- scheduler thread -----------------------------------------------------------------
    def _schedule_loop(self) -> None:
        while True:
            try:
                with self._cv:
                    if self._stopping:
                        return
                    assignments = self._assign()
                    if not assignments and not self._poked:
                        self._cv.wait(0.1)
                    self._poked = False
                for worker, job in assignments:
                    self._start_job(worker, job)
                self._enforce_stops()
                self._housekeeping()
            except Exception:  # the store unreachable for a moment: the next round tries again
                time.sleep(0.5)

    def _every(self, task: str, seconds: float) -> bool:
        now = time.monotonic()
        if now < self._due.get(task, 0.0):
            return False
        self._due[task] = now + seconds
        return True

    def _housekeeping(self) -> None:
        """Renew this replica's leases, act on cancels asked of other replicas, and re-queue
        the jobs of replicas whose leases ran out."""
        lease = self.settings.lease_seconds
        with self._cv:
            mine = {w.job.id: w for w in self._workers if w.job is not None}
        if mine and self._every("renew", lease / 3):
            held = self.store.renew(self.replica, list(mine), lease)
            for job_id in set(mine) - held:  # re-queued elsewhere: this run must not go on
                self.logs.append(job_id, "[mipguide] lease lost: this replica stops its run")
                with self._cv:
                    self._ask_stop(mine[job_id], "lease")
        if mine and self._every("cancels", 0.5):
            for job_id in self.store.cancel_requests(self.replica):
                if job_id in mine:
                    with self._cv:
                        self._ask_stop(mine[job_id], "cancel")
        if self._every("expiry", max(1.0, lease / 4)):
            requeued, failed = self.store.expire_leases()
            for job_id in requeued:
                self.logs.append(job_id, "[mipguide] re-queued: its replica's lease ran out")
                self.bus.publish(JobEvent(job_id, "state", {"state": JobState.QUEUED.value}))
            for job_id in failed:
                self.logs.append(job_id, f"[mipguide] failed: {LEASE_REASON}")
                self.logs.close(job_id)
                data = {"state": JobState.FAILED.value, "error": LEASE_REASON}
                self.bus.publish(JobEvent(job_id, "state", data))
            if requeued:
                with self._cv:
                    self._poked = True

    def _assign(self) -> list[tuple[_Worker, JobRecord]]:
        out = []
        for w in self._workers:
            # a worker sent SIGTERM (kill_at set) is about to die even if its job has ended:
            # it takes nothing new, its replacement will
            if w.ready and w.job is None and w.kill_at is None and not w.killed:
                cap = self.settings.max_running_per_key
                try:
                    job = self.store.claim(self.replica, self.settings.lease_seconds, cap)
                except Exception:  # the store unreachable: the jobs claimed so far still start
                    break
                if job is None:
                    break
                w.job, w.started, w.incumbents = job, time.monotonic(), 0
                w.stop_reason, w.term_at, w.kill_at = None, None, None
                out.append((w, job))
        return out

    def _start_job(self, w: _Worker, job: JobRecord) -> None:
        """Hand a claimed job (running, this replica's lease) to its worker."""
        self.bus.publish(JobEvent(job.id, "state", {"state": JobState.RUNNING.value}))
        self.logs.append(job.id, f"[mipguide] running (attempt {job.attempts})")
        solver = job.options.get("solver", self.settings.default_solver)
        result_path = str(self.files.result(job.id))
        context = job_context(self.settings, job.owner)
        w.send((job.kind.value, job.id, job.input_path, result_path, solver, job.options, context))

    def _release(self, w: _Worker, job: JobRecord) -> None:
        with self._cv:
            if w.job is not None and w.job.id == job.id:
                w.job = None
            self._poked = True
            self._cv.notify_all()

    def _ask_stop(self, w: _Worker, reason: str) -> None:
        """Interrupt the worker's job; escalate to signals if it does not stop in time."""
        if w.stop_reason is not None or w.job is None:
            return
        w.stop_reason = reason
        w.term_at = time.monotonic() + self.settings.cancel_grace
        w.send(("interrupt", w.job.id))

    def _enforce_stops(self) -> None:
        now = time.monotonic()
        with self._cv:
            workers = list(self._workers)
        for w in workers:
            if w.killed:
                continue
            if w.kill_at is not None:  # SIGTERM sent: SIGKILL once it outlives kill_grace
                if now >= w.kill_at:
                    self._kill(w)
                continue
            job = w.job
            if job is None:
                continue
            limit = float(job.options.get("time_limit") or self.settings.max_time_limit)
            if w.stop_reason is None and now > w.started + limit + self.settings.watchdog_grace:
                with self._cv:
                    self._ask_stop(w, "watchdog")
            elif w.term_at is not None and now >= w.term_at:
                self._terminate(w, job)

    def _terminate(self, w: _Worker, job: JobRecord) -> None:
        """SIGTERM the worker if it is still running ``job``. Under the lock, so that the job
        cannot end and the worker be handed the next one between the check and the signal."""
        with self._cv:
            if w.job is None or w.job.id != job.id:
                return  # it stopped on its own meanwhile: the worker stays in service
            if w.process.pid is None or not w.process.is_alive():
                return
            w.kill_at = time.monotonic() + self.settings.kill_grace
            with contextlib.suppress(ProcessLookupError):
                w.process.terminate()  # SIGTERM (a Ray actor: ray.kill)

    def _kill(self, w: _Worker) -> None:
        if w.process.pid is None or not w.process.is_alive():
            return
        w.killed = True
        with contextlib.suppress(ProcessLookupError):
            w.process.kill()  # SIGKILL (a Ray actor: ray.kill)

    # --- reader threads -------------------------------------------------------------------
    def _read_loop(self, w: _Worker) -> None:
        while True:
            try:
                msg = w.conn.recv()
            except (EOFError, OSError):
                self._on_death(w)
                return
            try:
                self._handle(w, msg)
            except Exception as exc:  # never lose the supervisor to one bad message
                if w.job is not None:
                    self.logs.append(w.job.id, f"supervisor error: {exc!r}")

    def _handle(self, w: _Worker, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "ready":
            with self._cv:
                w.ready = True
                self._cv.notify_all()
            return
        job = w.job
        if job is None or msg[1] != job.id:
            return  # a late message for a job we already ended
        if kind == "log":
            self.logs.append(job.id, msg[2])
            self.bus.publish(JobEvent(job.id, "log", {"line": msg[2]}))
        elif kind == "incumbent":
            w.incumbents += 1
            inc = IncumbentRecord(w.incumbents, **msg[2])
            self.store.add_incumbent(job.id, inc)
            self.bus.publish(JobEvent(job.id, "incumbent", {"seq": inc.seq, **msg[2]}))
        elif kind == "progress":
            self.bus.publish(JobEvent(job.id, "progress", msg[2]))
        elif kind == "result":
            self._release(w, job)
            self._finish(job, self._result_outcome(w, job, msg[2]))
        elif kind == "error":
            self._release(w, job)
            state = JobState.CANCELLED if w.stop_reason == "cancel" else JobState.FAILED
            self._finish(job, Outcome(state, error=f"{msg[2]}: {msg[3]}"))

    def _result_outcome(self, w: _Worker, job: JobRecord, summary: dict[str, Any]) -> Outcome:
        state = JobState.CANCELLED if w.stop_reason == "cancel" else JobState.COMPLETED
        termination = summary.get("termination")
        if w.stop_reason == "watchdog":
            termination = "time_limit"
        return Outcome(
            state,
            error="cancelled on request" if state == JobState.CANCELLED else None,
            result_path=str(self.files.result(job.id)),
            status=summary.get("status"),
            termination=termination,
            objective=summary.get("objective"),
            bound=summary.get("bound"),
            solve_seconds=summary.get("seconds"),
        )

    def _on_death(self, w: _Worker) -> None:
        with self._cv:
            # before its job is released: the scheduler must not hand the next job to a dead
            # worker in the moment before its replacement takes its place
            was_ready, w.ready = w.ready, False
        w.process.join(5.0)
        how = exit_reason(w.process)
        with self._cv:
            if self._stopping:  # shutdown: its job stays 'running' and is re-queued on restart
                return
        job = w.job
        if job is not None:
            self._release(w, job)
            if w.stop_reason == "cancel":
                outcome = Outcome(JobState.CANCELLED, error=f"cancelled (worker stopped by {how})")
            elif w.stop_reason == "watchdog":
                reason = f"watchdog: still running past time_limit + grace, worker stopped by {how}"
                outcome = Outcome(JobState.FAILED, error=reason)
            else:
                outcome = Outcome(JobState.FAILED, error=f"worker died ({how})")
            self._finish(job, outcome)
        # a worker that dies before it is ready points at a broken environment: back off
        self._early_deaths = 0 if was_ready else self._early_deaths + 1
        if self._early_deaths:
            time.sleep(min(10.0, 0.2 * 2**self._early_deaths))
        with self._cv:
            if self._stopping:
                return
            replacement = self._spawn(w.index)
            self._workers[self._workers.index(w)] = replacement
            self._cv.notify_all()

    # --- endings ----------------------------------------------------------------------------
    def _finish(self, job: JobRecord, outcome: Outcome, only_queued: bool = False) -> bool:
        """End the job in the store (a running one only while this replica holds its lease),
        then tell its log, its subscribers and the server; False when it was not ours to end."""
        if not self.store.finish(job.id, outcome, holder=self.replica, only_queued=only_queued):
            return False
        line = f"[mipguide] {outcome.state.value}" + (f": {outcome.error}" if outcome.error else "")
        self.logs.append(job.id, line)
        self.logs.close(job.id)
        data = {"state": outcome.state.value, "error": outcome.error}
        self.bus.publish(JobEvent(job.id, "state", data))
        if self.on_finish is not None:
            self.on_finish(job, outcome)
        return True
