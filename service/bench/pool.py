"""``mipguide bench pool``: what the server's device pool costs and gives guided jobs.

PaS prediction on ``--requests`` hard set-cover graphs (seeds 2000 on; the family's shipped
model), three ways, each the median of ``--repeat`` runs after one warm-up:

- ``in process``: the network in the caller's process, one graph after another (what job
  workers without the pool do, one core each);
- ``pool, one request``: one graph through the server's socket to the pool's worker
  (``SocketDeviceClient``, what a job worker sends): the price of the hop (pickling the graph,
  the socket, the worker's queue) over the same work in process;
- ``pool, N at once``: N job workers' requests sent together (threads): the pool batches those
  of one model into one forward pass (``batch`` says how many shared it).

And SRG sampling (K = 16, hard independent set, its shipped model) in process vs through the
pool, for the same price. The pool's worker runs on the server's device (``device`` setting:
CUDA where present). Writes ``pool.csv`` and ``pool.png``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mipguide.bench.device import write_rows


@dataclass(frozen=True)
class PoolRow:
    """One way of running one workload: median and best wall seconds of the whole run, per
    request, and the largest batch the pool's worker formed."""

    workload: str
    path: str
    requests: int
    median: float
    best: float
    per_request: float
    batch: int
    device: str


def _measure(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    fn()  # warm-up: model load, allocator, the worker's first batch
    times, batch = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        batch = max(batch, fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), batch


def run_bench_pool(
    model_dir: Path, out: Path, console: Console, *, requests: int = 8, repeat: int = 5
) -> list[PoolRow]:
    """Time each way; print the table, write CSV and PNG."""
    import torch

    from mipguide.features import build_graph
    from mipguide.gpu.client import DeviceServer
    from mipguide.gpu.pool import DevicePool
    from mipguide.guidance.predict import predict
    from mipguide.guidance.remote import ModelAt, PasRequest, SrgRequest
    from mipguide.guidance.rows import guidance_rows
    from mipguide.guidance.sample import sample_candidates
    from mipguide.guidance.selection import cached_model, select_model, srg_params
    from mipguide.instances.registry import Family, Size, generate
    from mipguide.models.cards import locate
    from mipguide.settings import get_settings

    if console.width < 160:
        console = Console(width=160, highlight=False)
    torch.set_num_threads(1)  # a job worker's thread
    settings = get_settings()
    problems = [generate(Family.SET_COVER, Size.HARD, 2000 + i) for i in range(requests)]
    graphs = [build_graph(p) for p in problems]
    pas = select_model(problems[0], model_dir, "pas")
    indset = generate(Family.INDEPENDENT_SET, Size.HARD, 2000)
    srg = select_model(indset, model_dir, "srg")
    if pas is None or srg is None:
        raise RuntimeError("the registry has no pas set-cover or srg independent-set model")
    device = "cuda" if torch.cuda.is_available() and settings.device != "cpu" else "cpu"
    pas_loaded = cached_model(pas.ref, str(locate(model_dir, pas.ref)), device)
    srg_loaded = cached_model(srg.ref, str(locate(model_dir, srg.ref)), device)
    pas_at = ModelAt.of(pas_loaded, str(locate(model_dir, pas.ref)))
    srg_at = ModelAt.of(srg_loaded, str(locate(model_dir, srg.ref)))
    sampling = srg_params(srg_loaded.card, {}).sampling.model_copy(update={"k": 16})
    srg_graph, srg_rows = build_graph(indset), guidance_rows(indset)
    srg_req = SrgRequest(srg_at, srg_graph, srg_rows, sampling, 0, None, False)

    pool = DevicePool.from_settings(settings).start()
    server = DeviceServer(pool)
    client = server.client()
    rows: list[PoolRow] = []
    pas_name = f"pas predict, hard set cover ({pas.ref})"
    srg_name = f"srg sample K=16, hard independent set ({srg.ref})"

    def add(workload: str, path: str, n: int, fn: Callable[[], int]) -> None:
        console.print(f"{workload}: {path} ...")
        median, best, batch = _measure(fn, repeat)
        rows.append(PoolRow(workload, path, n, median, best, median / n, batch, device))

    def in_process(n: int) -> Callable[[], int]:
        def fn() -> int:
            for g in graphs[:n]:
                predict(g, pas_loaded)
            return 1

        return fn

    def through_pool(n: int) -> Callable[[], int]:
        def one(g: Any) -> int:
            answer = client.run("pas", PasRequest(pas_at, g), pas_at.key)
            return int(answer.batch)

        def fn() -> int:
            with ThreadPoolExecutor(n) as ex:
                return max(ex.map(one, graphs[:n]))

        return fn

    try:
        add(pas_name, "in process, one graph", 1, in_process(1))
        add(pas_name, "pool, one request", 1, through_pool(1))
        add(pas_name, f"in process, {requests} one after another", requests, in_process(requests))
        add(pas_name, f"pool, {requests} at once", requests, through_pool(requests))
        add(
            srg_name,
            "in process",
            1,
            lambda: int(bool(sample_candidates(srg_graph, srg_rows, srg_loaded, sampling, 0).k)),
        )
        add(srg_name, "pool, one request", 1, lambda: client.run("srg", srg_req).batch)
    finally:
        server.close()
        pool.close()
    write_rows(rows, out / "pool.csv")
    print_pool(rows, console)
    plot_pool(rows, out / "pool.png")
    console.print(f"results in {out}")
    return rows


def print_pool(rows: list[PoolRow], console: Console) -> None:
    table = Table(title="the device pool: PaS and SRG inference, in process vs on the pool")
    for col in ("workload", "path", "requests", "median s", "best s", "s per request", "batch"):
        table.add_column(col, justify="left" if col in ("workload", "path") else "right")
    for r in rows:
        table.add_row(
            r.workload,
            f"{r.path} ({r.device})",
            str(r.requests),
            f"{r.median:.4f}",
            f"{r.best:.4f}",
            f"{r.per_request:.4f}",
            str(r.batch),
        )
    console.print(table)


def plot_pool(rows: list[PoolRow], path: Path) -> None:
    """Seconds per request of each way, one bar each."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{r.workload.split(',')[0]}: {r.path}" for r in rows]
    ax.barh(range(len(rows)), [r.per_request for r in rows], color="tab:blue")
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds per request (median)")
    ax.set_title(f"device pool vs in process ({rows[0].device})")
    fig.savefig(path, dpi=120)
