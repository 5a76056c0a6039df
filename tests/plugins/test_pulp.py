"""The PuLP plug-in against PuLP itself: ``prob.solve(MipguideSolver(...))``, here and on a
server, on the same models as PuLP's bundled CBC. PuLP runs in a child process
(``pulp_child``): ``import pulp`` imports highspy, which must not enter this process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from tests.api.serverutil import KEY_A, Server
from tests.plugins import pulp_child
from tests.plugins.cases import FLOW, KNAPSACK

# PuLP's constants (pulp.LpStatusOptimal, ...), spelled out: pulp is not imported here
OPTIMAL, INFEASIBLE, UNBOUNDED = 1, -1, -2
SOLUTION_OPTIMAL = 1


@pytest.fixture(scope="module")
def child() -> Iterator[Callable[..., Any]]:
    """Runs a ``pulp_child`` function in one spawned process shared by this module's tests."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield lambda fn, *args: pool.submit(fn, *args).result(timeout=300)


@pytest.mark.parametrize("where", ["here", "server"])
def test_knapsack_integer_values_match_cbc(
    child: Callable[..., Any], request: pytest.FixtureRequest, where: str
) -> None:
    url = request.getfixturevalue("server").url if where == "server" else None
    both = child(pulp_child.solve_both, "knapsack", url, KEY_A)
    ours, cbc = both["mipguide"], both["cbc"]
    best, quantities = KNAPSACK.optimum()
    assert ours["status"] == ours["problem_status"] == cbc["status"] == OPTIMAL
    assert ours["sol_status"] == SOLUTION_OPTIMAL
    assert ours["objective"] == cbc["objective"] == best
    expected = {f"q{i}": k for i, k in enumerate(quantities)}
    assert ours["values"] == expected == cbc["values"]
    assert all(type(v) is int for v in ours["values"].values()), ours["values"]


def test_min_cost_flow_with_continuous_flows_matches_cbc(child: Callable[..., Any]) -> None:
    both = child(pulp_child.solve_both, "flow", None, None)
    ours, cbc = both["mipguide"], both["cbc"]
    assert ours["status"] == cbc["status"] == OPTIMAL
    assert ours["objective"] == pytest.approx(cbc["objective"]) == pytest.approx(FLOW.optimum())
    flows = ours["values"]
    for n in FLOW.nodes:
        out = sum(flows[f"f_{a}_{b}"] for a, b, *_ in FLOW.arcs if a == n)
        into = sum(flows[f"f_{a}_{b}"] for a, b, *_ in FLOW.arcs if b == n)
        assert out - into == pytest.approx(FLOW.balance(n), abs=1e-6)


@pytest.mark.parametrize(("case", "status"), [("infeasible", INFEASIBLE), ("unbounded", UNBOUNDED)])
def test_infeasible_and_unbounded_statuses_are_pulps(
    child: Callable[..., Any], case: str, status: int
) -> None:
    both = child(pulp_child.solve_both, case, None, None)
    assert both["mipguide"]["status"] == both["mipguide"]["problem_status"] == status
    assert both["cbc"]["status"] == status


def test_client_submit_takes_the_pulp_problem(child: Callable[..., Any], server: Server) -> None:
    job = child(pulp_child.submit_knapsack, server.url, KEY_A)
    assert job["state"] == "completed" and job["filename"] == "knapsack.mps"
    assert job["objective"] == KNAPSACK.optimum()[0]
    # by the names PuLP wrote (writeMPS(rename=True)): the plug-in maps them back
    assert sorted(job["values"]) == [f"X000000{i}" for i in KNAPSACK.items]


def test_ortools_highs_is_refused_where_pulp_loaded_highspy(child: Callable[..., Any]) -> None:
    message = child(pulp_child.refused_solver, "ortools-highs")
    assert "highspy" in message and "use highs" in message
    assert child(pulp_child.refused_solver, "highs") == ""
