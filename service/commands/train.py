"""`mipguide train`: generate instances of one or more families, build solution pools, train a PaS
predictor (``kind="pas"``) or an SRG score network (``kind="srg"``), register."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from mipguide.commands.args import families, pas_overrides, srg_overrides
from mipguide.errors import InvalidOptionError

if TYPE_CHECKING:
    from mipguide.models.srg import SrgConfig
    from mipguide.models.train import TrainResult


@dataclass(frozen=True)
class TrainArgs:
    """The command line of ``mipguide train`` (see ``mipguide.cli.train``)."""

    family: str
    out: Path
    size: str = "easy"
    train_seeds: str = "0-99"
    val_seeds: str = "1000-1019"
    epochs: int = 30
    seed: int = 0
    lr: float = 1e-3
    batch_size: int = 4
    patience: int = 5
    pool_k: int = 32
    pool_time: float = 10.0
    pool_dir: Path | None = None
    workers: int = 0
    pas: tuple[str, ...] = ()
    kind: str = "pas"
    srg: tuple[str, ...] = ()
    hidden: int = 32
    coupling: str = "graph"
    samples: int = 8
    label_temperature: float = 0.2


def train_command(args: TrainArgs, console: Console) -> None:
    """Validate the command line, then train and register one model.

    Several families (a comma list or ``all``) train one model on their mix; pools are cached
    per family (``POOL_DIR/FAMILY-SIZE``), so a mix reuses the pools of the single-family
    models, and SRG those of PaS.

    Raises:
        InvalidOptionError: the offending option.
    """
    from mipguide.models.pools import InstanceSpec, PoolConfig
    from mipguide.models.train import TrainConfig, TrainJob, train_model
    from mipguide.models.train_pas import PasObjective
    from mipguide.models.train_srg import SrgObjective
    from mipguide.settings import get_settings

    shape, recommended = _checked(args)
    fams, size, train_seeds = families(args.family, args.size, args.train_seeds)
    _, _, val_seeds = families(args.family, args.size, args.val_seeds)
    settings = get_settings()
    root = args.pool_dir or settings.data_dir / "pools"
    several = len(fams) > 1 or args.pool_dir is None
    pool_dirs = {f.value: root / f"{f.value}-{size.value}" if several else root for f in fams}

    def specs(seeds: list[int]) -> tuple[InstanceSpec, ...]:
        from mipguide.instances.registry import PARAMS, instance_name

        return tuple(
            InstanceSpec(f.value, PARAMS[f][size], s, instance_name(f, size, s))
            for f in fams
            for s in seeds
        )

    objective: Any = PasObjective() if args.kind == "pas" else SrgObjective(shape, args.samples)
    job = TrainJob(
        objective=objective,
        family="+".join(f.value for f in fams),
        train_specs=specs(train_seeds),
        val_specs=specs(val_seeds),
        pool_dirs=pool_dirs,
        out=args.out,
        pool=PoolConfig(k=args.pool_k, time_limit=args.pool_time, seed=args.seed),
        train=TrainConfig(
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            patience=args.patience,
            seed=args.seed,
            temperature_fraction=args.label_temperature,
        ),
        workers=args.workers or os.cpu_count() or 1,
        device=settings.device,
        description={
            "size": size.value,
            "generator": "mipguide.instances.registry " + ",".join(f.value for f in fams),
            "command": "mipguide " + " ".join(sys.argv[1:]),
        },
        recommended=recommended,
    )
    _report(train_model(job, progress=True), args, console)


def _checked(args: TrainArgs) -> tuple[SrgConfig, dict[str, Any]]:
    """The SRG network's shape and the card's recommended parameters, validated.

    Raises:
        InvalidOptionError: the offending option.
    """
    from mipguide.models.srg import SrgConfig

    if args.kind not in ("pas", "srg"):
        raise InvalidOptionError("--kind", f"unknown kind {args.kind!r}", ["pas", "srg"])
    if not 0 < args.label_temperature < float("inf"):
        raise InvalidOptionError("--label-temperature", "must be a positive number")
    try:
        shape = SrgConfig(hidden=args.hidden, coupling=args.coupling)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError("--coupling", str(exc)) from exc
    if args.kind == "srg":
        return shape, srg_overrides(list(args.srg))
    return shape, pas_overrides(list(args.pas))


def _report(result: TrainResult, args: TrainArgs, console: Console) -> None:
    for h in result.history:
        figures = "".join(f"  {k} {v:.3f}" for k, v in h.metrics.items())
        console.print(
            f"epoch {h.epoch:3d}  train {h.train_loss:.4f}  val {h.val_loss:.4f}{figures}  "
            f"({h.seconds:.1f}s)"
        )
    console.print(
        f"best epoch {result.best_epoch} (val loss {result.best_val_loss:.4f}); saved {args.out}"
    )
