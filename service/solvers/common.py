"""Helpers shared by the solver adapters: parameter validation, start solutions, interrupt watching.

Nothing here imports a solver package.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from mipguide.errors import InvalidOptionError
from mipguide.problem.model import Problem
from mipguide.problem.verify import impossible_bounds, verify
from mipguide.solvers.types import (
    IncumbentSource,
    IncumbentTracker,
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)

# How often watcher threads look at the interrupt flag (seconds).
POLL_SECONDS = 0.05


def start_values(problem: Problem, options: SolveOptions) -> np.ndarray | None:
    """The start solution as float64 (NaN where unknown), or None.

    Raises:
        InvalidOptionError: the start has the wrong length or infinite entries.
    """
    if options.start is None:
        return None
    start = np.asarray(options.start, dtype=np.float64)
    if start.shape != (problem.num_vars,):
        raise InvalidOptionError(
            "start", f"has shape {start.shape}, expected ({problem.num_vars},)"
        )
    if np.isinf(start).any():
        raise InvalidOptionError("start", "contains infinite values")
    return start


def infeasible_by_bounds(
    problem: Problem, solver: str, version: Callable[[], str]
) -> SolveOutput | None:
    """The INFEASIBLE output for a model whose bounds alone cannot hold (a row with lower bound
    +inf, ...; see ``impossible_bounds``), or None. Backends call this first: their model
    builders treat an infinite bound as absent and would silently drop such a row."""
    reason = impossible_bounds(problem)
    if reason is None:
        return None
    return SolveOutput(
        status=Status.INFEASIBLE,
        termination=Termination(TerminationReason.INFEASIBLE, f"{reason} (found before solving)"),
        x=None,
        objective=None,
        bound=None,
        solver=solver,
        solver_version=version(),
        build_seconds=0.0,
        solve_seconds=0.0,
    )


def offer_start(problem: Problem, start: np.ndarray | None, tracker: IncumbentTracker) -> bool:
    """Record a complete, feasible start solution as the first incumbent (source ``start``).

    Solvers do not always report an accepted start through their callbacks; recording it
    here makes the trace honest: the solve had this solution from t = 0.
    """
    if start is None or np.isnan(start).any():
        return False
    if not verify(problem, start).feasible:
        return False
    return tracker.offer(problem.objective_value(start), None, IncumbentSource.START)


def limit_reason(
    options: SolveOptions, wall: float, interrupted: bool, default: TerminationReason
) -> TerminationReason:
    """Why a solve that was not proven optimal stopped, when the solver does not say."""
    if interrupted:
        return TerminationReason.INTERRUPTED
    if options.time_limit is not None and wall >= 0.98 * options.time_limit:
        return TerminationReason.TIME_LIMIT
    return default


def gap_closed(objective: float | None, bound: float | None) -> bool:
    """True when objective and bound agree within the tightest tolerance we may claim optimal."""
    if objective is None or bound is None or not math.isfinite(objective):
        return False
    if not math.isfinite(bound):
        return False
    diff = abs(objective - bound)
    return diff <= 1e-9 * max(1.0, abs(objective)) or diff <= 1e-6


_PY_TYPES = {
    FieldDescriptor.CPPTYPE_BOOL: bool,
    FieldDescriptor.CPPTYPE_INT32: int,
    FieldDescriptor.CPPTYPE_INT64: int,
    FieldDescriptor.CPPTYPE_UINT32: int,
    FieldDescriptor.CPPTYPE_UINT64: int,
    FieldDescriptor.CPPTYPE_DOUBLE: float,
    FieldDescriptor.CPPTYPE_FLOAT: float,
    FieldDescriptor.CPPTYPE_STRING: str,
    FieldDescriptor.CPPTYPE_ENUM: str,
}


def proto_scalar_fields(message: type[Message], prefix: str) -> dict[str, type]:
    """Scalar (non-repeated, non-message) fields of a proto, as ``prefix.name -> type``."""
    out: dict[str, type] = {}
    for f in message.DESCRIPTOR.fields:
        if f.cpp_type in _PY_TYPES and not f.is_repeated:
            out[f"{prefix}.{f.name}" if prefix else f.name] = _PY_TYPES[f.cpp_type]
    return out


def set_proto_field(
    msg: Any, name: str, value: Any, message_type: type[Message] | None = None
) -> None:
    """Set a scalar proto field; enums accept their value names.

    ``message_type`` gives the descriptor when ``msg`` is a C++-backed (pybind) message.
    """
    descriptor = (message_type or type(msg)).DESCRIPTOR
    field = descriptor.fields_by_name[name]
    if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        names = field.enum_type.values_by_name
        if value not in names:
            raise InvalidOptionError(name, f"unknown value {value!r}", names)
        value = names[value].number
        current = getattr(msg, name)
        if not isinstance(current, int):  # pybind messages take their own enum type
            value = type(current)(value)
    setattr(msg, name, value)


class InterruptWatcher:
    """A daemon thread that calls ``stop()`` (idempotent) while ``interrupt`` is set.

    Also runs ``tick()`` at every poll (used to forward log files). Use as a context manager
    around the blocking solve call.
    """

    def __init__(
        self,
        interrupt: Interrupt | None,
        stop: Callable[[], None],
        tick: Callable[[], None] | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.interrupt = interrupt
        self.stop = stop
        self.tick = tick
        self.poll = poll
        self.fired = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._done.wait(self.poll):
            if self.tick is not None:
                self.tick()
            # Stop again at every poll while the flag is set: a stop requested before the
            # solver entered its solve loop may be reset by the solver on entry.
            if self.interrupt is not None and self.interrupt.is_set():
                self.fired = True
                self.stop()

    def __enter__(self) -> InterruptWatcher:
        if self.interrupt is not None and self.interrupt.is_set():
            self.fired = True
        if self.interrupt is not None or self.tick is not None:
            self._thread = threading.Thread(target=self._run, name="solver-watcher", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self.tick is not None:
            self.tick()


class Stopwatch:
    """perf_counter seconds since construction."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0
