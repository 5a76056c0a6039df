"""`mipguide train`: generate instances of one or more families, build solution pools, train PaS,
register."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from instances.registry import PARAMS, Family, Size, instance_name
from models.pools import InstanceSpec, PoolConfig
from models.train import TrainConfig, TrainJob, train_family


def run_train(
    families: list[Family],
    size: Size,
    train_seeds: list[int],
    val_seeds: list[int],
    out: Path,
    pool_dirs: dict[Family, Path],
    pool: PoolConfig,
    train: TrainConfig,
    workers: int,
    device: str,
    console: Console,
    command: str = "",
    pas: dict[str, Any] | None = None,
) -> None:
    """Train one model on the given families (several: one model for their mix).

    Args:
        families: the families; the same seeds are used for each.
        pool_dirs: where each family's solution pools are cached.
        pas: recommended PaS parameters, written to the card (``mode=pas`` uses them).
    """

    def specs(seeds: list[int]) -> tuple[InstanceSpec, ...]:
        return tuple(
            InstanceSpec(f.value, PARAMS[f][size], s, instance_name(f, size, s))
            for f in families
            for s in seeds
        )

    job = TrainJob(
        family="+".join(f.value for f in families),
        train_specs=specs(train_seeds),
        val_specs=specs(val_seeds),
        pool_dir=pool_dirs[families[0]],
        pool_dirs={f.value: d for f, d in pool_dirs.items()},
        out=out,
        pool=pool,
        train=train,
        workers=workers,
        device=device,
        recommended_pas=dict(pas or {}),
        description={
            "size": size.value,
            "generator": "instances.registry " + ",".join(f.value for f in families),
            "command": command,
        },
    )
    result = train_family(job, progress=True)
    for h in result.history:
        console.print(
            f"epoch {h.epoch:3d}  train {h.train_loss:.4f}  val {h.val_loss:.4f}  "
            f"acc {h.val_accuracy:.3f}  ({h.seconds:.1f}s)"
        )
    console.print(
        f"best epoch {result.best_epoch} (val loss {result.best_val_loss:.4f}); saved {out}"
    )
