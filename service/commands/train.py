"""`mipguide train`: generate instances of one or more families, build solution pools, train a PaS
predictor (``kind="pas"``) or an SRG score network (``kind="srg"``), register."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from instances.registry import PARAMS, Family, Size, instance_name
from models.pools import InstanceSpec, PoolConfig
from models.srg import SrgConfig
from models.train import TrainConfig, TrainJob, train_family
from models.train_srg import SrgTrainJob, train_srg_family


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
    *,
    kind: str = "pas",
    srg: dict[str, Any] | None = None,
    srg_model: SrgConfig | None = None,
    samples: int = 8,
) -> None:
    """Train one model on the given families (several: one model for their mix).

    Args:
        families: the families; the same seeds are used for each.
        pool_dirs: where each family's solution pools are cached.
        pas: recommended PaS parameters, written to the card (``mode=pas`` uses them).
        kind: ``pas`` or ``srg``.
        srg: recommended SRG parameters for the card (``mode=srg`` uses them).
        srg_model: the score network's shape (kind srg).
        samples: noised pool solutions per instance and step (kind srg).
    """

    def specs(seeds: list[int]) -> tuple[InstanceSpec, ...]:
        return tuple(
            InstanceSpec(f.value, PARAMS[f][size], s, instance_name(f, size, s))
            for f in families
            for s in seeds
        )

    description = {
        "size": size.value,
        "generator": "instances.registry " + ",".join(f.value for f in families),
        "command": command,
    }
    if kind == "srg":
        _run_train_srg(
            SrgTrainJob(
                family="+".join(f.value for f in families),
                train_specs=specs(train_seeds),
                val_specs=specs(val_seeds),
                pool_dirs={f.value: d for f, d in pool_dirs.items()},
                out=out,
                pool=pool,
                train=train,
                model=srg_model or SrgConfig(),
                samples=samples,
                workers=workers,
                device=device,
                description=description,
                recommended_srg=dict(srg or {}),
            ),
            console,
        )
        return
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
        description=description,
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


def _run_train_srg(job: SrgTrainJob, console: Console) -> None:
    result = train_srg_family(job, progress=True)
    for h in result.history:
        line = f"epoch {h.epoch:3d}  train {h.train_loss:.4f}  val {h.val_loss:.4f}"
        console.print(f"{line}  ({h.seconds:.1f}s)")
    console.print(
        f"best epoch {result.best_epoch} (val loss {result.best_val_loss:.4f}); saved {job.out}"
    )
