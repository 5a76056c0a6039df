"""finish: verification decides the status, and the stage times add up once each."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mipguide.pipeline.solve import closed_incumbents, finish
from mipguide.problem.lp import read_lp
from mipguide.problem.model import Problem
from mipguide.solvers.types import (
    Incumbent,
    IncumbentSource,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)


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


def test_an_answer_better_than_every_reported_incumbent_closes_the_history() -> None:
    # a backend that reported 0 at 0.5 s and returned 1: the answer is added at the end
    # (build 0.25 + solve 1.5 s), the latest it can have been found
    out = replace(_out(np.array([1.0, 0.0])), incumbents=(Incumbent(0.5, 0.0),))
    res = finish(_problem(), out)
    assert [(i.t, i.objective, i.source) for i in res.incumbents] == [
        (0.5, 0.0, IncumbentSource.SOLVER),
        (1.75, 1.0, IncumbentSource.SOLVER),
    ]
    # nothing is added when the history already holds the answer, or when there is none
    out = replace(out, incumbents=(Incumbent(0.5, 0.0), Incumbent(1.0, 1.0, None)))
    assert len(finish(_problem(), out).incumbents) == 2
    assert finish(_problem(), _out(np.array([1.0, 1.0]))).incumbents == ()


@pytest.mark.parametrize("sense", ["minimize", "maximize"])
def test_closed_incumbents_follows_the_sense(sense: str) -> None:
    p = read_lp(f"{sense}\n obj: x + y\nsubject to\n c: x + y <= 1\nbinary\n x y\nend\n".encode())
    better, worse = (0.0, 1.0) if sense == "minimize" else (1.0, 0.0)
    history = (Incumbent(0.2, worse), Incumbent(3.0, worse))
    closed = closed_incumbents(p, history, better, None, 2.0)
    assert closed[:2] == history and closed[2] == Incumbent(3.0, better)  # never before a report
    assert closed_incumbents(p, history, worse, None, 2.0) == history
    assert closed_incumbents(p, (), better, 0.5, 2.0) == (Incumbent(2.0, better, 0.5),)
    assert closed_incumbents(p, history, None, None, 2.0) == history
