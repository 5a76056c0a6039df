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
