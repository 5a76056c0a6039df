"""`mipguide train`: generate a family's instances, build solution pools, train PaS, register."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from instances.registry import PARAMS, Family, Size, instance_name
from models.pools import InstanceSpec, PoolConfig
from models.train import TrainConfig, TrainJob, train_family


def run_train(
    family: Family,
    size: Size,
    train_seeds: list[int],
    val_seeds: list[int],
    out: Path,
    pool_dir: Path,
    pool: PoolConfig,
    train: TrainConfig,
    workers: int,
    device: str,
    console: Console,
) -> None:
    def specs(seeds: list[int]) -> tuple[InstanceSpec, ...]:
        params = PARAMS[family][size]
        return tuple(
            InstanceSpec(family.value, params, s, instance_name(family, size, s)) for s in seeds
        )

    job = TrainJob(
        family=family.value,
        train_specs=specs(train_seeds),
        val_specs=specs(val_seeds),
        pool_dir=pool_dir,
        out=out,
        pool=pool,
        train=train,
        workers=workers,
        device=device,
        description={"size": size.value, "generator": f"instances.registry {family.value}"},
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
