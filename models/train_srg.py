"""SRG training: (instances, solution pools) -> trained score network, with validation and early
stop; ``train_srg_family`` is the recipe behind ``mipguide train --kind srg``.

Denoising score matching in the x0-parametrization: for each instance and step, ``samples``
pool solutions are drawn with probability equal to their energy weight (``models.labels``),
each gets a time t ~ U[T_MIN, 1] and Gaussian noise, y_t = alpha(t) (2x - 1) + sigma(t) z, and
the network is trained to recover x from (graph, y_t, t) by BCE. The expectation of this loss
is the energy-weighted denoising loss, whose minimizer gives the score of the noised pool
distribution (``models.sde.score``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.data import BipartiteData, graph_to_data
from models.labels import energy_weights
from models.pools import InstanceSpec, PoolConfig, build_pools, load_pool
from models.registry import resolve_device, save_model
from models.sde import T_MIN, noised
from models.signature import cluster_of
from models.srg import SrgConfig, SrgNet, srg_loss
from models.train import EarlyStopping, TrainConfig
from service.pipeline.features import build_graph
from service.problem.digest import problem_hash
from service.problem.model import Problem

VAL_TIMES = (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)


@dataclass(frozen=True, eq=False)
class SrgItem:
    """One training instance: its graph tensors, pool solutions (P, nb) and their weights."""

    data: BipartiteData
    x: torch.Tensor
    weights: torch.Tensor
    name: str


@dataclass(frozen=True)
class SrgEpoch:
    epoch: int
    train_loss: float
    val_loss: float
    seconds: float


@dataclass(frozen=True)
class SrgTrainResult:
    model: SrgNet
    history: tuple[SrgEpoch, ...]
    best_epoch: int
    best_val_loss: float
    stopped_early: bool


def srg_item(problem: Problem, pool_file: Path, name: str, temperature: float | None) -> SrgItem:
    """Instance + pool -> training item (checks the pool's hash)."""
    pool = load_pool(pool_file)
    if pool.instance_hash != problem_hash(problem):
        raise ValueError(f"{pool_file} was made for a different instance than {name}")
    if pool.size == 0:
        raise ValueError(f"{pool_file}: empty solution pool for {name}")
    w, _ = energy_weights(pool.objectives, pool.sense, temperature)
    return SrgItem(
        data=graph_to_data(build_graph(problem)),
        x=torch.from_numpy(pool.x_bin.astype(np.float32)),
        weights=torch.from_numpy(w),
        name=name,
    )


def _noisy_batch(
    item: SrgItem, samples: int, gen: torch.Generator, times: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x0, y_t, t): pool solutions drawn by weight, noised at random (or given) times."""
    k = samples if times is None else times.numel()
    pick = torch.multinomial(item.weights, k, replacement=True, generator=gen)
    x0 = item.x[pick]
    if times is None:
        times = T_MIN + (1.0 - T_MIN) * torch.rand(k, generator=gen)
    noise = torch.randn(x0.shape, generator=gen)
    return x0, noised(2.0 * x0 - 1.0, times, noise), times


def _loss(net: SrgNet, item: SrgItem, x0: torch.Tensor, y: torch.Tensor, t: torch.Tensor, dev):
    data = item.data.to(dev)
    return srg_loss(net(net.context(data), y.to(dev), t.to(dev)), x0.to(dev))


@torch.no_grad()
def validation_loss(net: SrgNet, items: Sequence[SrgItem], dev: torch.device, seed: int) -> float:
    """Mean denoising loss on fixed draws (same solutions, noise and times every epoch)."""
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    times = torch.tensor(VAL_TIMES)
    losses = [float(_loss(net, it, *_noisy_batch(it, 0, gen, times), dev)) for it in items]
    return float(np.mean(losses)) if losses else float("nan")


def train_srg(
    train: Sequence[SrgItem],
    val: Sequence[SrgItem],
    config: TrainConfig,
    *,
    model_config: SrgConfig | None = None,
    samples: int = 8,
    device: str = "cpu",
    progress: bool = False,
) -> SrgTrainResult:
    """Train a score network; keep the weights of the best validation epoch.

    Args:
        samples: noised pool solutions per instance and step (one forward).
    """
    from rich.progress import Progress

    dev = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = SrgNet(model_config).to(dev)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: list[SrgEpoch] = []
    stopper = EarlyStopping(config.patience)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("training", total=config.epochs)
        for epoch in range(config.epochs):
            t0 = time.perf_counter()
            train_loss = _epoch(net, train, opt, config.batch_size, samples, gen, dev)
            val_loss = validation_loss(net, val, dev, config.seed + 1) if val else train_loss
            history.append(SrgEpoch(epoch, train_loss, val_loss, time.perf_counter() - t0))
            bar.update(task, advance=1, description=f"epoch {epoch} val {val_loss:.4f}")
            if stopper.step(net, epoch, val_loss):
                break
    stopper.restore(net)
    stopped = len(history) < config.epochs
    return SrgTrainResult(net, tuple(history), stopper.best_epoch, stopper.best_loss, stopped)


def _epoch(net, items, opt, batch_size, samples, gen, dev) -> float:  # noqa: ANN001
    """One pass over the instances in random order; gradient steps every ``batch_size``."""
    net.train()
    order = torch.randperm(len(items), generator=gen).tolist()
    losses = []
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        opt.zero_grad()
        total = 0.0
        for i in chunk:
            loss = _loss(net, items[i], *_noisy_batch(items[i], samples, gen), dev) / len(chunk)
            loss.backward()
            total += float(loss.detach())
        opt.step()
        losses.append(total)
    return float(np.mean(losses)) if losses else float("nan")


@dataclass(frozen=True)
class SrgTrainJob:
    """Everything ``mipguide train --kind srg`` needs (recorded in the card)."""

    family: str
    train_specs: tuple[InstanceSpec, ...]
    val_specs: tuple[InstanceSpec, ...]
    pool_dirs: dict[str, Path]
    out: Path
    pool: PoolConfig = field(default_factory=PoolConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    model: SrgConfig = field(default_factory=SrgConfig)
    samples: int = 8
    workers: int = 1
    device: str = "cpu"
    description: dict[str, Any] = field(default_factory=dict)
    recommended_srg: dict[str, Any] = field(default_factory=dict)


def train_srg_family(job: SrgTrainJob, progress: bool = True) -> SrgTrainResult:
    """Pools -> training items -> training -> registry directory ``job.out`` (NAME@VERSION).

    Pools are the PaS pools (same cache, same files); the card records the signature of the
    training instances per family (``mode=srg`` without a model name matches against it).
    """
    specs = list(job.train_specs) + list(job.val_specs)
    paths: dict[str, Path] = {}
    for fam in dict.fromkeys(s.family for s in specs):
        group = [s for s in specs if s.family == fam]
        built = build_pools(group, job.pool_dirs[fam], job.pool, job.workers, progress)
        paths.update({s.name: p for s, p in zip(group, built, strict=True)})
    problems = [s.build() for s in specs]
    items = [
        srg_item(p, paths[s.name], s.name, job.train.temperature)
        for p, s in zip(problems, specs, strict=True)
    ]
    n_train = len(job.train_specs)
    families = dict.fromkeys(s.family for s in job.train_specs)
    signature = [
        cluster_of(f, [p for p, s in zip(problems[:n_train], specs, strict=False) if s.family == f])
        for f in families
    ]
    t0 = time.perf_counter()
    result = train_srg(
        items[:n_train],
        items[n_train:],
        job.train,
        model_config=job.model,
        samples=job.samples,
        device=job.device,
        progress=progress,
    )
    card = {
        "task": "SRG: score network (x0 prediction) of the energy-weighted solution pools",
        "family": job.family,
        "training_data": {
            **job.description,
            "train_instances": [s.name for s in job.train_specs],
            "val_instances": [s.name for s in job.val_specs],
            "pool": asdict(job.pool),
        },
        "train_config": {**asdict(job.train), "samples": job.samples},
        "model_config": job.model.to_dict(),
        "signature": [c.to_dict() for c in signature],
        "srg": job.recommended_srg,
        "seed": job.train.seed,
        "metrics": {
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "epochs_run": len(result.history),
            "stopped_early": result.stopped_early,
            "train_seconds": round(time.perf_counter() - t0, 2),
        },
        "history": [asdict(h) for h in result.history],
    }
    save_model(result.model, job.out, card)
    return result
