"""The linopy plug-in against linopy itself: ``solve(m, ...)``, here and on a server, on models
with known optima; the model reads back as after ``m.solve()`` (``m.solution``,
``m.objective.value``, ``m.status``, ``m.termination_condition``)."""

from __future__ import annotations

import sys

import linopy
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mipguide.errors import InputError, InvalidOptionError
from mipguide.plugins.linopy import solve
from tests.api.serverutil import KEY_A
from tests.plugins.cases import FLOW, KNAPSACK


def knapsack() -> linopy.Model:
    m = linopy.Model()
    items = pd.Index(list(KNAPSACK.items), name="item")
    general = [i for i in KNAPSACK.items if i != KNAPSACK.binary]
    upper = xr.DataArray([KNAPSACK.upper[i] for i in general], coords=[items[general]])
    q = m.add_variables(lower=0, upper=upper, integer=True, name="q")
    b = m.add_variables(binary=True, name="b")  # the binary item
    values = xr.DataArray([KNAPSACK.values[i] for i in general], coords=[items[general]])
    weights = xr.DataArray([KNAPSACK.weights[i] for i in general], coords=[items[general]])
    one = KNAPSACK.binary
    m.add_constraints(
        (weights * q).sum() + KNAPSACK.weights[one] * b <= KNAPSACK.capacity, name="capacity"
    )
    m.add_objective((values * q).sum() + KNAPSACK.values[one] * b, sense="max")
    return m


def flow() -> linopy.Model:
    m = linopy.Model()
    arcs = pd.Index([f"{a}{b}" for a, b, *_ in FLOW.arcs], name="arc")
    capacity = xr.DataArray([cap for *_, cap, _ in FLOW.arcs], coords=[arcs])
    cost = xr.DataArray([c for *_, c in FLOW.arcs], coords=[arcs])
    f = m.add_variables(lower=0, upper=capacity, name="f")
    nodes = pd.Index(list(FLOW.nodes), name="node")
    incidence = xr.DataArray(
        [[(a == n) - (b == n) for a, b, *_ in FLOW.arcs] for n in FLOW.nodes],
        coords=[nodes, arcs],
    )
    balance = xr.DataArray([FLOW.balance(n) for n in FLOW.nodes], coords=[nodes])
    m.add_constraints((incidence * f).sum("arc") == balance, name="balance")
    m.add_objective((cost * f).sum())
    return m


def two_integers() -> tuple[linopy.Model, linopy.Variable, linopy.Variable]:
    m = linopy.Model()
    x = m.add_variables(lower=0, upper=10, integer=True, name="x")
    y = m.add_variables(lower=0, upper=10, integer=True, name="y")
    return m, x, y


@pytest.mark.parametrize("where", ["here", "server"])
def test_knapsack_sets_the_solution_as_model_solve_does(
    request: pytest.FixtureRequest, where: str
) -> None:
    options = {}
    if where == "server":
        options = {"server": request.getfixturevalue("server").url, "api_key": KEY_A}
    m = knapsack()
    assert solve(m, **options) == ("ok", "optimal")
    assert (m.status, m.termination_condition) == ("ok", "optimal")
    best, quantities = KNAPSACK.optimum()
    assert m.objective.value == best
    general = [k for i, k in enumerate(quantities) if i != KNAPSACK.binary]
    assert m.variables["q"].solution.values.tolist() == general
    assert m.solution["b"].item() == quantities[KNAPSACK.binary]
    assert all(float(v).is_integer() for v in m.solution["q"].values)


def test_min_cost_flow_with_continuous_flows_has_the_known_optimum() -> None:
    m = flow()
    assert solve(m, time_limit=30) == ("ok", "optimal")
    assert m.objective.value == pytest.approx(FLOW.optimum())
    flows = m.solution["f"].values
    assert not np.all(np.mod(flows, 1) == 0)  # a fractional flow
    assert m.constraints["balance"].lhs.solution.values == pytest.approx(
        [FLOW.balance(n) for n in FLOW.nodes]
    )


def test_infeasible_and_unbounded_statuses_are_linopys() -> None:
    m, x, y = two_integers()
    m.add_constraints(x + y >= 5, name="low")
    m.add_constraints(x + y <= 3, name="high")
    m.add_objective(x + y)
    assert solve(m) == ("warning", "infeasible")
    assert m.termination_condition == "infeasible"
    u = linopy.Model()
    a = u.add_variables(lower=0, name="a")
    b = u.add_variables(lower=0, name="b")
    u.add_constraints(a - b <= 1, name="spread")
    u.add_objective(a + b, sense="max")
    assert solve(u) == ("warning", "unbounded")


def test_bad_options_and_models_are_named() -> None:
    with pytest.raises(InvalidOptionError, match="gap"):
        solve(knapsack(), gap=-1)
    m, x, _ = two_integers()
    with pytest.raises(InputError, match="no objective"):
        solve(m)


def test_this_process_never_imported_highspy() -> None:
    # linopy writes MPS through highspy; the plug-in writes LP so that it never loads here
    assert "highspy" not in sys.modules
