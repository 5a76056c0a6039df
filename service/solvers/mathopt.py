"""OR-Tools MathOpt adapter for HiGHS, GLOP, PDLP and SCIP: (Problem, SolveOptions) -> SolveOutput.

The only module that calls MathOpt. One class, parameterized by the MathOpt solver type.

Why MathOpt and not model_builder: both can be fed from arrays, but only MathOpt offers solve
callbacks, an interrupter and a log-line callback. The model is built as a ``ModelProto`` whose
repeated fields are filled from numpy arrays in bulk (no Python object per nonzero), then loaded
with ``Model.from_model_proto``; on a 1M-nonzero model that takes well under a second.

What each solver gives us (OR-Tools 9.15; HiGHS here is the ``ortools-highs`` backend, the
``highs`` backend runs highspy in a child process and has callbacks and an interrupt):

=========  ===============  ====================================  =========================
solver     problems         incumbents                            interrupt
=========  ===============  ====================================  =========================
HiGHS      MILP, LP         parsed from the HiGHS log lines       not possible (OR-Tools
                            (MathOpt gives HiGHS no callbacks)    does not pass it to HiGHS)
GLOP       LP only          final solution only                   SolveInterrupter
PDLP       LP only          final solution only                   SolveInterrupter
SCIP       MILP, LP         MathOpt MIP_SOLUTION callback         SolveInterrupter
=========  ===============  ====================================  =========================

Where MathOpt rejects a common option for a solver (HiGHS: threads; GLOP: node limit; PDLP:
seed, node limit, presolve), it is left out and a warning says so.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np
from ortools.glop import parameters_pb2 as glop_pb2
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt
from ortools.pdlp import solvers_pb2 as pdlp_pb2
from ortools.util.python.solve_interrupter import SolveInterrupter

from mipguide.errors import InvalidOptionError, SolverError
from mipguide.problem.model import Problem, Sense
from mipguide.solvers.base import check_params
from mipguide.solvers.common import (
    InterruptWatcher,
    Stopwatch,
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

PDLP_EPS = 1e-10


def build_model(problem: Problem) -> mathopt.Model:
    """Turn a Problem into a MathOpt model; variable and row ids are their Problem indices."""
    n, m = problem.num_vars, problem.num_rows
    proto = model_pb2.ModelProto(name=problem.name)
    var = proto.variables
    var.ids.extend(range(n))
    var.lower_bounds.extend(problem.col_lower.tolist())
    var.upper_bounds.extend(problem.col_upper.tolist())
    var.integers.extend(problem.integrality.tolist())
    var.names.extend(problem.var_names)
    obj = proto.objective
    obj.maximize = problem.sense == Sense.MAXIMIZE
    obj.offset = problem.offset
    nz = np.flatnonzero(problem.c)
    obj.linear_coefficients.ids.extend(nz.tolist())
    obj.linear_coefficients.values.extend(problem.c[nz].tolist())
    rows = proto.linear_constraints
    rows.ids.extend(range(m))
    rows.lower_bounds.extend(problem.row_lower.tolist())
    rows.upper_bounds.extend(problem.row_upper.tolist())
    rows.names.extend(problem.row_names)
    A = problem.A if problem.A.has_sorted_indices else problem.A.sorted_indices()
    mat = proto.linear_constraint_matrix
    mat.row_ids.extend(np.repeat(np.arange(m), np.diff(A.indptr)).tolist())
    mat.column_ids.extend(A.indices.tolist())
    mat.coefficients.extend(A.data.tolist())
    return mathopt.Model.from_model_proto(proto)


# --- pass-through parameters ----------------------------------------------------------------

_EMPHASIS = {e.name.lower(): e for e in mathopt.Emphasis}
_LP_ALGORITHMS = {a.name.lower(): a for a in mathopt.LPAlgorithm}
_HIGHS_OPTIONS: dict[str, type] = {
    "mip_heuristic_effort": float,
    "mip_feasibility_tolerance": float,
    "primal_feasibility_tolerance": float,
    "dual_feasibility_tolerance": float,
    "ipm_optimality_tolerance": float,
    "objective_bound": float,
    "solver": str,
    "presolve": str,
    "parallel": str,
    "run_crossover": str,
    "simplex_strategy": int,
    "mip_max_leaves": int,
    "mip_lp_age_limit": int,
    "mip_pscost_minreliable": int,
    "mip_detect_symmetry": bool,
}
_HIGHS_KINDS = {bool: "bool", int: "int", float: "double", str: "string"}


@dataclass(frozen=True)
class _Caps:
    """What one MathOpt solver accepts."""

    solver_type: mathopt.SolverType
    lp_only: bool
    callbacks: bool  # MathOpt MIP_SOLUTION callbacks
    log_incumbents: bool  # incumbents parsed from HiGHS log lines
    interrupt: bool
    unsupported: frozenset[str]  # common options MathOpt rejects for this solver
    named: tuple[str, ...]  # which of heuristics/cuts/scaling/lp_algorithm apply


# --- HiGHS log lines ----------------------------------------------------------------------------

_HIGHS_ROW = re.compile(r"^\s*([A-Za-z])\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+(\S+)\s+(\S+)\s")


def parse_highs_incumbent(line: str) -> tuple[float, float | None] | None:
    """(best solution, best bound) from a HiGHS MIP progress line that reports a new solution.

    Those lines start with a one-letter source code (H, T, B, L, R, C, J, ...), then nodes,
    queue, leaves, explored %, BestBound, BestSol. Returns None for any other line.
    """
    match = _HIGHS_ROW.match(line)
    if match is None:
        return None
    try:
        best = float(match.group(3))
        bound = float(match.group(2))
    except ValueError:
        return None
    if not math.isfinite(best):
        return None
    return best, (bound if math.isfinite(bound) else None)


# --- the backend --------------------------------------------------------------------------------


class MathOptBackend:
    """One OR-Tools MathOpt solver behind the SolverBackend protocol."""

    name = "mathopt"
    caps: _Caps

    def version(self) -> str:
        return f"{self.caps.solver_type.name} via OR-Tools MathOpt {_dist_version('ortools')}"

    def supports(self, problem: Problem) -> str | None:
        if self.caps.lp_only and problem.is_mip:
            return (
                f"{self.name} solves LPs only; the problem has "
                f"{problem.num_integers} integer variables"
            )
        return None

    def param_names(self) -> Mapping[str, type]:
        table: dict[str, type] = {k: str for k in self.caps.named}
        if self.caps.solver_type == mathopt.SolverType.HIGHS:
            table.update({f"highs.{k}": t for k, t in _HIGHS_OPTIONS.items()})
        elif self.caps.solver_type == mathopt.SolverType.GLOP:
            table.update(proto_scalar_fields(glop_pb2.GlopParameters, "glop"))
        elif self.caps.solver_type == mathopt.SolverType.PDLP:
            table.update(proto_scalar_fields(pdlp_pb2.PrimalDualHybridGradientParams, "pdlp"))
        return table

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
        notes: list[str] = []
        solve_params = self._parameters(problem, options, params, notes)
        tracker = IncumbentTracker(problem.sense == Sense.MINIMIZE, on_incumbent)
        clock = Stopwatch()
        model = build_model(problem)
        build_seconds = clock()
        model_params = self._hints(model, start, notes)
        interrupter = SolveInterrupter() if interrupt is not None else None
        kwargs: dict[str, Any] = {"msg_cb": self._message_callback(tracker, options.log)}
        if self.caps.callbacks:
            kwargs["callback_reg"] = mathopt.CallbackRegistration(
                events={mathopt.Event.MIP_SOLUTION}
            )
            kwargs["cb"] = self._callback(tracker)
        tracker.restart_clock()
        offer_start(problem, start, tracker)
        clock = Stopwatch()
        stop = interrupter.interrupt if interrupter is not None else (lambda: None)
        watcher = InterruptWatcher(interrupt, stop)
        try:
            with watcher:
                result = mathopt.solve(
                    model,
                    self.caps.solver_type,
                    params=solve_params,
                    model_params=model_params,
                    interrupter=interrupter,
                    **kwargs,
                )
        except Exception as exc:  # MathOpt raises RuntimeError/ValueError/StatusNotOk variants
            raise SolverError(f"{self.name} failed: {exc}") from exc
        solve_seconds = clock()
        if watcher.fired and not self.caps.interrupt:
            notes.append(
                f"{self.name} cannot be interrupted through OR-Tools; it ran to its limits"
            )
        return self._output(
            problem, options, result, tracker, watcher.fired, notes, build_seconds, solve_seconds
        )

    # -- options ---------------------------------------------------------------------------

    def _parameters(
        self, problem: Problem, options: SolveOptions, params: Mapping[str, Any], notes: list[str]
    ) -> mathopt.SolveParameters:
        caps = self.caps
        sp = mathopt.SolveParameters()
        wanted: dict[str, Any] = {
            "time_limit": (
                datetime.timedelta(seconds=max(0.0, options.time_limit))
                if options.time_limit is not None
                else None
            ),
            # "optimal" means proven optimal, as with SCIP and CP-SAT: HiGHS would otherwise
            # stop at its default 1e-4 relative gap and still call the result optimal.
            "relative_gap_tolerance": options.rel_gap if options.rel_gap is not None else 0.0,
            "absolute_gap_tolerance": options.abs_gap,
            "threads": options.threads if options.threads != 1 else None,
            "random_seed": options.seed if options.seed != 0 else None,
            "node_limit": options.node_limit,
            "presolve": None if options.presolve else mathopt.Emphasis.OFF,
        }
        if not problem.is_mip:  # MIP gap tolerances mean nothing on an LP
            wanted["relative_gap_tolerance"] = wanted["absolute_gap_tolerance"] = None
        for key, value in wanted.items():
            if value is None:
                continue
            if key in caps.unsupported:
                notes.append(f"{self.name} does not support option {key}; it was ignored")
                continue
            setattr(sp, key, value)
        if caps.solver_type == mathopt.SolverType.PDLP:
            # PDLP's default tolerances (1e-4 relative) leave row violations that fail our
            # 1e-6 verification; ask for 1e-10 unless the caller sets pdlp.* params.
            crit = sp.pdlp.termination_criteria.simple_optimality_criteria
            crit.eps_optimal_absolute = crit.eps_optimal_relative = PDLP_EPS
        self._apply_params(problem, sp, params)
        return sp

    def _apply_params(
        self, problem: Problem, sp: mathopt.SolveParameters, params: Mapping[str, Any]
    ) -> None:
        highs: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            if key in ("heuristics", "cuts", "scaling"):
                if value.lower() not in _EMPHASIS:
                    raise InvalidOptionError(f"params.{key}", f"unknown {value!r}", _EMPHASIS)
                setattr(sp, key, _EMPHASIS[value.lower()])
            elif key == "lp_algorithm":
                if value.lower() not in _LP_ALGORITHMS:
                    raise InvalidOptionError(f"params.{key}", f"unknown {value!r}", _LP_ALGORITHMS)
                if problem.is_mip:
                    raise InvalidOptionError(f"params.{key}", "applies to LPs only")
                sp.lp_algorithm = _LP_ALGORITHMS[value.lower()]
            elif key.startswith("highs."):
                name = key.removeprefix("highs.")
                highs.setdefault(_HIGHS_KINDS[_HIGHS_OPTIONS[name]], {})[name] = value
            elif key.startswith("glop."):
                set_proto_field(sp.glop, key.removeprefix("glop."), value)
            elif key.startswith("pdlp."):
                set_proto_field(sp.pdlp, key.removeprefix("pdlp."), value)
        for option_kind, values in highs.items():
            getattr(sp.highs, f"{option_kind}_options").update(values)

    def _hints(
        self, model: mathopt.Model, start: np.ndarray | None, notes: list[str]
    ) -> mathopt.ModelSolveParameters | None:
        if start is None:
            return None
        known = np.flatnonzero(~np.isnan(start))
        if self.caps.solver_type == mathopt.SolverType.HIGHS and known.size < start.size:
            notes.append("HiGHS takes only complete start solutions; the partial start was ignored")
            return None
        values = {model.get_variable(int(j)): float(start[j]) for j in known.tolist()}
        return mathopt.ModelSolveParameters(solution_hints=[mathopt.SolutionHint(values)])

    # -- incumbents --------------------------------------------------------------------------

    def _message_callback(
        self, tracker: IncumbentTracker, log: Callable[[str], None] | None
    ) -> Callable[[Sequence[str]], None] | None:
        parse = self.caps.log_incumbents
        if log is None and not parse:
            return None

        def on_lines(lines: Sequence[str]) -> None:
            for line in lines:
                if parse:
                    found = parse_highs_incumbent(line)
                    if found is not None:
                        tracker.offer(found[0], found[1])
                if log is not None:
                    log(line)

        return on_lines

    @staticmethod
    def _callback(tracker: IncumbentTracker) -> Callable[[Any], mathopt.CallbackResult]:
        def on_event(data: Any) -> mathopt.CallbackResult:
            stats = data.mip_stats
            if stats is not None and math.isfinite(stats.primal_bound):
                dual = stats.dual_bound
                tracker.offer(stats.primal_bound, dual if math.isfinite(dual) else None)
            return mathopt.CallbackResult()

        return on_event

    # -- result ------------------------------------------------------------------------------

    def _output(
        self,
        problem: Problem,
        options: SolveOptions,
        result: Any,
        tracker: IncumbentTracker,
        interrupted: bool,
        notes: list[str],
        build_seconds: float,
        solve_seconds: float,
    ) -> SolveOutput:
        term = result.termination
        status, reason = _map_termination(term, options, solve_seconds, interrupted)
        x = objective = None
        if result.has_primal_feasible_solution():
            values = result.variable_values()
            x = np.empty(problem.num_vars, dtype=np.float64)
            for v, val in values.items():
                x[v.id] = val
            objective = float(result.objective_value())
        if status is None:
            status = Status.FEASIBLE if x is not None else Status.NO_SOLUTION
        dual = term.objective_bounds.dual_bound
        bound = float(dual) if math.isfinite(dual) else None
        if objective is not None:
            tracker.offer(objective, bound)
        nodes = result.solve_stats.node_count if problem.is_mip else None
        return SolveOutput(
            status=status,
            termination=Termination(reason, _detail(term)),
            x=x,
            objective=objective,
            bound=bound,
            solver=self.name,
            solver_version=self.version(),
            build_seconds=build_seconds,
            solve_seconds=solve_seconds,
            incumbents=tuple(tracker.items),
            nodes=nodes,
            warnings=tuple(notes),
        )


def _detail(term: Any) -> str:
    text = f"{term.reason.name.lower()}"
    if term.limit is not None:
        text += f" ({term.limit.name.lower()})"
    return text + (f": {term.detail}" if term.detail else "")


_LIMITS = {
    mathopt.Limit.TIME: TerminationReason.TIME_LIMIT,
    mathopt.Limit.NODE: TerminationReason.NODE_LIMIT,
    mathopt.Limit.SOLUTION: TerminationReason.SOLUTION_LIMIT,
    mathopt.Limit.INTERRUPTED: TerminationReason.INTERRUPTED,
}
_FINAL = {
    mathopt.TerminationReason.OPTIMAL: (Status.OPTIMAL, TerminationReason.OPTIMAL),
    mathopt.TerminationReason.INFEASIBLE: (Status.INFEASIBLE, TerminationReason.INFEASIBLE),
    mathopt.TerminationReason.UNBOUNDED: (Status.UNBOUNDED, TerminationReason.UNBOUNDED),
    mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED: (
        Status.INFEASIBLE_OR_UNBOUNDED,
        TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    ),
}


def _map_termination(
    term: Any, options: SolveOptions, wall: float, interrupted: bool
) -> tuple[Status | None, TerminationReason]:
    if term.reason in _FINAL:
        return _FINAL[term.reason]
    if term.reason in (
        mathopt.TerminationReason.FEASIBLE,
        mathopt.TerminationReason.NO_SOLUTION_FOUND,
    ):
        if term.limit in _LIMITS:
            return None, _LIMITS[term.limit]
        return None, limit_reason(options, wall, interrupted, TerminationReason.ERROR)
    return Status.ERROR, TerminationReason.ERROR


def _caps(
    solver_type: mathopt.SolverType,
    *,
    lp_only: bool = False,
    callbacks: bool = False,
    log_incumbents: bool = False,
    interrupt: bool = True,
    unsupported: tuple[str, ...] = (),
    named: tuple[str, ...] = (),
) -> _Caps:
    return _Caps(
        solver_type, lp_only, callbacks, log_incumbents, interrupt, frozenset(unsupported), named
    )


class OrtoolsHighsBackend(MathOptBackend):
    """HiGHS through MathOpt; the ``highs`` backend (highspy in a child) has callbacks."""

    name = "ortools-highs"
    caps = _caps(
        mathopt.SolverType.HIGHS,
        log_incumbents=True,
        interrupt=False,
        unsupported=("threads",),
        named=("heuristics", "scaling", "lp_algorithm"),
    )


class GlopBackend(MathOptBackend):
    name = "glop"
    caps = _caps(
        mathopt.SolverType.GLOP,
        lp_only=True,
        unsupported=("node_limit",),
        named=("scaling", "lp_algorithm"),
    )


class PdlpBackend(MathOptBackend):
    name = "pdlp"
    caps = _caps(
        mathopt.SolverType.PDLP,
        lp_only=True,
        unsupported=("random_seed", "node_limit", "presolve"),
    )


class OrtoolsScipBackend(MathOptBackend):
    name = "ortools-scip"
    caps = _caps(
        mathopt.SolverType.GSCIP,
        callbacks=True,
        named=("heuristics", "cuts", "scaling", "lp_algorithm"),
    )
