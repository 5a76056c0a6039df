"""JSON model (cuOpt LPData-like) <-> Problem.

The typed schema is ``jsonschema.JsonModel`` (the API's and the client's); this reader checks
consistency and builds the Problem. Shape::

    {"name": str, "maximize": bool,
     "csr_constraint_matrix": {"offsets": [int], "indices": [int], "values": [num]},
     "constraint_bounds": {"lower_bounds": [num], "upper_bounds": [num]},
     "objective_data": {"coefficients": [num], "scalability_factor": num?, "offset": num?},
     "variable_bounds": {"lower_bounds": [num], "upper_bounds": [num]},
     "variable_types": ["C" | "I" | "B"]?, "variable_names": [str]?, "row_names": [str]?}

Numbers may also be "inf", "+inf", "-inf", "infinity" (any case) or null (null is -inf in a
lower bound and +inf in an upper bound); |v| >= 1e20 is infinite in bounds. "B" means integer
with bounds [0, 1]. ``scalability_factor`` multiplies the objective coefficients and offset.
Every inconsistency is a ParseError whose ``path`` is the JSON field path (``variable_names[7]``).
Names have at most 255 characters; objective coefficients and the offset must be finite. An
optional field given as null is absent (a row bound side left out is infinite on every row); an
unknown field is an error (a misspelt field must not be ignored).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from mipguide.errors import ParseError
from mipguide.problem.compression import decompress
from mipguide.problem.jsonschema import FIELDS, SUBFIELDS
from mipguide.problem.model import INF_THRESHOLD, Problem, Sense
from mipguide.problem.names import MAX_NAME

_INF = {"inf": math.inf, "+inf": math.inf, "infinity": math.inf, "+infinity": math.inf}
_INF |= {"-inf": -math.inf, "-infinity": -math.inf}


class _Reader:
    """Field access with path-named errors."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, reason: str) -> ParseError:
        return ParseError(self.file, None, reason, path=path)

    def obj(self, parent: dict[str, Any], key: str, path: str, required: bool = True) -> Any:
        if key not in parent:
            if required:
                raise self.fail(f"{path}{key}", "missing")
            return None
        return parent[key]

    def numbers(self, value: Any, path: str, null: float | None = None) -> np.ndarray:
        if not isinstance(value, list):
            raise self.fail(path, "expected a list of numbers")
        out = np.empty(len(value))
        for k, v in enumerate(value):
            out[k] = self.number(v, f"{path}[{k}]", null)
        return out

    def number(self, v: Any, path: str, null: float | None = None) -> float:
        if v is None and null is not None:
            return null
        if isinstance(v, str) and v.strip().lower() in _INF:
            return _INF[v.strip().lower()]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(path, f"expected a number, got {_show(v)}")
        if math.isnan(v):
            raise self.fail(path, "NaN is not a valid value")
        return float(v)

    def ints(self, value: Any, path: str) -> np.ndarray:
        if not isinstance(value, list):
            raise self.fail(path, "expected a list of integers")
        for k, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, int):
                raise self.fail(f"{path}[{k}]", f"expected an integer, got {_show(v)}")
        return np.asarray(value, dtype=np.int64).reshape(len(value))

    def names(self, value: Any, path: str, size: int, default: str) -> tuple[str, ...]:
        if value is None:
            return tuple(f"{default}{k}" for k in range(size))
        if not isinstance(value, list) or len(value) != size:
            raise self.fail(path, f"expected a list of {size} names")
        first: dict[str, int] = {}
        for k, v in enumerate(value):
            if not isinstance(v, str):
                raise self.fail(f"{path}[{k}]", f"expected a string, got {_show(v)}")
            if len(v) > MAX_NAME:
                raise self.fail(f"{path}[{k}]", f"{len(v)} characters; at most {MAX_NAME}")
            if first.setdefault(v, k) != k:
                raise self.fail(f"{path}[{k}]", f"name {v!r} appears twice (first at [{first[v]}])")
        return tuple(value)


def _show(v: Any, limit: int = 40) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _finite(r: _Reader, values: np.ndarray, path: str) -> np.ndarray:
    """Objective coefficients and constants must be finite (as matrix coefficients)."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.shape[0]:
        raise r.fail(f"{path}[{int(bad[0])}]", "coefficient must be finite")
    return values


def _get(parent: dict[str, Any], key: str, default: Any) -> Any:
    """An optional field's value; null is the same as absent."""
    value = parent.get(key)
    return default if value is None else value


def _known_fields(r: _Reader, doc: dict[str, Any]) -> None:
    """Refuse fields the format does not have (with their path)."""
    for key, value in doc.items():
        if key not in FIELDS:
            raise r.fail(key, f"unknown field; the fields are {', '.join(sorted(FIELDS))}")
        inner = SUBFIELDS.get(key)
        if inner is None or value is None:
            continue
        if not isinstance(value, dict):
            raise r.fail(key, f"expected an object, got {_show(value)}")
        for sub in value:
            if sub not in inner:
                raise r.fail(f"{key}.{sub}", f"unknown field; {key} has {', '.join(sorted(inner))}")


def _bounds(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = lo.copy(), hi.copy()
    for v in (lo, hi):
        v[v >= INF_THRESHOLD] = np.inf
        v[v <= -INF_THRESHOLD] = -np.inf
    return lo, hi


def _matrix(r: _Reader, doc: dict[str, Any], m: int, n: int) -> sp.csr_matrix:
    path = "csr_constraint_matrix"
    csr = r.obj(doc, path, "")
    if not isinstance(csr, dict):
        raise r.fail(path, "expected an object")
    offsets = r.ints(r.obj(csr, "offsets", f"{path}."), f"{path}.offsets")
    indices = r.ints(r.obj(csr, "indices", f"{path}."), f"{path}.indices")
    values = r.numbers(r.obj(csr, "values", f"{path}."), f"{path}.values")
    if offsets.shape[0] != m + 1:
        raise r.fail(f"{path}.offsets", f"has {offsets.shape[0]} entries, expected {m + 1}")
    if offsets[0] != 0 or (np.diff(offsets) < 0).any() or offsets[-1] != indices.shape[0]:
        raise r.fail(f"{path}.offsets", "must start at 0, not decrease, and end at len(indices)")
    if values.shape[0] != indices.shape[0]:
        raise r.fail(
            f"{path}.values", f"has {values.shape[0]} entries, indices has {indices.shape[0]}"
        )
    bad = np.flatnonzero((indices < 0) | (indices >= n))
    if bad.shape[0]:
        k = int(bad[0])
        raise r.fail(f"{path}.indices[{k}]", f"index {indices[k]} out of range ({n} variables)")
    if not np.isfinite(values).all():
        k = int(np.argmin(np.isfinite(values)))
        raise r.fail(f"{path}.values[{k}]", "coefficient must be finite")
    A = sp.csr_matrix((values, indices, offsets), shape=(m, n))
    if not A.has_sorted_indices:
        A = A.sorted_indices()
    key = np.repeat(np.arange(m), np.diff(offsets)) * (n + 1) + A.indices
    if (np.diff(key) == 0).any():
        raise r.fail(f"{path}.indices", "a (row, column) entry is given twice")
    A.eliminate_zeros()
    return A


def problem_from_json(doc: Any, file: str = "<json>") -> Problem:
    """Build a Problem from a decoded JSON document (see the module docstring).

    Raises:
        ParseError: a field is missing, mistyped or inconsistent (the reason names its path).
    """
    r = _Reader(file)
    if not isinstance(doc, dict):
        raise r.fail("$", "expected a JSON object")
    _known_fields(r, doc)
    obj = r.obj(doc, "objective_data", "")
    if not isinstance(obj, dict):
        raise r.fail("objective_data", "expected an object")
    c = r.numbers(r.obj(obj, "coefficients", "objective_data."), "objective_data.coefficients")
    c = _finite(r, c, "objective_data.coefficients")
    n = c.shape[0]
    scale = r.number(obj.get("scalability_factor", 1.0), "objective_data.scalability_factor")
    offset = r.number(obj.get("offset", 0.0), "objective_data.offset")
    for label, v in (("scalability_factor", scale), ("offset", offset)):
        if not math.isfinite(v):
            raise r.fail(f"objective_data.{label}", "must be finite")
    if not np.isfinite(c * scale).all():
        raise r.fail("objective_data.scalability_factor", "makes a coefficient infinite")
    rb = r.obj(doc, "constraint_bounds", "", required=False) or {}
    # one side may be left out: its bounds are then all infinite
    lo_given, hi_given = _get(rb, "lower_bounds", None), _get(rb, "upper_bounds", None)
    if lo_given is None and isinstance(hi_given, list):
        lo_given = [None] * len(hi_given)
    if hi_given is None and isinstance(lo_given, list):
        hi_given = [None] * len(lo_given)
    row_lo = r.numbers(lo_given or [], "constraint_bounds.lower_bounds", -math.inf)
    row_hi = r.numbers(hi_given or [], "constraint_bounds.upper_bounds", math.inf)
    m = row_lo.shape[0]
    if row_hi.shape[0] != m:
        raise r.fail(
            "constraint_bounds.upper_bounds", f"has {row_hi.shape[0]} entries, expected {m}"
        )
    given = doc.get("csr_constraint_matrix") is not None
    A = _matrix(r, doc, m, n) if given or m else sp.csr_matrix((m, n))
    lo, hi, integrality = _variables(r, doc, n)
    maximize = doc.get("maximize", False)
    if not isinstance(maximize, bool):
        raise r.fail("maximize", f"expected true or false, got {maximize!r}")
    row_lo, row_hi = _bounds(row_lo, row_hi)
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise r.fail("name", f"expected a string, got {_show(name)}")
    if len(name) > MAX_NAME:
        raise r.fail("name", f"{len(name)} characters; at most {MAX_NAME}")
    return Problem(
        name=name,
        A=A,
        row_lower=row_lo,
        row_upper=row_hi,
        c=c * scale,
        offset=offset * scale,
        sense=Sense.MAXIMIZE if maximize else Sense.MINIMIZE,
        col_lower=lo,
        col_upper=hi,
        integrality=integrality,
        var_names=r.names(doc.get("variable_names"), "variable_names", n, "x"),
        row_names=r.names(doc.get("row_names"), "row_names", m, "r"),
    )


def _variables(
    r: _Reader, doc: dict[str, Any], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    vb = r.obj(doc, "variable_bounds", "", required=False) or {}
    lo = r.numbers(_get(vb, "lower_bounds", [0.0] * n), "variable_bounds.lower_bounds", -math.inf)
    hi = r.numbers(
        _get(vb, "upper_bounds", [math.inf] * n), "variable_bounds.upper_bounds", math.inf
    )
    for label, v in (("lower_bounds", lo), ("upper_bounds", hi)):
        if v.shape[0] != n:
            raise r.fail(f"variable_bounds.{label}", f"has {v.shape[0]} entries, expected {n}")
    types = _get(doc, "variable_types", ["C"] * n)
    if not isinstance(types, list) or len(types) != n:
        raise r.fail("variable_types", f"expected a list of {n} of 'C', 'I', 'B'")
    integrality = np.zeros(n, dtype=bool)
    lo, hi = _bounds(lo, hi)
    for k, t in enumerate(types):
        if t not in ("C", "I", "B"):
            raise r.fail(f"variable_types[{k}]", f"expected 'C', 'I' or 'B', got {t!r}")
        integrality[k] = t != "C"
        if t == "B":
            lo[k], hi[k] = max(lo[k], 0.0), min(hi[k], 1.0)
    return lo, hi, integrality


def read_json(data: bytes, file: str = "<bytes>") -> Problem:
    """Parse JSON bytes (maybe compressed) into a Problem.

    Raises:
        ParseError: invalid JSON (with its line) or an inconsistent model.
    """
    raw = decompress(data, file)
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParseError(file, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise ParseError(file, None, "invalid JSON: not UTF-8 text") from None
    return problem_from_json(doc, file)


def _num(v: float) -> float | str:
    if v == math.inf:
        return "inf"
    if v == -math.inf:
        return "-inf"
    return float(v)


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The JSON document of ``problem`` (infinities as "inf"/"-inf"); round-trips exactly."""
    A = problem.A.tocsr()
    A.sort_indices()
    return {
        "name": problem.name,
        "maximize": problem.sense == Sense.MAXIMIZE,
        "csr_constraint_matrix": {
            "offsets": A.indptr.tolist(),
            "indices": A.indices.tolist(),
            "values": A.data.tolist(),
        },
        "constraint_bounds": {
            "lower_bounds": [_num(v) for v in problem.row_lower.tolist()],
            "upper_bounds": [_num(v) for v in problem.row_upper.tolist()],
        },
        "objective_data": {"coefficients": problem.c.tolist(), "offset": problem.offset},
        "variable_bounds": {
            "lower_bounds": [_num(v) for v in problem.col_lower.tolist()],
            "upper_bounds": [_num(v) for v in problem.col_upper.tolist()],
        },
        "variable_types": ["I" if b else "C" for b in problem.integrality.tolist()],
        "variable_names": list(problem.var_names),
        "row_names": list(problem.row_names),
    }
