"""`mipguide bench features`: time build_graph on generated instances (or files): nnz vs seconds."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mipguide.features import build_graph
from mipguide.instances.registry import Family, Size, generate, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.problem.model import Problem


def _time(problem: Problem, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        build_graph(problem)
        best = min(best, time.perf_counter() - t0)
    return best


def run_bench_features(
    console: Console,
    files: list[Path],
    sizes: list[str],
    seed: int = 0,
    repeat: int = 3,
    big: bool = True,
) -> list[tuple[str, int, float]]:
    """Print a table (instance, rows, cols, nnz, seconds, seconds per 1M nnz); return the rows."""
    problems: list[Problem] = []
    if files:
        from mipguide.problem.io import read_problem

        problems = [read_problem(f) for f in files]
    else:
        problems = [generate(fam, Size(size), seed) for fam in Family for size in sizes]
    if big:  # one instance past the 1M-nonzero mark: set cover with 20000 rows
        problems.append(generate_with(Family.SET_COVER, SetCoverParams(n_rows=20_000), seed))
    table = Table(title=f"build_graph (best of {repeat})")
    for col in ("instance", "rows", "cols", "nnz", "seconds", "s / 1M nnz"):
        table.add_column(col, justify="left" if col == "instance" else "right")
    rows = []
    for p in problems:
        sec = _time(p, repeat)
        per_m = sec / max(p.nnz, 1) * 1e6
        table.add_row(
            p.name, str(p.num_rows), str(p.num_vars), str(p.nnz), f"{sec:.4f}", f"{per_m:.3f}"
        )
        rows.append((p.name, p.nnz, sec))
    console.print(table)
    return rows
