"""PuLP plug-in: ``prob.solve(MipguideSolver(...))`` solves with mipguide, here or on a server,
and sets the variables' ``varValue``, ``prob.status`` and ``prob.sol_status`` as PuLP's CBC does.

    status = prob.solve(MipguideSolver())  # here, the settings' default solver
    status = prob.solve(MipguideSolver(server="http://127.0.0.1:8000", mode="auto"))

``import pulp`` imports highspy, which cannot share a process with OR-Tools' HiGHS: a local
solve refuses ``solver="ortools-highs"`` (``highs`` runs HiGHS in a child process).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pulp

from mipguide.interop import export_model, load_values
from mipguide.plugins.run import RunOptions, solve_exported
from mipguide.solvers.types import Status

# mipguide's status -> PuLP's (status, solution status), as PuLP's CBC and HiGHS report them:
# a solution found before a limit is "Optimal" with an integer-feasible solution status (CBC),
# infeasible-or-unbounded is "Infeasible" (HiGHS)
STATUSES = {
    Status.OPTIMAL: (pulp.LpStatusOptimal, pulp.LpSolutionOptimal),
    Status.FEASIBLE: (pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible),
    Status.INFEASIBLE: (pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible),
    Status.UNBOUNDED: (pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded),
    Status.INFEASIBLE_OR_UNBOUNDED: (pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible),
    Status.NO_SOLUTION: (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound),
    Status.ERROR: (pulp.LpStatusUndefined, pulp.LpSolutionNoSolutionFound),
}


class MipguideSolver(pulp.LpSolver):
    """mipguide as a PuLP solver.

    Args:
        server: the server's URL; None: solve here, in this process.
        api_key: the key sent to the server (None: ``MIPGUIDE_API_KEY``).
        mode: exact | pas | auto | srg.
        solver: the backend (None: the default of the settings, or of the server).
        time_limit: seconds (also PuLP's ``timeLimit`` attribute); gap: relative gap.
        msg: print the solver's log (local solves).
        options: model, threads, seed, params, wait (see ``mipguide.plugins.run.RunOptions``).

    Raises:
        InvalidOptionError: an unknown option or a bad value.
    """

    name = "MIPGUIDE"

    def __init__(
        self,
        server: str | None = None,
        api_key: str | None = None,
        mode: str = "exact",
        solver: str | None = None,
        time_limit: float | None = None,
        gap: float | None = None,
        msg: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(mip=True, msg=msg, timeLimit=time_limit)
        given = {"server": server, "api_key": api_key, "mode": mode, "solver": solver}
        self.run = RunOptions.of(given | {"time_limit": time_limit, "gap": gap} | options)

    def available(self) -> bool:
        """Always: a local solve needs the solvers (the ``server`` extra), a remote one not."""
        return True

    def copy(self) -> MipguideSolver:
        other = MipguideSolver(msg=self.msg)
        other.run, other.timeLimit = self.run, self.timeLimit
        return other

    def actualSolve(self, lp: Any, **kwargs: Any) -> int:
        """Export ``lp`` (its own MPS writer), solve, set the values and the status.

        Returns:
            PuLP's status (``pulp.LpStatusOptimal``, ...), as ``prob.solve`` returns it.
        """
        run = replace(self.run, time_limit=self.timeLimit)
        exported = export_model(lp)
        result = solve_exported(exported, run, log=print if self.msg else None)
        load_values(exported, result.values)
        status, solution_status = STATUSES[result.status]
        lp.assignStatus(status, solution_status)
        return status
