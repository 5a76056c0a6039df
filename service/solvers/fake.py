"""A deterministic fake backend for testing the layers above the solvers; imports no solver.

It "solves" by following a script: after ``delay`` seconds it returns ``x`` (default: the
complete start solution, else the variable bounds' point nearest 0) with the scripted status;
scripted incumbents are emitted at their times. It honours the time limit (stops at it with
TIME_LIMIT) and the interrupt (stops within one poll with INTERRUPTED).

Configure it by constructing ``FakeBackend(FakeScript(...))``, or, through the registry, with
the params ``delay``, ``status``, ``objective_step`` (emit incumbents improving by this step
every ``incumbent_every`` seconds), and ``ignore_time_limit`` / ``ignore_interrupt`` to play a
misbehaving backend (a hung solver: what the executor's watchdog and kill path are for).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mipguide.problem.model import Problem, Sense
from mipguide.solvers.base import check_params
from mipguide.solvers.common import Stopwatch, infeasible_by_bounds, start_values
from mipguide.solvers.types import (
    IncumbentCallback,
    IncumbentTracker,
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)

_PARAMS: dict[str, type] = {
    "delay": float,
    "status": str,
    "objective_step": float,
    "incumbent_every": float,
    "ignore_time_limit": bool,
    "ignore_interrupt": bool,
}


@dataclass(frozen=True)
class FakeScript:
    """What the fake does.

    Attributes:
        status: reported when the delay elapses (OPTIMAL maps to termination OPTIMAL, etc.).
        x: the solution to return (None: start solution, else the point nearest 0 in the box).
        bound: the dual bound to report (None: the objective of x when OPTIMAL).
        delay: seconds the solve takes.
        incumbents: (seconds, objective) pairs emitted in order while waiting.
        ignore_time_limit: run the full delay whatever the time limit (a misbehaving backend).
        ignore_interrupt: never poll the interrupt (a hung backend only a signal stops).
    """

    status: Status = Status.OPTIMAL
    x: np.ndarray | None = None
    bound: float | None = None
    delay: float = 0.0
    incumbents: tuple[tuple[float, float], ...] = ()
    ignore_time_limit: bool = False
    ignore_interrupt: bool = False


_REASONS = {
    Status.OPTIMAL: TerminationReason.OPTIMAL,
    Status.FEASIBLE: TerminationReason.SOLUTION_LIMIT,
    Status.INFEASIBLE: TerminationReason.INFEASIBLE,
    Status.UNBOUNDED: TerminationReason.UNBOUNDED,
    Status.INFEASIBLE_OR_UNBOUNDED: TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    Status.NO_SOLUTION: TerminationReason.SOLUTION_LIMIT,
    Status.ERROR: TerminationReason.ERROR,
}


def _default_x(problem: Problem, options: SolveOptions) -> np.ndarray:
    start = start_values(problem, options)
    if start is not None and not np.isnan(start).any():
        return start
    return np.clip(np.zeros(problem.num_vars), problem.col_lower, problem.col_upper)


class FakeBackend:
    """Scripted, deterministic, solver-free backend."""

    name = "fake"

    def __init__(self, script: FakeScript | None = None) -> None:
        self.script = script or FakeScript()

    def version(self) -> str:
        return "fake 1"

    def supports(self, problem: Problem) -> str | None:
        return None

    def param_names(self) -> Mapping[str, type]:
        return dict(_PARAMS)

    def _script(self, problem: Problem, params: Mapping[str, Any]) -> FakeScript:
        script = self.script
        if not params:
            return script
        status = Status(str(params.get("status", script.status.value)))
        delay = float(params.get("delay", script.delay))
        incumbents = script.incumbents
        step = params.get("objective_step")
        if step is not None:
            every = float(params.get("incumbent_every", 0.1))
            sign = -1.0 if problem.sense == Sense.MINIMIZE else 1.0
            k = max(1, int(delay / every))
            incumbents = tuple((every * (i + 1), sign * float(step) * (i + 1)) for i in range(k))
        return FakeScript(
            status,
            script.x,
            script.bound,
            delay,
            incumbents,
            bool(params.get("ignore_time_limit", script.ignore_time_limit)),
            bool(params.get("ignore_interrupt", script.ignore_interrupt)),
        )

    def solve(
        self,
        problem: Problem,
        options: SolveOptions,
        on_incumbent: IncumbentCallback | None = None,
        interrupt: Interrupt | None = None,
    ) -> SolveOutput:
        params = check_params(self.name, options.params, _PARAMS, unsafe=options.unsafe_params)
        infeasible = infeasible_by_bounds(problem, self.name, self.version)
        if infeasible is not None:
            return infeasible
        script = self._script(problem, params)
        tracker = IncumbentTracker(problem.sense == Sense.MINIMIZE, on_incumbent)
        clock = Stopwatch()
        stop_at = script.delay
        if options.time_limit is not None and not script.ignore_time_limit:
            stop_at = min(stop_at, options.time_limit)
        reason: TerminationReason | None = None
        pending = list(script.incumbents)
        wake = threading.Event()
        while True:
            if interrupt is not None and interrupt.is_set() and not script.ignore_interrupt:
                reason = TerminationReason.INTERRUPTED
                break
            now = clock()
            while pending and pending[0][0] <= now:
                tracker.offer(pending.pop(0)[1])
            if now >= stop_at:
                if stop_at < script.delay:
                    reason = TerminationReason.TIME_LIMIT
                break
            wake.wait(min(0.02, stop_at - now))
        return self._output(problem, options, script, tracker, reason, clock())

    def _output(
        self,
        problem: Problem,
        options: SolveOptions,
        script: FakeScript,
        tracker: IncumbentTracker,
        reason: TerminationReason | None,
        seconds: float,
    ) -> SolveOutput:
        has_x = script.status in (Status.OPTIMAL, Status.FEASIBLE)
        x = None
        status = script.status
        if reason is None:
            reason = _REASONS[script.status]
            if has_x:
                x = script.x if script.x is not None else _default_x(problem, options)
        elif tracker.items:  # stopped early: the last scripted incumbent's "solution"
            status = Status.FEASIBLE
            x = script.x if script.x is not None else _default_x(problem, options)
        else:
            status = Status.NO_SOLUTION
        objective = problem.objective_value(x) if x is not None else None
        bound = script.bound
        if bound is None and status == Status.OPTIMAL:
            bound = objective
        return SolveOutput(
            status=status,
            termination=Termination(reason, "scripted"),
            x=None if x is None else np.asarray(x, dtype=np.float64),
            objective=objective,
            bound=bound,
            solver=self.name,
            solver_version=self.version(),
            build_seconds=0.0,
            solve_seconds=seconds,
            incumbents=tuple(tracker.items),
            nodes=0,
        )
