"""``mipguide bench device``: the tensor paths on each device, the same work on each.

Four workloads, each timed on the CPU with one thread (what a solve worker uses), on the CPU with
every core, and on CUDA where a device exists:

- ``dmmv tomo 64x64``: one DMMV search on a 64x64 four-level tomography instance (8 angles),
  a fixed number of passes (``--dmmv-iterations``), no time limit;
- ``dmmv tomo 64x64 batch 64``: 64 such instances (one projector) searched in one batch,
  ``--batch-iterations`` passes;
- ``srg sample``: the SRG sampler, K = 16 candidates on a hard independent-set instance
  (1,500 binaries), the family's shipped model and card (guidance on);
- ``pas predict``: the PaS network on a hard facility-location graph (its largest: 80,000
  nodes), the family's shipped model.

On CUDA, ``cuda-graph`` rows run the DMMV passes replayed as a captured CUDA graph
(``DmmvConfig.cuda_graph``). Every time is the median of ``--repeat`` runs after one warm-up
run (CUDA start-up and kernel compilation are excluded, as a long-lived device worker pays them
once). The table gives the speed-up of each row over the one-thread CPU row and writes
``device.csv`` and ``device.png``.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class DeviceRow:
    """One workload on one device: median/min wall seconds over the repeats and a quality figure
    (DMMV: mean max violation reached; SRG: mean fraction of binaries at 1; PaS: mean probability),
    so a device that did less work shows it."""

    workload: str
    device: str
    threads: int
    median: float
    best: float
    repeats: int
    quality: float
    detail: str


@dataclass(frozen=True)
class Workload:
    name: str
    detail: str
    run: Callable[[str], float]  # device -> quality figure


def _timed(work: Workload, device: str, threads: int, repeat: int) -> DeviceRow:
    import torch

    torch.set_num_threads(threads)
    work.run(device)  # warm-up: CUDA context, kernels, allocator
    times, quality = [], 0.0
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        quality = work.run(device)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return DeviceRow(
        work.name,
        device,
        threads,
        float(np.median(times)),
        min(times),
        repeat,
        quality,
        work.detail,
    )


def _dmmv_tomography(count: int, iterations: int) -> Workload:
    from mipguide.bench.dmmv_runs import FAMILY_CONFIG
    from mipguide.heuristics.dmmv.solve import solve_batch
    from mipguide.instances.dmmv.tomography import tomography_case

    case = tomography_case(64, n_levels=4, n_angles=8, seed=0, count=count)
    cfg = replace(FAMILY_CONFIG["tomo"], time_limit=1e9, max_iterations=iterations, seed=0)

    def run(device: str) -> float:
        # cuda-graph: the same passes on CUDA replayed as a CUDA graph
        on = replace(cfg, device=device.removesuffix("-graph"), cuda_graph=device == "cuda-graph")
        results = solve_batch(case.batch, on)
        return float(np.mean([r.max_violation for r in results]))

    name = "dmmv tomo 64x64" + (f" batch {count}" if count > 1 else "")
    detail = f"{case.batch.shape[1]} pixels, 4 levels, 8 angles, {iterations} passes"
    return Workload(name, detail, run)


def _srg_sample(model_dir: Path) -> Workload:
    from mipguide.features import build_graph
    from mipguide.guidance.rows import guidance_rows
    from mipguide.guidance.sample import sample_candidates
    from mipguide.guidance.selection import cached_model, select_model, srg_params
    from mipguide.instances.registry import Family, Size, generate

    problem = generate(Family.INDEPENDENT_SET, Size.HARD, 2000)
    graph, rows = build_graph(problem), guidance_rows(problem)
    match = select_model(problem, model_dir, "srg")
    if match is None:
        raise RuntimeError(f"no srg model for {problem.name} in the registry")
    params = srg_params(cached_model(match.ref, str(model_dir), "cpu").card, {})
    sampling = params.sampling.model_copy(update={"k": 16, "guidance": True})

    def run(device: str) -> float:
        loaded = cached_model(match.ref, str(model_dir), device)
        samples = sample_candidates(graph, rows, loaded, sampling, seed=0)
        return float(np.mean(samples.x))

    detail = f"{problem.num_binaries} binaries, K=16, {sampling.steps} steps, {match.ref}"
    return Workload("srg sample", detail, run)


def _pas_predict(model_dir: Path) -> Workload:
    from mipguide.features import build_graph
    from mipguide.guidance.predict import predict
    from mipguide.guidance.selection import cached_model, select_model
    from mipguide.instances.registry import Family, Size, generate

    problem = generate(Family.FACILITY_LOCATION, Size.HARD, 2000)
    graph = build_graph(problem)
    match = select_model(problem, model_dir, "pas")
    if match is None:
        raise RuntimeError(f"no pas model for {problem.name} in the registry")

    def run(device: str) -> float:
        loaded = cached_model(match.ref, str(model_dir), device)
        return float(np.mean(predict(graph, loaded).probs))

    nodes = problem.num_vars + problem.num_rows
    return Workload("pas predict", f"{nodes} nodes, {problem.nnz} edges, {match.ref}", run)


def run_bench_device(
    model_dir: Path,
    out: Path,
    console: Console,
    *,
    repeat: int = 5,
    dmmv_iterations: int = 300,
    batch: int = 64,
    batch_iterations: int = 50,
) -> list[DeviceRow]:
    """Time every workload on every device; print the table, write CSV and PNG."""
    import torch

    if console.width < 160:
        console = Console(width=160, highlight=False)
    devices = [("cpu", 1), ("cpu", os.cpu_count() or 1)]
    if devices[1][1] == 1:
        devices.pop()
    if torch.cuda.is_available():
        devices.append(("cuda", 1))
    else:
        console.print("no CUDA device: CPU rows only")
    works = [
        _dmmv_tomography(1, dmmv_iterations),
        _dmmv_tomography(batch, batch_iterations),
        _srg_sample(model_dir),
        _pas_predict(model_dir),
    ]
    rows = []
    for work in works:
        cuda = any(d == "cuda" for d, _ in devices)
        graph = [("cuda-graph", 1)] if cuda and work.name.startswith("dmmv") else []
        for device, threads in devices + graph:
            console.print(f"{work.name} on {device} ({threads} threads) ...")
            rows.append(_timed(work, device, threads, repeat))
    write_rows(rows, out / "device.csv")
    print_device(rows, console)
    plot_device(rows, out / "device.png")
    console.print(f"results in {out}")
    return rows


def write_rows(rows: Sequence[Any], path: Path) -> None:
    """Dataclass rows as CSV, one column per field (the folder is made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def _base(rows: list[DeviceRow], row: DeviceRow) -> float:
    return next(
        r.median
        for r in rows
        if r.workload == row.workload and r.threads == 1 and r.device == "cpu"
    )


def print_device(rows: list[DeviceRow], console: Console) -> None:
    table = Table(title="tensor paths per device (median of repeats, after one warm-up)")
    for col in (
        "workload",
        "device",
        "threads",
        "median s",
        "min s",
        "x 1-thread CPU",
        "quality",
        "work",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.workload,
            r.device,
            str(r.threads),
            f"{r.median:.4f}",
            f"{r.best:.4f}",
            f"{_base(rows, r) / r.median:.1f}",
            f"{r.quality:.4g}",
            r.detail,
        )
    console.print(table)


def plot_device(rows: list[DeviceRow], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    works = list(dict.fromkeys(r.workload for r in rows))
    labels = list(dict.fromkeys(f"{r.device} x{r.threads}" for r in rows))
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        ys = [
            next(
                (r.median for r in rows if r.workload == w and f"{r.device} x{r.threads}" == label),
                np.nan,
            )
            for w in works
        ]
        ax.bar(np.arange(len(works)) + i * width, ys, width, label=label)
    ax.set_xticks(np.arange(len(works)) + 0.4 - width / 2, works)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (median, log)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
