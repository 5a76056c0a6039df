"""JSON model: both directions, and errors that name the field path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings

from mipguide.errors import ParseError
from mipguide.problem.jsonmodel import problem_from_json, problem_to_json, read_json
from mipguide.problem.model import Problem, Sense

from .strategies import problems

DOC: dict[str, Any] = {
    "name": "tiny",
    "csr_constraint_matrix": {"offsets": [0, 2, 3], "indices": [0, 1, 1], "values": [1, 2.5, -1]},
    "constraint_bounds": {"lower_bounds": ["-inf", 1], "upper_bounds": [4, None]},
    "objective_data": {"coefficients": [1, 2], "scalability_factor": 2, "offset": 0.5},
    "variable_bounds": {"lower_bounds": [0, None], "upper_bounds": ["inf", 1e20]},
    "maximize": True,
    "variable_types": ["B", "C"],
    "variable_names": ["a", "b"],
    "row_names": ["r", "s"],
}


def test_reads_the_schema() -> None:
    p = problem_from_json(DOC)
    assert p.sense == Sense.MAXIMIZE and p.name == "tiny"
    assert p.A.toarray().tolist() == [[1.0, 2.5], [0.0, -1.0]]
    assert p.row_lower.tolist() == [-float("inf"), 1.0]
    assert p.row_upper.tolist() == [4.0, float("inf")]
    assert p.c.tolist() == [2.0, 4.0] and p.offset == 1.0
    assert p.col_lower.tolist() == [0.0, -float("inf")]
    assert p.col_upper.tolist() == [1.0, float("inf")]
    assert p.integrality.tolist() == [True, False]
    assert p.var_names == ("a", "b") and p.row_names == ("r", "s")


def test_document_round_trip() -> None:
    p = problem_from_json(DOC)
    again = problem_from_json(json.loads(json.dumps(problem_to_json(p))))
    assert again.same_as(p) and again.offset == p.offset


@settings(max_examples=100, deadline=None)
@given(problems())
def test_problem_round_trip(p: Problem) -> None:
    q = read_json(json.dumps(problem_to_json(p)).encode())
    assert q.same_as(p) and q.offset == p.offset and q.name == p.name


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "csr_constraint_matrix.indices",
            [0, 1, 2],
            "csr_constraint_matrix.indices[2]: index 2 out of range (2 variables)",
        ),
        (
            "csr_constraint_matrix.offsets",
            [0, 2],
            "csr_constraint_matrix.offsets: has 2 entries, expected 3",
        ),
        ("csr_constraint_matrix.offsets", [0, 3, 2], "csr_constraint_matrix.offsets"),
        ("csr_constraint_matrix.values", [1, 2], "csr_constraint_matrix.values: has 2 entries"),
        (
            "csr_constraint_matrix.values",
            [1, "x", 2],
            "csr_constraint_matrix.values[1]: expected a number",
        ),
        (
            "csr_constraint_matrix.indices",
            [0, 0, 1],
            "csr_constraint_matrix.indices: a (row, column) entry is given twice",
        ),
        (
            "csr_constraint_matrix.values",
            [1, float("nan"), 2],
            "csr_constraint_matrix.values[1]: NaN",
        ),
        (
            "csr_constraint_matrix.values",
            [1, "inf", 2],
            "csr_constraint_matrix.values[1]: coefficient must be finite",
        ),
        (
            "constraint_bounds.upper_bounds",
            [4],
            "constraint_bounds.upper_bounds: has 1 entries, expected 2",
        ),
        ("objective_data.coefficients", KeyError, "objective_data.coefficients: missing"),
        (
            "variable_bounds.lower_bounds",
            [0],
            "variable_bounds.lower_bounds: has 1 entries, expected 2",
        ),
        ("variable_types", ["B", "X"], "variable_types[1]: expected 'C', 'I' or 'B'"),
        ("variable_names", ["a", "a"], "variable_names[1]: name 'a' appears twice"),
        ("row_names", ["r"], "row_names: expected a list of 2 names"),
        ("maximize", "yes", "maximize: expected true or false"),
    ],
)
def test_errors_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ParseError) as info:
        problem_from_json(_with(path, value), "m.json")
    assert info.value.file == "m.json" and info.value.line is None
    assert f"{info.value.path}: {info.value.reason}".startswith(message)
    assert message.startswith(info.value.path or "")


def test_invalid_json_has_a_line() -> None:
    with pytest.raises(ParseError) as info:
        read_json(b'{\n "name": "x",\n oops\n}', "m.json")
    assert info.value.line == 3
