"""`mipguide bench srg`: the tables, the CSVs and the PNG on a small configuration."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipguide.cli import app

WEIGHTS = Path(__file__).parents[2] / "models" / "weights"


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped models, on the CPU."""
    monkeypatch.setenv("MIPGUIDE_MODEL_DIR", str(WEIGHTS))
    monkeypatch.setenv("MIPGUIDE_DEVICE", "cpu")


def small(families: str, out: Path, *extra: str) -> list[str]:
    """``bench srg`` on easy instances of seed 2000, K = 4 and 4 steps."""
    args = ["bench", "srg", "--families", families, "--size", "easy", "--seeds", "2000"]
    args += ["--timing-size", "easy", "--repeat", "1", "--srg", "sampling.k=4"]
    return [*args, "--srg", "sampling.steps=4", *extra, "--out", str(out)]


def test_bench_srg_writes_tables_csv_and_png(tmp_path: Path, shipped: None) -> None:
    out = tmp_path / "srg"
    res = CliRunner().invoke(app, small("indset,facility", out))
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


def test_bench_srg_tunes_a_guidance_parameter_on_a_declared_grid(
    tmp_path: Path, shipped: None
) -> None:
    out = tmp_path / "tune"
    grid = ["--srg", "sampling.aggregates=true", "--tune", "sampling.aggregate_rho=1,0.2"]
    res = CliRunner().invoke(app, small("facility", out, *grid))
    assert res.exit_code == 0, res.output
    assert "guidance grid" in res.output
    with (out / "raw.csv").open(newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert [(r["setting"], r["guidance"]) for r in raw] == [
        ("sampling.aggregate_rho=1", "True"),
        ("sampling.aggregate_rho=0.2", "True"),
        ("", "False"),
    ]
    with (out / "tune.csv").open(newline="") as fh:
        tune = list(csv.DictReader(fh))
    assert [t["setting"] for t in tune] == [
        "sampling.aggregate_rho=1",
        "sampling.aggregate_rho=0.2",
        "unguided",
    ]
    assert [t["chosen"] for t in tune].count("True") == 1 and tune[-1]["chosen"] == "False"
    ratios = [float(t["mean_ratio"]) for t in tune]
    assert min(ratios) == pytest.approx(1.0) or min(ratios) == pytest.approx(2.0)
    chosen = next(t for t in tune if t["chosen"] == "True")
    assert float(chosen["mean_ratio"]) == min(ratios[:-1])


@pytest.mark.parametrize(
    ("spec", "says"),
    [("sampling.k=4,8", "cannot be tuned"), ("sampling.rho=a", "numbers"), ("sampling.rho=", "")],
)
def test_bench_srg_rejects_a_bad_grid(tmp_path: Path, spec: str, says: str) -> None:
    res = CliRunner().invoke(app, ["bench", "srg", "--tune", spec, "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--tune" in res.output and says in res.output
