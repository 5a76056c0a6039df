"""The COLUMNS fast path agrees with the careful path: same Columns, or it declines (None)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.bench.read import write_random_mps
from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.mps_fast import Scan, fast_columns
from mipguide.problem.mps_lex import split_sections, tokenize_free
from mipguide.problem.mps_sections import Columns, parse_columns, parse_rows

DATA = Path(__file__).parents[1] / "data"
with open(DATA / "miplib" / "catalog.csv") as _f:
    MIPLIB = [r["file"] for r in csv.DictReader(_f)]
CASES = sorted(p.name for p in (DATA / "parser-cases").glob("*.mps*"))

VALID = b"""NAME v
ROWS
 N obj
 L c1
 G c2
 N spare
 E c3
COLUMNS
 x obj 1 c1 1
 x c2 2
 MARKER 'MARKER' 'INTORG'
 y obj 2 c1 -1
 y spare 4 c3 1e-3
 MARKER 'MARKER' 'INTEND'
 long_column_name_beyond_16 c2 -0.0 c3 5
 z c3 +7.
RHS
 rhs c1 4 c2 1
ENDATA
"""


def _text(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def _both(data: bytes) -> tuple[Columns | None, Columns | Exception] | None:
    """(fast, careful) COLUMNS of ``data``; None where ROWS/COLUMNS cannot be reached."""
    scan = Scan.of(data)
    try:
        sections = {s.keyword: s for s in split_sections(data, "f", scan.newlines)}
        rows_sec, col_sec = sections["ROWS"], sections["COLUMNS"]
        header = sections.get("OBJNAME")
        objname = header.args[0] if header is not None and header.args else None
        rows = parse_rows(tokenize_free(rows_sec.body, rows_sec.first_line), objname, "f")
    except (ParseError, UnsupportedFeatureError, KeyError):
        return None
    if col_sec.payload is not data:
        scan = Scan.of(col_sec.payload)
    fast = fast_columns(scan, col_sec.body_start, col_sec.body_end, rows)
    careful: Columns | Exception
    try:
        careful = parse_columns(tokenize_free(col_sec.body, col_sec.first_line), rows, "f")
    except (ParseError, UnsupportedFeatureError) as exc:
        careful = exc
    return fast, careful


def _assert_agree(data: bytes, *, must_be_fast: bool = False) -> None:
    got = _both(data)
    if got is None:
        return
    fast, careful = got
    if isinstance(careful, Exception):
        assert fast is None, careful
        return
    if fast is None:
        assert not must_be_fast, "the fast path declined a well-formed file"
        return
    assert fast.names == careful.names
    assert fast.index == careful.index
    assert fast.integer.dtype == careful.integer.dtype
    assert np.array_equal(fast.integer, careful.integer)
    assert np.array_equal(fast.c, careful.c)
    assert np.array_equal(np.signbit(fast.c), np.signbit(careful.c))
    assert fast.A.shape == careful.A.shape and fast.A.format == careful.A.format
    for part in ("data", "indices", "indptr"):
        a, b = getattr(fast.A, part), getattr(careful.A, part)
        assert a.dtype == b.dtype and np.array_equal(a, b), part
    assert fast.A.has_sorted_indices == careful.A.has_sorted_indices


@pytest.mark.parametrize("name", MIPLIB)
def test_miplib_columns_agree(name: str) -> None:
    _assert_agree(_text(DATA / "miplib" / name), must_be_fast=True)


@pytest.mark.parametrize("name", CASES)
def test_parser_cases_agree(name: str) -> None:
    _assert_agree(_text(DATA / "parser-cases" / name))


@pytest.mark.parametrize("nnz", [50, 3000])
def test_generated_files_take_the_fast_path(nnz: int, tmp_path: Path) -> None:
    path = tmp_path / "r.mps"
    write_random_mps(path, nnz, np.random.default_rng(nnz))
    _assert_agree(path.read_bytes(), must_be_fast=True)
    _assert_agree(path.read_bytes().replace(b"\n", b"\r\n"), must_be_fast=True)
    _assert_agree(path.read_bytes().replace(b"  ", b"\t"), must_be_fast=True)


def test_valid_sample_takes_the_fast_path() -> None:
    _assert_agree(VALID, must_be_fast=True)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b" x c2 2\n", b" x c9 2\n"),  # undefined row
        (b" x c2 2\n", b" x c2 two\n"),  # not a number
        (b" x c2 2\n", b" x c2 nan\n"),
        (b" x c2 2\n", b" x c2 -inf\n"),
        (b" x c2 2\n", b" x c2\n"),  # field count
        (b" x c2 2\n", b" x c1 2\n"),  # duplicate entry
        (b" x c2 2\n", b" x obj 2\n"),  # duplicate objective entry
        (b" z c3 +7.\n", b" z c3 +7.\n x c3 1\n"),  # not contiguous
        (b" MARKER 'MARKER' 'INTORG'\n", b""),  # unbalanced
        (b"'INTORG'", b"'intorg'"),  # careful path decides
        (b"'INTORG'", b"'SOS1'"),
        (b" y spare 4", b" y c1 4"),
        (b" z c3 +7.\n", b" z c\x003 +7.\n"),  # NUL inside a token
        (b" z c3 +7.\n", b" z c3 1_0\n"),  # Python float syntax
        (b" z c3 +7.\n", b" z " + b"c" * 300 + b" 1\n"),  # very long token
    ],
)
def test_edits_agree(old: bytes, new: bytes) -> None:
    assert old in VALID
    _assert_agree(VALID.replace(old, new))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(VALID) - 1),
            st.sampled_from(
                [
                    b"",
                    b" ",
                    b"\n",
                    b"\t",
                    b"\r",
                    b"\x0b",
                    b"\x00",
                    b"x",
                    b"c1",
                    b"1",
                    b"-",
                    b".",
                    b"e",
                    b"'MARKER'",
                    b"'INTEND'",
                    b"obj",
                    b"y",
                    b"\xc3\xa9",
                ]
            ),
            st.booleans(),
        ),
        max_size=4,
    )
)
def test_mutations_agree(edits: list[tuple[int, bytes, bool]]) -> None:
    data = VALID
    for pos, repl, insert in edits:
        data = data[:pos] + repl + data[pos + (0 if insert else 1) :]
    _assert_agree(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b" ", b"\n", b"\t", b"\r", b"ab", b"c", b"\x0c", b"\x01"])))
def test_scan_matches_bytes_split(parts: list[bytes]) -> None:
    data = b"".join(parts)
    scan = Scan.of(data)
    tokens = [
        data[s : s + n] for s, n in zip(scan.start.tolist(), scan.length.tolist(), strict=True)
    ]
    assert scan.plain == (b"\x01" not in data)
    if scan.plain:
        assert tokens == data.split()
    assert scan.newlines.tolist() == [i for i, b in enumerate(data) if b == 10]
    assert scan.before.tolist() == [sum(s < q for s in scan.start.tolist()) for q in scan.newlines]


def test_scan_across_chunks() -> None:
    line = b"  name_%d  row  1.5\n"
    data = b"".join(line % i for i in range(150_000)) + b"\n" * 3 + b"tail"
    scan = Scan.of(data)
    assert len(data) > 2 << 20  # several chunks
    starts = scan.start.tolist()
    tokens = [data[s : s + n] for s, n in zip(starts, scan.length.tolist(), strict=True)]
    assert tokens == data.split()
    assert scan.newlines.tolist() == [i for i, b in enumerate(data) if b == 10]
    assert np.array_equal(scan.before, np.searchsorted(scan.start, scan.newlines))
