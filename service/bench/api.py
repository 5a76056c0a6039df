"""``mipguide bench api``: HTTP overhead of a ?wait solve, and jobs/s of tiny jobs.

Starts a throwaway server (its own data dir, SQLite, N workers) on a free loopback port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from rich.console import Console

TINY_MPS = """NAME tiny
ROWS
 N obj
 L c1
COLUMNS
 M1 'MARKER' 'INTORG'
 x obj -1 c1 1
 y obj -2 c1 1
 M2 'MARKER' 'INTEND'
RHS
 rhs c1 1
BOUNDS
 UP bnd x 1
 UP bnd y 1
ENDATA
"""
DEFAULT_INSTANCE = Path(__file__).resolve().parents[2] / "tests/data/miplib/p0033.mps.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data_dir: Path,
    workers: int,
    port: int,
    env: dict[str, str] | None = None,
    ready_seconds: float = 60.0,
) -> subprocess.Popen[bytes]:
    """A server subprocess on 127.0.0.1; returns once /readyz answers 200.

    Args:
        env: extra environment (``MIPGUIDE_*`` settings) for the server.
        ready_seconds: how long to wait for /readyz; past it the server is stopped (and reaped:
            no process outlives the failure) and RuntimeError says so.
    """
    cmd = [sys.executable, "-m", "mipguide.cli", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--data-dir", str(data_dir)]
    path = os.pathsep.join(p for p in sys.path if p)
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    proc = subprocess.Popen(cmd, env=full_env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + ready_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError(f"server not ready after {ready_seconds:g} s")


def stop_process(
    proc: subprocess.Popen[bytes], grace: float = 30.0, sig: int = signal.SIGTERM
) -> None:
    """``sig``, then SIGKILL after ``grace`` seconds; returns once the process is reaped."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def paired_times(url: str, data: bytes, filename: str, runs: int) -> list[tuple[float, float]]:
    """(in-process read+solve, HTTP ?wait solve) seconds, alternating so drift hits both."""
    from mipguide.client import MipguideClient
    from mipguide.pipeline.solve import solve_problem
    from mipguide.problem.io import read_problem
    from mipguide.solvers.types import SolveOptions

    pairs = []
    with MipguideClient(url, "") as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            problem = read_problem(data, filename=filename)
            solve_problem(problem, "scip", SolveOptions(time_limit=60.0))
            t1 = time.perf_counter()
            job = client.submit((filename, data), wait=60, solver="scip", time_limit=60)
            t2 = time.perf_counter()
            if job.state != "completed":
                raise RuntimeError(f"bench job did not complete: {job}")
            pairs.append((t1 - t0, t2 - t1))
    return pairs


def throughput(url: str, jobs: int, concurrency: int = 16) -> float:
    """Jobs per second from the first submission to the last job's end."""
    from mipguide.client import MipguideClient

    data = TINY_MPS.encode()
    with MipguideClient(url, "") as client:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            ids = list(pool.map(lambda i: client.submit((f"tiny{i}.mps", data)).id, range(jobs)))
        for job_id in ids:
            client.wait(job_id, timeout=600)
        return jobs / (time.perf_counter() - t0)


def cancel_latency(url: str, instance: Path, runs: int = 3) -> list[float]:
    """Seconds from DELETE to the cancelled job of a long solve (markshare1, 600 s limit)
    that has reported an incumbent."""
    from mipguide.client import MipguideClient

    out = []
    with MipguideClient(url, "") as client:
        for _ in range(runs):
            job = client.submit(instance, solver="scip", time_limit=600)
            deadline = time.monotonic() + 60
            while not client.incumbents(job.id):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"bench job did not start: {client.job(job.id)}")
                time.sleep(0.05)
            t0 = time.perf_counter()
            ended = client.cancel(job.id)
            out.append(time.perf_counter() - t0)
            if ended is None or ended.state != "cancelled":
                raise RuntimeError(f"bench job not cancelled: {ended}")
    return out


def event_latency(db_url: str, events: int = 200) -> list[float]:
    """Seconds from publishing a job event on one replica's bus to its delivery to a subscriber
    on another's, through PostgreSQL LISTEN/NOTIFY (``mipguide.jobs.cluster_bus``)."""
    import asyncio

    from sqlalchemy import create_engine

    from mipguide.jobs.cluster_bus import ClusterBus
    from mipguide.jobs.events import JobEvent
    from mipguide.jobs.store import JobStore

    JobStore(db_url).close()  # the URL checked, the tables there
    a = ClusterBus(create_engine(db_url), "bench-a")
    b = ClusterBus(create_engine(db_url), "bench-b")
    a.start()
    b.start()
    try:
        deadline = time.monotonic() + 30
        while not (a.listening.is_set() and b.listening.is_set()):
            if time.monotonic() > deadline:
                raise RuntimeError("the buses did not start listening")
            time.sleep(0.05)

        async def measure() -> list[float]:
            sub = b.subscribe("bench")
            out = []
            for k in range(events):
                t0 = time.perf_counter()
                a.publish(JobEvent("bench", "incumbent", {"seq": k}))
                if await sub.get(10.0) is None:
                    raise RuntimeError("an event did not arrive within 10 s")
                out.append(time.perf_counter() - t0)
                await asyncio.sleep(0.01)
            sub.close()
            return out

        return asyncio.run(measure())
    finally:
        for bus in (a, b):
            bus.stop()
            bus.engine.dispose()


class RayHead:
    """A throwaway one-node Ray cluster on loopback (``ray start --head``; ``ray stop`` at the
    end, which stops every Ray process of this machine), unless an address is given.

    Args:
        address: a running cluster's (then nothing is started).
        num_cpus: the logical CPUs the node offers (None: Ray counts the machine's).
        ray: the ``ray`` command (default: beside this interpreter).
    """

    def __init__(
        self, address: str | None, num_cpus: int | None = None, ray: str | None = None
    ) -> None:
        self.address, self.num_cpus, self.started = address, num_cpus, False
        self.ray = ray or str(Path(sys.executable).with_name("ray"))

    def __enter__(self) -> str:
        if self.address:
            return self.address
        port = free_port()
        cmd = [self.ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
        if self.num_cpus is not None:
            cmd += ["--num-cpus", str(self.num_cpus)]
        cmd += ["--include-dashboard", "false", "--disable-usage-stats"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        self.started, self.address = True, f"127.0.0.1:{port}"
        return self.address

    def __exit__(self, *exc: object) -> None:
        if self.started:
            subprocess.run([self.ray, "stop", "--force"], capture_output=True, timeout=120)


def _measure(
    executor: str, ray_address: str | None, runs: int, jobs: int, workers: int, instance: Path
) -> dict[str, float]:
    """The figures of one executor on a throwaway server."""
    data, name = instance.read_bytes(), instance.name
    long = instance.with_name("markshare1.mps.gz")
    cluster = RayHead(ray_address) if executor == "ray" else contextlib.nullcontext("")
    with tempfile.TemporaryDirectory(prefix="mipguide-bench-") as tmp, cluster as address:
        env = {"MIPGUIDE_EXECUTOR": executor, "MIPGUIDE_CANCEL_GRACE": "2"}
        if executor == "ray":
            env["MIPGUIDE_RAY_ADDRESS"] = address
        port = free_port()
        server = start_server(Path(tmp), workers, port, env)
        url = f"http://127.0.0.1:{port}"
        try:
            paired_times(url, data, name, 5)  # warm imports, caches, connections (and actors)
            pairs = paired_times(url, data, name, runs)
            rate = throughput(url, jobs)
            cancels = cancel_latency(url, long)
        finally:
            stop_process(server)
    remote = [p[1] for p in pairs]
    return {
        "local": statistics.median(p[0] for p in pairs),
        "http": statistics.median(remote),
        "p90": statistics.quantiles(remote, n=10)[-1],
        "overhead": statistics.median(r - q for q, r in pairs),
        "overhead_p90": statistics.quantiles([r - q for q, r in pairs], n=10)[-1],
        "rate": rate,
        "cancel": statistics.median(cancels),
        "cancel_max": max(cancels),
    }


def run_bench_api(
    runs: int,
    jobs: int,
    workers: int,
    console: Console,
    instance: Path = DEFAULT_INSTANCE,
    executors: tuple[str, ...] = ("local",),
    ray_address: str | None = None,
    db_url: str | None = None,
) -> dict[str, dict[str, float]]:
    """End-to-end overhead of a ?wait solve over HTTP vs. in process, tiny jobs/s and cancel
    latency, per executor (``ray``: on ``ray_address``, else a one-node cluster started here);
    with ``db_url`` (PostgreSQL), the latency of job events between two replicas' buses."""
    from rich.table import Table

    figures = {ex: _measure(ex, ray_address, runs, jobs, workers, instance) for ex in executors}
    table = Table(
        title=f"bench api ({instance.name.split('.')[0]}, {runs} runs, {workers} workers)"
    )
    table.add_column("measure")
    for ex in executors:
        table.add_column(ex, justify="right")
    rows = [
        ("in-process read+solve, median", "local", 1000, "ms"),
        ("HTTP ?wait solve, median", "http", 1000, "ms"),
        ("HTTP ?wait solve, p90", "p90", 1000, "ms"),
        ("overhead (median of paired differences)", "overhead", 1000, "ms"),
        ("overhead, p90", "overhead_p90", 1000, "ms"),
        (f"throughput, {jobs} tiny jobs", "rate", 1, "jobs/s"),
        ("cancel of a running solve, median of 3", "cancel", 1000, "ms"),
        ("cancel, slowest of 3", "cancel_max", 1000, "ms"),
    ]
    for label, key, scale, unit in rows:
        digits = 1
        table.add_row(label, *(f"{figures[ex][key] * scale:.{digits}f} {unit}" for ex in executors))
    if "local" in figures and len(figures) > 1:
        for ex in executors:
            if ex != "local":
                extra = figures[ex]["overhead"] - figures["local"]["overhead"]
                table.add_row(f"{ex} overhead over local, median", "", f"{extra * 1000:.1f} ms")
    console.print(table)
    if db_url:
        lat = event_latency(db_url)
        figures["events"] = {
            "median": statistics.median(lat),
            "p90": statistics.quantiles(lat, n=10)[-1],
            "max": max(lat),
        }
        ms = {k: f"{v * 1000:.1f} ms" for k, v in figures["events"].items()}
        console.print(
            f"events across replicas (PostgreSQL LISTEN/NOTIFY, {len(lat)} events): "
            f"median {ms['median']}, p90 {ms['p90']}, max {ms['max']}"
        )
    return figures
