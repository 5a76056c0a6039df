"""``mipguide bench labels``: has a PaS network learned more than a constant?

On labelled instances (a solution pool per instance, built or reused as ``mipguide train``
builds them), the network's loss and accuracy against the pool's energy-weighted marginals,
beside the best constant prediction's (one P(x = 1) for every binary: the share of ones over
all the instances, ``PasObjective.baseline``), and how many binaries the network puts on each
side of 1/2 (the region's ``k0`` takes its zeros from below, ``k1`` its ones from above).
Written as ``results.md`` and ``results.csv``; the summary row says whether the network's mean
loss is ``BASELINE_MARGIN`` below the constant's, the rule training records as
``beats_baseline``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mipguide.errors import InputError, InvalidOptionError
from mipguide.models.pools import InstanceSpec


@dataclass(frozen=True)
class LabelsArgs:
    model: str
    files: tuple[str, ...]
    family: str | None
    size: str
    seeds: str
    pool_time: float
    pool_solver: str
    pool_dir: Path | None
    workers: int
    out: Path


@dataclass(frozen=True)
class LabelRow:
    """One instance (or ``all``: the mean loss, accuracies over all binaries)."""

    instance: str
    binaries: int
    loss: float
    constant_loss: float
    accuracy: float
    constant_accuracy: float
    below_half: int
    above_half: int


def label_rows(
    model_dir: Path, specs: Sequence[InstanceSpec], pools: Sequence[Path]
) -> list[LabelRow]:
    """One row per instance with a pool (the others are skipped), then ``all``. The constant
    is one rate for every instance.

    Raises:
        InputError: no instance has a pool.
    """
    import torch

    from mipguide.guidance.predict import pas_network
    from mipguide.models.registry import load_model
    from mipguide.models.train import TrainConfig, checked_pool
    from mipguide.models.train_pas import PasObjective, constant_figures, evaluate

    loaded = load_model(model_dir.name, model_dir.parent)
    network = pas_network(loaded)
    # the labels as the model's training made them (its label temperature)
    trained = loaded.card.get("train_config", {})
    known = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in trained.items() if k in known})
    objective = PasObjective()
    named = [(s, p) for s, p in zip(specs, pools, strict=True) if p.exists()]
    if not named:
        raise InputError("no instance has a solution pool: the pool runs found no solution")
    items = []
    for spec, path in named:
        problem = spec.build()
        pool = checked_pool(problem, path, spec.name)
        items.append(objective.item(problem, pool, spec.name, config))
    base = objective.baseline(items, config)
    rows = []
    for (spec, _), item in zip(named, items, strict=True):
        assert item.y is not None
        loss, accuracy = evaluate(network, [item], torch.device("cpu"), config)
        y = item.y[item.bin_mask]
        constant_loss, constant_accuracy = constant_figures(
            y, base["val_base_rate"], config.pos_weight
        )
        probs = network.predict_proba(item)
        below, above = int((probs < 0.5).sum()), int((probs > 0.5).sum())
        rows.append(
            LabelRow(
                spec.name,
                int(y.numel()),
                loss,
                constant_loss,
                accuracy,
                constant_accuracy,
                below,
                above,
            )
        )
    n = sum(r.binaries for r in rows)
    total = LabelRow(
        "all",
        n,
        sum(r.loss for r in rows) / len(rows),
        base["val_base_loss"],
        sum(r.accuracy * r.binaries for r in rows) / n,
        base["val_base_accuracy"],
        sum(r.below_half for r in rows),
        sum(r.above_half for r in rows),
    )
    return [*rows, total]


def labels_command(args: LabelsArgs, console: Console) -> list[LabelRow]:
    """Resolve the model, build or reuse the pools, score, print and write the tables.

    Raises:
        InvalidOptionError: an unknown model or one that is not PaS, no instances, a bad
            option.
    """
    from mipguide.commands.tune import model_folder
    from mipguide.models.cards import model_kind
    from mipguide.models.pools import PoolConfig, build_pools
    from mipguide.models.train import BASELINE_MARGIN, beats_baseline
    from mipguide.settings import get_settings

    directory = model_folder(args.model)
    if model_kind(directory) != "pas":
        raise InvalidOptionError("model", f"{directory.name} is not a PaS model")
    if args.pool_solver not in ("scip", "highs"):
        raise InvalidOptionError("--pool-solver", "unknown", ["scip", "highs"])
    if not 0 < args.pool_time < float("inf"):
        raise InvalidOptionError("--pool-time", "must be a positive number of seconds")
    specs, label = _specs(args)
    pool_dir = args.pool_dir or get_settings().data_dir / "pools" / f"labels-{label}"
    config = PoolConfig(time_limit=args.pool_time, method=args.pool_solver)
    pools = build_pools(specs, pool_dir, config, args.workers, progress=True)
    rows = label_rows(directory, specs, pools)
    _write(args.out, rows)
    table = Table(title=f"{directory.name}: the network against a constant P(x = 1)")
    for name in ("instance", "binaries", "loss", "constant's", "accuracy", "constant's",
                 "below 1/2", "above 1/2"):  # fmt: skip
        table.add_column(name)
    for r in rows:
        table.add_row(*_cells(r))
    console.print(table)
    total = rows[-1]
    beats = beats_baseline(total.loss, total.constant_loss)
    skipped = len(specs) - (len(rows) - 1)
    lower = 1.0 - total.loss / total.constant_loss if total.constant_loss > 0 else 0.0
    console.print(
        f"mean loss {total.loss:.4f} against the constant's {total.constant_loss:.4f} "
        f"({lower:.0%} lower): {'beats' if beats else 'does not beat'} the constant (the rule: "
        f"{BASELINE_MARGIN:.0%} lower)"
        + (f"; {skipped} instances without a pool skipped" if skipped else "")
        + f". Tables in {args.out}"
    )
    return rows


def _specs(args: LabelsArgs) -> tuple[list[InstanceSpec], str]:
    """The instances (generated ``--family``, or files) and a label for their pool folder."""
    from mipguide.commands.args import families
    from mipguide.commands.train import file_specs, generated_specs
    from mipguide.problem.files import model_files

    if (args.family is None) == (not args.files):
        raise InvalidOptionError("--family", "give either --family or instance files")
    if args.family is not None:
        fams, size, seeds = families(args.family, args.size, args.seeds)
        label = f"{'+'.join(f.value for f in fams)}-{size.value}"
        return list(generated_specs(fams, size, seeds)), label
    return file_specs(model_files(list(args.files)), "files"), "files"


def _write(out: Path, rows: Sequence[LabelRow]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(LabelRow)]
    with (out / "results.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    lines = [
        "# A PaS network against the best constant prediction",
        "",
        "Loss: mean binary cross-entropy against the pool's energy-weighted marginals (per"
        " instance, then the mean); accuracy: rounded prediction against rounded label. The"
        " constant is one P(x = 1), the share of ones over all the instances.",
        "",
        "| " + " | ".join(names) + " |",
        "|" + "---|" * len(names),
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    (out / "results.md").write_text("\n".join(lines) + "\n")


def _cells(r: LabelRow) -> list[str]:
    """A row as the table and results.md show it."""
    return [
        r.instance, str(r.binaries), f"{r.loss:.4f}", f"{r.constant_loss:.4f}",
        f"{r.accuracy:.3f}", f"{r.constant_accuracy:.3f}", str(r.below_half), str(r.above_half),
    ]  # fmt: skip
