"""SRG training: the denoising loss decreases, the seed fixes the run, the registry round trip
(kind srg), and a tiny end-to-end ``mipguide train --kind srg``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from mipguide.cli import app
from mipguide.models.pools import PoolConfig, build_pools
from mipguide.models.registry import load_model
from mipguide.models.srg import SrgConfig, SrgNet
from mipguide.models.train import TrainConfig, TrainJob, train_model
from mipguide.models.train_srg import SrgObjective, srg_item, train_srg, validation_loss

from .conftest import tiny_spec

TRAIN_SEEDS, VAL_SEEDS = range(6), range(100, 102)
SMALL = SrgConfig(hidden=16)


@pytest.fixture(scope="module")
def tiny_items(tmp_path_factory):  # noqa: ANN001, ANN201
    specs = [tiny_spec(s) for s in [*TRAIN_SEEDS, *VAL_SEEDS]]
    pool_dir = tmp_path_factory.mktemp("pools")
    paths = build_pools(specs, pool_dir, PoolConfig(k=16, method="bruteforce"), progress=False)
    items = [srg_item(s.build(), p, s.name, None) for s, p in zip(specs, paths, strict=True)]
    return items[: len(TRAIN_SEEDS)], items[len(TRAIN_SEEDS) :], pool_dir


def test_training_lowers_the_denoising_loss(tiny_items) -> None:  # noqa: ANN001
    train, val, _ = tiny_items
    config = TrainConfig(epochs=8, lr=1e-2, batch_size=2, seed=0)
    result = train_srg(train, val, config, model_config=SMALL, samples=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # the same initial weights as train_srg
        initial = SrgNet(SMALL)
    cpu = torch.device("cpu")
    assert validation_loss(result.model, train, cpu, 5) < validation_loss(initial, train, cpu, 5)
    assert result.best_val_loss == min(h.val_loss for h in result.history)


def test_training_is_deterministic_in_the_seed(tiny_items) -> None:  # noqa: ANN001
    train, val, _ = tiny_items
    config = TrainConfig(epochs=1, lr=1e-2, batch_size=2, seed=3)
    a = train_srg(train, val, config, model_config=SMALL).history[0]
    b = train_srg(train, val, config, model_config=SMALL).history[0]
    assert (a.train_loss, a.val_loss) == (b.train_loss, b.val_loss)


def test_registry_round_trip_of_an_srg_model(tiny_items, tmp_path: Path) -> None:  # noqa: ANN001
    _, val, pool_dir = tiny_items
    job = TrainJob(
        objective=SrgObjective(SMALL),
        family="setcover",
        train_specs=tuple(tiny_spec(s) for s in TRAIN_SEEDS),
        val_specs=tuple(tiny_spec(s) for s in VAL_SEEDS),
        pool_dirs={"setcover": pool_dir},
        out=tmp_path / "srg-tiny@0.1",
        pool=PoolConfig(k=16, method="bruteforce"),
        train=TrainConfig(epochs=2, lr=1e-2, batch_size=2, seed=0),
        recommended={"sampling": {"eta": 2.0}},
    )
    result = train_model(job, progress=False)
    loaded = load_model("srg-tiny@0.1", tmp_path, device="cpu")
    assert isinstance(loaded.model, SrgNet) and loaded.config["kind"] == "srg"
    assert loaded.config["hidden"] == 16 and loaded.card["srg"] == {"sampling": {"eta": 2.0}}
    assert loaded.card["signature"] and loaded.card["model_config"]["coupling"] == "graph"
    cpu = torch.device("cpu")
    a = validation_loss(loaded.model, val, cpu, 0)
    assert a == validation_loss(result.model, val, cpu, 0)


def test_train_kind_srg_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated instances, SCIP pools (0.3 s each), two epochs, a registered SRG model."""
    monkeypatch.setenv("MIPGUIDE_DEVICE", "cpu")
    out = tmp_path / "srg-indset@0"
    args = ["train", "--kind", "srg", "--family", "indset", "--size", "easy"]
    args += ["--train-seeds", "0-1", "--val-seeds", "1000", "--pool-time", "0.3"]
    args += ["--pool-k", "8", "--workers", "1", "--epochs", "2", "--hidden", "8"]
    args += ["--srg", "sampling.eta=2", "--pool-dir", str(tmp_path / "pools"), "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "best epoch" in res.output
    card = json.loads((out / "card.json").read_text())
    assert card["training_data"]["command"].startswith("mipguide ")  # sys.argv: pytest here
    assert card["srg"] == {"sampling": {"eta": 2}} and card["model_config"]["hidden"] == 8
    assert load_model("srg-indset@0", tmp_path, "cpu").config["kind"] == "srg"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "gan"], "--kind"),
        (["--kind", "srg", "--srg", "sampling.k=0"], "sampling.k"),
        (["--kind", "srg", "--coupling", "dense"], "coupling"),
    ],
)
def test_train_rejects_bad_srg_options(tmp_path: Path, extra: list[str], message: str) -> None:
    args = ["train", "--family", "indset", "--out", str(tmp_path / "srg-x@1"), *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and message in res.output, res.output
