"""HiGHS adapter (highspy in a child process): (Problem, SolveOptions) -> SolveOutput.

highspy and OR-Tools each bundle their own HiGHS and cannot be imported into one process
(whichever comes second fails with an undefined symbol), and the service imports OR-Tools. So
this module never imports highspy: each solve starts a fresh interpreter running
``mipguide.solvers.highs_child``, sends it the model as numpy arrays and the HiGHS options, and
reads back messages (protocol in ``highs_wire``):

* incumbents come from HiGHS's improving-solution callback, as they are found;
* an interrupt is a ``stop`` line on the child's stdin; the child sets ``user_interrupt`` at
  HiGHS's next simplex, IPM or MIP interrupt callback. HiGHS can go a second or more without
  one (its root LP and heuristics on a dense model; the interpreter's start): a child that has
  not answered ``INTERRUPT_GRACE`` seconds after the stop is killed, and the result is the
  best incumbent it had sent (no bound), reported as interrupted, so a cancel is prompt;
* the time limit is the caller's wall time from the call: the request carries its deadline,
  and the child gives HiGHS what is left of it when ``run`` starts (the interpreter's start
  and ``passModel`` count against it);
* HiGHS can overrun its time limit (on big LPs); at ``time_limit + STOP_GRACE`` from the call
  the adapter sends ``stop``, at ``time_limit + KILL_GRACE`` it kills the child and reports a
  time limit with the best incumbent received;
* the child's death is a SolverError carrying the tail of its stderr.

The child costs one interpreter start per solve (numbers in the README); ``build_seconds`` is
HiGHS's ``passModel`` time in the child, ``solve_seconds`` its ``run`` time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

import numpy as np

from mipguide.errors import InvalidOptionError, SolverError
from mipguide.problem.model import Problem, Sense
from mipguide.solvers.base import check_params
from mipguide.solvers.common import (
    InterruptWatcher,
    gap_closed,
    infeasible_by_bounds,
    limit_reason,
    offer_start,
    start_values,
)
from mipguide.solvers.highs_wire import STOP, Msg, decode_message, decode_vector, write_request
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

if importlib.util.find_spec("highspy") is None:  # checked, never imported: see the docstring
    raise ImportError("highspy is not installed (pip install highspy)")

# Seconds past the caller's deadline after which the child is asked to stop (HiGHS checks its
# own limit rarely in some stages: a guided completion overran 15 s by 2.3 s; the stop reaches
# its next interrupt callback), then killed.
STOP_GRACE = 0.25
KILL_GRACE = 5.0
# Seconds a child may take to answer an interrupt's stop before it is killed (see above): the
# job executor escalates a cancel to signals after 0.5 s by default.
INTERRUPT_GRACE = 0.1
STDERR_TAIL = 2000
# The child runs isolated (-I: no PYTHONPATH, no user site) and finds the installed package.
_LAUNCH = "from mipguide.solvers.highs_child import main; main()"

# Common HiGHS options passed through by name (``params``), with their HiGHS types.
HIGHS_OPTIONS: dict[str, type] = {
    "solver": str,
    "presolve": str,
    "parallel": str,
    "run_crossover": str,
    "simplex_strategy": int,
    "simplex_scale_strategy": int,
    "simplex_iteration_limit": int,
    "ipm_iteration_limit": int,
    "primal_feasibility_tolerance": float,
    "dual_feasibility_tolerance": float,
    "ipm_optimality_tolerance": float,
    "objective_bound": float,
    "objective_target": float,
    "small_matrix_value": float,
    "large_matrix_value": float,
    "mip_feasibility_tolerance": float,
    "mip_heuristic_effort": float,
    "mip_heuristic_run_feasibility_jump": bool,
    "mip_heuristic_run_rins": bool,
    "mip_heuristic_run_rens": bool,
    "mip_heuristic_run_zi_round": bool,
    "mip_heuristic_run_shifting": bool,
    "mip_detect_symmetry": bool,
    "mip_allow_restart": bool,
    "mip_lp_age_limit": int,
    "mip_pscost_minreliable": int,
    "mip_max_leaves": int,
    "mip_max_stall_nodes": int,
    "mip_max_improving_sols": int,
}

_FINAL: dict[str, tuple[Status, TerminationReason]] = {
    "kOptimal": (Status.OPTIMAL, TerminationReason.OPTIMAL),
    "kModelEmpty": (Status.OPTIMAL, TerminationReason.OPTIMAL),
    "kInfeasible": (Status.INFEASIBLE, TerminationReason.INFEASIBLE),
    "kUnbounded": (Status.UNBOUNDED, TerminationReason.UNBOUNDED),
    "kUnboundedOrInfeasible": (
        Status.INFEASIBLE_OR_UNBOUNDED,
        TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    ),
}
# Stopped early; the status is FEASIBLE or NO_SOLUTION depending on x.
_LIMITS: dict[str, TerminationReason] = {
    "kTimeLimit": TerminationReason.TIME_LIMIT,
    "kIterationLimit": TerminationReason.NODE_LIMIT,
    "kSolutionLimit": TerminationReason.SOLUTION_LIMIT,  # also mip_max_nodes/leaves
    "kObjectiveBound": TerminationReason.SOLUTION_LIMIT,
    "kObjectiveTarget": TerminationReason.SOLUTION_LIMIT,
    "kInterrupt": TerminationReason.INTERRUPTED,
    "kHighsInterrupt": TerminationReason.INTERRUPTED,
}


def model_arrays(problem: Problem, start: np.ndarray | None) -> dict[str, np.ndarray]:
    """The arrays the child passes to HiGHS: CSR matrix, bounds, costs, integrality, start."""
    A = problem.A
    arrays = {
        "c": problem.c,
        "col_lower": problem.col_lower,
        "col_upper": problem.col_upper,
        "row_lower": problem.row_lower,
        "row_upper": problem.row_upper,
        "a_start": A.indptr.astype(np.int32),
        "a_index": A.indices.astype(np.int32),
        "a_value": A.data.astype(np.float64),
        "integrality": problem.integrality.astype(np.int8),
    }
    if start is not None:
        known = np.flatnonzero(~np.isnan(start))
        arrays["start_index"] = known.astype(np.int32)
        arrays["start_value"] = start[known]
    return arrays


def highs_options(
    problem: Problem, options: SolveOptions, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Our options as HiGHS options; pass-through ``params`` come last and win."""
    out: dict[str, Any] = {
        "threads": options.threads,
        "random_seed": options.seed,
        "presolve": "choose" if options.presolve else "off",
    }
    if options.time_limit is not None:
        out["time_limit"] = max(0.0, float(options.time_limit))
    if problem.is_mip:
        # "optimal" means proven optimal, as with SCIP and CP-SAT: HiGHS would otherwise stop
        # at its default 1e-4 relative gap and still call the result optimal.
        out["mip_rel_gap"] = options.rel_gap if options.rel_gap is not None else 0.0
        if options.abs_gap is not None:
            out["mip_abs_gap"] = options.abs_gap
        if options.node_limit is not None:
            out["mip_max_nodes"] = options.node_limit
    out.update(params)
    return out


def _launch(*args: str) -> list[str]:
    return [sys.executable, "-I", "-c", _LAUNCH, *args]


@dataclass
class _Run:
    """What the parent learned from one child, message by message."""

    tracker: IncumbentTracker
    problem: Problem
    options: SolveOptions
    start: np.ndarray | None
    version: str = ""
    build_seconds: float = 0.0
    started_at: float | None = None
    best_x: np.ndarray | None = None
    result: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def handle(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == Msg.STARTED:
            self.build_seconds = msg["build_seconds"]
            self.version = msg["version"]
            self.tracker.restart_clock()
            self.started_at = time.perf_counter()
            if offer_start(self.problem, self.start, self.tracker):
                self.best_x = self.start
        elif kind == Msg.INCUMBENT:
            if self.tracker.offer(msg["objective"], msg["bound"]):
                self.best_x = decode_vector(msg["x"])
                if self.options.on_solution is not None:
                    self.options.on_solution(self.best_x.copy())
        elif kind == Msg.LOG:
            if self.options.log is not None:
                self.options.log(msg["line"])
        elif kind == Msg.OPTION_ERROR:
            raise InvalidOptionError(f"params.{msg['name']}", f"HiGHS: {msg['detail']}")
        elif kind == Msg.ERROR:
            raise SolverError(f"highs failed: {msg['detail']}")
        elif kind == Msg.RESULT:
            self.result = msg


class _Child:
    """One child process: its pipes, stderr file, and the stop/kill decisions."""

    def __init__(self, time_limit: float | None) -> None:
        self.time_limit = time_limit
        self.called_at = time.perf_counter()  # the deadline counts from the call
        # Closed in close(); a file, not a pipe, so a chatty child can never block on it.
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            _launch(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr
        )
        self.overran = self.killed = False
        self.stop_at: float | None = None  # when the stop was asked (None: not asked)
        self.request_sent = False
        self._lock = threading.Lock()

    @property
    def stop_sent(self) -> bool:
        """Whether a stop was asked (it is written once the request is)."""
        return self.stop_at is not None

    def stop(self) -> None:
        """Ask the child to stop (once; later calls do nothing). Asked while the request is
        still being written, the stop line follows it (``sent``)."""
        with self._lock:
            if self.stop_sent:
                return
            self.stop_at = time.perf_counter()
            if self.request_sent:
                self._write_stop()

    def sent(self) -> None:
        """The request is written: a stop asked meanwhile goes now."""
        with self._lock:
            self.request_sent = True
            if self.stop_sent:
                self._write_stop()

    def _write_stop(self) -> None:
        if self.proc.stdin is None:
            return
        with contextlib.suppress(OSError):  # the child has already exited
            self.proc.stdin.write(STOP)
            self.proc.stdin.flush()

    def check_deadline(self) -> None:
        """Stop, then kill, a child that runs well past its time limit; kill one that has not
        answered an interrupt's stop within ``INTERRUPT_GRACE``."""
        if self.killed:
            return
        asked = self.stop_at
        if asked is not None and not self.overran and time.perf_counter() - asked > INTERRUPT_GRACE:
            self.killed = True
            self.proc.kill()
            return
        if self.time_limit is None:
            return
        over = time.perf_counter() - self.called_at - self.time_limit
        if over > STOP_GRACE and not self.stop_sent:
            self.overran = True
            self.stop()
        if over > KILL_GRACE:
            self.overran = self.killed = True
            self.proc.kill()

    def stderr_tail(self) -> str:
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - STDERR_TAIL))
        return self.stderr.read().decode(errors="replace").strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a stop line buffered for a dead child
                    pipe.close()
        self.proc.wait()
        self.stderr.close()


class HighsBackend:
    """HiGHS through highspy, run in a child process: MILP and LP."""

    name = "highs"
    _version: ClassVar[str | None] = None

    def version(self) -> str:
        if HighsBackend._version is None:
            proc = subprocess.run(_launch("version"), capture_output=True, timeout=60, check=False)
            if proc.returncode != 0 or not proc.stdout:
                tail = proc.stderr.decode(errors="replace").strip()[-STDERR_TAIL:]
                raise SolverError(f"highs child failed to report its version: {tail}")
            HighsBackend._version = decode_message(proc.stdout.splitlines()[0])["version"]
        return HighsBackend._version

    def supports(self, problem: Problem) -> str | None:
        return None

    def param_names(self) -> Mapping[str, type]:
        return HIGHS_OPTIONS

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
        request = {
            "sense": int(problem.sense),
            "offset": float(problem.offset),
            "is_mip": problem.is_mip,
            "log": options.log is not None,
            "keep_solutions": options.keep_solutions if problem.is_mip else 0,
            "options": highs_options(problem, options, params),
        }
        run = _Run(
            IncumbentTracker(problem.sense == Sense.MINIMIZE, on_incumbent), problem, options, start
        )
        child = _Child(options.time_limit)
        if options.time_limit is not None:  # wall clock: the child's own clock starts later
            request["deadline"] = time.time() + max(0.0, float(options.time_limit))
        try:
            self._exchange(child, run, model_arrays(problem, start), request, interrupt)
            fired = child.stop_sent and not child.overran
            if run.result is None and not child.killed:
                raise SolverError(
                    f"highs child exited with code {child.proc.wait()}: {child.stderr_tail()}"
                )
        finally:
            child.close()
        if run.version:
            HighsBackend._version = run.version
        return self._output(run, child, fired)

    @staticmethod
    def _exchange(
        child: _Child,
        run: _Run,
        arrays: dict[str, np.ndarray],
        request: dict[str, Any],
        interrupt: Interrupt | None,
    ) -> None:
        """Send the request, then handle messages until the result or the child's end."""
        assert child.proc.stdin is not None and child.proc.stdout is not None
        # Watched from the start: a big model's request blocks until the child, still
        # importing, reads it, and an interrupt meanwhile must still end the solve promptly.
        with InterruptWatcher(interrupt, child.stop, child.check_deadline):
            try:
                write_request(child.proc.stdin, arrays, request)
            except OSError as exc:
                if child.killed:
                    return
                raise SolverError(f"highs child died on start: {child.stderr_tail()}") from exc
            child.sent()
            for line in child.proc.stdout:
                if child.killed and not line.endswith(b"\n"):
                    break  # cut off by the kill
                msg = decode_message(line)
                run.handle(msg)
                if run.result is not None:
                    break

    def _output(self, run: _Run, child: _Child, fired: bool) -> SolveOutput:
        problem, options, tracker, res = run.problem, run.options, run.tracker, run.result
        if res is None:
            return self._killed_output(run, interrupted=fired)
        x = decode_vector(res["x"]) if res["x"] is not None else None
        objective, bound = res["objective"], res["bound"]
        status, reason = _map_status(res["model_status"], problem.is_mip, objective, bound, options)
        if reason == TerminationReason.INTERRUPTED and child.overran:
            reason = TerminationReason.TIME_LIMIT
        if reason == TerminationReason.ERROR and status is None:
            reason = limit_reason(options, res["solve_seconds"], fired, reason)
        if status is None:
            status = Status.FEASIBLE if x is not None else Status.NO_SOLUTION
        if objective is not None:
            tracker.offer(objective, bound)
        return SolveOutput(
            status=status,
            termination=Termination(reason, f"HiGHS model status {res['model_status']}"),
            x=x,
            objective=objective,
            bound=bound,
            solver=self.name,
            solver_version=run.version,
            build_seconds=run.build_seconds,
            solve_seconds=res["solve_seconds"],
            incumbents=tuple(tracker.items),
            nodes=res["nodes"],
            warnings=tuple(res["warnings"]),
            solutions=tuple(decode_vector(v) for v in res.get("solutions", ())),
        )

    def _killed_output(self, run: _Run, interrupted: bool) -> SolveOutput:
        """Killed past its time limit, or slow to answer an interrupt: report the best
        incumbent the child had sent."""
        wall = time.perf_counter() - run.started_at if run.started_at is not None else 0.0
        best = run.tracker.items[-1] if run.tracker.items and run.best_x is not None else None
        if interrupted:
            termination = Termination(
                TerminationReason.INTERRUPTED,
                f"killed {INTERRUPT_GRACE:g} s after an interrupt it had not answered",
            )
            warnings: tuple[str, ...] = ()
        else:
            termination = Termination(TerminationReason.TIME_LIMIT, "killed past its time limit")
            warnings = (f"HiGHS ran {KILL_GRACE:g} s past its time limit and was killed",)
        return SolveOutput(
            status=Status.FEASIBLE if best is not None else Status.NO_SOLUTION,
            termination=termination,
            x=run.best_x,
            objective=best.objective if best is not None else None,
            bound=None,
            solver=self.name,
            # no version query (a child start) on an interrupt: the version a child reported
            solver_version=run.version
            or HighsBackend._version
            or ("unknown" if interrupted else self.version()),
            build_seconds=run.build_seconds,
            solve_seconds=wall,
            incumbents=tuple(run.tracker.items),
            warnings=warnings,
        )


def _map_status(
    model_status: str,
    is_mip: bool,
    objective: float | None,
    bound: float | None,
    options: SolveOptions,
) -> tuple[Status | None, TerminationReason]:
    """HiGHS model status -> (status, reason); status None means FEASIBLE or NO_SOLUTION."""
    if model_status in _FINAL:
        status, reason = _FINAL[model_status]
        if reason == TerminationReason.OPTIMAL and is_mip and not gap_closed(objective, bound):
            return Status.FEASIBLE, TerminationReason.GAP_LIMIT  # within a requested gap
        return status, reason
    if model_status in _LIMITS:
        reason = _LIMITS[model_status]
        if model_status == "kSolutionLimit" and options.node_limit is not None:
            reason = TerminationReason.NODE_LIMIT
        return None, reason
    if model_status == "kUnknown":
        return None, TerminationReason.ERROR  # refined from the clock and the interrupt
    return Status.ERROR, TerminationReason.ERROR
