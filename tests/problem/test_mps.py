"""MPS reader: the parser conformance cases (EXPECTED.md) and the format's conventions."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import numpy as np
import pytest

from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.model import Sense
from mipguide.problem.mps import read_mps


def _read(path: Path):
    return read_mps(path.read_bytes(), path.name)


def _bounds_of(p) -> dict[str, tuple[float, float, bool]]:
    return {
        name: (float(p.col_lower[j]), float(p.col_upper[j]), bool(p.integrality[j]))
        for j, name in enumerate(p.var_names)
    }


@pytest.mark.parametrize(
    "name", ["objsense_twoline.mps", "objsense_sameline.mps", "os_max_same.mps"]
)
def test_objsense_forms_maximize(parser_cases_dir: Path, name: str) -> None:
    p = _read(parser_cases_dir / name)
    assert p.sense == Sense.MAXIMIZE
    assert p.var_names == ("X",) and p.row_names == ("LIM1",)
    assert p.c.tolist() == [1.0]
    assert p.row_lower.tolist() == [-np.inf] and p.row_upper.tolist() == [4.0]
    assert p.A.toarray().tolist() == [[1.0]]


@pytest.mark.parametrize("name", ["ranges.mps", "ranges.mps.gz"])
def test_ranges_and_objective_rhs(parser_cases_dir: Path, name: str) -> None:
    p = _read(parser_cases_dir / name)
    assert p.row_names == ("EPOS", "ENEG", "LROW", "GROW")
    assert p.row_lower.tolist() == [5.0, 3.0, 2.0, 5.0]
    assert p.row_upper.tolist() == [7.0, 5.0, 5.0, 8.0]
    assert p.offset == 10.0
    assert p.sense == Sense.MINIMIZE


def test_bounds_refuses_semicontinuous(parser_cases_dir: Path) -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        _read(parser_cases_dir / "bounds.mps")
    err = info.value
    assert "semi-continuous variables are not supported" in str(err)
    assert err.file == "bounds.mps" and err.line == 36


def test_bounds_every_type_without_sc(parser_cases_dir: Path, tmp_path: Path) -> None:
    text = (parser_cases_dir / "bounds.mps").read_text()
    path = tmp_path / "bounds_nosc.mps"
    path.write_text("".join(ln for ln in text.splitlines(True) if "XSC" not in ln))
    p = _read(path)
    inf = np.inf
    assert _bounds_of(p) == {
        "XMI": (-inf, inf, False),
        "XPL": (0.0, inf, False),
        "XBV": (0.0, 1.0, True),
        "XLI": (2.0, inf, True),
        "XUI": (0.0, 7.0, True),
        "XFR": (-inf, inf, False),
        "XFX": (3.5, 3.5, False),
        "XNEGUP": (-inf, -5.0, False),
        "XNEGUPLO": (-10.0, -5.0, False),
        "XUPZERO": (0.0, 0.0, False),
        "INODEF": (0.0, 1.0, True),
        "IUPONLY": (0.0, 20.0, True),
    }
    assert len(p.warnings) == 1
    assert "XNEGUP" in p.warnings[0] and "-inf" in p.warnings[0]
    assert "XNEGUPLO" not in p.warnings[0]


def test_duplicate_entry_names_column_row_and_both_lines(parser_cases_dir: Path) -> None:
    with pytest.raises(ParseError) as info:
        _read(parser_cases_dir / "dup.mps")
    err = info.value
    assert err.file == "dup.mps" and err.line == 7
    assert "'X'" in err.reason and "'R1'" in err.reason
    assert "lines 6 and 7" in err.reason


def test_fixed_format_names_with_spaces(parser_cases_dir: Path) -> None:
    p = _read(parser_cases_dir / "fixed_spaces.mps")
    assert p.var_names == ("X ONE",) and p.row_names == ("ROW 1",)
    assert p.c.tolist() == [1.0] and p.sense == Sense.MINIMIZE
    assert p.A.toarray().tolist() == [[1.0]]
    assert p.row_lower.tolist() == [-np.inf] and p.row_upper.tolist() == [4.0]
    assert p.col_lower.tolist() == [0.0] and p.col_upper.tolist() == [np.inf]


SMALL = """NAME test model
* a comment line
ROWS
 N  COST
 G  LIM1
 E  MYEQN
 N  SPARE
COLUMNS
    MARKER  'MARKER'  'INTORG'
    X1  COST  1.0  LIM1  1.0
    X1  MYEQN  -1.0  SPARE 3
    MARKER  'MARKER'  'INTEND'
    X2  COST  2.0  MYEQN  1.0
    X3  LIM1  1e30
RHS
    RHS  LIM1  2  MYEQN  7
    RHS  COST  -1.5
BOUNDS
 UP BND  X1  4
 LO BND  X2  1e20
 MI BND  X3
ENDATA
"""


def test_small_model_conventions() -> None:
    with pytest.raises(ParseError):
        read_mps(SMALL.replace("1e30", "1e400").encode())
    p = read_mps(SMALL.replace("1e30", "1e300").encode(), "small.mps")
    assert p.name == "test model"
    assert p.var_names == ("X1", "X2", "X3") and p.row_names == ("LIM1", "MYEQN")
    assert p.objective_name == "COST"
    assert p.c.tolist() == [1.0, 2.0, 0.0] and p.offset == 1.5
    assert p.A.toarray().tolist() == [[1.0, 0.0, 1e300], [-1.0, 1.0, 0.0]]
    assert p.row_lower.tolist() == [2.0, 7.0] and p.row_upper.tolist() == [np.inf, 7.0]
    assert p.integrality.tolist() == [True, False, False]
    assert p.col_lower.tolist() == [0.0, np.inf, -np.inf]
    assert p.col_upper.tolist() == [4.0, np.inf, np.inf]
    assert any("SPARE" in w for w in p.warnings)


def test_objname_selects_the_objective() -> None:
    text = SMALL.replace("ROWS\n", "OBJNAME SPARE\nROWS\n").replace("1e30", "1")
    p = read_mps(text.encode())
    assert p.objective_name == "SPARE"
    assert p.c.tolist() == [3.0, 0.0, 0.0] and p.offset == 0.0
    assert any("COST" in w for w in p.warnings)


def test_crlf_tabs_and_compression_by_magic() -> None:
    base = read_mps(SMALL.encode())
    crlf = SMALL.replace("\n", "\r\n").replace("  ", "\t").encode()
    for data in (crlf, gzip.compress(SMALL.encode()), bz2.compress(SMALL.encode())):
        assert read_mps(data, "model.txt").same_as(base)


def test_rhs_without_vector_name_and_second_vector_ignored() -> None:
    text = SMALL.replace("    RHS  COST  -1.5\n", "    LIM1  3\n    OTHER  MYEQN  99\n")
    with pytest.raises(ParseError):  # LIM1 given twice: by RHS and by the nameless line
        read_mps(text.encode())
    text = SMALL.replace("    RHS  COST  -1.5\n", "    OTHER  MYEQN  99\n")
    p = read_mps(text.encode())
    assert p.row_lower.tolist() == [2.0, 7.0]
    assert any("OTHER" in w for w in p.warnings)


def test_negative_up_on_integer_and_later_lower_bound() -> None:
    text = SMALL.replace(" UP BND  X1  4\n", " UP BND  X1  -4\n")
    p = read_mps(text.encode())
    assert p.col_lower[0] == -np.inf and p.col_upper[0] == -4.0
    text = SMALL.replace(" UP BND  X1  4\n", " UP BND  X1  -4\n LO BND  X1  -9\n")
    p = read_mps(text.encode())
    assert p.col_lower[0] == -9.0 and not any("UP bound" in w for w in p.warnings)


@pytest.mark.parametrize(
    ("sense", "expected"),
    [("MAX", Sense.MAXIMIZE), ("MAXIMIZE", Sense.MAXIMIZE), ("MIN", Sense.MINIMIZE)],
)
def test_objsense_section_form(sense: str, expected: Sense) -> None:
    text = SMALL.replace("ROWS\n", f"OBJSENSE\n    {sense}\nROWS\n")
    assert read_mps(text.encode()).sense == expected


def test_ranges_signs_on_every_row_type() -> None:
    text = """NAME
ROWS
 N obj
 E e1
 E e2
 E e3
 L l1
 G g1
COLUMNS
 x e1 1 e2 1
 x e3 1 l1 1
 x g1 1
RHS
 rhs e1 1 e2 1
 rhs e3 1 l1 1
 rhs g1 1
RANGES
 rng e1 2 e2 -2
 rng e3 0 l1 -2
 rng g1 1e30
ENDATA
"""
    p = read_mps(text.encode())
    assert p.row_lower.tolist() == [1.0, -1.0, 1.0, -1.0, 1.0]
    assert p.row_upper.tolist() == [3.0, 1.0, 1.0, 1.0, np.inf]
