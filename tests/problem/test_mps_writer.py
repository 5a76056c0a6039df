"""MPS writer: Problem -> MPS -> Problem is exact."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from mipguide.problem.io import read_problem, write_problem
from mipguide.problem.model import Problem, make_problem
from mipguide.problem.mps import read_mps
from mipguide.problem.mps_writer import mps_text, range_form

from .strategies import problems


def _round_trip(p: Problem) -> Problem:
    return read_mps(mps_text(p).encode(), "rt.mps")


@settings(max_examples=150, deadline=None)
@given(problems())
def test_round_trip_exact(p: Problem) -> None:
    q = _round_trip(p)
    if all(_exact_range(lo, hi) for lo, hi in zip(p.row_lower, p.row_upper, strict=True)):
        assert q.same_as(p)
    else:  # a ranged row MPS cannot carry exactly: the upper bound is within a few ulps
        # of the row's larger bound (rhs + |R| rounds at that magnitude)
        # (an infinite lower bound is no scale: such a row, e.g. [-inf, 0], is exact)
        lower = np.where(np.isfinite(p.row_lower), p.row_lower, 0.0)
        scale = np.maximum(np.abs(lower), np.abs(p.row_upper))
        fin = np.isfinite(p.row_upper)
        err = np.abs(q.row_upper[fin] - p.row_upper[fin])
        assert np.all(err <= 2 * np.spacing(scale[fin]))
        assert np.array_equal(q.row_lower, p.row_lower)
        assert q.same_as(dataclasses.replace(p, row_upper=q.row_upper))
    assert q.offset == p.offset and q.name == p.name
    assert q.objective_name == p.objective_name


def _exact_range(lo: float, hi: float) -> bool:
    if lo == hi or not (np.isfinite(lo) and np.isfinite(hi)):
        return True
    kind, rhs, r = range_form(lo, hi)
    return (rhs + r == hi) if kind == "G" else (rhs - r == lo)


def test_some_ranges_have_no_exact_form() -> None:
    lo, hi = -342654310306.87195, 891798624393.5994
    assert not _exact_range(lo, hi)
    q = _round_trip(make_problem(np.ones((1, 1)), [lo], [hi], [1.0]))
    assert q.row_lower[0] == lo and abs(q.row_upper[0] - hi) <= 2 * np.spacing(hi)


@pytest.mark.parametrize(
    ("lo", "hi"), [(0.1, 0.3), (-1e-300, 1e15), (1e15, 1e15 + 2.0), (-3.0, 1e-17), (5e-324, 1.0)]
)
def test_ranged_rows_are_exact(lo: float, hi: float) -> None:
    p = make_problem(np.ones((1, 1)), [lo], [hi], [1.0])
    q = _round_trip(p)
    assert q.row_lower.tolist() == [lo] and q.row_upper.tolist() == [hi]


@pytest.mark.parametrize("bad", ["a b", "", "*x", "tab\tname"])
def test_names_that_free_mps_cannot_carry(bad: str) -> None:
    p = make_problem(np.ones((1, 1)), [0.0], [1.0], [1.0], var_names=[bad])
    with pytest.raises(ValueError, match="free MPS"):
        mps_text(p)


def test_miplib_round_trip_and_files(miplib_dir: Path, tmp_path: Path) -> None:
    with open(miplib_dir / "catalog.csv") as f:
        files = [row["file"] for row in csv.DictReader(f)]
    for k, name in enumerate(files):
        p = read_problem(miplib_dir / name)
        q = _round_trip(p)
        assert q.same_as(p), name
        assert q.offset == p.offset
        if k % 10 == 0:
            for suffix in (".mps", ".mps.gz", ".mps.bz2", ".json"):
                path = tmp_path / f"{k}{suffix}"
                write_problem(p, path)
                assert read_problem(path).same_as(p), (name, suffix)
