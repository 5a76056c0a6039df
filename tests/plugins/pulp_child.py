"""PuLP's side of the PuLP plug-in's tests, run in a child process (``test_pulp.py``): ``import
pulp`` imports highspy, which must not enter the test process, where OR-Tools is loaded (each
bundles HiGHS; OR-Tools' crashes once highspy's is loaded). PuLP is imported in the functions,
so the test process can import this module to name them. Each returns plain data."""

from __future__ import annotations

import warnings
from typing import Any

from tests.plugins.cases import FLOW, KNAPSACK


def _knapsack() -> Any:
    import pulp

    prob = pulp.LpProblem("knapsack", pulp.LpMaximize)
    q = [
        prob.add_variable(f"q{i}", cat=pulp.LpBinary)
        if i == KNAPSACK.binary
        else prob.add_variable(f"q{i}", 0, KNAPSACK.upper[i], cat=pulp.LpInteger)
        for i in KNAPSACK.items
    ]
    prob += pulp.lpSum(v * x for v, x in zip(KNAPSACK.values, q, strict=True))
    weight = pulp.lpSum(w * x for w, x in zip(KNAPSACK.weights, q, strict=True))
    prob += weight <= KNAPSACK.capacity, "capacity"
    return prob


def _flow() -> Any:
    import pulp

    prob = pulp.LpProblem("flow", pulp.LpMinimize)
    f = {(a, b): prob.add_variable(f"f_{a}_{b}", 0, cap) for a, b, cap, _ in FLOW.arcs}
    prob += pulp.lpSum(cost * f[a, b] for a, b, _, cost in FLOW.arcs)
    for n in FLOW.nodes:
        out = pulp.lpSum(x for (a, _), x in f.items() if a == n)
        into = pulp.lpSum(x for (_, b), x in f.items() if b == n)
        prob += out - into == FLOW.balance(n), f"balance_{n}"
    return prob


def _infeasible() -> Any:
    import pulp

    prob = pulp.LpProblem("infeasible", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 10, cat=pulp.LpInteger)
    y = prob.add_variable("y", 0, 10, cat=pulp.LpInteger)
    prob += x + y
    prob += x + y >= 5, "low"
    prob += x + y <= 3, "high"
    return prob


def _unbounded() -> Any:
    import pulp

    prob = pulp.LpProblem("unbounded", pulp.LpMaximize)
    x = prob.add_variable("x", 0)
    y = prob.add_variable("y", 0)
    prob += x + y
    prob += x - y <= 1, "spread"
    return prob


MODELS = {"knapsack": _knapsack, "flow": _flow, "infeasible": _infeasible, "unbounded": _unbounded}


def _report(prob: Any, status: int) -> dict[str, Any]:
    import pulp

    return {
        "status": status,
        "problem_status": prob.status,
        "sol_status": prob.sol_status,
        "objective": pulp.value(prob.objective),
        "values": {v.name: v.varValue for v in prob.variables()},
    }


def solve_both(case: str, server: str | None, api_key: str | None) -> dict[str, dict[str, Any]]:
    """The model ``case`` solved by ``MipguideSolver`` (here, or on ``server``), then by PuLP's
    bundled CBC: each one's status, solution status, objective and values."""
    import pulp

    from mipguide.plugins.pulp import MipguideSolver

    prob = MODELS[case]()
    ours = _report(prob, prob.solve(MipguideSolver(server=server, api_key=api_key)))
    with warnings.catch_warnings():  # PuLP 3.3 marks its bundled CBC deprecated for PuLP 4
        warnings.simplefilter("ignore", DeprecationWarning)
        cbc = pulp.PULP_CBC_CMD(msg=False)
    return {"mipguide": ours, "cbc": _report(prob, prob.solve(cbc))}


def submit_knapsack(server: str, api_key: str) -> dict[str, Any]:
    """``MipguideClient.submit`` given the PuLP problem itself: the job's file and result."""
    from mipguide.client import MipguideClient

    with MipguideClient(server, api_key) as client:
        job = client.submit(_knapsack(), wait=60, time_limit=30)
        result = job.result
        assert result is not None, job
        return {
            "state": job.state,
            "filename": job.raw["problem"]["filename"],
            "objective": result.objective,
            "values": result.values,
        }


def refused_solver(solver: str) -> str:
    """The error of a local solve with ``solver`` in this (PuLP) process, or ''."""
    from mipguide.errors import InvalidOptionError
    from mipguide.plugins.pulp import MipguideSolver

    try:
        _knapsack().solve(MipguideSolver(solver=solver))
    except InvalidOptionError as exc:
        return str(exc)
    return ""
