"""finish: verification decides the status, and the stage times add up once each."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.pipeline.solve import finish
from mipguide.problem.lp import read_lp
from mipguide.problem.model import Problem
from mipguide.solvers.types import SolveOutput, Status, Termination, TerminationReason


def _out(x, status=Status.FEASIBLE) -> SolveOutput:
    return SolveOutput(
        status, Termination(TerminationReason.TIME_LIMIT), x, None, None, "scip", "0", 0.25, 1.5
    )


def _problem() -> Problem:
    return read_lp(b"maximize\n obj: x + y\nsubject to\n c: x + y <= 1\nbinary\n x y\nend\n")


def test_total_counts_read_build_solve_and_verify_once() -> None:
    res = finish(_problem(), _out(np.array([1.0, 0.0])), read_seconds=2.0)
    s = res.seconds
    assert s["total"] == pytest.approx(2.0 + 0.25 + 1.5 + s["verify"])
    res = finish(_problem(), _out(np.array([1.0, 0.0])), read_seconds=2.0, wall=3.0)
    assert res.seconds["total"] == pytest.approx(2.0 + 3.0 + res.seconds["verify"])


def test_a_solution_that_fails_verification_is_not_feasible() -> None:
    res = finish(_problem(), _out(np.array([1.0, 1.0])))
    assert res.status == Status.NO_SOLUTION and res.max_violation == pytest.approx(1.0)
    assert any("fails verification" in w for w in res.warnings)


def test_integer_values_are_exact_integers_after_verification() -> None:
    res = finish(_problem(), _out(np.array([0.9999999999999999, 1e-17])))
    assert res.status == Status.FEASIBLE
    assert res.values == {"x": 1, "y": 0}
    assert all(type(v) is int for v in res.values.values())
    assert res.objective == 1 and res.max_violation == 0


def test_rounding_that_would_break_a_row_keeps_the_solver_values() -> None:
    # x integer, x <= 0.9999985: 0.9999992 verifies (7e-7 over, integral within 1e-5), 1 does not
    p = read_lp(b"max\n obj: x + y\nst\n c: x <= 0.9999985\nbounds\n y <= 2.5\ngeneral\n x\nend\n")
    res = finish(p, _out(np.array([0.9999992, 2.5])))
    assert res.status == Status.FEASIBLE
    assert res.values["x"] == 0.9999992 and type(res.values["x"]) is float
    assert type(res.values["y"]) is float  # continuous: never rounded
