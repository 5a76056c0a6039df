"""The plain backend chosen by probing: (Problem, options) -> verified SolveResult.

``solver=auto`` without a guided model to follow. Neither SCIP nor HiGHS is the better plain
solver on every family we measure (HiGHS on set cover, independent set, facility, GISP, lot
sizing and vertex cover; SCIP on auctions, bin packing and load balancing), so the choice is
made on the instance itself, in one budget:

1. the first backend of ``PROBE_SOLVERS`` runs for a probe (``PROBE_SHARE`` of the time limit,
   at least ``PROBE_MIN`` seconds);
2. the next one starts from the best point found so far with the rest of the time; at the
   probe's length it is stopped unless it has improved on that point, else it runs to the end
   (no restart: its search so far is kept);
3. when every later backend was stopped, the one with the best incumbent (then bound, then the
   earlier) runs again from the best point with the rest of the time;
4. a phase that settles the problem (proven optimal, infeasible or unbounded) is the answer.

The answer is the best verified point of all phases; the incumbents are reported on one clock,
improving only. ``result.extra["solver_choice"]`` records the phases and the choice. A backend
that is not installed is left out.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from mipguide.errors import BackendUnavailableError
from mipguide.pipeline.result import SolveResult
from mipguide.pipeline.solve import finish, solve_problem
from mipguide.problem.model import Problem
from mipguide.solvers.types import (
    Incumbent,
    IncumbentCallback,
    Interrupt,
    InterruptWhen,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    is_stopped,
)

PROBE_SOLVERS = ("scip", "highs")
PROBE_SHARE = 0.1
PROBE_MIN = 2.0
PROBE_UNLIMITED = 10.0  # the probe of a solve without a time limit
_SETTLED = (Status.OPTIMAL, Status.INFEASIBLE, Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)


@dataclass
class _Clock:
    """One clock and one improving incumbent stream over every phase."""

    problem: Problem
    t0: float
    on_incumbent: IncumbentCallback | None
    best: float = math.inf  # sense * objective of the last reported incumbent
    items: list[Incumbent] = field(default_factory=list)  # what was reported, in order

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def reporter(self, offset: float) -> IncumbentCallback:
        def report(inc: Incumbent) -> None:
            value = self.problem.sense * inc.objective
            if _improves(value, self.best):
                self.best = value
                shifted = replace(inc, t=inc.t + offset)
                self.items.append(shifted)
                if self.on_incumbent is not None:
                    self.on_incumbent(shifted)

        return report


def _improves(value: float, best: float) -> bool:
    """``value`` (sense * objective) is strictly better than ``best``, beyond rounding."""
    return value < best - 1e-9 * max(1.0, abs(value))


def probe_seconds(time_limit: float | None, share: float = PROBE_SHARE) -> float:
    """Each probe's length for a solve of ``time_limit`` seconds."""
    if time_limit is None:
        return PROBE_UNLIMITED
    return min(time_limit, max(PROBE_MIN, share * time_limit))


def solve_probed(
    problem: Problem,
    options: SolveOptions,
    *,
    solvers: Sequence[str] = PROBE_SOLVERS,
    share: float = PROBE_SHARE,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
) -> SolveResult:
    """Probe each backend; the first that improves on those before it keeps running, else the
    best one runs again (see the module docstring).

    Raises:
        BackendUnavailableError: none of ``solvers`` is installed.
        the errors of ``solve_problem``.
    """
    clock = _Clock(problem, time.perf_counter(), on_incumbent)
    probe = probe_seconds(options.time_limit, share)
    phases: list[tuple[float, SolveResult]] = []  # (start on the clock, result)
    probes: list[dict[str, object]] = []
    start = options.start
    for solver in solvers:
        if is_stopped(interrupt) or _left(options, clock) <= 0:
            break
        at, before = clock.now(), clock.best
        first = not phases
        # the first backend runs for the probe; a later one for the rest of the time, stopped
        # at the probe's end unless it improved on everything found before it
        checkpoint = _Checkpoint(interrupt, clock, before, probe) if not first else None
        sub = replace(
            options,
            time_limit=_limit(options, clock, probe if first else None),
            start=start,
        )
        try:
            result = solve_problem(
                problem,
                solver,
                sub,
                on_incumbent=clock.reporter(at),
                interrupt=checkpoint.interrupt if checkpoint is not None else interrupt,
            )
        except BackendUnavailableError:
            continue
        finally:
            if checkpoint is not None:
                checkpoint.cancel()
        phases.append((at, result))
        probes.append(_probe_record(solver, result, clock.now() - at))
        if result.status in _SETTLED:
            return _answer(
                problem, options, phases, probes, solver, "settled", read_seconds, clock.items
            )
        if checkpoint is not None and not checkpoint.stopped:  # it improved and ran on
            return _answer(
                problem, options, phases, probes, solver, "probe", read_seconds, clock.items
            )
        start = _best_point(problem, phases, start)
    if not phases:
        raise BackendUnavailableError(f"none of {', '.join(solvers)} is installed")
    winner = min(phases, key=lambda p: _rank(problem, p[1]))[1].solver
    if _left(options, clock) > 0 and not is_stopped(interrupt):
        at = clock.now()
        sub = replace(options, time_limit=_limit(options, clock, None), start=start)
        result = solve_problem(
            problem, winner, sub, on_incumbent=clock.reporter(at), interrupt=interrupt
        )
        phases.append((at, result))
    return _answer(problem, options, phases, probes, winner, "probe", read_seconds, clock.items)


class _Checkpoint:
    """At ``seconds`` into a later backend's run: stop it unless it improved on ``before``."""

    def __init__(self, parent: Interrupt | None, clock: _Clock, before: float, seconds: float):
        # set by the checkpoint, or by the caller's interrupt
        self.interrupt = InterruptWhen(lambda: parent is not None and parent.is_set())
        self.stopped = False
        self._clock, self._before = clock, before
        self._timer = threading.Timer(seconds, self._check)
        self._timer.daemon = True
        self._timer.start()

    def _check(self) -> None:
        if not _improves(self._clock.best, self._before):
            self.stopped = True
            self.interrupt.set()

    def cancel(self) -> None:
        self._timer.cancel()


def _limit(options: SolveOptions, clock: _Clock, probe: float | None) -> float | None:
    """A phase's time limit: the probe (or the rest) within what is left of the caller's."""
    if options.time_limit is None:
        return probe
    left = max(0.0, _left(options, clock))
    return left if probe is None else min(probe, left)


def _left(options: SolveOptions, clock: _Clock) -> float:
    return math.inf if options.time_limit is None else options.time_limit - clock.now()


def _rank(problem: Problem, result: SolveResult) -> tuple[float, float]:
    """Smaller is better: the incumbent (none is worst), then the dual bound."""
    value = math.inf
    if _found(result) and result.objective is not None:
        value = problem.sense * result.objective
    bound = -problem.sense * result.bound if result.bound is not None else math.inf
    return (value, bound)


def _best_point(
    problem: Problem, phases: list[tuple[float, SolveResult]], start: np.ndarray | None
) -> np.ndarray | None:
    best = min(phases, key=lambda p: _rank(problem, p[1]))[1]
    return _point(problem, best) if _found(best) else start


def _found(result: SolveResult) -> bool:
    return result.status in (Status.OPTIMAL, Status.FEASIBLE) and bool(result.values)


def _point(problem: Problem, result: SolveResult) -> np.ndarray:
    values = result.values
    return np.array([float(values[name]) for name in problem.var_names], dtype=np.float64)


def _probe_record(solver: str, result: SolveResult, seconds: float) -> dict[str, object]:
    return {
        "solver": solver,
        "status": result.status.value,
        "objective": result.objective,
        "bound": result.bound,
        "seconds": round(seconds, 3),
    }


def _answer(
    problem: Problem,
    options: SolveOptions,
    phases: list[tuple[float, SolveResult]],
    probes: list[dict[str, object]],
    chosen: str,
    how: str,
    read_seconds: float,
    incumbents: Sequence[Incumbent],
) -> SolveResult:
    """The last phase's result, or the best point of an earlier phase when the last found
    nothing better; with the incumbents reported on the one clock, and its times."""
    last_at, last = phases[-1]
    best = min(phases, key=lambda p: _rank(problem, p[1]))[1]
    if _rank(problem, best) < _rank(problem, last):
        out = SolveOutput(
            status=Status.FEASIBLE,
            termination=Termination(last.termination, last.termination_detail),
            x=_point(problem, best),
            objective=best.objective,
            bound=_better_bound(problem, best.bound, last.bound),
            solver=best.solver,
            solver_version=best.solver_version,
            build_seconds=last.seconds.get("build", 0.0),
            solve_seconds=last.seconds.get("solve", 0.0),
            incumbents=(),
            nodes=last.nodes,
            warnings=(f"{last.solver} found nothing better than the {best.solver} probe",),
        )
        last = finish(problem, out, seed=options.seed)
    total = last_at + last.seconds.get("total", 0.0)
    seconds = dict(last.seconds, read=read_seconds, probe=last_at, total=read_seconds + total)
    choice = {"solver": chosen, "by": how, "probes": probes}
    return replace(
        last,
        incumbents=tuple(incumbents),
        seconds=seconds,
        extra=dict(last.extra, solver_choice=choice),
    )


def _better_bound(problem: Problem, a: float | None, b: float | None) -> float | None:
    bounds = [x for x in (a, b) if x is not None]
    if not bounds:
        return None
    return max(bounds) if problem.sense == 1 else min(bounds)
