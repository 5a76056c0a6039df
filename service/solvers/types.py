"""Solver-neutral options and outcomes shared by every backend (MathOpt-shaped)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class Status(StrEnum):
    """What is known about the problem and the returned solution."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"
    ERROR = "error"


class TerminationReason(StrEnum):
    """Why the solver stopped."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    TIME_LIMIT = "time_limit"
    GAP_LIMIT = "gap_limit"
    NODE_LIMIT = "node_limit"
    SOLUTION_LIMIT = "solution_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class IncumbentSource(StrEnum):
    """Who found an incumbent."""

    SOLVER = "solver"
    GNN = "gnn"
    SRG = "srg"
    DMMV = "dmmv"
    START = "start"
    LNS = "lns"


@dataclass(frozen=True)
class Termination:
    reason: TerminationReason
    detail: str = ""


@dataclass(frozen=True)
class Incumbent:
    """An improving solution as it was found.

    Attributes:
        t: seconds since the solve started.
        objective: its objective, in the problem's own sense.
        bound: the dual bound at that moment (None when unknown).
        source: who found it.
    """

    t: float
    objective: float
    bound: float | None = None
    source: IncumbentSource = IncumbentSource.SOLVER


class Interrupt:
    """A cooperative stop flag: set from any thread, polled by the backend."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class InterruptWhen(Interrupt):
    """An interrupt that also reads as set once ``check()`` is true (polled by the backend):
    e.g. the caller's interrupt, or "another stage has proved the answer"."""

    def __init__(self, check: Callable[[], bool]) -> None:
        super().__init__()
        self._check = check

    def is_set(self) -> bool:
        return super().is_set() or self._check()


def is_stopped(interrupt: Interrupt | None) -> bool:
    """Whether an optional interrupt is set."""
    return interrupt is not None and interrupt.is_set()


IncumbentCallback = Callable[[Incumbent], None]


@dataclass(frozen=True)
class SolveOptions:
    """Options every backend understands.

    Attributes:
        time_limit: seconds of wall time for the solve (None: no limit).
        rel_gap, abs_gap: stop when the gap is at most this (None: backend default).
        threads: worker threads the backend may use.
        seed: random seed.
        node_limit: branch-and-bound nodes (None: no limit; ignored where meaningless).
        presolve: run the backend's presolve.
        start: a start solution (one value per variable; NaN where unknown) given as warm start
            or hint.
        params: backend-specific parameters by name; unknown names are rejected, and so are
            those ``param_policy`` refuses (files, logs, output, capped limits).
        log: a callable receiving solver log lines (None: quiet).
        unsafe_params: skip ``param_policy`` (set only by the CLI's ``--unsafe-params`` for
            local solves; nothing on the server sets it).
        keep_solutions: how many more of the solutions the backend found, besides the best, to
            return in ``SolveOutput.solutions`` (SCIP's solution storage, HiGHS's improving
            solutions; other backends none); 0: none.
        on_solution: called with the values (one per variable, in the problem's order) of each
            improving incumbent as it is found, on the backend's thread: SCIP and HiGHS; other
            backends never call it. It must be quick and must not raise.
        extra_starts: more complete start solutions besides ``start`` (SCIP adds each to its
            solution storage, where its crossover heuristics use them; those infeasible for the
            model are dropped; other backends ignore them).
    """

    time_limit: float | None = None
    rel_gap: float | None = None
    abs_gap: float | None = None
    threads: int = 1
    seed: int = 0
    node_limit: int | None = None
    presolve: bool = True
    start: np.ndarray | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] | None = None
    unsafe_params: bool = False
    keep_solutions: int = 0
    on_solution: Callable[[np.ndarray], None] | None = None
    extra_starts: tuple[np.ndarray, ...] = ()


@dataclass(frozen=True)
class SolveOutput:
    """What a backend returns, before verification.

    Attributes:
        status, termination: as the backend reports them (mapped to our taxonomy).
        x: the best solution in the original variable order, or None.
        objective: the backend's objective for x (problem sense), or None.
        bound: the best dual bound (problem sense), or None.
        solver, solver_version: which backend ran.
        build_seconds: time to turn the Problem into the backend's model.
        solve_seconds: time inside the backend's solve call.
        incumbents: improving solutions in the order found.
        nodes: branch-and-bound nodes, when known.
        warnings: anything the user should know.
        solutions: other solutions found (original variable order, at most
            ``SolveOptions.keep_solutions``, not verified), when asked for.
    """

    status: Status
    termination: Termination
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    solver: str
    solver_version: str
    build_seconds: float
    solve_seconds: float
    incumbents: tuple[Incumbent, ...] = ()
    nodes: int | None = None
    warnings: tuple[str, ...] = ()
    solutions: tuple[np.ndarray, ...] = ()


class IncumbentTracker:
    """Collects improving incumbents with times relative to a start, and forwards them.

    Backends call ``offer`` from their callbacks; only strict improvements are kept.
    """

    def __init__(self, minimize: bool, callback: IncumbentCallback | None = None) -> None:
        self.minimize = minimize
        self.callback = callback
        self.t0 = time.perf_counter()
        self.items: list[Incumbent] = []
        self._lock = threading.Lock()

    def restart_clock(self) -> None:
        self.t0 = time.perf_counter()

    def offer(
        self,
        objective: float,
        bound: float | None = None,
        source: IncumbentSource = IncumbentSource.SOLVER,
    ) -> bool:
        with self._lock:
            if self.items:
                best = self.items[-1].objective
                better = objective < best - 1e-9 * max(1.0, abs(best))
                if not self.minimize:
                    better = objective > best + 1e-9 * max(1.0, abs(best))
                if not better:
                    return False
            inc = Incumbent(time.perf_counter() - self.t0, float(objective), bound, source)
            self.items.append(inc)
        if self.callback is not None:
            self.callback(inc)
        return True
