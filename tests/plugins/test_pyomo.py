"""The Pyomo plug-in against Pyomo itself: ``SolverFactory("mipguide").solve(model)``, here and
on a server, on models with known optima; results and values as Pyomo's own solvers give them;
the ``pyomo solve`` command finds the solver through the entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
from pyomo.opt import SolverStatus, TerminationCondition

import mipguide.plugins.pyomo  # noqa: F401  (registers "mipguide")
from mipguide.errors import InvalidOptionError
from tests.api.serverutil import KEY_A
from tests.plugins.cases import FLOW, KNAPSACK


def knapsack() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel("knapsack")
    m.I = pyo.Set(initialize=list(KNAPSACK.items))

    def domain(m: Any, i: int) -> Any:
        return pyo.Binary if i == KNAPSACK.binary else pyo.NonNegativeIntegers

    m.q = pyo.Var(m.I, domain=domain, bounds=lambda m, i: (0, KNAPSACK.upper[i]))
    m.value = pyo.Objective(expr=sum(KNAPSACK.values[i] * m.q[i] for i in m.I), sense=pyo.maximize)
    m.capacity = pyo.Constraint(
        expr=sum(KNAPSACK.weights[i] * m.q[i] for i in m.I) <= KNAPSACK.capacity
    )
    return m


def flow() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel("flow")
    capacity = {(a, b): cap for a, b, cap, _ in FLOW.arcs}
    arcs = list(capacity)
    m.f = pyo.Var(arcs, bounds=lambda m, a, b: (0, capacity[a, b]))
    m.cost = pyo.Objective(expr=sum(cost * m.f[a, b] for a, b, _, cost in FLOW.arcs))

    def balance(m: Any, n: str) -> Any:
        out = sum(m.f[a, b] for a, b in arcs if a == n)
        into = sum(m.f[a, b] for a, b in arcs if b == n)
        return out - into == FLOW.balance(n)

    m.balance = pyo.Constraint(list(FLOW.nodes), rule=balance)
    return m


def infeasible() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel("infeasible")
    m.x = pyo.Var(domain=pyo.Integers, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.Integers, bounds=(0, 10))
    m.obj = pyo.Objective(expr=m.x + m.y)
    m.low = pyo.Constraint(expr=m.x + m.y >= 5)
    m.high = pyo.Constraint(expr=m.x + m.y <= 3)
    return m


def unbounded() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel("unbounded")
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(domain=pyo.NonNegativeReals)
    m.obj = pyo.Objective(expr=m.x + m.y, sense=pyo.maximize)
    m.spread = pyo.Constraint(expr=m.x - m.y <= 1)
    return m


@pytest.mark.parametrize("where", ["here", "server"])
def test_knapsack_loads_exact_integers_and_reports_optimal(
    request: pytest.FixtureRequest, where: str
) -> None:
    options = {}
    if where == "server":
        options = {"server": request.getfixturevalue("server").url, "api_key": KEY_A}
    opt = pyo.SolverFactory("mipguide", **options)
    m = knapsack()
    results = opt.solve(m)
    best, quantities = KNAPSACK.optimum()
    assert results.solver.status == SolverStatus.ok
    assert results.solver.termination_condition == TerminationCondition.optimal
    assert pyo.check_optimal_termination(results)
    assert results.solver.name.startswith("mipguide: scip")
    assert [m.q[i].value for i in m.I] == list(quantities)
    assert all(type(m.q[i].value) is int for i in m.I)
    assert pyo.value(m.value) == best
    assert results.problem.lower_bound == results.problem.upper_bound == best


def test_min_cost_flow_with_continuous_flows_has_the_known_optimum() -> None:
    m = flow()
    results = pyo.SolverFactory("mipguide").solve(m, timelimit=30)
    assert results.solver.termination_condition == TerminationCondition.optimal
    assert pyo.value(m.cost) == pytest.approx(FLOW.optimum())
    assert results.problem.upper_bound == pytest.approx(FLOW.optimum())
    assert any(not float(v.value).is_integer() for v in m.f.values())  # a fractional flow


@pytest.mark.parametrize(
    ("build", "condition"),
    [(infeasible, TerminationCondition.infeasible), (unbounded, TerminationCondition.unbounded)],
)
def test_infeasible_and_unbounded_conditions_are_pyomos(
    build: Any, condition: TerminationCondition
) -> None:
    m = build()
    results = pyo.SolverFactory("mipguide").solve(m)
    assert results.solver.status == SolverStatus.warning
    assert results.solver.termination_condition == condition
    assert m.x.value is None  # nothing loaded, as from Pyomo's own solvers
    assert not pyo.check_optimal_termination(results)


def test_load_solutions_false_keeps_the_solution_for_load_from() -> None:
    m = knapsack()
    opt = pyo.SolverFactory("mipguide:highs")  # the sub-solver syntax picks the backend
    results = opt.solve(m, load_solutions=False, options={"gap": 0})
    assert results.solver.name.startswith("mipguide: highs")
    assert all(m.q[i].value is None for i in m.I)
    m.solutions.load_from(results)
    assert [m.q[i].value for i in m.I] == list(KNAPSACK.optimum()[1])


def test_a_sub_block_is_solved_and_bad_options_are_named() -> None:
    m = pyo.ConcreteModel()
    m.inner = knapsack()
    opt = pyo.SolverFactory("mipguide")
    assert opt.available() and opt.license_is_valid()
    opt.solve(m.inner)
    assert pyo.value(m.inner.value) == KNAPSACK.optimum()[0]
    with pytest.raises(InvalidOptionError, match="time_limit"):
        opt.solve(knapsack(), timelimit=-1)
    with pytest.raises(InvalidOptionError, match="nodes: unknown option"):
        opt.solve(knapsack(), options={"nodes": 5})
    with pytest.raises(InvalidOptionError, match="warmstart: unknown solve.. keyword"):
        opt.solve(knapsack(), warmstart=True)
    failed = knapsack()
    with pytest.raises(InvalidOptionError, match="unknown solver 'cbc'"):
        pyo.SolverFactory("mipguide", solver="cbc").solve(failed)
    assert not failed.solutions.symbol_map


MODEL_FILE = """
import pyomo.environ as pyo

model = pyo.ConcreteModel("knapsack")
model.x = pyo.Var([0, 1, 2], domain=pyo.Binary)
model.obj = pyo.Objective(expr=5 * model.x[0] + 4 * model.x[1] + 3 * model.x[2], sense=-1)
model.cap = pyo.Constraint(expr=2 * model.x[0] + 3 * model.x[1] + model.x[2] <= 4)
"""


def test_pyomo_solve_command_finds_the_solver_by_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(MODEL_FILE)
    pyomo = Path(sys.executable).parent / "pyomo"
    out = subprocess.run(
        [str(pyomo), "solve", "--solver=mipguide", "model.py", "--save-results=out.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    saved = json.loads((tmp_path / "out.json").read_text())
    assert saved["Solver"][0]["Termination condition"] == "optimal"
    assert saved["Problem"][0]["Lower bound"] == 8


def test_this_process_never_imported_highspy() -> None:
    # OR-Tools is loaded in this process: Pyomo must not bring highspy's HiGHS next to it
    assert "highspy" not in sys.modules
