"""PaS training: the ``Objective`` of the predictor (energy-weighted marginals as labels,
weighted BCE) and the PaS forms of ``train.fit`` / ``train.train_model``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mipguide.features import build_graph
from mipguide.models.data import BipartiteData, collate, graph_to_data
from mipguide.models.pas import PaSConfig, PaSNet, pas_loss
from mipguide.models.pools import InstanceSpec, SolutionPool
from mipguide.models.train import TrainConfig, TrainResult, checked_pool, fit
from mipguide.problem.model import Problem


@dataclass(frozen=True)
class PasObjective:
    """P(x_j = 1) for the binaries, trained on the pools' energy-weighted marginals."""

    model_config: PaSConfig | None = None
    kind: str = "pas"
    task: str = "PaS: P(x_j = 1) for the binaries"

    def network(self) -> torch.nn.Module:
        return PaSNet(self.model_config)

    def item(
        self, problem: Problem, pool: SolutionPool, name: str, config: TrainConfig
    ) -> BipartiteData:
        labels = pool.labels(config.temperature, config.temperature_fraction).labels
        return graph_to_data(build_graph(problem), labels)

    def accumulate(
        self,
        model: torch.nn.Module,
        chunk: Sequence[BipartiteData],
        config: TrainConfig,
        gen: torch.Generator,
        dev: torch.device,
    ) -> float:
        batch = collate(list(chunk)).to(dev)
        loss = pas_loss(model(batch), batch, config.pos_weight)
        loss.backward()
        return float(loss.item())

    def validate(
        self,
        model: torch.nn.Module,
        items: Sequence[BipartiteData],
        config: TrainConfig,
        dev: torch.device,
    ) -> tuple[float, dict[str, float]]:
        loss, accuracy = evaluate(model, items, dev, config)
        return loss, {"val_accuracy": accuracy}

    def card(self) -> dict[str, Any]:
        return {}

    def baseline(self, items: Sequence[BipartiteData], config: TrainConfig) -> dict[str, float]:
        """The best constant prediction on the validation items: P(x = 1) = the mean label
        over all their binaries; its loss (as ``evaluate`` computes the network's) and
        accuracy."""
        labels = [d.y[d.bin_mask] for d in items if d.y is not None and bool(d.bin_mask.any())]
        if not labels:
            return {}
        rate = float(torch.cat(labels).double().mean())
        figures = [constant_figures(y, rate, config.pos_weight) for y in labels]
        sizes = [int(y.numel()) for y in labels]
        right = sum(a * n for (_, a), n in zip(figures, sizes, strict=True))
        return {
            "val_base_rate": rate,
            "val_base_loss": float(np.mean([loss for loss, _ in figures])),
            "val_base_accuracy": right / sum(sizes),
        }


def constant_figures(y: torch.Tensor, rate: float, pos_weight: float | None) -> tuple[float, float]:
    """(loss, accuracy) on the labels ``y`` of predicting P(x = 1) = ``rate`` for each."""
    logit = float(np.log(max(rate, 1e-6) / max(1.0 - rate, 1e-6)))
    pw = None if pos_weight is None else torch.tensor(pos_weight)
    logits = torch.full_like(y, logit)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=pw)
    return float(loss), float(((y > 0.5) == (rate > 0.5)).double().mean())


def labeled_data(spec: InstanceSpec, pool_file: Path, temperature: float | None) -> BipartiteData:
    """Instance + pool -> tensors with energy-weighted labels (checks the pool's hash)."""
    problem = spec.build()
    pool = checked_pool(problem, pool_file, spec.name)
    return PasObjective().item(problem, pool, spec.name, TrainConfig(temperature=temperature))


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, data: Sequence[BipartiteData], device: torch.device, config: TrainConfig
) -> tuple[float, float]:
    """(mean loss per graph, accuracy of rounded predictions against rounded labels)."""
    model.eval()
    losses, correct, total = [], 0, 0
    for d in data:
        d = d.to(device)
        logits = model(d)
        losses.append(float(pas_loss(logits, d, config.pos_weight)))
        pred = logits[d.bin_mask] > 0
        assert d.y is not None, "evaluation needs labelled graphs"
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
    """Train a PaS network (``fit`` with a ``PasObjective``)."""
    return fit(PasObjective(model_config), train, val, config, device=device, progress=progress)
