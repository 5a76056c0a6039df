"""`mipguide bench srg`: the tables, the CSVs and the PNG on a small configuration."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipguide.cli import app

WEIGHTS = Path(__file__).parents[2] / "models" / "weights"


def test_bench_srg_writes_tables_csv_and_png(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPGUIDE_MODEL_DIR", str(WEIGHTS))
    monkeypatch.setenv("MIPGUIDE_DEVICE", "cpu")
    out = tmp_path / "srg"
    args = ["bench", "srg", "--families", "indset,facility", "--size", "easy"]
    args += ["--seeds", "2000", "--timing-size", "easy", "--repeat", "1"]
    args += ["--srg", "sampling.k=4", "--srg", "sampling.steps=4", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "SRG sampling time" in res.output and "raw candidates" in res.output
    with (out / "timing.csv").open(newline="") as fh:
        timing = list(csv.DictReader(fh))
    assert [t["instance"] for t in timing] == ["indset-easy-2000", "cauction-easy-2000"]
    assert all(float(t["median"]) > 0 and t["k"] == "4" for t in timing)
    with (out / "raw.csv").open(newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert [(r["instance"], r["guidance"]) for r in raw] == [
        ("indset-easy-2000", "True"),
        ("indset-easy-2000", "False"),
        ("facility-easy-2000", "True"),
        ("facility-easy-2000", "False"),
    ]
    assert all(0.0 <= float(r["feasible_rate"]) <= 1.0 for r in raw)
    assert (out / "srg.png").stat().st_size > 1000


def test_bench_srg_rejects_bad_parameters(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["bench", "srg", "--srg", "sampling.steps=0", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and "sampling.steps" in res.output
