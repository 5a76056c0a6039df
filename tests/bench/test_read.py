"""Reader benchmark: the generator writes what it says, and every reader is timed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mipguide.bench.read import ReadTiming, bench_read, print_table, write_csv, write_random_mps
from mipguide.problem import read_problem


def test_generated_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "r.mps"
    m, n, nnz = write_random_mps(path, 2000, np.random.default_rng(1))
    p = read_problem(path)
    assert (p.num_rows, p.num_vars) == (m, n)
    assert abs(p.nnz - nnz) <= nnz // 100  # rounding can make a coefficient 0.0
    assert p.is_mip and p.warnings == ()


@pytest.mark.slow
def test_bench_read_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # never import highspy here: OR-Tools is already loaded and they clash (the bench runs
    # HiGHS in a child interpreter); the bench extra that make test installs provides it
    assert importlib.util.find_spec("highspy") is not None
    results = bench_read((500,), repeat=1)
    assert len(results) == 1 and isinstance(results[0], ReadTiming)
    r = results[0]
    assert r.ours_s > 0 and r.scip_s is not None and r.highs_s is not None
    write_csv(results, tmp_path / "read.csv")
    assert (tmp_path / "read.csv").read_text().startswith("size,nnz")
    print_table(results)
    assert "ours/SCIP" in capsys.readouterr().out
