"""DMMV as a MILP feasibility heuristic: dmmv_start on pure-integer problems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mipguide.heuristics.dmmv.start import dmmv_instance, dmmv_start
from mipguide.problem.model import make_problem
from mipguide.problem.verify import verify


def _knapsack_like():
    rng = np.random.default_rng(0)
    A = rng.integers(1, 6, size=(6, 15)).astype(float)
    planted = rng.integers(0, 3, 15).astype(float)
    act = A @ planted
    return make_problem(
        A,
        act - 2,
        act + 2,
        c=rng.normal(size=15),
        col_lower=np.zeros(15),
        col_upper=np.full(15, 2.0),
        integrality=np.ones(15, bool),
    )


def test_dmmv_start_finds_a_feasible_point() -> None:
    p = _knapsack_like()
    x = dmmv_start(p, time_limit=3.0, seed=0)
    assert x is not None and verify(p, x).feasible


def test_dmmv_start_declines_problems_it_cannot_take() -> None:
    p = _knapsack_like()
    mixed = make_problem(p.A, p.row_lower, p.row_upper, p.c, col_upper=p.col_upper)
    assert dmmv_instance(mixed) is None
    unbounded = make_problem(p.A, p.row_lower, p.row_upper, p.c, integrality=np.ones(15, bool))
    assert dmmv_start(unbounded, 1.0) is None


def _mipguide(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mipguide.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_solve_with_dmmv_start_on_a_pure_integer_instance(
    tmp_path: Path, miplib_dir: Path
) -> None:
    out = tmp_path / "p0033.json"
    proc = _mipguide(
        "solve",
        str(miplib_dir / "p0033.mps.gz"),
        "--dmmv",
        "--dmmv-seconds",
        "3",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["status"] == "optimal" and result["objective"] == pytest.approx(3089.0)
    assert result["max_violation"] <= 1e-6
    found = result["extra"]["dmmv"]["found"]
    sources = [i["source"] for i in result["incumbents"]]
    assert ("dmmv" in sources) == found
    if found:  # the DMMV point comes first and is a feasible (verified) point
        assert sources[0] == "dmmv" and "(dmmv)" in proc.stdout
    assert "dmmv" in result["seconds"]


def test_cli_solve_with_dmmv_warns_on_a_mixed_instance(tmp_path: Path, miplib_dir: Path) -> None:
    out = tmp_path / "egout.json"
    proc = _mipguide("solve", str(miplib_dir / "egout.mps.gz"), "--dmmv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "warning: dmmv skipped: the problem is not pure-integer" in " ".join(proc.stdout.split())
    result = json.loads(out.read_text())
    assert result["objective"] == pytest.approx(568.1007) and "dmmv" not in result["extra"]
