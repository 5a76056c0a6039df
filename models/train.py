"""Training, the same for every guided model: (instances, solution pools, Objective) -> trained
network, with validation, early stopping and a registry entry.

``fit`` is the loop (pure apart from the optional progress bar: data in, model and history out);
``train_model`` is the whole recipe behind ``mipguide train``: build (or reuse) the solution
pools, turn each instance and its pool into a training item, fit, and save to the registry with
a card. What differs between PaS and SRG is an ``Objective`` (``train_pas.PasObjective``,
``train_srg.SrgObjective``): how an item is made, how a batch's gradient is accumulated, how
validation is scored, and what the card says of the task.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import torch

from mipguide.errors import InputError
from mipguide.models.labels import DEFAULT_TEMPERATURE_FRACTION
from mipguide.models.pools import (
    InstanceSpec,
    PoolConfig,
    SolutionPool,
    Stopped,
    build_pools,
    load_pool,
)
from mipguide.models.registry import resolve_device, save_model
from mipguide.models.signature import clusters_of
from mipguide.problem.digest import problem_hash
from mipguide.problem.model import Problem

Item = TypeVar("Item")

# Training length by default: an upper bound, with early stopping after DEFAULT_PATIENCE
# epochs without a better validation loss. With 30 training instances at 4 per step an epoch
# is 6 gradient steps; the earlier 30 / 5 stopped a lot sizing network after 7 epochs (42
# steps) at its base rate, and left GISP's validation loss still falling (docs/benchmarks.md).
DEFAULT_EPOCHS = 300
DEFAULT_PATIENCE = 15
# A network whose best validation loss is not this much below the best constant prediction's
# has learned little beyond how often a binary is 1 (``baseline_note``).
BASELINE_MARGIN = 0.02


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings (recorded in the model card)."""

    epochs: int = DEFAULT_EPOCHS
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 4
    patience: int = DEFAULT_PATIENCE
    seed: int = 0
    pos_weight: float | None = None
    temperature: float | None = None  # label temperature; None: temperature_fraction x spread
    temperature_fraction: float = DEFAULT_TEMPERATURE_FRACTION


class Objective(Protocol[Item]):
    """What one kind of model (PaS, SRG) trains on and for."""

    @property
    def kind(self) -> str:
        """The card's key for the recommended parameters: "pas" | "srg"."""
        ...

    @property
    def task(self) -> str:
        """The card's task line."""
        ...

    def network(self) -> torch.nn.Module:
        """A new, untrained network (built under the caller's torch seed)."""
        ...

    def item(self, problem: Problem, pool: SolutionPool, name: str, config: TrainConfig) -> Item:
        """One instance and its solution pool as a training item."""
        ...

    def accumulate(
        self,
        model: torch.nn.Module,
        chunk: Sequence[Item],
        config: TrainConfig,
        gen: torch.Generator,
        dev: torch.device,
    ) -> float:
        """Forward and backward on one batch (gradients accumulate); the batch's loss."""
        ...

    def validate(
        self,
        model: torch.nn.Module,
        items: Sequence[Item],
        config: TrainConfig,
        dev: torch.device,
    ) -> tuple[float, dict[str, float]]:
        """(validation loss, other figures such as accuracy), deterministic for fixed weights."""
        ...

    def card(self) -> dict[str, Any]:
        """What the card says of the model beyond the common fields (e.g. ``model_config``)."""
        ...

    def baseline(self, items: Sequence[Item], config: TrainConfig) -> dict[str, float]:
        """The validation figures of the best constant prediction, which a network has to beat
        (``val_base_loss``, ...); empty where there is no such baseline."""
        ...


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
    """One epoch: losses, the objective's other validation figures, seconds."""

    epoch: int
    train_loss: float
    val_loss: float
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainResult:
    model: Any
    history: tuple[EpochStats, ...]
    best_epoch: int
    best_val_loss: float
    stopped_early: bool
    baseline: dict[str, float] = field(default_factory=dict)


def fit(
    objective: Objective[Item],
    train: Sequence[Item],
    val: Sequence[Item],
    config: TrainConfig,
    *,
    device: str = "cpu",
    progress: bool = False,
    on_epoch: Callable[[EpochStats], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train the objective's network; keep the weights of the best validation epoch.

    Each epoch visits the items in a random order (seeded), ``batch_size`` per gradient step.
    Early stopping: stop after ``patience`` epochs without a better validation loss (with no
    validation data, the training loss plays that role). ``on_epoch`` sees each epoch's figures;
    ``stop`` is polled before each epoch (True raises ``Stopped``).
    """
    from rich.progress import Progress

    dev = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = objective.network().to(dev)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: list[EpochStats] = []
    stopper = EarlyStopping(config.patience)
    baseline = objective.baseline(val, config) if val else {}
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("training", total=config.epochs)
        for epoch in range(config.epochs):
            if stop is not None and stop():
                raise Stopped("stopped on request")
            t0 = time.perf_counter()
            model.train()
            order = torch.randperm(len(train), generator=gen).tolist()
            losses = []
            for start in range(0, len(order), config.batch_size):
                opt.zero_grad()
                chunk = [train[i] for i in order[start : start + config.batch_size]]
                losses.append(objective.accumulate(model, chunk, config, gen, dev))
                opt.step()
            train_loss = float(np.mean(losses)) if losses else float("nan")
            val_loss, metrics = (
                objective.validate(model, val, config, dev) if val else (train_loss, {})
            )
            seconds = time.perf_counter() - t0
            history.append(EpochStats(epoch, train_loss, val_loss, seconds, metrics))
            if on_epoch is not None:
                on_epoch(history[-1])
            bar.update(task, advance=1, description=f"epoch {epoch} val {val_loss:.4f}")
            if stopper.step(model, epoch, val_loss):
                break
    stopper.restore(model)
    stopped = len(history) < config.epochs
    return TrainResult(
        model, tuple(history), stopper.best_epoch, stopper.best_loss, stopped, baseline
    )


def beats_baseline(loss: float, base_loss: float) -> bool:
    """Whether ``loss`` is ``BASELINE_MARGIN`` below the constant prediction's ``base_loss``."""
    return bool(loss < (1.0 - BASELINE_MARGIN) * base_loss)


def baseline_figures(result: TrainResult) -> dict[str, Any]:
    """The card's figures of the constant baseline: its validation loss (and the like) and
    ``beats_baseline``, whether the best validation loss is ``BASELINE_MARGIN`` below it."""
    base = result.baseline.get("val_base_loss")
    if base is None:
        return dict(result.baseline)
    return {**result.baseline, "beats_baseline": beats_baseline(result.best_val_loss, base)}


def baseline_note(metrics: dict[str, Any]) -> str | None:
    """A warning when a card's network did not beat the constant baseline, else None."""
    if metrics.get("beats_baseline", True):
        return None
    rate = metrics.get("val_base_rate")
    constant = "" if rate is None else f" (P(x = 1) = {float(rate):.3f} for every binary)"
    return (
        f"the network's best validation loss {float(metrics['best_val_loss']):.4f} is not "
        f"{BASELINE_MARGIN:.0%} below a constant prediction's "
        f"{float(metrics['val_base_loss']):.4f}{constant}: it has learned little beyond how "
        "often a binary is 1, so its trust region is empty or drawn by noise (more instances, "
        "longer pools or a longer patience may help)"
    )


def checked_pool(problem: Problem, pool_file: Path, name: str) -> SolutionPool:
    """The pool of ``problem`` in ``pool_file``.

    Raises:
        ValueError: the pool was made for another instance, or holds no solution.
    """
    pool = load_pool(pool_file)
    if pool.instance_hash != problem_hash(problem):
        raise ValueError(f"{pool_file} was made for a different instance than {name}")
    if pool.size == 0:
        raise ValueError(f"{pool_file}: empty solution pool for {name}")
    return pool


@dataclass(frozen=True)
class TrainJob(Generic[Item]):
    """Everything ``mipguide train`` needs (recorded in the card).

    Attributes:
        objective: what is trained (PaS predictor, SRG score network).
        family: the family (or ``a+b`` mix) the card names.
        train_specs, val_specs: the instances; they may mix families.
        pool_dirs: family -> its solution-pool cache.
        recommended: parameters written to the card under ``objective.kind``.
    """

    objective: Objective[Item]
    family: str
    train_specs: tuple[InstanceSpec, ...]
    val_specs: tuple[InstanceSpec, ...]
    pool_dirs: dict[str, Path]
    out: Path
    pool: PoolConfig = field(default_factory=PoolConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    workers: int = 1
    device: str = "cpu"
    description: dict[str, Any] = field(default_factory=dict)
    recommended: dict[str, Any] = field(default_factory=dict)


def train_model(
    job: TrainJob[Item],
    progress: bool = True,
    report: Callable[[str, dict[str, Any]], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Pools -> items -> ``fit`` -> registry directory ``job.out`` (NAME@VERSION).

    ``report(stage, figures)`` hears of each pool made (``pools``: done, total) and each epoch
    (``epoch``: its ``EpochStats`` fields); ``stop`` is polled between them (``Stopped``).

    The card records the signature of the training instances per family
    (``mipguide.models.signature``), which ``mode=auto`` (and srg without a model name)
    matches against.
    """
    specs = list(job.train_specs) + list(job.val_specs)
    paths: dict[str, Path] = {}
    for fam in dict.fromkeys(s.family for s in specs):
        group = [s for s in specs if s.family == fam]
        built = build_pools(
            group,
            job.pool_dirs[fam],
            job.pool,
            job.workers,
            progress,
            on_done=None if report is None else _pool_reporter(report, fam),
            stop=stop,
        )
        paths.update({s.name: p for s, p in zip(group, built, strict=True)})
    # an instance on which the pool run found no solution in its time has no pool: skipped
    unsolved = [s.name for s in specs if not paths[s.name].exists()]
    train_specs = [s for s in job.train_specs if s.name not in unsolved]
    val_specs = [s for s in job.val_specs if s.name not in unsolved]
    if not train_specs or not val_specs:
        which = "training" if not train_specs else "validation"
        raise InputError(
            f"no {which} instance has a solution pool: the pool runs found no feasible solution "
            f"in {job.pool.time_limit:g} s on {len(unsolved)} of {len(specs)} instances "
            "(raise --pool-time, or train on instances a solver can solve)"
        )
    if unsolved:
        note = f"no feasible solution in {job.pool.time_limit:g} s: {len(unsolved)} skipped"
        if report is not None:
            report("pools", {"skipped": len(unsolved), "reason": note})
        elif progress:
            print(f"solution pools: {note} ({', '.join(unsolved[:5])}...)", file=sys.stderr)
    specs = train_specs + val_specs
    problems = [s.build() for s in specs]
    items = [
        job.objective.item(p, checked_pool(p, paths[s.name], s.name), s.name, job.train)
        for p, s in zip(problems, specs, strict=True)
    ]
    n_train = len(train_specs)
    signature = [
        cluster
        for f in dict.fromkeys(s.family for s in train_specs)
        for cluster in clusters_of(
            f, [p for p, s in zip(problems[:n_train], specs, strict=False) if s.family == f]
        )
    ]
    t0 = time.perf_counter()
    result = fit(
        job.objective,
        items[:n_train],
        items[n_train:],
        job.train,
        device=job.device,
        progress=progress,
        on_epoch=None if report is None else (lambda h: report("epoch", asdict(h))),
        stop=stop,
    )
    best = result.history[result.best_epoch] if result.best_epoch >= 0 else None
    card = {
        "task": job.objective.task,
        "family": job.family,
        "training_data": {
            **job.description,
            "train_instances": [s.name for s in train_specs],
            "val_instances": [s.name for s in val_specs],
            "no_solution": unsolved,
            "pool": asdict(job.pool),
        },
        "train_config": asdict(job.train),
        **job.objective.card(),
        "signature": [c.to_dict() for c in signature],
        job.objective.kind: job.recommended,
        "seed": job.train.seed,
        "metrics": {
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            **(best.metrics if best is not None else {}),
            **baseline_figures(result),
            "epochs_run": len(result.history),
            "stopped_early": result.stopped_early,
            "train_seconds": round(time.perf_counter() - t0, 2),
        },
        "history": [asdict(h) for h in result.history],
    }
    save_model(result.model, job.out, card)
    return result


def _pool_reporter(
    report: Callable[[str, dict[str, Any]], None], family: str
) -> Callable[[int, int], None]:
    return lambda done, total: report("pools", {"family": family, "done": done, "total": total})


def split_validation(
    specs: Sequence[InstanceSpec], share: float, seed: int
) -> tuple[tuple[InstanceSpec, ...], tuple[InstanceSpec, ...]]:
    """(train, validation) by a seeded shuffle: ``share`` of the instances (at least one, and
    at least one left to train on) validate; each part keeps the given order."""
    order = np.random.default_rng(seed).permutation(len(specs))
    n_val = min(len(specs) - 1, max(1, round(share * len(specs))))
    val = tuple(specs[i] for i in sorted(order[:n_val]))
    train = tuple(specs[i] for i in sorted(order[n_val:]))
    return train, val
