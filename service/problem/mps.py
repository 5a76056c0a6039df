"""MPS reader: bytes (free or fixed format, maybe gzip/bzip2/xz) -> Problem.

Conventions, all documented in the tests under ``tests/problem/test_mps.py``:

* Free format is tried first; if it fails, fixed format (names may contain spaces) is tried and
  the error of the reading that got further is reported.
* Sections in order: NAME, OBJSENSE / OBJNAME (one-line or section form, before or after NAME),
  ROWS, COLUMNS, RHS, RANGES, BOUNDS, ENDATA. Without OBJSENSE, a ``*SENSE:Maximize`` comment
  among the lines before the first section sets the sense (PuLP's ``writeMPS``), with a warning.
  ENDATA is required (a missing one means a truncated file).
* The first N row (or the one OBJNAME names) is the objective; other N rows are dropped with a
  warning. RHS on the objective row gives offset = -rhs.
* RANGES: E row R > 0 -> [rhs, rhs+|R|], R < 0 -> [rhs-|R|, rhs]; L -> [rhs-|R|, rhs];
  G -> [rhs, rhs+|R|]. |v| >= 1e20 in RHS, RANGES and BOUNDS is infinite; matrix and
  objective coefficients are kept as written and must be finite.
* A (column, row) pair given twice is refused, naming the column, the row and both lines.
* Bounds: see ``mps_bounds``. Semi-continuous variables are refused (UnsupportedFeatureError).
* Names (and any other token) have at most 255 characters (``names.MAX_NAME``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.compression import decompress
from mipguide.problem.model import Problem, Sense
from mipguide.problem.mps_bounds import parse_bounds
from mipguide.problem.mps_fast import Scan, fast_columns
from mipguide.problem.mps_fields import show
from mipguide.problem.mps_lex import Lines, Section, split_sections, tokenize_fixed, tokenize_free
from mipguide.problem.mps_sections import Rows, parse_columns, parse_rows, row_vector, some
from mipguide.problem.names import check_name, check_token_lengths

# NAME, OBJSENSE and OBJNAME share a rank: any order among them (PuLP writes OBJSENSE first)
_ORDER = {
    "NAME": 1,
    "OBJSENSE": 1,
    "OBJSENS": 1,
    "OBJNAME": 1,
    "ROWS": 2,
    "COLUMNS": 3,
    "RHS": 4,
    "RANGES": 5,
    "BOUNDS": 6,
    "ENDATA": 9,
}
_UNSUPPORTED = {
    "SOS": "SOS constraints",
    "QUADOBJ": "quadratic objectives",
    "QMATRIX": "quadratic objectives",
    "QSECTION": "quadratic objectives",
    "QCMATRIX": "quadratic constraints",
    "INDICATORS": "indicator constraints",
    "GENCONS": "general constraints",
    "PWLOBJ": "piecewise-linear objectives",
    "LAZYCONS": "lazy constraints",
    "USERCUTS": "user cuts",
}
_SENSES = {b"MAX": Sense.MAXIMIZE, b"MAXIMIZE": Sense.MAXIMIZE}
_SENSES |= {b"MIN": Sense.MINIMIZE, b"MINIMIZE": Sense.MINIMIZE}
# PuLP's writeMPS marks a maximization only with this comment before NAME
_SENSE_COMMENT = re.compile(rb"\*SENSE:[ \t]*(MAXIMIZE|MAX|MINIMIZE|MIN)[ \t]*\r?$", re.IGNORECASE)


@dataclass(frozen=True)
class _Header:
    """What the sections before ROWS say (and a leading ``*SENSE:`` comment).

    Attributes:
        sense_note: a warning saying where the sense came from, when a comment set it.
    """

    name: str
    sense: Sense
    objname: bytes | None
    sense_note: str | None = None


def read_mps(data: bytes, file: str = "<bytes>") -> Problem:
    """Read an MPS model (free or fixed format, optionally compressed).

    Args:
        data: the file content.
        file: the name reported in errors.

    Returns:
        The model, with anything the reader changed or dropped in ``warnings``.

    Raises:
        ParseError: the file is malformed (file, 1-based line and reason).
        UnsupportedFeatureError: the file uses a feature we refuse (semi-continuous, SOS, ...).
    """
    payload = decompress(data, file)
    check_token_lengths(payload, file, b"*")
    scan = Scan.of(payload)
    sections = _ordered(split_sections(payload, file, scan.newlines), file)
    comment = _sense_comment(payload)
    try:
        return _build(sections, tokenize_free, file, comment, scan)
    except UnsupportedFeatureError:
        raise
    except ParseError as free_error:
        try:
            return _build(sections, tokenize_fixed, file, comment)
        except UnsupportedFeatureError:
            raise
        except ParseError as fixed_error:
            if (fixed_error.line or 0) > (free_error.line or 0):
                raise fixed_error from None
            raise free_error from None


def _ordered(sections: list[Section], file: str) -> list[Section]:
    """Check section names and their order."""
    last, seen = -1, set()
    for s in sections:
        if s.keyword in _UNSUPPORTED:
            raise UnsupportedFeatureError(
                file, s.lineno, f"{_UNSUPPORTED[s.keyword]} ({s.keyword}) are not supported"
            )
        rank = _ORDER.get(s.keyword)
        if rank is None:
            raise ParseError(file, s.lineno, f"unknown section {s.keyword!r}")
        if s.keyword in seen or rank < last:
            raise ParseError(file, s.lineno, f"section {s.keyword} is out of order or repeated")
        seen.add(s.keyword)
        last = rank
    for required in ("ROWS", "COLUMNS"):
        if required not in seen:
            raise ParseError(file, sections[-1].lineno, f"section {required} is missing")
    return sections


def _build(  # type: ignore[no-untyped-def]
    sections: list[Section],
    tokenize,
    file: str,
    comment: tuple[Sense, int] | None,
    scan: Scan | None = None,
) -> Problem:
    """The model from the sections; with the ``scan`` of the payload (free format only), try
    ``fast_columns`` first."""
    by_kw = {s.keyword: s for s in sections}
    lines = {s.keyword: tokenize(s.body, s.first_line) for s in sections if s.keyword != "COLUMNS"}
    header = _header(sections, lines, file, comment)
    rows = parse_rows(lines["ROWS"], header.objname, file)
    body = by_kw["COLUMNS"]
    cols = None
    if scan is not None:
        if body.payload is not scan.data:
            scan = Scan.of(body.payload)  # comment lines were blanked
        cols = fast_columns(scan, body.body_start, body.body_end, rows)
    if cols is None:
        cols = parse_columns(tokenize(body.body, body.first_line), rows, file)
    warnings = list(rows.warnings) + ([header.sense_note] if header.sense_note else [])
    rhs, offset = _rhs(lines.get("RHS"), rows, warnings, file)
    ranges = _ranges(lines.get("RANGES"), rows, warnings, file)
    lower, upper = _row_bounds(rows.sense, rhs, ranges)
    col_lines = lines.get("BOUNDS")
    if col_lines is None:
        col_lines = tokenize_free(b"", by_kw["ENDATA"].lineno)
    bounds = parse_bounds(col_lines, cols.index, cols.integer, file)
    warnings.extend(bounds.warnings)
    var_names = _decode(cols.names, file)
    if bounds.negative_up.shape[0]:
        neg = [var_names[j] for j in bounds.negative_up.tolist()]
        warnings.append(
            "UP bound < 0 with no lower bound: lower bound set to -inf (CPLEX/SAS convention) "
            f"for {some(neg)}"
        )
    return Problem(
        name=header.name,
        A=cols.A,
        row_lower=lower,
        row_upper=upper,
        c=cols.c,
        offset=-offset if offset else 0.0,
        sense=header.sense,
        col_lower=bounds.lower,
        col_upper=bounds.upper,
        integrality=bounds.integer,
        var_names=var_names,
        row_names=_decode(rows.names, file),
        objective_name=show(rows.objective),
        warnings=tuple(warnings) + _inconsistent(bounds.lower, bounds.upper, var_names),
    )


def _sense_comment(payload: bytes) -> tuple[Sense, int] | None:
    """The sense of a ``*SENSE:Maximize`` (or ``Minimize``) comment among the comment and blank
    lines that open the file, and its line."""
    for lineno, line in enumerate(payload.split(b"\n", 64)[:64], start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith(b"*"):
            return None
        m = _SENSE_COMMENT.match(stripped)
        if m is not None:
            return _SENSES[m.group(1).upper()], lineno
    return None


def _header(
    sections: list[Section],
    lines: dict[str, Lines],
    file: str,
    comment: tuple[Sense, int] | None = None,
) -> _Header:
    name, sense, objname = "", Sense.MINIMIZE, None
    explicit = any(s.keyword in ("OBJSENSE", "OBJSENS") for s in sections)
    note = None
    if comment is not None and not explicit:
        sense = comment[0]
        note = (
            f"objective sense {sense.name.lower()} taken from the comment on line {comment[1]} "
            "(*SENSE:..., as PuLP writes it); there is no OBJSENSE section"
        )
    for s in sections:
        if s.keyword in ("OBJSENSE", "OBJSENS", "OBJNAME"):
            values = list(s.args) + lines[s.keyword].tokens.tolist()
        if s.keyword == "NAME":
            name = s.header[4:].strip().decode("utf-8", errors="replace")
            check_name(name, file, s.lineno, "the model name")
        elif s.keyword in ("OBJSENSE", "OBJSENS"):
            if len(values) != 1 or values[0].upper() not in _SENSES:
                raise ParseError(
                    file, s.lineno, "OBJSENSE needs one of MAX, MAXIMIZE, MIN, MINIMIZE"
                )
            sense = _SENSES[values[0].upper()]
        elif s.keyword == "OBJNAME":
            if len(values) != 1:
                raise ParseError(file, s.lineno, "OBJNAME needs exactly one row name")
            objname = values[0]
    return _Header(name=name, sense=sense, objname=objname, sense_note=note)


def _rhs(
    lines: Lines | None, rows: Rows, warnings: list[str], file: str
) -> tuple[np.ndarray, float]:
    if lines is None or not len(lines):
        return np.zeros(len(rows.names)), 0.0
    vec, objective, warning = row_vector(lines, rows, "RHS", file)
    if warning:
        warnings.append(warning)
    return np.nan_to_num(vec, nan=0.0, posinf=np.inf, neginf=-np.inf), objective or 0.0


def _ranges(lines: Lines | None, rows: Rows, warnings: list[str], file: str) -> np.ndarray:
    if lines is None or not len(lines):
        return np.full(len(rows.names), np.nan)
    vec, objective, warning = row_vector(lines, rows, "RANGES", file)
    if warning:
        warnings.append(warning)
    if objective is not None:
        warnings.append("RANGES on the objective row ignored")
    return vec


def _row_bounds(
    sense: np.ndarray, rhs: np.ndarray, ranges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds from senses, right-hand sides and ranges (standard sign rules)."""
    e, le, ge = sense == ord("E"), sense == ord("L"), sense == ord("G")
    lower = np.where(e | ge, rhs, -np.inf)
    upper = np.where(e | le, rhs, np.inf)
    has = ~np.isnan(ranges)
    r = np.abs(np.where(has, ranges, 0.0))
    with np.errstate(invalid="ignore"):
        upper = np.where(has & ((e & (ranges > 0)) | ge), rhs + r, upper)
        lower = np.where(has & ((e & (ranges < 0)) | le), rhs - r, lower)
    return lower, upper


def _decode(names: list[bytes], file: str) -> tuple[str, ...]:
    """Names as str; one decode for all (tokens never contain a newline)."""
    if not names:
        return ()
    try:
        return tuple(b"\n".join(names).decode("utf-8").split("\n"))
    except UnicodeDecodeError:
        bad = next(b for b in names if not _utf8(b))
        raise ParseError(file, None, f"name {bad!r} is not valid UTF-8") from None


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _inconsistent(lower: np.ndarray, upper: np.ndarray, names: tuple[str, ...]) -> tuple[str, ...]:
    bad = np.flatnonzero(lower > upper).tolist()
    return tuple(
        f"bounds of {names[j]} are inconsistent: [{lower[j]:g}, {upper[j]:g}]; "
        "the model is infeasible"
        for j in bad[:20]
    )
