"""`mipguide bench srg`: the SRG sampler's speed and the quality of its raw candidates.

(a) sampling time of K candidates on 1500-binary instances (independent set and auctions, hard),
median of repeats, one thread; (b) per family, the raw-candidate feasibility rate, mean max
violation and mean objective with guidance and without, over held-out seeds. Outputs in
``--out``: ``timing.csv``, ``raw.csv`` (one row per instance and setting), ``srg.png``.

``--tune PATH=V1,V2,...`` (a guidance parameter of ``TUNABLE``, on validation seeds): the
guided candidates once per value, the unguided once, and the value with the lowest mean ratio
of its best feasible candidate to the best any setting (unguided included) found on the
instance (``MISSING_RATIO`` where it has none) is chosen; ``tune.csv`` holds the figures.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mipguide.bench.guided import csv_cell
from mipguide.bench.srg_measure import RawQuality, Timing, raw_quality, time_sampling
from mipguide.errors import InvalidOptionError
from mipguide.guidance.params import dotted, merged
from mipguide.instances.registry import Family, Size, generate
from mipguide.pipeline.primal import compare
from mipguide.problem.model import Problem

TARGET_SECONDS = 1.0  # the SRG issue: K = 16 on 1,500 binaries, one CPU thread
TIMING_FAMILIES = (Family.INDEPENDENT_SET, Family.COMBINATORIAL_AUCTION)
# the parameters ``--tune`` takes: they steer the guidance only (the unguided candidates, run
# once, do not depend on them)
TUNABLE = (
    "sampling.eta",
    "sampling.rho",
    "sampling.objective",
    "sampling.aggregate_rho",
)
MISSING_RATIO = 2.0  # a setting's ratio on an instance where none of its candidates is feasible


def parse_tune(spec: str | None) -> tuple[str, list[float]] | None:
    """``PATH=V1,V2,...`` -> (path, values), or None.

    Raises:
        InvalidOptionError: not one of ``TUNABLE``, no value, or a value that is not a
            non-negative number.
    """
    if spec is None:
        return None
    path, _, text = spec.partition("=")
    path = path.strip()
    if path not in TUNABLE:
        raise InvalidOptionError("--tune", f"{path!r} cannot be tuned here", list(TUNABLE))
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise InvalidOptionError("--tune", f"{path}: values must be numbers") from exc
    if not values or any(not np.isfinite(v) or v < 0 for v in values):
        raise InvalidOptionError("--tune", f"{path}: give non-negative numbers, e.g. {path}=1,0.5")
    return path, values


def _model_for(problem: Problem, model: str | None, model_dir: Path, device: str):  # noqa: ANN202
    from mipguide.guidance.selection import cached_model, model_cards, select_model

    ref = model
    if ref is None:
        match = select_model(problem, model_dir, "srg")
        if match is None:
            choices = [r for r, _ in model_cards(model_dir, "srg")]
            raise InvalidOptionError("--model", f"no srg model matches {problem.name}", choices)
        ref = match.ref
    return cached_model(ref, str(model_dir), device)


def _params(model_card: dict[str, Any], overrides: dict[str, Any]) -> Any:
    from mipguide.guidance.selection import srg_params

    return srg_params(model_card, overrides)


def bench_srg_command(
    families_spec: str,
    size: str,
    seeds: str,
    timing_size: str,
    repeat: int,
    model: str | None,
    srg: list[str],
    out: Path,
    console: Console,
    tune: str | None = None,
) -> tuple[list[Timing], list[RawQuality]]:
    """``mipguide bench srg``: validate the command line, then measure."""
    from mipguide.commands.args import families, family_size_seeds, srg_overrides
    from mipguide.settings import get_settings

    settings = get_settings()
    fams, sz, seed_list = families(families_spec, size, seeds)
    _, tsz, _ = family_size_seeds(fams[0].value, timing_size, seeds)
    grid = parse_tune(tune)
    return run_bench_srg(
        fams,
        sz,
        seed_list,
        out,
        console,
        timing_size=tsz,
        repeat=repeat,
        model=model,
        model_dir=settings.model_dir,
        device="cpu" if settings.device == "auto" else settings.device,
        srg=srg_overrides(srg),
        tune=grid,
    )


def run_bench_srg(
    families: Sequence[Family],
    size: Size,
    seeds: Sequence[int],
    out: Path,
    console: Console,
    *,
    timing_size: Size = Size.HARD,
    repeat: int = 3,
    model: str | None = None,
    model_dir: Path,
    device: str = "cpu",
    srg: dict[str, Any] | None = None,
    tune: tuple[str, list[float]] | None = None,
) -> tuple[list[Timing], list[RawQuality]]:
    """Measure, print a table, write CSV and PNG; returns the measurements.

    Args:
        families, size, seeds: the instances of the raw-candidate comparison.
        timing_size: size of the timing instances (hard: 1500 binaries).
        model: an SRG model for every instance (default: each family's best match).
        srg: SRG parameter overrides (on top of the model card's); guidance is switched on and
            off by the bench.
        tune: (path, values): the guided candidates once per value (module docstring).
    """
    import torch

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    overrides = dict(srg or {})
    timings: list[Timing] = []
    raws: list[RawQuality] = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("bench srg", total=len(TIMING_FAMILIES) + len(families) * len(seeds))
        for fam in TIMING_FAMILIES:
            p = generate(fam, timing_size, 2000)
            loaded = _model_for(p, model, model_dir, device)
            timings.append(time_sampling(p, loaded, _params(loaded.card, overrides), repeat))
            bar.advance(task)
        for fam in families:
            for seed in seeds:
                p = generate(fam, size, seed)
                loaded = _model_for(p, model, model_dir, device)
                settings = [("", overrides)]
                if tune is not None:
                    path, values = tune
                    settings = [
                        (f"{path}={v:g}", merged(overrides, dotted({path: v}))) for v in values
                    ]
                for setting, chosen in settings:  # guided, once per setting
                    params = _params(loaded.card, chosen)
                    raws.append(raw_quality(p, loaded, params, seed, setting))
                params = _params(loaded.card, overrides)
                sampling = params.sampling.model_copy(update={"guidance": False})
                unguided = params.model_copy(update={"sampling": sampling})
                raws.append(raw_quality(p, loaded, unguided, seed))
                bar.advance(task)
    _write_csv(out / "timing.csv", [asdict(t) for t in timings])
    _write_csv(out / "raw.csv", [asdict(r) for r in raws])
    plot(timings, raws, out / "srg.png")
    print_tables(timings, raws, console)
    if tune is not None:
        rows = tune_table(raws)
        _write_csv(out / "tune.csv", rows)
        print_tune(rows, console)
    console.print(f"results in {out}")
    return timings, raws


def tune_table(raws: Sequence[RawQuality]) -> list[dict[str, Any]]:
    """One row per guided setting, then the unguided: mean feasible share, instances where its
    feasible share is higher than the unguided one's and its best feasible candidate better
    (than the unguided best, or the unguided have none: #27's raw-candidate test), and the mean
    ratio to the best on each instance (module docstring); ``chosen`` marks the lowest guided
    mean ratio (ties: the earlier value)."""
    instances = list(dict.fromkeys(r.instance for r in raws))
    best: dict[str, float] = {}
    for inst in instances:
        found = [
            (r.best_feasible_objective, r.minimize)
            for r in raws
            if r.instance == inst and r.best_feasible_objective is not None
        ]
        if found:
            values = [v for v, _ in found]
            best[inst] = min(values) if found[0][1] else max(values)

    def ratio(r: RawQuality) -> float:
        ref, value = best.get(r.instance), r.best_feasible_objective
        if value is None or ref is None:
            return MISSING_RATIO
        if ref == value:
            return 1.0
        den = abs(ref) if r.minimize else abs(value)
        gap = (value - ref) if r.minimize else (ref - value)
        return 1.0 + gap / den if den > 0 else MISSING_RATIO

    def beats(r: RawQuality, base: RawQuality) -> bool:
        sense = 1 if r.minimize else -1
        return compare(r.best_feasible_objective, base.best_feasible_objective, sense) == 0

    off = {r.instance: r for r in raws if not r.guidance}
    labels = list(dict.fromkeys(r.setting for r in raws if r.guidance)) + ["unguided"]
    rows: list[dict[str, Any]] = []
    for label in labels:
        mine = [r for r in raws if (r.setting == label and r.guidance) or
                (label == "unguided" and not r.guidance)]  # fmt: skip
        rows.append(
            {
                "setting": label,
                "instances": len(mine),
                "feasible_rate": float(np.mean([r.feasible_rate for r in mine])),
                "beats_unguided": sum(
                    beats(r, off[r.instance]) and r.feasible_rate > off[r.instance].feasible_rate
                    for r in mine
                    if r.instance in off and r.guidance
                ),
                "mean_ratio": float(np.mean([ratio(r) for r in mine])),
                "chosen": False,
            }
        )
    guided = [row for row in rows if row["setting"] != "unguided"]
    if guided:
        min(guided, key=lambda row: row["mean_ratio"])["chosen"] = True
    return rows


def print_tune(rows: Sequence[dict[str, Any]], console: Console) -> None:
    table = Table(title="guidance grid: best feasible raw candidate / the best of any setting")
    for col in ("setting", "n", "raw feasible", "beats unguided", "mean ratio", "chosen"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["setting"].rpartition(".")[2],  # the field and value: the section is the grid's
            str(r["instances"]),
            f"{r['feasible_rate']:.3f}",
            "-" if r["setting"] == "unguided" else str(r["beats_unguided"]),
            f"{r['mean_ratio']:.4f}",
            "yes" if r["chosen"] else "",
        )
    console.print(table)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as fh:
        if not rows:
            return
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: csv_cell(v) for k, v in r.items()})


def family_of(instance: str) -> str:
    return instance.split("-", 1)[0]


def summarize(raws: Sequence[RawQuality]) -> list[dict[str, Any]]:
    """Per (family, guidance): instances, mean feasible rate, violation, objective."""
    out = []
    keys = dict.fromkeys((family_of(r.instance), r.guidance) for r in raws)
    for fam, guided in keys:
        mine = [r for r in raws if family_of(r.instance) == fam and r.guidance == guided]
        out.append(
            {
                "family": fam,
                "guidance": guided,
                "instances": len(mine),
                "feasible_rate": float(np.mean([r.feasible_rate for r in mine])),
                "mean_violation": float(np.mean([r.mean_violation for r in mine])),
                "mean_objective": float(np.mean([r.mean_objective for r in mine])),
                "seconds": float(np.mean([r.seconds for r in mine])),
            }
        )
    return out


def print_tables(timings: Sequence[Timing], raws: Sequence[RawQuality], console: Console) -> None:
    table = Table(title=f"SRG sampling time, one thread (target <= {TARGET_SECONDS:g} s)")
    for col in ("instance", "binaries", "rows", "nnz", "K", "steps", "median s", "min", "max"):
        table.add_column(col, justify="right")
    for t in timings:
        table.add_row(
            t.instance,
            str(t.binaries),
            str(t.rows),
            str(t.nnz),
            str(t.k),
            str(t.steps),
            f"{t.median:.3f}",
            f"{t.best:.3f}",
            f"{t.worst:.3f}",
        )
    console.print(table)
    table = Table(title="SRG raw candidates (before repair)")
    for col in ("family", "guidance", "n", "raw feasible", "mean max viol", "mean obj", "s"):
        table.add_column(col, justify="right")
    for s in summarize(raws):
        table.add_row(
            s["family"],
            "on" if s["guidance"] else "off",
            str(s["instances"]),
            f"{s['feasible_rate']:.3f}",
            f"{s['mean_violation']:.4g}",
            f"{s['mean_objective']:.6g}",
            f"{s['seconds']:.2f}",
        )
    console.print(table)


def plot(timings: Sequence[Timing], raws: Sequence[RawQuality], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    names = [t.instance for t in timings]
    left.bar(names, [t.median for t in timings], color="tab:blue")
    left.axhline(TARGET_SECONDS, color="tab:red", linestyle="--", label="target")
    left.set_ylabel("seconds (median)")
    left.set_title(f"sampling K={timings[0].k if timings else '-'}, one thread")
    left.legend()
    rows = summarize(raws)
    fams = list(dict.fromkeys(r["family"] for r in rows))
    x = np.arange(len(fams))
    for shift, guided, label in ((-0.2, True, "guidance"), (0.2, False, "no guidance")):
        rate = [next((r["feasible_rate"] for r in rows if r["family"] == f and
                      r["guidance"] == guided), 0.0) for f in fams]  # fmt: skip
        right.bar(x + shift, rate, width=0.4, label=label)
    right.set_xticks(x, fams)
    right.set_ylim(0, 1.05)
    right.set_ylabel("raw feasible fraction")
    right.set_title("raw candidates before repair")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
