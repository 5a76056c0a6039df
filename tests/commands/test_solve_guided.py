"""`mipguide solve --mode pas|auto|srg`: wiring, the JSON result, and bad guidance options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from mipguide.cli import app
from mipguide.models.pas import PaSConfig, PaSNet
from mipguide.models.registry import save_model
from mipguide.models.srg import SrgConfig, SrgNet


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        save_model(PaSNet(PaSConfig(hidden=8, rounds=1)), root / "pas-tiny@1", {})
        save_model(
            SrgNet(SrgConfig(hidden=8)), root / "srg-tiny@1", {"srg": {"sampling": {"steps": 6}}}
        )
    monkeypatch.setenv("MIPGUIDE_MODEL_DIR", str(root))
    monkeypatch.setenv("MIPGUIDE_DEVICE", "cpu")
    return root


@pytest.mark.usefixtures("model_dir")
def test_solve_mode_pas_proves_the_optimum(miplib_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["solve", str(miplib_dir / "p0033.mps.gz"), "--mode", "pas", "--model", "pas-tiny@1"]
    args += [
        "--time-limit",
        "30",
        "--pas",
        "region.k0=0.5",
        "--pas",
        "region.delta=0.1",
        "--out",
        str(out),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "mode pas" in res.output and "model pas-tiny@1" in res.output
    result = json.loads(out.read_text())
    assert result["mode"] == "pas" and result["status"] == "optimal"
    assert result["objective"] == pytest.approx(3089.0)
    assert result["extra"]["pas"]["params"]["region"]["k0"] == 0.5
    assert result["extra"]["pas"]["params"]["region"]["delta"] == 0.1


@pytest.mark.usefixtures("model_dir")
def test_solve_mode_auto_without_a_match_solves_exactly(miplib_dir: Path) -> None:
    res = CliRunner().invoke(app, ["solve", str(miplib_dir / "p0033.mps.gz"), "--mode", "auto"])
    assert res.exit_code == 0, res.output
    assert "mode exact" in res.output and "no registered model matches" in res.output


@pytest.mark.usefixtures("model_dir")
@pytest.mark.parametrize(
    ("extra", "message", "code"),
    [
        (["--mode", "fast"], "unknown mode", 2),
        (["--mode", "pas"], "no registered model matches", 2),
        (["--mode", "pas", "--model", "pas-tiny@1", "--pas", "region.k0=3"], "region.k0", 2),
        (["--mode", "pas", "--model", "pas-tiny@1", "--pas", "k0"], "KEY=VALUE", 2),
        (["--mode", "pas", "--model", "nope@1"], "nope@1", 1),  # ModelError: missing files
    ],
)
def test_bad_guidance_is_reported(
    miplib_dir: Path, extra: list[str], message: str, code: int
) -> None:
    res = CliRunner().invoke(app, ["solve", str(miplib_dir / "p0033.mps.gz"), *extra])
    assert res.exit_code == code and message in res.output, res.output


@pytest.mark.usefixtures("model_dir")
def test_solve_mode_srg_proves_the_optimum(miplib_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["solve", str(miplib_dir / "p0033.mps.gz"), "--mode", "srg", "--model", "srg-tiny@1"]
    args += [
        "--time-limit",
        "30",
        "--srg",
        "sampling.k=4",
        "--srg",
        "region.kind=topk",
        "--out",
        str(out),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "mode srg" in res.output and "model srg-tiny@1: 4 candidates" in res.output
    result = json.loads(out.read_text())
    assert result["mode"] == "srg" and result["status"] == "optimal"
    assert result["objective"] == pytest.approx(3089.0)
    params = result["extra"]["srg"]["params"]
    sampling, region = params["sampling"], params["region"]
    assert (sampling["k"], region["kind"], sampling["steps"]) == (4, "topk", 6)  # user, card


@pytest.mark.usefixtures("model_dir")
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "srg", "--model", "srg-tiny@1", "--srg", "sampling.k=0"], "sampling.k"),
        (["--mode", "srg", "--model", "srg-tiny@1", "--srg", "region.kind=box"], "region.kind"),
        (["--mode", "srg", "--model", "srg-tiny@1", "--srg", "speed=2"], "speed"),
        (["--mode", "srg", "--model", "srg-tiny@1", "--srg", "k"], "KEY=VALUE"),
        (["--mode", "pas", "--model", "pas-tiny@1", "--srg", "sampling.k=4"], "need mode srg"),
        (["--mode", "srg"], "no registered model matches; name an srg model"),
    ],
)
def test_bad_srg_options_exit_2_naming_the_parameter(
    miplib_dir: Path, extra: list[str], message: str
) -> None:
    res = CliRunner().invoke(app, ["solve", str(miplib_dir / "p0033.mps.gz"), *extra])
    assert res.exit_code == 2 and message in res.output, res.output
