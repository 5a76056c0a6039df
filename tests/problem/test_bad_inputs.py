"""Malformed inputs: always a ParseError (with a line where there is one), never a crash."""

from __future__ import annotations

import contextlib
import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.errors import ParseError
from mipguide.problem.io import read_problem
from mipguide.problem.jsonmodel import read_json
from mipguide.problem.lp import read_lp
from mipguide.problem.mps import read_mps

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"
with open(MIPLIB / "catalog.csv") as _f:
    SMALL_FILES = [
        r["file"] for r in csv.DictReader(_f) if (MIPLIB / r["file"]).stat().st_size < 20_000
    ]

VALID = b"""NAME v
ROWS
 N obj
 L c1
 G c2
COLUMNS
 x obj 1 c1 1
 x c2 2
 MARKER 'MARKER' 'INTORG'
 y obj 2 c1 -1
 MARKER 'MARKER' 'INTEND'
RHS
 rhs c1 4 c2 1
RANGES
 rng c1 2
BOUNDS
 UP bnd x 3
 MI bnd y
ENDATA
"""


@pytest.mark.parametrize("name", SMALL_FILES)
def test_truncated_files(name: str) -> None:
    raw = (MIPLIB / name).read_bytes()
    full = read_problem(raw, name)
    text = gzip.decompress(raw) if name.endswith(".gz") else raw
    rng = np.random.default_rng(len(name))
    for cut in rng.integers(1, len(text), 4).tolist():
        try:
            part = read_mps(text[:cut], name)
        except ParseError as err:
            assert err.file == name and err.line is not None
        else:
            assert part.same_as(full)
    if name.endswith(".gz"):
        with pytest.raises(ParseError):
            read_mps(raw[: len(raw) // 2], name)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.binary(max_size=3)), max_size=4))
def test_mutated_mps_never_crashes(edits: list[tuple[int, bytes]]) -> None:
    data = VALID
    for pos, repl in edits:
        data = data[:pos] + repl + data[pos + 1 :]
    with contextlib.suppress(ParseError):
        read_mps(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_bytes(data: bytes) -> None:
    for reader in (read_mps, read_lp, read_json):
        with contextlib.suppress(ParseError):
            reader(data, "g")


def _err(text: bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        read_mps(text, "bad.mps")
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        (b" x c2 2\n", b" x c9 2\n", 8, "row 'c9' is not defined"),
        (b" x c2 2\n", b" x c2 nan\n", 8, "NaN"),
        (b" x c2 2\n", b" x c2 two\n", 8, "'two' is not a number"),
        (b" x c2 2\n", b" x c2 inf\n", 8, "infinite"),
        (b" x c2 2\n", b" x c2\n", 8, "3 or 5 fields"),
        (b" rhs c1 4 c2 1\n", b" rhs c1 4 c3 1\n", 13, "row 'c3' is not defined"),
        (b" rhs c1 4 c2 1\n", b" rhs c1 4 c2 NaN\n", 13, "NaN"),
        (b" rng c1 2\n", b" rng c1 2 c1 3\n", 15, "given twice"),
        (b" UP bnd x 3\n", b" UP bnd z 3\n", 17, "column 'z' is not defined"),
        (b" UP bnd x 3\n", b" UP bnd x\n", 17, "column 'bnd' is not defined"),
        (b" UP bnd x 3\n", b" XX bnd x 3\n", 17, "unknown bound type"),
        (b" L c1\n", b" Q c1\n", 4, "unknown row type"),
        (b" G c2\n", b" G c1\n", 5, "defined twice"),
        (b"ENDATA\n", b"", 19, "missing ENDATA"),
        (b"RANGES\n", b"FOO\n", 14, "unknown section"),
        (b"COLUMNS\n", b"", 18, "section COLUMNS is missing"),
        (b" MARKER 'MARKER' 'INTORG'\n", b"", 10, "unbalanced"),
        (b" y obj 2 c1 -1\n", b" y obj 2 c1 -1\n x c1 5\n", 11, "not contiguous"),
    ],
)
def test_errors_name_line_and_reason(old: bytes, new: bytes, line: int, words: str) -> None:
    assert old in VALID
    err = _err(VALID.replace(old, new))
    assert err.file == "bad.mps"
    assert err.line == line, err
    assert words in err.reason, err


def test_wrong_section_order() -> None:
    rhs_after_ranges = VALID.replace(b"RHS\n rhs c1 4 c2 1\n", b"").replace(
        b"BOUNDS\n", b"RHS\n rhs c1 4\nBOUNDS\n"
    )
    err = _err(rhs_after_ranges)
    assert err.line == 14 and "out of order" in err.reason
    rows_after_columns = VALID.replace(b"ROWS\n N obj\n L c1\n G c2\n", b"").replace(
        b"RHS\n", b"ROWS\n N obj\n L c1\n G c2\nRHS\n"
    )
    err = _err(rows_after_columns)
    assert err.line == 8 and "out of order" in err.reason


def test_huge_numbers() -> None:
    p = read_mps(
        VALID.replace(b" x c2 2\n", b" x c2 1e300\n").replace(b"UP bnd x 3", b"UP bnd x 1e300")
    )
    assert p.A[1, 0] == 1e300
    assert p.col_upper[0] == np.inf  # a bound of 1e300 is beyond 1e20: infinite
    p = read_mps(
        VALID.replace(b"UP bnd x 3", b"UP bnd x 1e20").replace(b"rhs c1 4", b"rhs c1 -1e20")
    )
    assert p.col_upper[0] == np.inf and p.row_upper[0] == -np.inf
    p = read_mps(VALID.replace(b"UP bnd x 3", b"UP bnd x 9.99e19"))
    assert p.col_upper[0] == 9.99e19


VALID_LP = b"""\\ sample
Maximize
 obj: x + 2 y + 3
Subject To
 c1: x + y <= 4
 c2: -2 <= x - y <= 2
Bounds
 -inf <= y <= 10
 x free
General
 y
End
"""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID_LP) - 1), st.binary(max_size=3)), max_size=4))
def test_mutated_lp_never_crashes(edits: list[tuple[int, bytes]]) -> None:
    data = VALID_LP
    for pos, repl in edits:
        data = data[:pos] + repl + data[pos + 1 :]
    with contextlib.suppress(ParseError):
        read_lp(data)
