"""The easy MIPLIB conformance instances and the correctness check shared by the guided modes.

Every returned solution verifies against the original model and is never better than the
catalogued optimum; a claimed optimum equals it. The instances HiGHS solves in about a second
(``QUICK``) get enough time for the completion to prove the optimum; the others (``OTHERS``)
run under a short budget (the claim is then only "verified and not better than optimal").
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from mipguide.pipeline.result import SolveResult
from mipguide.problem.io import read_problem
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify
from mipguide.solvers.types import SolveOptions, Status

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"
with (MIPLIB / "catalog.csv").open(newline="") as _f:
    EASY_MIP = [
        r
        for r in csv.DictReader(_f)
        if r["difficulty"] == "easy" and int(r["ints"]) > 0 and r["status"] == "optimal"
    ]
QUICK = [r for r in EASY_MIP if float(r["highs_1thread_seconds"] or 99) <= 1.0]
OTHERS = [r for r in EASY_MIP if r not in QUICK]


def check_guided(
    row: dict[str, str],
    mode: str,
    solve: Callable[[Problem, SolveOptions], SolveResult],
    budget: float,
) -> SolveResult:
    """Solve the catalogued instance ``row`` with ``solve`` and check the answer (see above)."""
    problem = read_problem(MIPLIB / row["file"])
    result = solve(problem, SolveOptions(time_limit=budget))
    optimum = float(row["optimal_objective"])
    assert result.mode == mode
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
