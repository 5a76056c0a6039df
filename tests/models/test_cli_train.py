"""`mipguide train` and `mipguide bench features`: argument wiring and input errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli import app


def test_train_wires_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import service.commands.train as train_cmd

    seen: dict[str, Any] = {}

    def fake_run_train(
        families, size, train_seeds, val_seeds, out, pool_dirs, pool, train, *a, **k
    ):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.update(locals())

    monkeypatch.setattr(train_cmd, "run_train", fake_run_train)
    monkeypatch.setenv("MIPGUIDE_DATA_DIR", str(tmp_path))
    args = ["train", "--family", "indset", "--size", "medium", "--train-seeds", "0-2"]
    args += ["--val-seeds", "10-11", "--epochs", "3", "--seed", "4", "--pool-time", "1.5"]
    args += ["--label-temperature", "0.05", "--out", str(tmp_path / "pas-indset@1")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert [f.value for f in seen["families"]] == ["indset"] and seen["size"].value == "medium"
    assert seen["train_seeds"] == [0, 1, 2] and seen["val_seeds"] == [10, 11]
    assert seen["train"].epochs == 3 and seen["train"].seed == 4
    assert seen["train"].temperature_fraction == 0.05
    assert seen["pool"].time_limit == 1.5 and seen["pool"].seed == 4
    assert list(seen["pool_dirs"].values()) == [tmp_path / "pools" / "indset-medium"]


def test_train_several_families_share_per_family_pools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import service.commands.train as train_cmd

    seen: dict[str, Any] = {}
    monkeypatch.setattr(train_cmd, "run_train", lambda *a, **k: seen.update(args=a, kw=k))
    monkeypatch.setenv("MIPGUIDE_DATA_DIR", str(tmp_path))
    args = ["train", "--family", "all", "--size", "medium", "--out", str(tmp_path / "pas-mix@1")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    families, pool_dirs = seen["args"][0], seen["args"][5]
    assert [f.value for f in families] == ["setcover", "cauction", "indset", "facility"]
    assert pool_dirs[families[3]] == tmp_path / "pools" / "facility-medium"
    assert seen["kw"]["command"].startswith("mipguide ")


def test_train_rejects_unknown_family(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["train", "--family", "tsp", "--out", str(tmp_path / "a@1")])
    assert res.exit_code == 2
    assert "unknown family" in res.output


def test_train_rejects_a_non_positive_label_temperature(tmp_path: Path) -> None:
    args = ["train", "--family", "indset", "--label-temperature", "0"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a@1")])
    assert res.exit_code == 2
    assert "--label-temperature" in res.output and "positive" in res.output
    assert not (tmp_path / "a@1").exists()


def test_bench_features_prints_table() -> None:
    res = CliRunner().invoke(
        app, ["bench", "features", "--size", "easy", "--no-big", "--repeat", "1"]
    )
    assert res.exit_code == 0, res.output
    for name in ("setcover-easy-0", "cauction-easy-0", "indset-easy-0", "facility-easy-0"):
        assert name in res.output
