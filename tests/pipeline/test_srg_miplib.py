"""Guidance never makes a result wrong: mode=srg on the easy MIPLIB conformance instances.

Every returned solution verifies against the original model and is never better than the
catalogued optimum; a claimed optimum equals it. The instances HiGHS solves in about a second
get enough time for the completion to prove the optimum; the others run under a short budget
(the claim is then only "verified and not better than optimal").
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from models.registry import LoadedModel
from service.pipeline.srg import solve_srg
from service.pipeline.srg_params import SrgParams
from service.problem.io import read_problem
from service.problem.verify import verify
from service.solvers.types import SolveOptions, Status

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"
with (MIPLIB / "catalog.csv").open(newline="") as _f:
    EASY_MIP = [
        r
        for r in csv.DictReader(_f)
        if r["difficulty"] == "easy" and int(r["ints"]) > 0 and r["status"] == "optimal"
    ]
QUICK = [r for r in EASY_MIP if float(r["highs_1thread_seconds"] or 99) <= 1.0]
OTHERS = [r for r in EASY_MIP if r not in QUICK]
# The hardest case for correctness: every binary fixed to the consensus (Delta = 0), so the
# subproblem is often infeasible or poor and the completion must still get it right.
TIGHT = SrgParams(agreement=0.5, max_share=1.0, delta_factor=0.0, delta_min=0, widen=1)


def check(row: dict[str, str], model: LoadedModel, budget: float, params: SrgParams):  # noqa: ANN201
    problem = read_problem(MIPLIB / row["file"])
    result = solve_srg(problem, "scip", SolveOptions(time_limit=budget), model, params)
    optimum = float(row["optimal_objective"])
    assert result.mode == "srg"
    tol = 1e-6 * max(1.0, abs(optimum))
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        x = [result.values[v] for v in problem.var_names]
        assert verify(problem, x).feasible
        assert result.max_violation is not None and result.max_violation <= 1e-6
        assert problem.sense * result.objective >= problem.sense * optimum - tol
        if result.status == Status.OPTIMAL:
            assert result.objective == pytest.approx(optimum, rel=1e-6, abs=1e-9)
    else:
        assert result.status == Status.NO_SOLUTION  # never "infeasible": these are feasible
    for inc in result.incumbents:  # no incumbent beats the optimum either
        assert problem.sense * inc.objective >= problem.sense * optimum - tol
    return result


@pytest.mark.parametrize("params", [SrgParams(), TIGHT], ids=["default", "tight"])
@pytest.mark.parametrize("row", QUICK, ids=[r["name"] for r in QUICK])
def test_srg_proves_the_catalogued_optimum(
    row: dict[str, str], tiny_srg_model: LoadedModel, params: SrgParams
) -> None:
    result = check(row, tiny_srg_model, 30.0, params)
    assert result.status == Status.OPTIMAL


@pytest.mark.parametrize("row", OTHERS, ids=[r["name"] for r in OTHERS])
def test_srg_answers_are_verified_and_never_better_than_optimal(
    row: dict[str, str], tiny_srg_model: LoadedModel
) -> None:
    check(row, tiny_srg_model, 2.0, TIGHT)
