"""``SolveOptions.keep_solutions``: the other solutions SCIP (its solution storage) and HiGHS
(its saved improving solutions) found come back, verified, best first; none unless asked. And
``SolveOptions.on_solution`` gets each improving incumbent's values as it is found."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mipguide.pipeline.solve import solve_problem
from mipguide.problem.io import read_problem
from mipguide.problem.verify import verify
from mipguide.solvers.types import SolveOptions


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_other_solutions_come_back_verified_and_best_first(miplib_dir: Path, solver: str) -> None:
    problem = read_problem(miplib_dir / "p0201.mps.gz")
    plain = solve_problem(problem, solver, SolveOptions(time_limit=30))
    assert plain.solutions == ()  # not asked for: nothing kept
    result = solve_problem(problem, solver, SolveOptions(time_limit=30, keep_solutions=5))
    assert result.objective is not None and 1 <= len(result.solutions) <= 5
    objectives = [obj for obj, _ in result.solutions]
    assert objectives == sorted(objectives)  # minimization: best first
    assert objectives[0] >= result.objective - 1e-6  # none better than the answer
    for obj, x in result.solutions:
        check = verify(problem, x)
        assert check.feasible and obj == pytest.approx(problem.objective_value(x))
    assert "solutions" not in result.to_dict()  # never part of the JSON result


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_on_solution_gets_each_improving_incumbents_values(miplib_dir: Path, solver: str) -> None:
    problem = read_problem(miplib_dir / "p0201.mps.gz")
    seen: list[np.ndarray] = []
    result = solve_problem(
        problem, solver, SolveOptions(time_limit=30, on_solution=lambda x: seen.append(x))
    )
    assert result.objective is not None and seen
    objectives = [problem.objective_value(x) for x in seen]
    for x in seen:  # every one a feasible point of the model, in its variable order
        assert verify(problem, x).feasible
    assert objectives == sorted(objectives, reverse=True)  # each improves on the one before
    assert objectives[-1] == pytest.approx(result.objective, rel=1e-6)  # the last is the answer


def test_scip_keeps_the_extra_starts_and_drops_infeasible_ones(miplib_dir: Path) -> None:
    """Stopped before any search, SCIP answers the best of the starts it was given: the extra
    start when it is better than ``start``; an infeasible extra is dropped, not an error."""
    problem = read_problem(miplib_dir / "p0201.mps.gz")
    found = solve_problem(problem, "scip", SolveOptions(time_limit=30, keep_solutions=5))
    assert found.values and found.solutions
    best, worse = np.array([found.values[v] for v in problem.var_names]), found.solutions[-1][1]
    assert problem.objective_value(worse) > problem.objective_value(best) + 1e-6
    at_once = SolveOptions(time_limit=1e-3, start=worse)
    alone = solve_problem(problem, "scip", at_once)
    assert alone.objective == pytest.approx(problem.objective_value(worse))
    bad = np.ones(problem.num_vars)  # violates rows: dropped
    assert not verify(problem, bad).feasible
    both = solve_problem(problem, "scip", replace(at_once, extra_starts=(bad, best)))
    assert both.objective == pytest.approx(problem.objective_value(best))
    assert verify(problem, np.array([both.values[v] for v in problem.var_names])).feasible
