"""Solve stage (exact mode): (Problem, solver name, SolveOptions) -> verified SolveResult.

Every result passes through ``finish``: the values are checked against the original Problem in
float64 and the objective is recomputed; a solution that fails verification is never reported
as feasible or optimal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mipguide.errors import UnsupportedProblemError
from mipguide.pipeline.result import SolveResult, relative_gap
from mipguide.problem.model import Problem
from mipguide.problem.verify import Verification, verify
from mipguide.solvers.base import SolverBackend, get_backend
from mipguide.solvers.types import (
    Incumbent,
    IncumbentCallback,
    IncumbentSource,
    Interrupt,
    SolveOptions,
    SolveOutput,
    Status,
    TerminationReason,
)


def solve_problem(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    *,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
) -> SolveResult:
    """Solve with one backend and return the verified result.

    Args:
        problem: the model.
        solver: backend name (see ``mipguide.solvers.base.backend_names``).
        options: common solve options.
        on_incumbent: called with each improving incumbent.
        interrupt: set it from another thread to stop the solve cooperatively.
        read_seconds: time spent reading the model, reported in ``seconds["read"]``.

    Raises:
        InvalidOptionError: unknown solver or backend parameter.
        BackendUnavailableError: the backend is not installed.
        UnsupportedProblemError: the backend cannot take this problem.
        SolverError: the backend failed.
    """
    t0 = time.perf_counter()
    backend = backend_for(problem, solver)
    out = backend.solve(problem, options, on_incumbent=on_incumbent, interrupt=interrupt)
    solve_wall = time.perf_counter() - t0
    return finish(problem, out, seed=options.seed, read_seconds=read_seconds, wall=solve_wall)


def backend_for(problem: Problem, solver: str) -> SolverBackend:
    """The backend named ``solver``, checked to take ``problem``.

    Raises:
        InvalidOptionError: unknown solver. BackendUnavailableError: not installed.
        UnsupportedProblemError: the backend cannot take this problem.
    """
    backend = get_backend(solver)
    reason = backend.supports(problem)
    if reason is not None:
        raise UnsupportedProblemError(f"solver {solver!r} cannot solve {problem.name!r}: {reason}")
    return backend


def closed_incumbents(
    problem: Problem,
    incumbents: Sequence[Incumbent],
    objective: float | None,
    bound: float | None,
    t: float,
) -> tuple[Incumbent, ...]:
    """The incumbents, and the answer (``objective``) at ``t`` when it is better than all of them.

    A backend may not report every improvement as it finds it: HiGHS's improving-solution
    callback missed the last one on 10 of 450 protocol runs (hard, 60 s; the answer up to 12 %
    better than the last report). The answer is then recorded at the end, the latest it can have
    been found, so an incumbent history never ends worse than the answer it comes with.
    """
    if objective is None:
        return tuple(incumbents)
    sense = problem.sense
    best = min((sense * inc.objective for inc in incumbents), default=math.inf)
    if sense * objective >= best - 1e-9 * max(1.0, abs(best)):
        return tuple(incumbents)
    end = max([t, *(inc.t for inc in incumbents)])
    return (*incumbents, Incumbent(end, float(objective), bound, IncumbentSource.SOLVER))


def finish(
    problem: Problem,
    out: SolveOutput,
    *,
    seed: int = 0,
    read_seconds: float = 0.0,
    wall: float | None = None,
    mode: str = "exact",
) -> SolveResult:
    """Verify a backend's output against the original problem and build the result.

    ``wall`` is the solve stage's wall time (build and solve together); without it the backend's
    build and solve seconds are summed. ``seconds["total"]`` is read + that + verify.
    """
    t0 = time.perf_counter()
    checked = _checked(problem, out)
    bound = out.bound
    feasible = checked.status in (Status.OPTIMAL, Status.FEASIBLE)
    gap = relative_gap(checked.objective, bound) if feasible else None
    verify_seconds = time.perf_counter() - t0
    solve_wall = wall if wall is not None else out.build_seconds + out.solve_seconds
    seconds = {
        "read": read_seconds,
        "build": out.build_seconds,
        "solve": out.solve_seconds,
        "verify": verify_seconds,
        "total": read_seconds + solve_wall + verify_seconds,
    }
    return SolveResult(
        status=checked.status,
        termination=checked.termination,
        termination_detail=out.termination.detail,
        objective=checked.objective,
        bound=bound,
        gap=gap,
        max_violation=checked.max_violation,
        solver=out.solver,
        solver_version=out.solver_version,
        seconds=seconds,
        incumbents=closed_incumbents(
            problem, out.incumbents, checked.objective if feasible else None, bound, solve_wall
        ),
        values=checked.values,
        warnings=tuple(checked.warnings),
        mode=mode,
        problem_name=problem.name,
        num_vars=problem.num_vars,
        num_rows=problem.num_rows,
        nnz=problem.nnz,
        seed=seed,
        nodes=out.nodes,
        solutions=_verified(problem, out.solutions),
    )


def _verified(
    problem: Problem, solutions: tuple[np.ndarray, ...]
) -> tuple[tuple[float, np.ndarray], ...]:
    """(objective, x) of the backend's other solutions that pass verification, best first."""
    kept = []
    for x in solutions:
        check = verify(problem, x)
        if check.feasible:
            kept.append((float(problem.objective_value(x)), x))
    return tuple(sorted(kept, key=lambda s: problem.sense * s[0]))


@dataclass(frozen=True)
class _Checked:
    status: Status
    termination: TerminationReason
    objective: float | None
    max_violation: float | None
    values: dict[str, float]
    warnings: list[str]


def _checked(problem: Problem, out: SolveOutput) -> _Checked:
    """The backend's status, corrected by verifying its values against the original problem."""
    warnings = list(problem.warnings) + list(out.warnings)
    status, termination = out.status, out.termination.reason
    objective = max_violation = None
    values: dict[str, float] = {}
    if out.x is not None:
        x, check = _integral(problem, np.asarray(out.x, dtype=np.float64))
        objective, max_violation = check.objective, check.max_violation
        values = _values(problem, x)
        if not check.feasible:
            warnings.append(
                f"{out.solver} returned a solution that fails verification "
                f"(max violation {check.max_violation:.3g}); it is not reported as feasible"
            )
            status = Status.NO_SOLUTION if status in (Status.OPTIMAL, Status.FEASIBLE) else status
        elif status == Status.NO_SOLUTION:
            status = Status.FEASIBLE
    elif status in (Status.OPTIMAL, Status.FEASIBLE):
        warnings.append(f"{out.solver} reported {status.value} without values")
        status = Status.NO_SOLUTION
    if status == Status.ERROR:
        termination = TerminationReason.ERROR
    return _Checked(status, termination, objective, max_violation, values, warnings)


def _integral(problem: Problem, x: np.ndarray) -> tuple[np.ndarray, Verification]:
    """``x`` with its integer variables rounded to exact integers when the rounded point also
    verifies (solvers return 0.9999999999999999 for 1), and the verification of what is kept."""
    check = verify(problem, x)
    ints = problem.integrality
    if not check.feasible or not ints.any():
        return x, check
    rounded = x.copy()
    rounded[ints] = np.round(x[ints])
    if np.array_equal(rounded, x):
        return x, check
    again = verify(problem, rounded)
    return (rounded, again) if again.feasible else (x, check)


def _values(problem: Problem, x: np.ndarray) -> dict[str, float]:
    """Name -> value; integer variables at integral values as Python ints (exact in JSON, sol
    and csv)."""
    xs: list[float] = x.tolist()
    integral = problem.integrality & np.isfinite(x) & (x == np.round(x))
    for j in np.flatnonzero(integral).tolist():
        xs[j] = int(xs[j])
    return dict(zip(problem.var_names, xs, strict=True))
