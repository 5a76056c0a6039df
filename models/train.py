"""Training: (instances, solution pools) -> trained PaS network, with validation and early stop.

``train_pas`` is the loop (pure apart from the optional progress bar: data in, model and history
out); ``train_family`` is the whole recipe behind ``mipguide train``: generate the instances,
build (or reuse) their solution pools, label, train, and save to the registry with a card.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.data import BipartiteData, collate, graph_to_data
from models.labels import DEFAULT_TEMPERATURE_FRACTION
from models.pas import PaSConfig, PaSNet, pas_loss
from models.pools import InstanceSpec, PoolConfig, build_pools, load_pool
from models.registry import resolve_device, save_model
from models.signature import cluster_of
from service.pipeline.features import build_graph
from service.problem.model import Problem


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings (recorded in the model card)."""

    epochs: int = 30
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 4
    patience: int = 5
    seed: int = 0
    pos_weight: float | None = None
    temperature: float | None = None  # label temperature; None: temperature_fraction x spread
    temperature_fraction: float = DEFAULT_TEMPERATURE_FRACTION


class EarlyStopping:
    """Keeps the weights of the epoch with the lowest validation loss; says when ``patience``
    epochs in a row brought no improvement (of more than 1e-6)."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_loss, self.best_epoch, self.stale = float("inf"), -1, 0
        self.best_state: dict[str, Any] | None = None

    def step(self, model: torch.nn.Module, epoch: int, val_loss: float) -> bool:
        """Record one epoch; True when training should stop."""
        if val_loss < self.best_loss - 1e-6:
            self.best_loss, self.best_epoch, self.stale = val_loss, epoch, 0
            self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.stale += 1
        return self.stale >= self.patience

    def restore(self, model: torch.nn.Module) -> None:
        """Load the best weights (if any epoch ran) and switch to eval mode."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        model.eval()


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    model: PaSNet
    history: tuple[EpochStats, ...]
    best_epoch: int
    best_val_loss: float
    stopped_early: bool


def labeled_data(
    spec: InstanceSpec,
    pool_file: Path,
    temperature: float | None,
    fraction: float = DEFAULT_TEMPERATURE_FRACTION,
) -> BipartiteData:
    """Instance + pool -> tensors with energy-weighted labels (checks the pool's hash)."""
    return _labeled(spec.build(), spec, pool_file, temperature, fraction)


def _labeled(
    problem: Problem,
    spec: InstanceSpec,
    pool_file: Path,
    temperature: float | None,
    fraction: float = DEFAULT_TEMPERATURE_FRACTION,
) -> BipartiteData:
    from service.problem.digest import problem_hash

    pool = load_pool(pool_file)
    if pool.instance_hash != problem_hash(problem):
        raise ValueError(f"{pool_file} was made for a different instance than {spec.name}")
    if pool.size == 0:
        raise ValueError(f"{pool_file}: empty solution pool for {spec.name}")
    return graph_to_data(build_graph(problem), pool.labels(temperature, fraction).labels)


@torch.no_grad()
def evaluate(model: PaSNet, data: Sequence[BipartiteData], device: torch.device, config):
    """(mean loss per graph, accuracy of rounded predictions against rounded labels)."""
    model.eval()
    losses, correct, total = [], 0, 0
    for d in data:
        d = d.to(device)
        logits = model(d)
        losses.append(float(pas_loss(logits, d, config.pos_weight)))
        pred = logits[d.bin_mask] > 0
        correct += int((pred == (d.y[d.bin_mask] > 0.5)).sum())
        total += int(d.bin_mask.sum())
    return float(np.mean(losses)) if losses else float("nan"), correct / max(total, 1)


def train_pas(
    train: Sequence[BipartiteData],
    val: Sequence[BipartiteData],
    config: TrainConfig,
    *,
    model_config: PaSConfig | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> TrainResult:
    """Train a PaS network; keep the weights of the best validation epoch.

    Early stopping: stop after ``patience`` epochs without a better validation loss (with no
    validation data, the training loss plays that role).
    """
    from rich.progress import Progress

    dev = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = PaSNet(model_config).to(dev)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: list[EpochStats] = []
    stopper = EarlyStopping(config.patience)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("training", total=config.epochs)
        for epoch in range(config.epochs):
            t0 = time.perf_counter()
            model.train()
            order = torch.randperm(len(train), generator=gen).tolist()
            batch_losses = []
            for start in range(0, len(order), config.batch_size):
                batch = collate([train[i] for i in order[start : start + config.batch_size]])
                batch = batch.to(dev)
                opt.zero_grad()
                loss = pas_loss(model(batch), batch, config.pos_weight)
                loss.backward()
                opt.step()
                batch_losses.append(loss.item())
            train_loss = float(np.mean(batch_losses))
            val_loss, val_acc = evaluate(model, val, dev, config) if val else (train_loss, 0.0)
            history.append(
                EpochStats(epoch, train_loss, val_loss, val_acc, time.perf_counter() - t0)
            )
            bar.update(task, advance=1, description=f"epoch {epoch} val {val_loss:.4f}")
            if stopper.step(model, epoch, val_loss):
                break
    stopper.restore(model)
    stopped = len(history) < config.epochs
    return TrainResult(model, tuple(history), stopper.best_epoch, stopper.best_loss, stopped)


@dataclass(frozen=True)
class TrainJob:
    """Everything ``mipguide train`` needs (recorded in the card)."""

    family: str
    train_specs: tuple[InstanceSpec, ...]
    val_specs: tuple[InstanceSpec, ...]
    pool_dir: Path
    out: Path
    pool: PoolConfig = field(default_factory=PoolConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    workers: int = 1
    device: str = "cpu"
    description: dict[str, Any] = field(default_factory=dict)
    # family -> its pool directory (default: pool_dir)
    pool_dirs: dict[str, Path] = field(default_factory=dict)
    # recommended PaS parameters, written to the card as "pas"
    recommended_pas: dict[str, Any] = field(default_factory=dict)


def train_family(job: TrainJob, progress: bool = True) -> TrainResult:
    """Pools -> labels -> training -> registry directory ``job.out`` (NAME@VERSION).

    The specs may mix families (a model for all of them); each family's pools live in
    ``job.pool_dirs[family]`` (default ``job.pool_dir``). The card records the signature of the
    training instances per family (``models.signature``), which ``mode=auto`` matches against.
    """
    specs = list(job.train_specs) + list(job.val_specs)
    paths: dict[str, Path] = {}
    for fam in dict.fromkeys(s.family for s in specs):
        group = [s for s in specs if s.family == fam]
        where = job.pool_dirs.get(fam, job.pool_dir)
        built = build_pools(group, where, job.pool, job.workers, progress)
        paths.update({s.name: p for s, p in zip(group, built, strict=True)})
    problems = [s.build() for s in specs]
    data = [
        _labeled(prob, s, paths[s.name], job.train.temperature, job.train.temperature_fraction)
        for prob, s in zip(problems, specs, strict=True)
    ]
    n_train = len(job.train_specs)
    signature = [
        cluster_of(
            fam, [p for p, s in zip(problems[:n_train], specs, strict=False) if s.family == fam]
        )
        for fam in dict.fromkeys(s.family for s in job.train_specs)
    ]
    t0 = time.perf_counter()
    result = train_pas(
        data[:n_train], data[n_train:], job.train, device=job.device, progress=progress
    )
    best = result.history[result.best_epoch] if result.best_epoch >= 0 else None
    card = {
        "task": "PaS: P(x_j = 1) for the binaries",
        "family": job.family,
        "training_data": {
            **job.description,
            "train_instances": [s.name for s in job.train_specs],
            "val_instances": [s.name for s in job.val_specs],
            "pool": asdict(job.pool),
        },
        "train_config": asdict(job.train),
        "signature": [c.to_dict() for c in signature],
        "pas": job.recommended_pas,
        "seed": job.train.seed,
        "metrics": {
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "val_accuracy": best.val_accuracy if best else None,
            "epochs_run": len(result.history),
            "stopped_early": result.stopped_early,
            "train_seconds": round(time.perf_counter() - t0, 2),
        },
        "history": [asdict(h) for h in result.history],
    }
    save_model(result.model, job.out, card)
    return result
