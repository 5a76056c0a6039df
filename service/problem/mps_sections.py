"""MPS section semantics: token tables -> rows, columns, right-hand sides, ranges, bounds.

Each function takes the ``Lines`` of one section and returns a frozen record; all work is
vectorized over lines. Conventions (see ``mps.py`` for the whole list): the first N row is the
objective (or the one OBJNAME names), further N rows are dropped; a (column, row) pair given
twice is an error naming both lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.mps_fields import first_duplicate, lookup, show, to_bound, to_float
from mipguide.problem.mps_lex import Lines

OBJECTIVE = -1  # row index of the objective in the name -> index map
DROPPED = -2  # row index of the first free row after the objective; the next ones -3, -4, ...


@dataclass(frozen=True)
class Rows:
    """The ROWS section: constraint names and senses, and the name -> index map."""

    names: list[bytes]
    sense: np.ndarray  # per constraint: b"E", b"L" or b"G" as uint8 codes
    index: dict[bytes, int]
    objective: bytes
    dropped: list[bytes]  # free rows besides the objective, in order (ids -2, -3, ...)
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Columns:
    """The COLUMNS section: names, integrality, objective and matrix (CSC order)."""

    names: list[bytes]
    index: dict[bytes, int]
    integer: np.ndarray
    c: np.ndarray
    A: sp.csr_matrix


@dataclass(frozen=True)
class Bounds:
    """Variable bounds after the BOUNDS section and the defaults."""

    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    negative_up: np.ndarray  # columns whose lower bound became -inf by the negative-UP rule
    warnings: tuple[str, ...]


def need_counts(lines: Lines, ok: np.ndarray, file: str, what: str) -> None:
    if not ok.all():
        k = int(np.argmin(ok))
        raise ParseError(file, int(lines.lineno[k]), f"{what}, got {int(lines.count[k])} fields")


def parse_rows(lines: Lines, objname: bytes | None, file: str) -> Rows:
    """ROWS: ``type name`` lines; types N, E, L, G."""
    need_counts(lines, lines.count == 2, file, "ROWS line needs 2 fields (type name)")
    types = np.array([t.upper() for t in lines.field(0).tolist()], dtype=object)
    names = lines.field(1)
    known = np.isin(types, [b"N", b"E", b"L", b"G"])
    if not known.all():
        k = int(np.argmin(known))
        raise ParseError(file, int(lines.lineno[k]), f"unknown row type {show(types[k])!r}")
    free = types == b"N"
    if objname is not None:
        hits = np.flatnonzero(free & (names == objname))
        if hits.shape[0] == 0:
            raise ParseError(file, None, f"OBJNAME {show(objname)!r} is not an N row")
        obj_pos = int(hits[0])
    elif free.any():
        obj_pos = int(np.argmax(free))
    else:
        obj_pos = -1
    cons = np.flatnonzero(~free)
    idx = np.zeros(len(lines), dtype=np.int64)
    idx[cons] = np.arange(cons.shape[0])
    if obj_pos >= 0:
        free[obj_pos] = False
        idx[obj_pos] = OBJECTIVE
    dropped = np.flatnonzero(free)
    idx[dropped] = DROPPED - np.arange(dropped.shape[0])
    index = dict(zip(names.tolist(), idx.tolist(), strict=True))
    if len(index) != len(lines):
        _defined_twice(names.tolist(), lines.lineno.tolist(), "row", file)
    warnings: tuple[str, ...] = ()
    if dropped.shape[0]:
        extra = [show(n) for n in names[dropped].tolist()]
        warnings = (f"{len(extra)} free row(s) besides the objective dropped: {some(extra)}",)
    sense = np.frombuffer(b"".join(types[cons].tolist()), dtype=np.uint8)
    return Rows(
        names=names[cons].tolist(),
        sense=sense,
        index=index,
        objective=names[obj_pos] if obj_pos >= 0 else b"obj",
        dropped=names[dropped].tolist(),
        warnings=warnings,
    )


def _defined_twice(names: list[bytes], lineno: list[int], what: str, file: str) -> None:
    seen: dict[bytes, int] = {}
    for name, line in zip(names, lineno, strict=True):
        if name in seen:
            reason = f"{what} {show(name)!r} defined twice (lines {seen[name]} and {line})"
            raise ParseError(file, line, reason)
        seen[name] = line


def some(names: list[str], limit: int = 5) -> str:
    head = ", ".join(names[:limit])
    return head if len(names) <= limit else f"{head} and {len(names) - limit} more"


def parse_columns(lines: Lines, rows: Rows, file: str) -> Columns:
    """COLUMNS: ``col row val [row val]`` lines and INTORG/INTEND markers."""
    cnt = lines.count
    need_counts(lines, (cnt == 3) | (cnt == 5), file, "COLUMNS line needs 3 or 5 fields")
    marker = np.zeros(len(lines), dtype=bool)
    three = np.flatnonzero(cnt == 3)
    marker[three] = lines.field(1, three) == b"'MARKER'"
    integer_line = _integer_lines(lines, marker, file)
    data = np.flatnonzero(~marker)
    col_tok = lines.field(0, data)
    new = np.ones(data.shape[0], dtype=bool)
    new[1:] = col_tok[1:] != col_tok[:-1]
    col_of_line = np.cumsum(new) - 1
    names = col_tok[new].tolist()
    index = dict(zip(names, range(len(names)), strict=True))
    if len(index) != len(names):
        _non_contiguous(names, lines.lineno[data][new], file)
    integer = integer_line[data][new]
    mixed = integer_line[data] != integer[col_of_line]
    if mixed.any():
        k = int(data[np.argmax(mixed)])
        raise ParseError(file, int(lines.lineno[k]), "a MARKER line splits a column's entries")
    five = data[cnt[data] == 5]
    row_tok = np.concatenate((lines.field(1, data), lines.field(3, five)))
    val_tok = np.concatenate((lines.field(2, data), lines.field(4, five)))
    e_line = np.concatenate((lines.lineno[data], lines.lineno[five]))
    e_col = np.concatenate((col_of_line, col_of_line[cnt[data] == 5]))
    e_row = lookup(row_tok, rows.index, e_line, file, "row")
    vals = to_float(val_tok, e_line, file, "coefficient")
    if not np.isfinite(vals).all():
        k = int(np.argmin(np.isfinite(vals)))
        raise ParseError(file, int(e_line[k]), "coefficient is infinite")
    _no_duplicates(e_col, e_row, e_line, names, rows, file)
    n, m = len(names), len(rows.names)
    obj = e_row == OBJECTIVE
    c = np.zeros(n)
    c[e_col[obj]] = vals[obj]
    keep = e_row >= 0
    A = sp.csr_matrix((vals[keep], (e_row[keep], e_col[keep])), shape=(m, n))
    A.eliminate_zeros()
    return Columns(names=names, index=index, integer=integer, c=c, A=A)


def _integer_lines(lines: Lines, marker: np.ndarray, file: str) -> np.ndarray:
    """Per line: inside an INTORG ... INTEND block (markers must alternate, INTORG first)."""
    pos = np.flatnonzero(marker)
    kinds = lines.field(2, pos)
    org, end = kinds == b"'INTORG'", kinds == b"'INTEND'"
    if not (org[0::2].all() and end[1::2].all()):
        org = _marker_states(lines, pos, file)
    state = np.zeros(pos.shape[0] + 1, dtype=bool)
    state[1:] = org
    return state[np.cumsum(marker)]


def _marker_states(lines: Lines, pos: np.ndarray, file: str) -> np.ndarray:
    """Slow path (unusual quoting or case): the state after each marker, or the first bad one."""
    inside = False
    states = []
    for k in pos.tolist():
        kind = lines.tokens[lines.start[k] + 2].strip(b"'\"").upper()
        if kind == b"INTORG" and not inside:
            inside = True
        elif kind == b"INTEND" and inside:
            inside = False
        elif kind in (b"INTORG", b"INTEND"):
            raise ParseError(file, int(lines.lineno[k]), f"unbalanced {show(kind)} marker")
        else:
            raise UnsupportedFeatureError(
                file, int(lines.lineno[k]), f"MARKER {show(kind)} is not supported"
            )
        states.append(inside)
    return np.array(states, dtype=bool)


def _non_contiguous(names: list[bytes], run_lines: np.ndarray, file: str) -> None:
    seen: dict[bytes, int] = {}
    for name, line in zip(names, run_lines.tolist(), strict=True):
        if name in seen:
            raise ParseError(
                file,
                line,
                f"entries of column {show(name)!r} are not contiguous "
                f"(first at line {seen[name]}, again at line {line})",
            )
        seen[name] = line


def _no_duplicates(
    e_col: np.ndarray,
    e_row: np.ndarray,
    e_line: np.ndarray,
    names: list[bytes],
    rows: Rows,
    file: str,
) -> None:
    """Refuse a (column, row) pair given twice, naming both lines."""
    low = DROPPED - len(rows.dropped)
    key = e_col * (len(rows.names) - low + 1) + (e_row - low)
    dup = first_duplicate(key)
    if dup is None:
        return
    i, j = dup
    a, b = sorted((int(e_line[i]), int(e_line[j])))
    r = int(e_row[i])
    row = (
        rows.objective if r == OBJECTIVE else rows.names[r] if r >= 0 else rows.dropped[DROPPED - r]
    )
    raise ParseError(
        file,
        b,
        f"column {show(names[e_col[i]])!r} has two entries for row {show(row)!r} "
        f"(lines {a} and {b})",
    )


def pairs(lines: Lines, what: str, file: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """RHS/RANGES lines ``[set] row val [row val]``: (names, values, lines, warning).

    Only the first named vector is used; lines of other vectors are dropped with a warning.
    """
    cnt = lines.count
    need_counts(lines, (cnt >= 2) & (cnt <= 5), file, f"{what} line needs 2 to 5 fields")
    has_set = cnt % 2 == 1
    warning = ""
    if has_set.any():
        sets = lines.field(0, has_set)
        other = np.zeros(len(lines), dtype=bool)
        other[has_set] = sets != sets[0]
        if other.any():
            warning = ignored_vectors(what, sets)
            lines = subset(lines, ~other)
            has_set = has_set[~other]
    cnt = lines.count
    first = lines.start + has_set
    two = cnt - has_set == 4
    names = np.concatenate((lines.tokens[first], lines.tokens[first[two] + 2]))
    vals = np.concatenate((lines.tokens[first + 1], lines.tokens[first[two] + 3]))
    where = np.concatenate((lines.lineno, lines.lineno[two]))
    return names, to_bound(to_float(vals, where, file, what)), where, warning


def ignored_vectors(what: str, sets: np.ndarray) -> str:
    """Warning text: only the first named vector of a section is used."""
    others = sorted({show(x) for x in sets[sets != sets[0]].tolist()})
    return f"{what}: only vector {show(sets[0])!r} is used; ignored: {some(others)}"


def subset(lines: Lines, mask: np.ndarray) -> Lines:
    return Lines(lines.tokens, lines.start[mask], lines.count[mask], lines.lineno[mask])


def row_vector(
    lines: Lines, rows: Rows, what: str, file: str
) -> tuple[np.ndarray, float | None, str]:
    """RHS or RANGES as a per-row vector (NaN where absent) and the objective-row value."""
    names, vals, where, warning = pairs(lines, what, file)
    idx = lookup(names, rows.index, where, file, f"{what} for row")
    dup = first_duplicate(idx)
    if dup is not None:
        i, j = dup
        a, b = sorted((int(where[i]), int(where[j])))
        raise ParseError(file, b, f"{what} for row {show(names[i])!r} given twice (lines {a}, {b})")
    out = np.full(len(rows.names), np.nan)
    cons = idx >= 0
    out[idx[cons]] = vals[cons]
    objective = vals[idx == OBJECTIVE]
    return out, (float(objective[0]) if objective.shape[0] else None), warning
