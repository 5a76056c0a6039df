"""``mipguide bench dmmv`` (groups, verdicts, the hybrid's MILP choice, the declared grid) and
``mipguide bench device``, on small cases: real DMMV, SCIP, HiGHS and torch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mipguide.bench.device import run_bench_device
from mipguide.bench.dmmv import parse_grid, run_bench_dmmv, tune_dmmv
from mipguide.cli import app
from mipguide.settings import get_settings


def test_bench_dmmv_groups_verdicts_and_files(tmp_path: Path) -> None:
    text = io.StringIO()
    rows, groups = run_bench_dmmv(
        0.5, tmp_path, True, Console(file=text, width=200), seeds=[3], families={"tomo", "fir"}
    )
    methods = {r.method for r in rows}
    assert methods == {"rtn", "dmmv", "hybrid (highs)", "scip", "highs"}
    assert [g.group for g in groups] == [
        "tomo 16x16 L2 4 angles",
        "tomo 16x16 L4 4 angles",
        "fir 15 taps 8 bit",
    ]
    for g in groups:
        # the hybrid keeps the better of DMMV's and HiGHS's points: never behind HiGHS by more
        # than the timing of a wall-clock-limited MILP explains
        assert g.means["hybrid (highs)"] <= max(g.means["highs"], g.means["dmmv"]) * 1.5 + 1e-9
        assert g.means["rtn"] >= min(g.means[m] for m in ("dmmv", "scip", "highs"))
    out = text.getvalue()
    assert "the hybrid's MILP by these 3 instances" in out and "of 3 groups" in out
    with (tmp_path / "groups.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 3
    assert (tmp_path / "instances.csv").exists() and (tmp_path / "dmmv_bench.png").exists()


def test_bench_dmmv_only_and_the_grid(tmp_path: Path) -> None:
    text = io.StringIO()
    console = Console(file=text, width=200)
    rows, _ = run_bench_dmmv(
        0.3,
        None,
        True,
        console,
        seeds=[1],
        families={"fir"},
        only={"dmmv"},
        throughput_rows=False,
        solver_seed=2,  # DMMV's search seed (and the MILPs', which do not run here)
    )
    assert {r.method for r in rows} == {"rtn", "dmmv"}
    chosen = tune_dmmv(
        parse_grid(["rounding_restarts=0,0.5"]), 0.3, [1], {"fir"}, console, quick=True
    )
    assert chosen["rounding_restarts"] in (0.0, 0.5)
    assert "chosen: rounding_restarts=" in text.getvalue()
    # the hybrid's grid: every combination runs, and the per-instance rows are written
    grid = parse_grid(["solver=scip,highs", "follow=0,1"])
    assert grid == {"solver": ["scip", "highs"], "follow": [False, True]}
    chosen = tune_dmmv(grid, 0.3, [1], {"fir"}, console, quick=True, out=tmp_path)
    assert chosen["solver"] in ("scip", "highs") and chosen["follow"] in (False, True)
    lines = (tmp_path / "tune.csv").read_text().splitlines()
    assert len(lines) == 1 + 4  # one FIR instance in the quick set, four combinations
    assert any("hybrid (scip) solver=scip follow=1" in line for line in lines)
    assert parse_grid(["polish_on=milp,stalled"]) == {"polish_on": ["milp", "stalled"]}
    assert parse_grid(["switch=0,0.1"]) == {"switch": [0.0, 0.1]}
    for bad_spec in (
        ["follow=2"],
        ["solver=cplex"],
        ["polish=0.1", "polish=0.2"],
        ["x=1"],
        ["polish_on=gpu"],
    ):
        with pytest.raises(ValueError):
            parse_grid(bad_spec)
    runner = CliRunner()
    bad = runner.invoke(app, ["bench", "dmmv", "--quick", "--only", "cplex"])
    assert bad.exit_code != 0 and "--only" in bad.output
    bad = runner.invoke(app, ["bench", "dmmv", "--quick", "--tune", "device=1"])
    assert bad.exit_code != 0 and "--tune" in bad.output
    bad = runner.invoke(app, ["bench", "dmmv", "--quick", "--tune", "solver=cplex"])
    assert bad.exit_code != 0 and "--tune" in bad.output
    bad = runner.invoke(app, ["bench", "dmmv", "--quick", "--solver-seed", "-1"])
    assert bad.exit_code != 0 and "--solver-seed" in bad.output


def test_bench_device_on_the_cpu(tmp_path: Path) -> None:
    text = io.StringIO()
    rows = run_bench_device(
        get_settings().model_dir,
        tmp_path,
        Console(file=text, width=200),
        repeat=1,
        dmmv_iterations=3,
        batch=2,
        batch_iterations=2,
    )
    names = {r.workload for r in rows}
    assert names == {"dmmv tomo 64x64", "dmmv tomo 64x64 batch 2", "srg sample", "pas predict"}
    assert all(r.median > 0 and r.device.startswith(("cpu", "cuda")) for r in rows)
    srg = next(r for r in rows if r.workload == "srg sample")
    assert "1500 binaries, K=16" in srg.detail and 0.0 <= srg.quality <= 1.0
    assert (tmp_path / "device.csv").exists() and (tmp_path / "device.png").exists()


def test_bench_pool_times_each_way_and_writes_its_files(tmp_path: Path) -> None:
    from mipguide.bench.pool import run_bench_pool

    text = io.StringIO()
    rows = run_bench_pool(
        get_settings().model_dir, tmp_path, Console(file=text, width=200), requests=2, repeat=1
    )
    assert [r.path for r in rows] == [
        "in process, one graph",
        "pool, one request",
        "in process, 2 one after another",
        "pool, 2 at once",
        "in process",
        "pool, one request",
    ]
    assert all(r.median > 0 and r.per_request == r.median / r.requests for r in rows)
    # the pool's answers name their batch: two requests of one model at once share at most one
    assert 1 <= rows[3].batch <= 2
    assert (tmp_path / "pool.png").stat().st_size > 0
    with (tmp_path / "pool.csv").open() as fh:
        assert len(fh.read().splitlines()) == 7
    assert "the device pool" in text.getvalue()
