"""The `mipguide` command as a user runs it: exit codes, summary, JSON result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MIPLIB = Path(__file__).parent / "data" / "miplib"
CASES = Path(__file__).parent / "data" / "parser-cases"


def mipguide(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mipguide.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("solver", ["scip", "cpsat", "highs", "ortools-highs"])
def test_solve_writes_verified_json(tmp_path: Path, solver: str) -> None:
    out = tmp_path / "r.json"
    proc = mipguide("solve", str(MIPLIB / "p0033.mps.gz"), "--solver", solver, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "optimal" in proc.stdout
    result = json.loads(out.read_text())
    assert result["status"] == "optimal"
    assert result["termination"] == "optimal"
    assert abs(result["objective"] - 3089.0) <= 1e-6 * 3089
    assert result["max_violation"] <= 1e-6
    assert result["solver"] == solver and result["solver_version"]
    assert set(result["seconds"]) >= {"read", "build", "solve", "verify", "total"}
    assert result["incumbents"] and result["incumbents"][-1]["source"] in ("solver", "start")
    assert len(result["values"]) == 33
    assert result["gap"] == 0.0


def test_infeasible_status_exit_zero(tmp_path: Path) -> None:
    proc = mipguide("solve", str(MIPLIB / "galenet.mps"), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "infeasible"


def test_lp_file_warning_is_shown(tmp_path: Path) -> None:
    proc = mipguide("solve", str(CASES / "t.lp"), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["status"] == "infeasible"
    assert any("x" in w for w in result["warnings"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["solve", "does-not-exist.mps"], "no such file"),
        (["solve", str(CASES / "dup.mps")], "dup.mps:"),
        (["solve", str(MIPLIB / "p0033.mps.gz"), "--solver", "gurobi"], "valid: "),
        (["solve", str(MIPLIB / "p0033.mps.gz"), "--param", "limits/tme=3"], "limits/time"),
        (["solve", str(MIPLIB / "p0033.mps.gz"), "--param", "noequals"], "KEY=VALUE"),
    ],
)
def test_bad_input_exits_2_with_message(args: list[str], needle: str) -> None:
    proc = mipguide(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert needle in proc.stderr


def test_unsupported_problem_for_backend_exits_2(tmp_path: Path) -> None:
    # glop solves LPs only; p0033 has integer variables
    proc = mipguide("solve", str(MIPLIB / "p0033.mps.gz"), "--solver", "glop")
    assert proc.returncode == 2, proc.stderr
    assert "LPs only" in proc.stderr


def test_doctor_lists_backends() -> None:
    proc = mipguide("doctor")
    assert proc.returncode == 0, proc.stderr
    for name in ("scip", "cpsat", "highs", "pyscipopt", "ortools", "torch"):
        assert name in proc.stdout


def test_doctor_masks_secrets() -> None:
    from mipguide.commands.doctor import public_settings
    from mipguide.settings import Settings

    settings = Settings(
        api_keys="key-one,key-two",
        metrics_token="scrape-me",
        api_key="client-key",
        db_url="postgresql+psycopg://mip:hunter2@db.example:5432/mipguide",
    )
    shown = public_settings(settings)
    text = json.dumps(shown)
    for secret in ("key-one", "key-two", "scrape-me", "client-key", "hunter2"):
        assert secret not in text
    assert shown["api_keys"] == shown["metrics_token"] == shown["api_key"] == "***"
    assert shown["db_url"] == "postgresql+psycopg://mip:***@db.example:5432/mipguide"
    assert public_settings(Settings(api_keys="", metrics_token=""))["api_keys"] == ""


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--time-limit", "-5"], "--time-limit"),
        (["--time-limit", "0"], "--time-limit"),
        (["--gap", "-1"], "--gap"),
        (["--abs-gap", "inf"], "--abs-gap"),
        (["--solver", "fake"], "--solver"),
        (["--solver", "auto", "--param", "limits/nodes=5"], "--param"),
        (["--solver", "auto", "--dmmv"], "--dmmv"),
    ],
)
def test_solve_refuses_what_the_api_refuses_before_reading(args: list[str], option: str) -> None:
    from typer.testing import CliRunner

    from mipguide.cli import app

    res = CliRunner().invoke(app, ["solve", str(MIPLIB / "p0033.mps.gz"), *args])
    assert res.exit_code == 2, res.output
    assert f"{option}:" in res.output and "P0033" not in res.output  # the model was not read
    if option == "--solver":
        assert "fake" not in res.output.split("valid:")[1]


def test_settings_read_the_environment_and_refuse_bad_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import replace

    from mipguide.errors import InvalidOptionError
    from mipguide.settings import Settings, settings_json

    monkeypatch.setenv("MIPGUIDE_PORT", "9001")
    monkeypatch.setenv("mipguide_api_docs", "false")  # any case
    monkeypatch.setenv("MIPGUIDE_DB_URL", "")  # empty: unset for an optional setting
    monkeypatch.setenv("MIPGUIDE_NOT_A_SETTING", "x")  # ignored
    s = Settings()
    assert (s.port, s.api_docs, s.db_url) == (9001, False, None)
    assert Settings(port=5).port == 5 and replace(s, port=3).port == 3  # arguments win
    assert settings_json(s)["data_dir"] == "var"
    for name, value, message in (
        ("MIPGUIDE_WORKERS", "0", "at least 1"),
        ("MIPGUIDE_PORT", "eighty", "expected int"),
        ("MIPGUIDE_API_DOCS", "maybe", "expected bool"),
        ("MIPGUIDE_MAX_DECOMPRESSION_RATIO", "1", "more than 1"),
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(InvalidOptionError, match=message) as info:
            Settings()
        assert info.value.option == name
        monkeypatch.delenv(name)
