"""The JSON model format as a typed schema (pydantic): documents and checks the shape.

This is the schema of ``POST /v1/jobs`` (``JobCreate.model``), of the client's
``submit_model`` and of ``.json`` files the CLI reads. It checks the shape (field names, types,
the allowed letters of ``variable_types``); ``jsonmodel.problem_from_json`` checks the
consistency (lengths, indices in range, duplicate names) and builds the Problem. Unknown fields
are refused by both, so a misspelt field (``variable_type``) is an error, never silently
ignored.

Example (maximise 5a + 4b + 3c subject to 2a + 3b + c <= 5, 4a + b + 2c <= 11, a, b, c
binary)::

    JsonModel(
        name="knapsack",
        maximize=True,
        csr_constraint_matrix=CsrConstraintMatrix(
            offsets=[0, 3, 6], indices=[0, 1, 2, 0, 1, 2], values=[2, 3, 1, 4, 1, 2]
        ),
        constraint_bounds=ConstraintBounds(lower_bounds=["-inf", "-inf"], upper_bounds=[5, 11]),
        objective_data=ObjectiveData(coefficients=[5, 4, 3]),
        variable_types=["B", "B", "B"],
        variable_names=["a", "b", "c"],
    )
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

INFINITY_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
# the same words as a JSON-schema pattern (no inline flags: JSON-schema regexes are ECMA 262)
_INFINITY_PATTERN = r"^\s*[+-]?([Ii][Nn][Ff]|[Ii][Nn][Ff][Ii][Nn][Ii][Tt][Yy])\s*$"
_NUMBER_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": _INFINITY_PATTERN}]
}


def _number(v: Any) -> float | int | str:
    """A JSON number, or infinity spelt as text (kept as given; the reader converts it)."""
    if isinstance(v, str):
        if v.strip().lower() in INFINITY_WORDS:
            return v
        raise ValueError(f"expected a number or 'inf' / '-inf', got {v[:40]!r}")
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"expected a number, got {type(v).__name__}")
    if isinstance(v, float) and math.isnan(v):
        raise ValueError("NaN is not a valid value")
    return v


Number = Annotated[float | int | str, PlainValidator(_number), WithJsonSchema(_NUMBER_SCHEMA)]
Bound = Annotated[
    float | int | str | None,
    PlainValidator(lambda v: None if v is None else _number(v)),
    WithJsonSchema({"anyOf": [*_NUMBER_SCHEMA["anyOf"], {"type": "null"}]}),
]
Name = Annotated[str, StringConstraints(max_length=255)]

_STRICT = ConfigDict(extra="forbid", strict=True)


class CsrConstraintMatrix(BaseModel):
    """The constraint matrix A in compressed sparse rows: row i's entries are
    ``indices[offsets[i]:offsets[i+1]]`` (column numbers) and the same slice of ``values``."""

    model_config = _STRICT

    offsets: list[StrictInt] = Field(description="m + 1 entries, from 0 to len(indices)")
    indices: list[StrictInt] = Field(description="column of each nonzero, 0-based")
    values: list[Number] = Field(description="each nonzero (finite)")


class ConstraintBounds(BaseModel):
    """Row activities: lower_bounds[i] <= (A x)[i] <= upper_bounds[i]."""

    model_config = _STRICT

    lower_bounds: list[Bound] = Field(
        default_factory=list, description="one per row; null or '-inf' for none"
    )
    upper_bounds: list[Bound] = Field(
        default_factory=list, description="one per row; null or 'inf' for none"
    )


class ObjectiveData(BaseModel):
    """The objective: sum of coefficients[j] x[j] + offset, times scalability_factor."""

    model_config = _STRICT

    coefficients: list[Number] = Field(description="one per variable (finite); fixes n")
    scalability_factor: Number = Field(default=1.0, description="multiplies coefficients, offset")
    offset: Number = Field(default=0.0, description="a constant added to the objective")


class VariableBounds(BaseModel):
    """Column bounds (default: 0 <= x[j] < inf)."""

    model_config = _STRICT

    lower_bounds: list[Bound] | None = Field(
        default=None, description="one per variable; null or '-inf' for none (default 0)"
    )
    upper_bounds: list[Bound] | None = Field(
        default=None, description="one per variable; null or 'inf' for none (default inf)"
    )


class JsonModel(BaseModel):
    """A MILP in mipguide's JSON model format (cuOpt LPData-like, CSR constraint matrix).

    Numbers may also be "inf", "-inf", "infinity" (any case); |v| >= 1e20 is infinite in bounds.
    Only ``objective_data`` is required; a model without rows may omit the matrix and the row
    bounds.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "example": {
                "name": "knapsack",
                "maximize": True,
                "csr_constraint_matrix": {
                    "offsets": [0, 3, 6],
                    "indices": [0, 1, 2, 0, 1, 2],
                    "values": [2, 3, 1, 4, 1, 2],
                },
                "constraint_bounds": {"lower_bounds": [None, None], "upper_bounds": [5, 11]},
                "objective_data": {"coefficients": [5, 4, 3]},
                "variable_types": ["B", "B", "B"],
                "variable_names": ["a", "b", "c"],
            }
        },
    )

    name: Name = Field(default="", description="shown as the job's problem name")
    maximize: bool = Field(default=False, description="maximise (default: minimise)")
    csr_constraint_matrix: CsrConstraintMatrix | None = None
    constraint_bounds: ConstraintBounds | None = None
    objective_data: ObjectiveData
    variable_bounds: VariableBounds | None = None
    variable_types: list[Literal["C", "I", "B"]] | None = Field(
        default=None,
        description="C continuous, I integer, B binary (integer in [0, 1]); default all C",
    )
    variable_names: list[Name] | None = Field(default=None, description="unique; default x0...")
    row_names: list[Name] | None = Field(default=None, description="unique; default r0...")

    def document(self) -> dict[str, Any]:
        """The JSON document (only the fields that were given)."""
        doc: dict[str, Any] = self.model_dump(exclude_unset=True)
        return doc


FIELDS = frozenset(JsonModel.model_fields)
SUBFIELDS = {
    "csr_constraint_matrix": frozenset(CsrConstraintMatrix.model_fields),
    "constraint_bounds": frozenset(ConstraintBounds.model_fields),
    "objective_data": frozenset(ObjectiveData.model_fields),
    "variable_bounds": frozenset(VariableBounds.model_fields),
}
