"""Behaviour that belongs to one backend: SCIP settings, CP-SAT scaling, HiGHS log parsing, fake.

The ``highs`` backend (highspy in a child process) has its own file, ``test_highs.py``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mipguide.errors import InvalidOptionError
from mipguide.problem.model import make_problem
from mipguide.solvers.base import get_backend
from mipguide.solvers.cpsat import integer_form
from mipguide.solvers.fake import FakeBackend, FakeScript
from mipguide.solvers.mathopt import parse_highs_incumbent
from mipguide.solvers.scip import _IncumbentEvents, build_model
from mipguide.solvers.types import (
    IncumbentTracker,
    Interrupt,
    SolveOptions,
    Status,
    TerminationReason,
)
from tests.solvers.cases import CASES, hard_problem

KNAPSACK = CASES[0].problem


def test_scip_node_limit() -> None:
    out = get_backend("scip").solve(hard_problem(), SolveOptions(node_limit=3, time_limit=20))
    assert out.termination.reason == TerminationReason.NODE_LIMIT
    assert out.nodes is not None and out.nodes <= 5


def test_scip_unknown_param_names_close_matches() -> None:
    with pytest.raises(InvalidOptionError) as err:
        get_backend("scip").solve(KNAPSACK, SolveOptions(params={"limits/tme": 3}))
    assert "limits/time" in err.value.valid and len(err.value.valid) == 20


def test_scip_named_settings_and_raw_params() -> None:
    scip = get_backend("scip")
    params = {"emphasis": "heuristics_aggressive", "presolving": "off", "limits/solutions": 50}
    out = scip.solve(KNAPSACK, SolveOptions(params=params))
    assert out.status == Status.OPTIMAL and out.objective == pytest.approx(23.0)
    with pytest.raises(InvalidOptionError):
        scip.solve(KNAPSACK, SolveOptions(params={"emphasis": "very_fast"}))
    with pytest.raises(InvalidOptionError):
        scip.solve(KNAPSACK, SolveOptions(params={"limits/time": "soon"}))


def test_scip_log_lines_are_forwarded() -> None:
    lines: list[str] = []
    get_backend("scip").solve(KNAPSACK, SolveOptions(log=lines.append))
    assert any("optimal solution found" in line for line in lines)


def test_scip_threads_warn() -> None:
    out = get_backend("scip").solve(KNAPSACK, SolveOptions(threads=4))
    assert any("one thread" in w for w in out.warnings)


def test_cpsat_scales_fractional_rows_exactly() -> None:
    p = make_problem(
        [[0.1, 1 / 3], [2.5, 1.0]],
        [-np.inf, 0.0],
        [1.6, 7.25],
        [1, 1],
        col_upper=[10, 10],
        integrality=[True, True],
    )
    form = integer_form(p)
    assert not isinstance(form, str)
    assert form.multipliers.tolist() == [30, 2]
    assert form.data.tolist() == [3, 10, 5, 2]
    assert form.row_upper.tolist() == [48, 14]  # 1.6*30 = 48; 7.25*2 = 14.5 -> 14


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"integrality": [True, False]}, "continuous"),
        ({"col_upper": [np.inf, 1]}, "infinite bound"),
        ({"A": [[np.pi, 1.0]]}, "non-integral coefficients in row 'r0'"),
    ],
)
def test_cpsat_refuses_with_reason(kwargs: dict[str, object], reason: str) -> None:
    args = {"A": [[1.0, 1.0]], "integrality": [True, True], "col_upper": [5, 5]} | kwargs
    p = make_problem(args.pop("A"), [-np.inf], [3], [1, 1], **args)  # type: ignore[arg-type]
    assert reason in (get_backend("cpsat").supports(p) or "")


def test_cpsat_passthrough_enum_and_int() -> None:
    params = {"search_branching": "FIXED_SEARCH", "max_number_of_conflicts": 1000}
    out = get_backend("cpsat").solve(KNAPSACK, SolveOptions(params=params))
    assert out.objective == pytest.approx(23.0)


def test_highs_log_parser() -> None:
    line = " T      67       9        20   0.00%   7               35                80.00%"
    assert parse_highs_incumbent(line + "      340      5    161      1421     0.1s") == (35.0, 7.0)
    assert parse_highs_incumbent(" J  0 0 0 0.00%   -inf  4616  Large  0 0 0 0 0.0s") == (
        4616.0,
        None,
    )
    assert parse_highs_incumbent("      1518       0         0   0.00%   7   19  63%") is None
    assert parse_highs_incumbent("Solving report") is None


def test_ortools_highs_passthrough_options() -> None:
    params = {"highs.mip_heuristic_effort": 0.3, "highs.presolve": "off", "heuristics": "high"}
    out = get_backend("ortools-highs").solve(KNAPSACK, SolveOptions(params=params))
    assert out.objective == pytest.approx(23.0)


def test_glop_passthrough_proto_field() -> None:
    lp = CASES[1]
    out = get_backend("glop").solve(
        lp.problem, SolveOptions(params={"glop.use_dual_simplex": True})
    )
    assert out.objective == pytest.approx(lp.objective)


def test_fake_scripted_incumbents_and_result() -> None:
    script = FakeScript(delay=0.15, incumbents=((0.0, 30.0), (0.05, 25.0), (0.1, 23.0)))
    seen: list[float] = []
    minimize = CASES[3].problem
    out = FakeBackend(script).solve(
        minimize, SolveOptions(), on_incumbent=lambda inc: seen.append(inc.objective)
    )
    assert seen == [30.0, 25.0, 23.0]
    assert out.status == Status.OPTIMAL and out.x is not None
    seen.clear()
    FakeBackend(script).solve(KNAPSACK, SolveOptions(), lambda inc: seen.append(inc.objective))
    assert seen == [30.0]  # maximize: only improvements count


def test_fake_honours_time_limit_and_interrupt() -> None:
    fake = FakeBackend(FakeScript(delay=5.0))
    out = fake.solve(KNAPSACK, SolveOptions(time_limit=0.1))
    assert out.termination.reason == TerminationReason.TIME_LIMIT
    interrupt = Interrupt()
    threading.Timer(0.1, interrupt.set).start()
    out = fake.solve(KNAPSACK, SolveOptions(), interrupt=interrupt)
    assert out.termination.reason == TerminationReason.INTERRUPTED
    assert out.solve_seconds < 1.0


def test_fake_can_ignore_its_time_limit_and_interrupt() -> None:
    params = {"delay": 0.3, "ignore_time_limit": "true", "ignore_interrupt": True}
    interrupt = Interrupt()
    interrupt.set()
    out = get_backend("fake").solve(
        KNAPSACK, SolveOptions(time_limit=0.05, params=params), interrupt=interrupt
    )
    assert out.termination.reason == TerminationReason.OPTIMAL and out.solve_seconds >= 0.3


def test_fake_params_through_registry() -> None:
    out = get_backend("fake").solve(
        KNAPSACK,
        SolveOptions(params={"delay": 0.2, "objective_step": 1.0, "incumbent_every": 0.05}),
    )
    assert [i.objective for i in out.incumbents] == [1.0, 2.0, 3.0, 4.0]
    assert out.status == Status.OPTIMAL


def test_scip_events_report_each_new_best_solution_when_it_is_found() -> None:
    """During BESTSOLFOUND SCIP's primal bound still holds the previous incumbent: the event
    handler alone (no final offer) must have reported the final best, and each report must be
    a solution SCIP found."""
    problem = hard_problem()
    model, xs = build_model(problem)
    tracker = IncumbentTracker(minimize=True)
    model.includeEventhdlr(_IncumbentEvents(tracker, xs, None), "t", "t")
    model.setParam("display/verblevel", 0)
    model.setParam("limits/time", 20.0)
    model.setParam("limits/nodes", 2000)
    model.setParam("limits/maxsol", 100000)  # keep every solution for the check below
    model.optimize()
    found = {model.getSolObjVal(s) for s in model.getSols()}
    reported = [i.objective for i in tracker.items]
    assert len(reported) >= 2  # at least one improvement after the first solution
    assert reported[-1] == pytest.approx(model.getSolObjVal(model.getBestSol()))
    assert all(any(o == pytest.approx(f) for f in found) for o in reported[1:])
