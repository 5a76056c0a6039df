"""SolveResult JSON: round trip, no NaN/inf on the wire, the fields the API promises."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.pipeline.result import SolveResult, relative_gap
from mipguide.solvers.types import Incumbent, IncumbentSource, Status, TerminationReason

REQUIRED = {
    "status",
    "termination",
    "objective",
    "bound",
    "gap",
    "max_violation",
    "solver",
    "solver_version",
    "seconds",
    "incumbents",
    "values",
    "warnings",
}

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def make(objective, bound, values, incs) -> SolveResult:
    return SolveResult(
        status=Status.FEASIBLE,
        termination=TerminationReason.TIME_LIMIT,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        max_violation=0.0,
        solver="scip",
        solver_version="10.0",
        seconds={"read": 0.1, "solve": 1.0, "total": 1.2},
        incumbents=tuple(Incumbent(t, o, b, IncumbentSource.SOLVER) for t, o, b in incs),
        values=values,
        warnings=("w",),
    )


@settings(max_examples=50, deadline=None)
@given(
    objective=finite,
    bound=finite,
    values=st.dictionaries(st.text(min_size=1, max_size=8), finite, max_size=5),
    incs=st.lists(st.tuples(finite, finite, st.none() | finite), max_size=4),
)
def test_json_round_trip(objective, bound, values, incs):
    r = make(objective, bound, values, incs)
    text = r.to_json()
    back = SolveResult.from_json(text)
    assert back == r
    assert set(json.loads(text)) >= REQUIRED


def test_infinite_bound_becomes_null_not_invalid_json():
    r = make(1.0, -math.inf, {}, [])
    d = json.loads(r.to_json())
    assert d["bound"] is None and d["gap"] is None


def test_relative_gap_definition():
    assert relative_gap(10.0, 8.0) == 0.2
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(None, 1.0) is None
    assert relative_gap(-4.0, -5.0) == 0.2


def test_relative_gap_near_the_float_limit_is_finite():
    gap = relative_gap(1.7976931348623157e308, -9.9792015476736e291)
    assert gap is not None and math.isfinite(gap)
    assert gap == pytest.approx(1.0)  # |b| is 5.6e-17 of |obj|
