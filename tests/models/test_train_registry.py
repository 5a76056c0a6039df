"""Tiny end-to-end training (loss decreases) and the registry round trip (checksum enforced)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mipguide.models.data import collate
from mipguide.models.pools import PoolConfig, build_pools
from mipguide.models.registry import (
    ChecksumError,
    ModelError,
    ModelRef,
    list_models,
    load_model,
    resolve_device,
    save_model,
)
from mipguide.models.train import (
    BASELINE_MARGIN,
    TrainConfig,
    TrainJob,
    TrainResult,
    baseline_figures,
    baseline_note,
    train_model,
)
from mipguide.models.train_pas import PasObjective, evaluate, labeled_data, train_pas

from .conftest import tiny_spec

TRAIN_SEEDS, VAL_SEEDS = range(6), range(100, 102)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):  # noqa: ANN001, ANN201
    specs = [tiny_spec(s) for s in [*TRAIN_SEEDS, *VAL_SEEDS]]
    pool_dir = tmp_path_factory.mktemp("pools")
    paths = build_pools(specs, pool_dir, PoolConfig(k=16, method="bruteforce"), progress=False)
    data = [labeled_data(s, p, None) for s, p in zip(specs, paths, strict=True)]
    return data[: len(TRAIN_SEEDS)], data[len(TRAIN_SEEDS) :], pool_dir


def _train_tiny(pool_dir, out) -> TrainResult:  # noqa: ANN001
    """Two epochs on the tiny set covers (brute-force pools), registered at ``out``."""
    job = TrainJob(
        objective=PasObjective(),
        family="setcover",
        train_specs=tuple(tiny_spec(s) for s in TRAIN_SEEDS),
        val_specs=tuple(tiny_spec(s) for s in VAL_SEEDS),
        pool_dirs={"setcover": pool_dir},
        out=out,
        pool=PoolConfig(k=16, method="bruteforce"),
        train=TrainConfig(epochs=2, lr=1e-2, batch_size=2, seed=0),
    )
    return train_model(job, progress=False)


def test_two_epochs_decrease_the_loss(tiny_data) -> None:  # noqa: ANN001
    train, val, _ = tiny_data
    config = TrainConfig(epochs=2, lr=1e-2, batch_size=2, seed=0)
    result = train_pas(train, val, config)
    assert len(result.history) == 2
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # the same initial weights as train_pas
        from mipguide.models.pas import PaSNet

        initial = PaSNet()
    cpu = torch.device("cpu")
    loss_before, _ = evaluate(initial, train, cpu, config)
    loss_after, _ = evaluate(result.model, train, cpu, config)
    assert loss_after < loss_before
    assert all(np.isfinite([h.train_loss, h.val_loss]).all() for h in result.history)


def test_training_is_deterministic_in_the_seed(tiny_data) -> None:  # noqa: ANN001
    train, val, _ = tiny_data
    config = TrainConfig(epochs=1, lr=1e-2, batch_size=2, seed=3)
    a = train_pas(train, val, config).history[0].train_loss
    b = train_pas(train, val, config).history[0].train_loss
    assert a == b


def test_registry_round_trip_and_checksum(tiny_data, tmp_path) -> None:  # noqa: ANN001
    train, val, pool_dir = tiny_data
    result = _train_tiny(pool_dir, tmp_path / "pas-tiny@0.1")
    loaded = load_model("pas-tiny@0.1", tmp_path, device="cpu")
    assert loaded.ref == ModelRef("pas-tiny", "0.1")
    batch = collate(val)
    torch.testing.assert_close(
        loaded.model.predict_proba(batch), result.model.predict_proba(batch), rtol=0, atol=0
    )
    card = json.loads((tmp_path / "pas-tiny@0.1" / "card.json").read_text())
    assert card["seed"] == 0 and card["metrics"]["epochs_run"] == 2
    assert card["metrics"]["val_base_loss"] == result.baseline["val_base_loss"]
    assert card["metrics"]["beats_baseline"] == (
        result.best_val_loss < (1 - BASELINE_MARGIN) * result.baseline["val_base_loss"]
    )
    assert card["training_data"]["train_instances"][0] == "tiny-setcover-0"
    assert "# pas-tiny@0.1" in (tmp_path / "pas-tiny@0.1" / "card.md").read_text()
    assert list_models(tmp_path) == [ModelRef("pas-tiny", "0.1")]

    weights = tmp_path / "pas-tiny@0.1" / "weights.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF
    weights.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError):
        load_model("pas-tiny@0.1", tmp_path)


def test_registry_errors(tmp_path) -> None:  # noqa: ANN001
    from mipguide.models.pas import PaSNet

    with pytest.raises(ModelError):
        ModelRef.parse("no-version")
    with pytest.raises(ModelError):
        load_model("absent@1", tmp_path)
    with pytest.raises(ModelError):
        save_model(PaSNet(), tmp_path / "not-a-ref", {})
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_early_stopping_keeps_the_best_weights_and_stops_after_patience() -> None:
    import torch

    from mipguide.models.train import EarlyStopping

    net = torch.nn.Linear(2, 1)
    stopper = EarlyStopping(patience=2)
    stops = []
    for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.4, 1.0]):
        with torch.no_grad():
            net.weight.fill_(float(epoch))
        stops.append(stopper.step(net, epoch, loss))
        if stops[-1]:
            break
    assert stops == [False, False, False, True]  # two epochs without improvement after epoch 1
    assert stopper.best_epoch == 1 and stopper.best_loss == 2.0
    stopper.restore(net)
    assert torch.all(net.weight == 1.0) and not net.training


def test_the_baseline_is_the_best_constant_prediction(tiny_data) -> None:  # noqa: ANN001
    _, val, _ = tiny_data
    base = PasObjective().baseline(val, TrainConfig())
    labels = [d.y[d.bin_mask].double().numpy() for d in val]
    rate = float(np.concatenate(labels).mean())
    assert base["val_base_rate"] == pytest.approx(rate)
    bce = [float(-(y * np.log(rate) + (1 - y) * np.log(1 - rate)).mean()) for y in labels]
    assert base["val_base_loss"] == pytest.approx(np.mean(bce), rel=1e-5)
    majority = [((y > 0.5) == (rate > 0.5)).mean() for y in labels]
    assert base["val_base_accuracy"] == pytest.approx(np.mean(majority))
    # no constant does better on these (equal-sized) graphs
    for other in (rate - 0.05, rate + 0.05):
        worse = [float(-(y * np.log(other) + (1 - y) * np.log(1 - other)).mean()) for y in labels]
        assert np.mean(worse) > base["val_base_loss"]


def test_a_network_no_better_than_the_constant_is_flagged() -> None:
    baseline = {"val_base_rate": 0.654, "val_base_loss": 0.60}
    flat = TrainResult(None, (), 1, 0.595, True, baseline)  # 0.8 % below: nothing learned
    figures = baseline_figures(flat)
    assert figures["beats_baseline"] is False
    note = baseline_note({"best_val_loss": flat.best_val_loss, **figures})
    assert note is not None and "0.5950" in note and "0.6000" in note and "0.654" in note
    learned = TrainResult(None, (), 9, 0.45, False, baseline)
    assert baseline_figures(learned)["beats_baseline"] is True
    assert baseline_note({"best_val_loss": 0.45, **baseline_figures(learned)}) is None
    # an objective without a baseline (SRG's score network) is never flagged
    assert baseline_figures(TrainResult(None, (), 1, 0.9, False)) == {}
    assert baseline_note({"best_val_loss": 0.9}) is None


def test_bench_labels_scores_the_network_against_one_constant(tiny_data, tmp_path) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from mipguide.bench.labels import label_rows
    from mipguide.cli import app

    _, val, pool_dir = tiny_data
    _train_tiny(pool_dir, tmp_path / "pas-tiny@2")
    specs = [tiny_spec(s) for s in VAL_SEEDS]
    pools = build_pools(specs, pool_dir, PoolConfig(k=16, method="bruteforce"), progress=False)
    missing = tmp_path / "none.pool.npz"  # an instance without a pool is skipped
    rows = label_rows(tmp_path / "pas-tiny@2", [*specs, tiny_spec(999)], [*pools, missing])
    assert [r.instance for r in rows] == ["tiny-setcover-100", "tiny-setcover-101", "all"]
    loaded = load_model("pas-tiny@2", tmp_path)
    base = PasObjective().baseline(val, TrainConfig())
    for row, item in zip(rows, val, strict=False):
        loss, accuracy = evaluate(loaded.model, [item], torch.device("cpu"), TrainConfig())
        assert (row.loss, row.accuracy) == pytest.approx((loss, accuracy))
        assert row.below_half + row.above_half <= row.binaries == int(item.bin_mask.sum())
    total = rows[-1]
    assert total.constant_loss == pytest.approx(base["val_base_loss"])
    assert total.constant_accuracy == pytest.approx(base["val_base_accuracy"])
    # each row's constant is the one rate over all instances, not the instance's own
    assert np.mean([r.constant_loss for r in rows[:-1]]) == pytest.approx(total.constant_loss)

    # the command: generated instances, SCIP pools, the tables written; a wrong model refused
    out = tmp_path / "labels"
    args = ["bench", "labels", str(tmp_path / "pas-tiny@2"), "--family", "setcover"]
    args += ["--size", "easy", "--seeds", "0-1", "--pool-time", "1", "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--pool-dir", str(tmp_path / "pools")])
    assert res.exit_code == 0, res.output
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0].startswith("instance,binaries,loss,constant_loss")
    assert [line.split(",")[0] for line in lines[1:]] == [
        "setcover-easy-0",
        "setcover-easy-1",
        "all",
    ]
    assert "against the constant's" in " ".join(res.output.split())
    bad = CliRunner().invoke(app, ["bench", "labels", str(tmp_path / "pas-tiny@2")])
    assert bad.exit_code == 2 and "--family" in bad.output
    lp = tmp_path / "continuous.lp"
    lp.write_text("Minimize\n obj: x\nSubject To\n c1: x >= 1\nEnd\n")
    bad = CliRunner().invoke(app, ["bench", "labels", str(tmp_path / "pas-tiny@2"), str(lp)])
    assert bad.exit_code != 0 and "no binary variables" in " ".join(bad.output.split())
