"""SRG training: the ``Objective`` of the score network and the SRG forms of ``train.fit``.

Denoising score matching in the x0-parametrization: for each instance and step, ``samples``
pool solutions are drawn with probability equal to their energy weight (``mipguide.models.labels``),
each gets a time t ~ U[T_MIN, 1] and Gaussian noise, y_t = alpha(t) (2x - 1) + sigma(t) z, and
the network is trained to recover x from (graph, y_t, t) by BCE. The expectation of this loss
is the energy-weighted denoising loss, whose minimizer gives the score of the noised pool
distribution (``mipguide.models.sde.score``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mipguide.features import build_graph
from mipguide.models.data import BipartiteData, graph_to_data
from mipguide.models.labels import energy_weights
from mipguide.models.pools import SolutionPool
from mipguide.models.sde import T_MIN, noised
from mipguide.models.srg import SrgConfig, SrgNet, srg_loss
from mipguide.models.train import TrainConfig, TrainResult, checked_pool, fit
from mipguide.problem.model import Problem

VAL_TIMES = (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)


@dataclass(frozen=True, eq=False)
class SrgItem:
    """One training instance: its graph tensors, pool solutions (P, nb) and their weights."""

    data: BipartiteData
    x: torch.Tensor
    weights: torch.Tensor
    name: str


@dataclass(frozen=True)
class SrgObjective:
    """The score network (x0 prediction) of the energy-weighted solution pools.

    Attributes:
        model_config: the network's shape.
        samples: noised pool solutions per instance and step (one forward).
    """

    model_config: SrgConfig = field(default_factory=SrgConfig)
    samples: int = 8
    kind: str = "srg"
    task: str = "SRG: score network (x0 prediction) of the energy-weighted solution pools"

    def network(self) -> torch.nn.Module:
        return SrgNet(self.model_config)

    def item(self, problem: Problem, pool: SolutionPool, name: str, config: TrainConfig) -> SrgItem:
        w, _ = energy_weights(pool.objectives, pool.sense, config.temperature)
        return SrgItem(
            data=graph_to_data(build_graph(problem)),
            x=torch.from_numpy(pool.x_bin.astype(np.float32)),
            weights=torch.from_numpy(w),
            name=name,
        )

    def accumulate(
        self,
        model: torch.nn.Module,
        chunk: Sequence[SrgItem],
        config: TrainConfig,
        gen: torch.Generator,
        dev: torch.device,
    ) -> float:
        # one backward per instance (their graphs differ); the mean over the chunk
        total = 0.0
        for item in chunk:
            loss = _loss(model, item, *_noisy_batch(item, self.samples, gen), dev) / len(chunk)
            loss.backward()
            total += float(loss.detach())
        return total

    def validate(
        self,
        model: torch.nn.Module,
        items: Sequence[SrgItem],
        config: TrainConfig,
        dev: torch.device,
    ) -> tuple[float, dict[str, float]]:
        return validation_loss(model, items, dev, config.seed + 1), {}

    def card(self) -> dict[str, Any]:
        return {"model_config": self.model_config.to_dict(), "samples": self.samples}

    def baseline(self, items: Sequence[SrgItem], config: TrainConfig) -> dict[str, float]:
        return {}  # a score network has no constant prediction to compare with


def srg_item(problem: Problem, pool_file: Path, name: str, temperature: float | None) -> SrgItem:
    """Instance + pool -> training item (checks the pool's hash)."""
    pool = checked_pool(problem, pool_file, name)
    return SrgObjective().item(problem, pool, name, TrainConfig(temperature=temperature))


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


def _loss(net: Any, item: SrgItem, x0: torch.Tensor, y: torch.Tensor, t: torch.Tensor, dev: Any):  # type: ignore[no-untyped-def]  # noqa: ANN202
    data = item.data.to(dev)
    return srg_loss(net(net.context(data), y.to(dev), t.to(dev)), x0.to(dev))


@torch.no_grad()
def validation_loss(
    net: torch.nn.Module, items: Sequence[SrgItem], dev: torch.device, seed: int
) -> float:
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
) -> TrainResult:
    """Train a score network (``fit`` with an ``SrgObjective``)."""
    objective = SrgObjective(model_config or SrgConfig(), samples)
    return fit(objective, train, val, config, device=device, progress=progress)
