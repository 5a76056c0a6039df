"""OR-Tools CP-SAT adapter: (Problem, SolveOptions) -> SolveOutput.

The only module that calls CP-SAT. CP-SAT needs integer variables with finite bounds and integer
constraint coefficients. Rows with fractional coefficients are scaled by the smallest integer
multiplier (at most ``MAX_MULTIPLIER``) that makes every coefficient of the row exactly integral
in float64 (found with ``fractions``); a row bound that is then fractional is rounded inward,
which is exact because the row activity is an integer. The objective may be fractional (CP-SAT
takes a floating-point objective). Anything else is refused by ``supports`` with the reason.

Incumbents come from a ``CpSolverSolutionCallback`` (objective and best bound, problem sense,
offset included); the interrupt watcher calls ``CpSolver.stop_search``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np
from ortools.sat import sat_parameters_pb2
from ortools.sat.python import cp_model

from mipguide.errors import SolverError
from mipguide.problem.model import Problem, Sense
from mipguide.problem.verify import impossible_bounds
from mipguide.solvers.base import check_params
from mipguide.solvers.common import (
    InterruptWatcher,
    Stopwatch,
    gap_closed,
    infeasible_by_bounds,
    limit_reason,
    offer_start,
    proto_scalar_fields,
    set_proto_field,
    start_values,
)
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

MAX_MULTIPLIER = 10**6
# Activities beyond 2^53 are no longer exact in float64, and CP-SAT refuses possible overflow.
MAX_ACTIVITY = 2.0**53
_EPS = 1e-9


@dataclass(frozen=True)
class IntegerForm:
    """A Problem rewritten with integer data for CP-SAT.

    Attributes:
        data: scaled coefficients (int64, CSR order of the Problem's A).
        row_lower, row_upper: scaled row bounds (int64), infinite sides replaced by the row's
            activity bound over the variable box.
        col_lower, col_upper: integer variable bounds.
        multipliers: the per-row scale factors.
        infeasible: why the problem is infeasible after rounding to integers, or None.
    """

    data: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    multipliers: np.ndarray
    infeasible: str | None = None


def _row_multiplier(values: np.ndarray) -> int | None:
    mult = 1
    for v in values.tolist():
        frac = Fraction(v).limit_denominator(MAX_MULTIPLIER)
        if float(frac) != v:
            return None
        mult = math.lcm(mult, frac.denominator)
        if mult > MAX_MULTIPLIER:
            return None
    return mult


def integer_form(problem: Problem) -> IntegerForm | str:
    """Scale the problem to integer data, or return why that is not possible."""
    if not problem.integrality.all():
        return f"continuous variables ({problem.num_vars - problem.num_integers} of them)"
    lo = np.ceil(problem.col_lower - _EPS)
    hi = np.floor(problem.col_upper + _EPS)
    unbounded = np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi)))
    if unbounded.size:
        return f"integer variable {problem.var_names[unbounded[0]]!r} has an infinite bound"
    A = problem.A
    rows = np.repeat(np.arange(problem.num_rows), np.diff(A.indptr))
    mult = np.ones(problem.num_rows, dtype=np.int64)
    for r in np.unique(rows[A.data != np.round(A.data)]).tolist():
        m = _row_multiplier(A.data[A.indptr[r] : A.indptr[r + 1]])
        if m is None:
            return (
                f"non-integral coefficients in row {problem.row_names[r]!r} "
                f"(no multiplier up to {MAX_MULTIPLIER} makes them integral)"
            )
        mult[r] = m
    data = np.round(A.data * mult[rows])
    if np.abs(problem.col_lower).max(initial=0) > MAX_ACTIVITY or np.abs(hi).max(initial=0) > (
        MAX_ACTIVITY
    ):
        return "variable bounds too large for CP-SAT"
    scaled = A.copy()
    scaled.data = data
    pos, neg = scaled.maximum(0), scaled.minimum(0)
    act_max = pos @ hi + neg @ lo
    act_min = pos @ lo + neg @ hi
    if max(np.abs(act_max).max(initial=0), np.abs(act_min).max(initial=0)) > MAX_ACTIVITY:
        return "row activities too large for CP-SAT (possible integer overflow)"
    rl = problem.row_lower * mult
    ru = problem.row_upper * mult
    lo_inf, hi_inf = ~np.isfinite(rl), ~np.isfinite(ru)
    rl = np.where(lo_inf, act_min, np.ceil(rl - _EPS * np.maximum(1.0, np.abs(rl))))
    ru = np.where(hi_inf, act_max, np.floor(ru + _EPS * np.maximum(1.0, np.abs(ru))))
    # An absent side is redundant: widen it so the domain stays valid even if the row is
    # infeasible over the variable box (CP-SAT then proves infeasibility itself).
    rl = np.where(lo_inf, np.minimum(rl, ru), rl)
    ru = np.where(hi_inf, np.maximum(ru, rl), ru)
    empty_rows = np.flatnonzero(rl > ru)
    empty_cols = np.flatnonzero(lo > hi)
    reason = None
    if empty_cols.size:
        reason = f"variable {problem.var_names[empty_cols[0]]!r} has no integer in its bounds"
    elif empty_rows.size:
        reason = f"row {problem.row_names[empty_rows[0]]!r} admits no integer activity"
    return IntegerForm(
        data=data.astype(np.int64),
        row_lower=np.minimum(rl, ru).astype(np.int64),
        row_upper=ru.astype(np.int64),
        col_lower=np.minimum(lo, hi).astype(np.int64),
        col_upper=hi.astype(np.int64),
        multipliers=mult,
        infeasible=reason,
    )


def build_model(problem: Problem, form: IntegerForm) -> tuple[cp_model.CpModel, list[Any]]:
    """Turn a Problem (with its integer form) into a CP-SAT model and its variables."""
    model = cp_model.CpModel()
    model.name = problem.name
    xs = [
        model.new_int_var(lb, ub, name)
        for lb, ub, name in zip(
            form.col_lower.tolist(), form.col_upper.tolist(), problem.var_names, strict=True
        )
    ]
    proto = model.proto
    A = problem.A
    indptr, indices, data = A.indptr.tolist(), A.indices.tolist(), form.data.tolist()
    for r, (lo, hi) in enumerate(
        zip(form.row_lower.tolist(), form.row_upper.tolist(), strict=True)
    ):
        ct = proto.constraints.add()
        ct.name = problem.row_names[r]
        ct.linear.vars.extend(indices[indptr[r] : indptr[r + 1]])
        ct.linear.coeffs.extend(data[indptr[r] : indptr[r + 1]])
        ct.linear.domain.extend([lo, hi])
    nz = np.flatnonzero(problem.c).tolist()
    expr = cp_model.LinearExpr.weighted_sum([xs[j] for j in nz], problem.c[nz].tolist())
    objective = expr + problem.offset
    if problem.sense == Sense.MAXIMIZE:
        model.maximize(objective)
    else:
        model.minimize(objective)
    return model, xs


class _Solutions(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
    def __init__(self, tracker: IncumbentTracker) -> None:
        super().__init__()
        self.tracker = tracker

    def on_solution_callback(self) -> None:
        bound = self.best_objective_bound
        self.tracker.offer(self.objective_value, bound if math.isfinite(bound) else None)


class CpSatBackend:
    """OR-Tools CP-SAT: pure integer problems with finite bounds."""

    name = "cpsat"

    def __init__(self) -> None:
        self._cache: tuple[Problem, IntegerForm | str] | None = None

    def version(self) -> str:
        return f"CP-SAT (OR-Tools {_dist_version('ortools')})"

    def _form(self, problem: Problem) -> IntegerForm | str:
        if self._cache is None or self._cache[0] is not problem:
            self._cache = (problem, integer_form(problem))
        return self._cache[1]

    def supports(self, problem: Problem) -> str | None:
        if impossible_bounds(problem) is not None:
            return None  # solve() reports it infeasible without building the integer form
        form = self._form(problem)
        return form if isinstance(form, str) else None

    def param_names(self) -> Mapping[str, type]:
        return proto_scalar_fields(sat_parameters_pb2.SatParameters, "")

    def solve(
        self,
        problem: Problem,
        options: SolveOptions,
        on_incumbent: IncumbentCallback | None = None,
        interrupt: Interrupt | None = None,
    ) -> SolveOutput:
        params = check_params(
            self.name, options.params, self.param_names(), unsafe=options.unsafe_params
        )
        infeasible = infeasible_by_bounds(problem, self.name, self.version)
        if infeasible is not None:
            return infeasible
        start = start_values(problem, options)
        form = self._form(problem)
        if isinstance(form, str):
            raise SolverError(f"cpsat cannot solve {problem.name!r}: {form}")
        tracker = IncumbentTracker(problem.sense == Sense.MINIMIZE, on_incumbent)
        if form.infeasible is not None:
            return self._infeasible(form.infeasible)
        clock = Stopwatch()
        model, xs = build_model(problem, form)
        build_seconds = clock()
        notes = self._hint(model, xs, form, start)
        solver = cp_model.CpSolver()
        notes += _apply_options(solver, options, params)
        tracker.restart_clock()
        offer_start(problem, start, tracker)
        clock = Stopwatch()
        watcher = InterruptWatcher(interrupt, solver.stop_search)
        with watcher:
            code = solver.solve(model, _Solutions(tracker))
        solve_seconds = clock()
        return self._output(
            problem,
            options,
            model,
            solver,
            code,
            tracker,
            watcher.fired,
            notes,
            build_seconds,
            solve_seconds,
        )

    def _infeasible(self, reason: str) -> SolveOutput:
        return SolveOutput(
            status=Status.INFEASIBLE,
            termination=Termination(TerminationReason.INFEASIBLE, reason),
            x=None,
            objective=None,
            bound=None,
            solver=self.name,
            solver_version=self.version(),
            build_seconds=0.0,
            solve_seconds=0.0,
        )

    @staticmethod
    def _hint(
        model: cp_model.CpModel, xs: list[Any], form: IntegerForm, start: np.ndarray | None
    ) -> list[str]:
        if start is None:
            return []
        known = np.flatnonzero(~np.isnan(start))
        values = np.clip(np.round(start[known]), form.col_lower[known], form.col_upper[known])
        for j, v in zip(known.tolist(), values.astype(np.int64).tolist(), strict=True):
            model.add_hint(xs[j], v)
        return []

    def _output(
        self,
        problem: Problem,
        options: SolveOptions,
        model: cp_model.CpModel,
        solver: cp_model.CpSolver,
        code: Any,
        tracker: IncumbentTracker,
        interrupted: bool,
        notes: list[str],
        build_seconds: float,
        solve_seconds: float,
    ) -> SolveOutput:
        x = objective = bound = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            x = np.asarray(solver.response_proto.solution, dtype=np.float64)[: problem.num_vars]
            objective = float(solver.objective_value)
            bound = float(solver.best_objective_bound)
            tracker.offer(objective, bound)
        name = solver.status_name(code)
        if code == cp_model.OPTIMAL:
            status, reason = Status.OPTIMAL, TerminationReason.OPTIMAL
            if not gap_closed(objective, bound):  # stopped by a gap limit
                status, reason = Status.FEASIBLE, TerminationReason.GAP_LIMIT
        elif code == cp_model.INFEASIBLE:
            status, reason = Status.INFEASIBLE, TerminationReason.INFEASIBLE
        elif code in (cp_model.FEASIBLE, cp_model.UNKNOWN):
            status = Status.FEASIBLE if x is not None else Status.NO_SOLUTION
            reason = limit_reason(options, solve_seconds, interrupted, TerminationReason.TIME_LIMIT)
        else:
            status, reason = Status.ERROR, TerminationReason.ERROR
            name += f": {model.validate()}"
        return SolveOutput(
            status=status,
            termination=Termination(reason, f"CP-SAT status {name}"),
            x=x,
            objective=objective,
            bound=bound,
            solver=self.name,
            solver_version=self.version(),
            build_seconds=build_seconds,
            solve_seconds=solve_seconds,
            incumbents=tuple(tracker.items),
            nodes=None,
            warnings=tuple(notes),
        )


def _apply_options(
    solver: cp_model.CpSolver, options: SolveOptions, params: Mapping[str, Any]
) -> list[str]:
    sp = solver.parameters
    notes: list[str] = []
    if options.time_limit is not None:
        sp.max_time_in_seconds = max(0.0, float(options.time_limit))
    sp.num_workers = max(1, int(options.threads))
    sp.random_seed = int(options.seed) % (2**31 - 1)
    if options.rel_gap is not None:
        sp.relative_gap_limit = float(options.rel_gap)
    if options.abs_gap is not None:
        sp.absolute_gap_limit = float(options.abs_gap)
    if not options.presolve:
        sp.cp_model_presolve = False
    if options.node_limit is not None:
        notes.append("CP-SAT has no node limit; node_limit was ignored")
    if options.log is not None:
        sp.log_search_progress = True
        sp.log_to_stdout = False
        solver.log_callback = options.log
    for key, value in params.items():
        set_proto_field(sp, key, value, sat_parameters_pb2.SatParameters)
    return notes
