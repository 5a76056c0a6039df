"""CPLEX LP reader: the conformance cases and the grammar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.lp import read_lp
from mipguide.problem.model import Sense


def test_t_lp_ranged_row_and_inconsistent_bounds(parser_cases_dir: Path) -> None:
    p = read_lp((parser_cases_dir / "t.lp").read_bytes(), "t.lp")
    assert p.sense == Sense.MAXIMIZE and p.offset == 3.0
    assert p.var_names == ("x", "y") and p.row_names == ("c1", "c2")
    assert p.c.tolist() == [1.0, 2.0]
    assert p.A.toarray().tolist() == [[1.0, 1.0], [1.0, -1.0]]
    assert p.row_lower.tolist() == [-np.inf, -2.0] and p.row_upper.tolist() == [4.0, 2.0]
    assert p.col_lower.tolist() == [0.0, -np.inf] and p.col_upper.tolist() == [-1.0, 10.0]
    assert p.integrality.tolist() == [False, True]
    assert p.warnings == ("bounds of x are inconsistent: [0, -1]; the model is infeasible",)


def test_t2_lp(parser_cases_dir: Path) -> None:
    p = read_lp((parser_cases_dir / "t2.lp").read_bytes(), "t2.lp")
    assert p.var_names == ("x", "y", "z") and p.c.tolist() == [1.0, 2.0, 1.0]
    assert p.A.toarray().tolist() == [[1.0, 1.0, 1.0], [1.0, -1.0, 0.0]]
    assert p.row_lower.tolist() == [-np.inf, -2.0] and p.row_upper.tolist() == [4.0, np.inf]
    assert p.col_lower.tolist() == [0.0, -np.inf, 0.0]
    assert p.col_upper.tolist() == [-1.0, 10.0, np.inf]
    assert p.integrality.tolist() == [False, True, False]
    assert len(p.warnings) == 1 and "bounds of x are inconsistent" in p.warnings[0]


GRAMMAR = r"""\ every construct
Minimize
 cost: 2x + 3.5e2 z
   - w + 4 - 1
Subject To
 a: x + z =< 10
 b: -x
    + 2 y => -5
 x + y = 3
 -inf <= x - w <= 8
 R3: w >= 1e30
Bounds
 x free
 y = 3
 z >= -inf
 2 <= w
 w <= 1e21
 -4 <= v <= 6
General
 y
Binaries
 b1
End
"""


def test_grammar() -> None:
    p = read_lp(GRAMMAR.encode(), "g.lp")
    assert p.sense == Sense.MINIMIZE and p.offset == 3.0
    assert p.var_names == ("x", "z", "w", "y", "v", "b1")
    assert p.c.tolist() == [2.0, 350.0, -1.0, 0.0, 0.0, 0.0]
    assert p.row_names == ("a", "b", "R3_", "R4", "R3")
    assert p.A.toarray().tolist() == [
        [1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        [-1.0, 0.0, 0.0, 2.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, -1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    ]
    assert p.row_lower.tolist() == [-np.inf, -5.0, 3.0, -np.inf, np.inf]
    assert p.row_upper.tolist() == [10.0, np.inf, 3.0, 8.0, np.inf]
    assert p.col_lower.tolist() == [-np.inf, -np.inf, 2.0, 3.0, -4.0, 0.0]
    assert p.col_upper.tolist() == [np.inf, np.inf, np.inf, 3.0, 6.0, 1.0]
    assert p.integrality.tolist() == [False, False, False, True, False, True]
    assert p.warnings == ()


def test_repeated_variable_sums() -> None:
    p = read_lp(b"max\n x + x - 3 x\nst\n c: x + 2 x <= 1\nend\n")
    assert p.c.tolist() == [-1.0] and p.A.toarray().tolist() == [[3.0]]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("min\n x\nst\n c: x + <= 1\nend\n", 4, "term"),
        ("min\n x\nst\n c: x y <= 1\nend\n", 4, "+ or -"),
        ("min\n x\nst\n c: x <= \nend\n", 5, "right-hand side"),
        ("min\n x\nst\n c: x + 1\nend\n", 5, "<=, >= or ="),
        ("min\n x\nst\n c: 1 <= x >= 0\nend\n", 4, "ranged"),
        ("min\n x\nst\n c: x <= 1\n", 4, "End"),
        ("min\n x\nst\n c: x <= 1 § \nend\n", 4, "character"),
        ("x <= 1\nmin\n x\nend\n", 1, "Maximize or Minimize"),
        ("min\n x\nbounds\n x <= y\nend\n", 4, "bound"),
        ("min\n x\nst\n c: x <= 1\n c: x >= 0\nend\n", 5, "twice (first on line 4)"),
        ("min\n x\nbounds\n x <= 1\nst\n c: x <= 1\nend\n", 5, "out of order"),
    ],
)
def test_errors_name_the_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ParseError) as info:
        read_lp(text.encode(), "bad.lp")
    assert info.value.line == line and info.value.file == "bad.lp"
    assert words in info.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "min\n x\nst\n c: x <= 1\nsemi-continuous\n x\nend\n",
        "min\n x\nst\n c: x <= 1\nsemi\n x\nend\n",
        "min\n x + [ x ^ 2 ]\nend\n",
        "min\n x\nst\n c: b = 1 -> x <= 1\nend\n",
        "min\n x\nst\n c: x <= 1\nsos\nend\n",
    ],
)
def test_unsupported_features(text: str) -> None:
    with pytest.raises(UnsupportedFeatureError):
        read_lp(text.encode())
