"""linopy plug-in: ``solve(m, ...)`` in place of ``m.solve(...)``, here or on a server.

    status, condition = solve(m)  # here, the settings' default solver
    status, condition = solve(m, server="http://127.0.0.1:8000", time_limit=30)
    m.solution, m.objective.value, m.variables["x"].solution, m.status, m.termination_condition

As ``Model.solve`` does: the constraints are sanitized (zero coefficients, infinite right-hand
sides), the previous solution is reset, and the values, the objective value, the status and the
termination condition are set on the model (values only when the status is "ok").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linopy.constants import Status as LinopyStatus
from linopy.constants import TerminationCondition

from mipguide.errors import InputError
from mipguide.interop import export_model, load_values
from mipguide.plugins.run import RunOptions, solve_exported
from mipguide.solvers.types import TerminationReason

# mipguide's termination -> linopy's condition (a gap limit is "optimal", as linopy's SCIP has it)
CONDITIONS = {
    TerminationReason.OPTIMAL: TerminationCondition.optimal,
    TerminationReason.GAP_LIMIT: TerminationCondition.optimal,
    TerminationReason.TIME_LIMIT: TerminationCondition.time_limit,
    TerminationReason.NODE_LIMIT: TerminationCondition.terminated_by_limit,
    TerminationReason.SOLUTION_LIMIT: TerminationCondition.terminated_by_limit,
    TerminationReason.INTERRUPTED: TerminationCondition.user_interrupt,
    TerminationReason.INFEASIBLE: TerminationCondition.infeasible,
    TerminationReason.UNBOUNDED: TerminationCondition.unbounded,
    TerminationReason.INFEASIBLE_OR_UNBOUNDED: TerminationCondition.infeasible_or_unbounded,
    TerminationReason.ERROR: TerminationCondition.error,
}


def solve(
    m: Any,
    *,
    server: str | None = None,
    api_key: str | None = None,
    solver: str | None = None,
    mode: str = "exact",
    model: str | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    threads: int | None = None,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    wait: float | None = None,
    sanitize_zeros: bool = True,
    sanitize_infinities: bool = True,
) -> tuple[str, str]:
    """Solve a linopy ``Model`` with mipguide and set the solution on it.

    Args:
        m: the linopy model.
        server ... wait: see ``mipguide.plugins.run.RunOptions``.
        sanitize_zeros, sanitize_infinities: as ``Model.solve``'s.

    Returns:
        (status, termination condition), as ``Model.solve`` returns them: ("ok", "optimal"),
        ("warning", "infeasible"), ...

    Raises:
        InvalidOptionError: a bad option.
        InputError: ``m`` has no objective, or cannot be written as an LP file.
    """
    run = RunOptions.of(
        {
            "server": server,
            "api_key": api_key,
            "solver": solver,
            "mode": mode,
            "model": model,
            "time_limit": time_limit,
            "gap": gap,
            "threads": threads,
            "seed": seed,
            "params": params,
            "wait": wait,
        }
    )
    if m.objective.expression.empty:  # as Model.solve refuses it
        raise InputError(
            "the linopy model has no objective: add one (m.add_objective(0 * x) for a "
            "feasibility problem)"
        )
    if sanitize_zeros:
        m.constraints.sanitize_zeros()
    if sanitize_infinities:
        m.constraints.sanitize_infinities()
    if hasattr(m, "solver"):
        m.solver = None  # as Model.solve: a previous solve's solver is closed
    m.reset_solution()
    exported = export_model(m)
    result = solve_exported(exported, run)
    condition = CONDITIONS[result.termination]
    status = LinopyStatus.from_termination_condition(condition)
    if status.is_ok and result.values:
        load_values(exported, result.values)
        if result.objective is not None:  # the file's objective is scaled as its variables
            m.objective.set_value(result.objective / getattr(m.objective, "scaling", 1.0))
    m.status = status.status.value
    m.termination_condition = condition.value
    return m.status, m.termination_condition
