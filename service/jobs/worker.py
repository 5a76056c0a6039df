"""Solver worker process: receives jobs over a Pipe, solves them, streams events back.

Parent -> worker messages::

    ("solve", job_id, problem_path, result_path, solver, options, context)
    ("dmmv", job_id, instance_path, result_path, "", options, context)     a DMMV search
    ("train", job_id, manifest_path, result_path, "", options, context)    a model's training
                                   context: the owner's ``model_dir`` (search path) and
                                   ``own_models`` (where its training registers)
    ("interrupt", job_id)          cooperative stop of that job
    ("stop",)                      exit after the current job

Worker -> parent messages::

    ("ready", pid)
    ("log", job_id, line)
    ("incumbent", job_id, {"t", "objective", "bound", "source"})   (DMMV: objective = max violation)
    ("progress", job_id, {"stage", "done", "total", ...})          (training: pools, epochs)
    ("result", job_id, summary)    result.json is written (atomically) before this is sent
    ("error", job_id, kind, message)

The worker exits at once when the parent goes away (its end of the pipe closes).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mipguide.errors import MipguideError, scrub_paths
from mipguide.gpu.allocator import keep_freed_memory
from mipguide.jobs.errors import JobInputError
from mipguide.solvers.types import Incumbent, Interrupt

if TYPE_CHECKING:
    from mipguide.problem.model import Problem

JOB_KINDS = ("solve", "dmmv", "train")
_T = TypeVar("_T")


class _Channel:
    """The worker's end of the pipe; sends may come from solver callback threads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    def send(self, msg: tuple[Any, ...]) -> None:
        with self._lock:
            self.conn.send(msg)


def worker_main(
    conn: Connection,
    warm_solver: str | None = None,
    guidance: dict[str, str] | None = None,
    device: Any = None,
) -> None:
    """Entry point of a worker process (multiprocessing spawn target).

    ``guidance``: ``model_dir`` and ``device`` for the guided modes (from the server's settings).
    ``device``: the server's device pool (a ``mipguide.guidance.remote.DeviceRunner``), where
    guided jobs run their networks; None: in this process.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    channel = _Channel(conn)
    keep_freed_memory()
    _warm_up(warm_solver)
    interrupts: dict[str, Interrupt] = {}
    jobs: list[tuple[Any, ...]] = []
    cv = threading.Condition()
    loop_args = (channel, jobs, interrupts, cv, guidance or {}, device)
    threading.Thread(target=_solve_loop, args=loop_args, daemon=True).start()
    channel.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # parent is gone: nobody can use our results
        if msg[0] in JOB_KINDS:
            with cv:
                interrupts.setdefault(msg[1], Interrupt())
                jobs.append(msg)
                cv.notify()
        elif msg[0] == "interrupt":
            with cv:
                interrupts.setdefault(msg[1], Interrupt()).set()
        elif msg[0] == "stop":
            os._exit(0)


def _warm_up(solver: str | None) -> None:
    """Import the solve stage (and the default backend) before the first job arrives."""
    from mipguide.pipeline import solve  # noqa: F401

    if solver:
        try:
            from mipguide.solvers.base import get_backend

            get_backend(solver)
        except Exception:  # a missing backend is reported per job, not at startup
            pass


def _solve_loop(
    channel: _Channel,
    jobs: list[tuple[Any, ...]],
    interrupts: dict[str, Interrupt],
    cv: threading.Condition,
    guidance: dict[str, str],
    device: Any = None,
) -> None:
    while True:
        with cv:
            while not jobs:
                cv.wait()
            msg = jobs.pop(0)
            interrupt = interrupts[msg[1]]
        kind, job_id, problem_path, result_path, solver, options, context = msg
        job_guidance = {**guidance, **context}
        try:
            if kind == "dmmv":
                _dmmv_one(channel, job_id, problem_path, result_path, solver, options, interrupt)
            elif kind == "train":
                _train_one(channel, job_id, problem_path, result_path, options, interrupt, context)
            else:
                _solve_one(
                    channel,
                    job_id,
                    problem_path,
                    result_path,
                    solver,
                    options,
                    interrupt,
                    job_guidance,
                    device,
                )
        finally:
            with cv:
                interrupts.pop(job_id, None)


def _solve_one(
    channel: _Channel,
    job_id: str,
    problem_path: str,
    result_path: str,
    solver: str,
    options: dict[str, Any],
    interrupt: Interrupt,
    guidance: dict[str, str] | None = None,
    device: Any = None,
) -> None:
    from mipguide.guidance.dispatch import solve_request
    from mipguide.jobs.files import write_atomic
    from mipguide.jobs.options import mode_request, solve_options
    from mipguide.jobs.solutions_file import save_solutions, solutions_path
    from mipguide.problem.npz import load_problem

    guidance = guidance or {}
    mode = str(options.get("mode") or "exact")
    log = _logger(channel, job_id)

    def on_incumbent(inc: Incumbent) -> None:
        data = {"t": inc.t, "objective": inc.objective, "bound": inc.bound}
        channel.send(("incumbent", job_id, {**data, "source": inc.source.value}))

    try:
        t0 = time.perf_counter()
        problem = _load_input(problem_path, load_problem)
        read = time.perf_counter() - t0
        log(f"[worker {os.getpid()}] solving {problem.name} with {solver} (mode {mode})")
        keep = _kept_solutions(int(guidance.get("keep_solutions", 0)), problem)
        result = solve_request(
            problem,
            solver,
            replace(solve_options(options, log), keep_solutions=keep),
            replace(mode_request(options, guidance), runner=device),
            on_incumbent=on_incumbent,
            interrupt=interrupt,
            read_seconds=read,
            note=lambda line: log(f"[mipguide] {line}"),
        )
        if result.solutions:
            save_solutions(problem, result.solutions, solutions_path(result_path))
        write_atomic(Path(result_path), result.to_json(indent=None))
        summary = {
            "status": result.status.value,
            "termination": result.termination.value,
            "objective": result.objective,
            "bound": result.bound,
            "seconds": result.seconds.get("total"),
        }
        channel.send(("result", job_id, summary))
    except Exception as exc:
        _report_error(channel, job_id, exc, log)


# At most this many values are read back from a backend's other solutions (SCIP reads them one
# call per value): 16 solutions of up to 125,000 variables, fewer of larger models.
_KEPT_VALUES = 2_000_000


def _kept_solutions(keep: int, problem: Problem) -> int:
    """How many of its backend's other solutions a job keeps for the archive: none for a model
    without binaries (nothing to learn), fewer for a large one."""
    if keep <= 0 or not problem.binary_mask.any():
        return 0
    return min(keep, _KEPT_VALUES // max(1, problem.num_vars))


def _logger(channel: _Channel, job_id: str) -> Callable[[str], None]:
    def log(line: str) -> None:
        channel.send(("log", job_id, line.rstrip("\n")))

    return log


def _load_input(path: str, loader: Callable[[Path], _T]) -> _T:
    """The job's stored input, or an error that names no server path."""
    try:
        return loader(Path(path))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise JobInputError(
            "the job's stored input cannot be read (deleted, expired or corrupt); "
            "submit the model again"
        ) from exc


def _report_error(
    channel: _Channel, job_id: str, exc: Exception, log: Callable[[str], None]
) -> None:
    """Fail the job with a message fit for its owner. A bug (not a MipguideError) fails the job,
    not the worker; its traceback goes to the server's log (stderr), never to the job's."""
    if isinstance(exc, MipguideError):
        channel.send(("error", job_id, type(exc).__name__, scrub_paths(str(exc))))
        return
    print(f"[mipguide worker {os.getpid()}] job {job_id} failed:", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)
    sys.stderr.flush()
    reason = f"internal error ({type(exc).__name__}); the server log has the details"
    log(f"[mipguide] {reason}")
    channel.send(("error", job_id, "InternalError", reason))


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(path.name)
    return path


def _send_document(
    channel: _Channel, job_id: str, result_path: str, doc: dict[str, Any], objective: float
) -> None:
    """Write a DMMV or training job's result document (atomically), then report its summary."""
    import json

    from mipguide.jobs.files import write_atomic

    write_atomic(Path(result_path), json.dumps(doc))
    summary = {
        "status": doc["status"],
        "termination": doc["termination"],
        "objective": objective,
        "seconds": doc["seconds"],
    }
    channel.send(("result", job_id, summary))


def _dmmv_one(
    channel: _Channel,
    job_id: str,
    instance_path: str,
    result_path: str,
    _solver: str,
    options: dict[str, Any],
    interrupt: Interrupt,
) -> None:

    from mipguide.jobs.dmmv_job import run_dmmv_job

    log = _logger(channel, job_id)

    def on_incumbent(data: dict[str, Any]) -> None:
        channel.send(("incumbent", job_id, data))

    try:
        log(f"[worker {os.getpid()}] DMMV search")
        path = _load_input(instance_path, _existing)
        doc = run_dmmv_job(path, options, log, on_incumbent, interrupt)
        _send_document(channel, job_id, result_path, doc, doc["max_violation"])
    except Exception as exc:
        _report_error(channel, job_id, exc, log)


def _train_one(
    channel: _Channel,
    job_id: str,
    manifest_path: str,
    result_path: str,
    options: dict[str, Any],
    interrupt: Interrupt,
    context: dict[str, str],
) -> None:

    from mipguide.jobs.dmmv_job import resolve_device
    from mipguide.jobs.train_job import run_train_job
    from mipguide.models.pools import Stopped

    log = _logger(channel, job_id)

    def on_progress(data: dict[str, Any]) -> None:
        channel.send(("progress", job_id, data))

    try:
        log(f"[worker {os.getpid()}] training {options.get('name')}")
        path = _load_input(manifest_path, _existing)
        device = resolve_device(context.get("device", "cpu"))
        own = Path(context["own_models"])
        doc = run_train_job(path, options, own, device, log, on_progress, interrupt, job_id)
        _send_document(channel, job_id, result_path, doc, doc["objective"])
    except Stopped:
        channel.send(("error", job_id, "Stopped", "stopped on request; no model registered"))
    except Exception as exc:
        _report_error(channel, job_id, exc, log)
