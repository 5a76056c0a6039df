"""Pyomo plug-in: the solver ``"mipguide"`` of Pyomo's ``SolverFactory``, here or on a server.
Results are Pyomo's own (``results.solver.status``, ``.termination_condition``,
``results.problem`` bounds); values are loaded into the model as by Pyomo's shell solvers
(``load_solutions=False`` keeps them in the results for ``model.solutions.load_from``).

    import mipguide.plugins.pyomo  # registers "mipguide"
    opt = pyo.SolverFactory("mipguide", server="http://127.0.0.1:8000", mode="auto")
    results = opt.solve(model, timelimit=30, options={"gap": 0.01})

Importing this module registers the solver. Pyomo loads no solver plug-ins from entry points
in Python; its ``pyomo solve`` command imports this module through the ``pyomo.command`` entry
point, so ``pyomo solve --solver=mipguide model.py`` works as installed.

Options (constructor keywords, ``opt.options``, ``solve(options=...)``; ``timelimit`` is
``time_limit``): those of ``mipguide.plugins.run.RunOptions``.
"""

from __future__ import annotations

from typing import Any

from pyomo.common.collections import Bunch
from pyomo.core.base.objective import Objective
from pyomo.core.base.PyomoModel import ModelSolutions
from pyomo.core.expr.symbol_map import SymbolMap
from pyomo.opt import (
    OptSolver,
    Solution,
    SolutionStatus,
    SolverFactory,
    SolverResults,
    SolverStatus,
    TerminationCondition,
)

from mipguide.errors import InputError, InvalidOptionError
from mipguide.interop import Exported, export_model
from mipguide.pipeline.result import SolveResult
from mipguide.plugins.run import OPTION_NAMES, RunOptions, solve_exported
from mipguide.solvers.types import Status, TerminationReason

# mipguide's termination -> Pyomo's (solver status, termination condition), as Pyomo's CBC
# plug-in reports them (a node limit is maxEvaluations, a solution limit other); a gap limit
# is the requested optimality
CONDITIONS = {
    TerminationReason.OPTIMAL: (SolverStatus.ok, TerminationCondition.optimal),
    TerminationReason.GAP_LIMIT: (SolverStatus.ok, TerminationCondition.optimal),
    TerminationReason.TIME_LIMIT: (SolverStatus.aborted, TerminationCondition.maxTimeLimit),
    TerminationReason.NODE_LIMIT: (SolverStatus.aborted, TerminationCondition.maxEvaluations),
    TerminationReason.SOLUTION_LIMIT: (SolverStatus.aborted, TerminationCondition.other),
    TerminationReason.INTERRUPTED: (SolverStatus.aborted, TerminationCondition.userInterrupt),
    TerminationReason.INFEASIBLE: (SolverStatus.warning, TerminationCondition.infeasible),
    TerminationReason.UNBOUNDED: (SolverStatus.warning, TerminationCondition.unbounded),
    TerminationReason.INFEASIBLE_OR_UNBOUNDED: (
        SolverStatus.warning,
        TerminationCondition.infeasibleOrUnbounded,
    ),
    TerminationReason.ERROR: (SolverStatus.error, TerminationCondition.error),
}
# solve() keywords of Pyomo's shell solvers that mean nothing here (no files, no suffixes)
_IGNORED = ("keepfiles", "symbolic_solver_labels", "logfile", "solnfile", "suffixes")


@SolverFactory.register("mipguide", doc="mipguide: MILP solves here or on a mipguide server")
class MipguideSolver(OptSolver):
    """mipguide as a Pyomo solver (see the module docstring for the options)."""

    def __init__(self, **kwds: Any) -> None:
        # checked at solve: SolverFactory turns an error here into a warning and no solver
        given = {name: kwds.pop(name) for name in list(kwds) if name in OPTION_NAMES}
        kwds.setdefault("type", "mipguide")
        super().__init__(**kwds)
        self.options.update(given)
        self._capabilities.linear = True
        self._capabilities.integer = True
        self._tee = False
        self._run = RunOptions()
        self._exported: Exported | None = None
        self._result: SolveResult | None = None

    def _get_version(self) -> tuple[int, ...]:
        from importlib.metadata import version

        return tuple(int(p) for p in version("mipguide").split(".")[:3] if p.isdigit())

    def _presolve(self, *args: Any, **kwds: Any) -> None:
        if len(args) != 1:
            raise InputError(f"mipguide solves one model at a time, not {len(args)}")
        (model,) = args
        self._tee = bool(kwds.pop("tee", False))
        self._load_solutions = kwds.pop("load_solutions", True)
        self._report_timing = kwds.pop("report_timing", False)
        options = dict(self.options)
        timelimit = kwds.pop("timelimit", None)
        if timelimit is not None:
            options["time_limit"] = timelimit
        for name in _IGNORED:
            kwds.pop(name, None)
        if kwds:
            valid = ("tee", "load_solutions", "report_timing", "timelimit", "options", *_IGNORED)
            raise InvalidOptionError(", ".join(sorted(kwds)), "unknown solve() keyword", valid)
        self._run = RunOptions.of(options)
        self._exported = export_model(model)
        smap = SymbolMap()
        for name, var in self._exported.variables.items():
            smap.addSymbol(var, name)
        if not hasattr(model, "solutions"):  # a sub-block, as Block.write makes it
            model.solutions = ModelSolutions(model)
        model.solutions.add_symbol_map(smap)
        self._smap_id = id(smap)

    def _apply_solver(self) -> Bunch:
        assert self._exported is not None
        try:
            self._result = solve_exported(self._exported, self._run, print if self._tee else None)
        except BaseException:  # nothing to load: the model keeps no symbol map of this solve
            self._exported.model.solutions.delete_symbol_map(self._smap_id)
            self._exported = None
            raise
        return Bunch(rc=None, log=None)

    def _postsolve(self) -> SolverResults:
        assert self._exported is not None and self._result is not None
        results = pyomo_results(self._exported, self._result)
        self._exported = self._result = None
        return results


def pyomo_results(exported: Exported, result: SolveResult) -> SolverResults:
    """A result as Pyomo's ``SolverResults``, with the solution by the file's names when there
    is one (optimal or feasible)."""
    results = SolverResults()
    status, condition = CONDITIONS[result.termination]
    solved = result.status in (Status.OPTIMAL, Status.FEASIBLE) and bool(result.values)
    if status == SolverStatus.aborted and not solved:
        status = SolverStatus.warning  # Pyomo refuses to load an aborted result with no solution
    results.solver.name = f"mipguide: {result.solver} {result.solver_version}, mode {result.mode}"
    results.solver.status = status
    results.solver.termination_condition = condition
    message = result.termination_detail or result.termination.value
    results.solver.termination_message = results.solver.message = message
    results.solver.wallclock_time = result.seconds.get("total")
    _problem(results, exported.model, result)
    if solved:
        soln = Solution()
        soln.status = (
            SolutionStatus.optimal
            if condition == TerminationCondition.optimal
            else SolutionStatus.stoppedByLimit
        )
        soln.gap = result.gap
        for name, value in result.values.items():
            if name in exported.variables:
                soln.variable[name] = {"Value": value}
        results.solution.insert(soln)
    return results


def _problem(results: SolverResults, model: Any, result: SolveResult) -> None:
    problem = results.problem
    problem.name = model.name
    problem.number_of_variables = result.num_vars
    problem.number_of_constraints = result.num_rows
    problem.number_of_nonzeros = result.nnz
    objectives = list(model.component_data_objects(Objective, active=True))
    if len(objectives) != 1:
        return
    problem.sense = objectives[0].sense
    low, high = result.bound, result.objective  # minimize
    if not objectives[0].is_minimizing():
        low, high = high, low
    if low is not None:
        problem.lower_bound = low
    if high is not None:
        problem.upper_bound = high
