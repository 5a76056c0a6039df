"""The plain backend chosen by probing (``pipeline.probe``), with real SCIP and HiGHS solves."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipguide.pipeline.probe import PROBE_MIN, _answer, probe_seconds, solve_probed
from mipguide.pipeline.solve import finish, solve_problem
from mipguide.problem.io import read_problem
from mipguide.solvers.types import (
    Incumbent,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)


def test_probe_length_follows_the_time_limit() -> None:
    assert probe_seconds(60.0) == 6.0
    assert probe_seconds(5.0) == PROBE_MIN
    assert probe_seconds(1.0) == 1.0  # never past the limit
    assert probe_seconds(None) > 0


def test_a_probe_that_proves_optimality_is_the_answer(miplib_dir: Path) -> None:
    problem = read_problem(miplib_dir / "p0033.mps.gz")
    seen: list[Incumbent] = []
    result = solve_probed(problem, SolveOptions(time_limit=30.0), on_incumbent=seen.append)
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(3089.0)
    assert result.max_violation is not None and result.max_violation <= 1e-6
    choice = result.extra["solver_choice"]
    assert choice["by"] == "settled" and choice["solver"] == "scip" == result.solver
    assert [p["solver"] for p in choice["probes"]] == ["scip"]
    assert seen and [i.objective for i in seen] == [i.objective for i in result.incumbents]


def test_infeasibility_is_settled_by_the_first_probe(miplib_dir: Path) -> None:
    problem = read_problem(miplib_dir / "infeasible-mip0.mps")
    result = solve_probed(problem, SolveOptions(time_limit=10.0))
    assert result.status is Status.INFEASIBLE
    assert result.extra["solver_choice"]["by"] == "settled"


def test_scip_probes_then_highs_runs_on_or_yields(miplib_dir: Path) -> None:
    problem = read_problem(miplib_dir / "markshare1.mps.gz")  # neither proves it in seconds
    seen: list[Incumbent] = []
    result = solve_probed(problem, SolveOptions(time_limit=6.0), on_incumbent=seen.append)
    choice = result.extra["solver_choice"]
    probes = choice["probes"]
    assert [p["solver"] for p in probes] == ["scip", "highs"] and choice["by"] == "probe"
    assert probes[0]["seconds"] <= PROBE_MIN + 1.5  # the first backend: the probe only
    assert result.solver == choice["solver"] in ("scip", "highs")
    assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert result.max_violation is not None and result.max_violation <= 1e-6
    found = [p["objective"] for p in probes if p["objective"] is not None]
    assert result.objective is not None and result.objective <= min(found) + 1e-9
    # one clock, improving only, and the live stream is the result's
    times = [i.t for i in result.incumbents]
    values = [i.objective for i in result.incumbents]
    assert times == sorted(times) and values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)
    assert [i.objective for i in seen] == values
    assert result.seconds["total"] <= 6.0 + 3.0 and result.seconds["probe"] >= PROBE_MIN - 0.5


def test_the_answer_keeps_an_earlier_phase_s_better_point(miplib_dir: Path) -> None:
    problem = read_problem(miplib_dir / "p0033.mps.gz")
    good = solve_problem(problem, "scip", SolveOptions(time_limit=10.0))
    stopped = Termination(TerminationReason.TIME_LIMIT, "stopped")
    out = SolveOutput(Status.NO_SOLUTION, stopped, None, None, 2800.0, "highs", "x", 0.0, 0.1)
    nothing = finish(problem, out)  # a later phase that found nothing
    result = _answer(
        problem, SolveOptions(), [(0.0, good), (1.0, nothing)], [], "highs", "x", 0, ()
    )
    assert result.objective == pytest.approx(3089.0) and result.status is Status.FEASIBLE
    assert result.max_violation is not None and result.max_violation <= 1e-6
    assert any("nothing better" in w for w in result.warnings)
    assert result.bound == pytest.approx(3089.0)  # the better of the two phases' bounds
