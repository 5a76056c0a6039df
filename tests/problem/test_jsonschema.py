"""The typed JSON model schema agrees with the reader: what one accepts, the other does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mipguide.errors import ParseError
from mipguide.problem.io import read_problem
from mipguide.problem.jsonmodel import problem_from_json, problem_to_json
from mipguide.problem.jsonschema import JsonModel

from .test_jsonmodel import DOC

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"


@pytest.mark.parametrize("path", sorted(MIPLIB.glob("*.mps.gz"))[:4], ids=lambda p: p.name)
def test_every_written_document_fits_the_schema(path: Path) -> None:
    problem = read_problem(path)
    doc = json.loads(json.dumps(problem_to_json(problem)))
    typed = JsonModel.model_validate(doc)
    assert problem_from_json(typed.document()).same_as(problem)


def test_the_schema_example_reads_to_the_documented_knapsack() -> None:
    example = JsonModel.model_config["json_schema_extra"]["example"]  # type: ignore[index]
    typed = JsonModel.model_validate(example)
    problem = problem_from_json(typed.document())
    assert problem.var_names == ("a", "b", "c") and problem.num_integers == 3


def test_a_typed_model_reads_as_its_dict() -> None:
    typed = JsonModel.model_validate(DOC)
    assert problem_from_json(typed.document()).same_as(problem_from_json(DOC))
    assert typed.document() == DOC  # only the given fields, as given ("inf" stays text)


def _both_refuse(doc: dict[str, Any]) -> tuple[ParseError, ValidationError]:
    with pytest.raises(ParseError) as parsed:
        problem_from_json(doc)
    with pytest.raises(ValidationError) as typed:
        JsonModel.model_validate(doc)
    return parsed.value, typed.value


@pytest.mark.parametrize(
    ("parent", "key", "path"),
    [
        (None, "variable_type", "variable_type"),
        ("objective_data", "coeffs", "objective_data.coeffs"),
        ("csr_constraint_matrix", "rows", "csr_constraint_matrix.rows"),
        ("variable_bounds", "lower", "variable_bounds.lower"),
    ],
)
def test_an_unknown_field_is_refused_with_its_path(parent: str | None, key: str, path: str) -> None:
    doc = copy.deepcopy(DOC)
    (doc if parent is None else doc[parent])[key] = [1, 2]
    parsed, typed = _both_refuse(doc)
    assert parsed.path == path and "unknown field" in parsed.reason
    assert ".".join(map(str, typed.errors()[0]["loc"])) == path


@pytest.mark.parametrize(
    ("parent", "key", "value"),
    [
        ("objective_data", "coefficients", [1, "x"]),
        ("objective_data", "coefficients", [1, True]),
        ("csr_constraint_matrix", "indices", [0, 1.5, 1]),
        (None, "variable_types", ["B", "X"]),
        (None, "maximize", "yes"),
        (None, "constraint_bounds", [1, 2]),
        (None, "name", "n" * 256),
    ],
)
def test_a_mistyped_field_is_refused_by_both(parent: str | None, key: str, value: Any) -> None:
    doc = copy.deepcopy(DOC)
    (doc if parent is None else doc[parent])[key] = value
    parsed, typed = _both_refuse(doc)
    assert parsed.path is not None and parsed.path.startswith(key if parent is None else parent)
    assert typed.errors()[0]["loc"][0] == (key if parent is None else parent)


def test_null_optional_fields_are_absent_for_both() -> None:
    doc = copy.deepcopy(DOC)
    doc.update(variable_types=None, variable_names=None, row_names=None, variable_bounds=None)
    JsonModel.model_validate(doc)
    problem = problem_from_json(doc)
    assert problem.var_names == ("x0", "x1") and not problem.integrality.any()
    assert problem.col_lower.tolist() == [0.0, 0.0]
