"""`mipguide train` and `mipguide bench features`: argument wiring and input errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mipguide.cli import app


def _capture_jobs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace the training recipe by a recorder of the job it is given."""
    import mipguide.models.train

    jobs: list[Any] = []

    def fake_train_model(job, progress=True):  # noqa: ANN001, ANN202
        jobs.append(job)
        return mipguide.models.train.TrainResult(None, (), 0, 0.0, False)

    monkeypatch.setattr(mipguide.models.train, "train_model", fake_train_model)
    return jobs


def test_train_wires_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jobs = _capture_jobs(monkeypatch)
    monkeypatch.setenv("MIPGUIDE_DATA_DIR", str(tmp_path))
    args = ["train", "--family", "indset", "--size", "medium", "--train-seeds", "0-2"]
    args += ["--val-seeds", "10-11", "--epochs", "3", "--seed", "4", "--pool-time", "1.5"]
    args += ["--label-temperature", "0.05", "--pas", "region.k0=0.4"]
    args += ["--out", str(tmp_path / "pas-indset@1")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    (job,) = jobs
    assert job.objective.kind == "pas" and job.family == "indset"
    assert [s.name for s in job.train_specs] == [f"indset-medium-{k}" for k in (0, 1, 2)]
    assert [s.seed for s in job.val_specs] == [10, 11]
    assert job.train.epochs == 3 and job.train.seed == 4
    assert job.train.temperature_fraction == 0.05
    assert job.pool.time_limit == 1.5 and job.pool.seed == 4
    assert job.pool_dirs == {"indset": tmp_path / "pools" / "indset-medium"}
    assert job.recommended == {"region": {"k0": 0.4}}


def test_train_several_families_share_per_family_pools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    jobs = _capture_jobs(monkeypatch)
    monkeypatch.setenv("MIPGUIDE_DATA_DIR", str(tmp_path))
    args = ["train", "--family", "all", "--size", "medium", "--out", str(tmp_path / "pas-mix@1")]
    res = CliRunner().invoke(app, [*args, "--tune-time", "0"])
    assert res.exit_code == 0, res.output
    (job,) = jobs
    assert list(job.pool_dirs) == ["setcover", "cauction", "indset", "facility"]
    assert job.pool_dirs["facility"] == tmp_path / "pools" / "facility-medium"
    assert job.family == "setcover+cauction+indset+facility"
    assert job.description["command"].startswith("mipguide ")
    # unnamed, the training length is the library's default, the same as over HTTP
    from mipguide.commands.train import TrainArgs
    from mipguide.jobs.options import TrainOptions
    from mipguide.models.train import DEFAULT_EPOCHS, DEFAULT_PATIENCE

    assert (job.train.epochs, job.train.patience) == (DEFAULT_EPOCHS, DEFAULT_PATIENCE)
    assert (TrainArgs(None, tmp_path).epochs, TrainArgs(None, tmp_path).patience) == (
        DEFAULT_EPOCHS,
        DEFAULT_PATIENCE,
    )
    fields = TrainOptions.model_fields
    assert (fields["epochs"].default, fields["patience"].default) == (
        DEFAULT_EPOCHS,
        DEFAULT_PATIENCE,
    )


def test_train_warns_when_the_network_is_no_better_than_a_constant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mipguide.models.train

    def constant_like(job, progress=True):  # noqa: ANN001, ANN202
        baseline = {"val_base_rate": 0.654, "val_base_loss": 0.6012}
        return mipguide.models.train.TrainResult(None, (), 3, 0.5995, True, baseline)

    monkeypatch.setattr(mipguide.models.train, "train_model", constant_like)
    monkeypatch.setenv("MIPGUIDE_DATA_DIR", str(tmp_path))
    args = ["train", "--family", "indset", "--out", str(tmp_path / "pas-indset@1")]
    res = CliRunner().invoke(app, [*args, "--tune-time", "0"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "warning:" in text and "0.5995" in text and "0.6012" in text
    assert "P(x = 1) = 0.654 for every binary" in text


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
