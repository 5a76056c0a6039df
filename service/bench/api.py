"""``mipguide bench api``: HTTP overhead of a ?wait solve, and jobs/s of tiny jobs.

Starts a throwaway server (its own data dir, SQLite, N workers) on a free loopback port.
"""

from __future__ import annotations

import os
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
    data_dir: Path, workers: int, port: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A server subprocess on 127.0.0.1; returns once /readyz answers 200.

    Args:
        env: extra environment (``MIPGUIDE_*`` settings) for the server.
    """
    cmd = [sys.executable, "-m", "mipguide.cli", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--data-dir", str(data_dir)]
    path = os.pathsep.join(p for p in sys.path if p)
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    proc = subprocess.Popen(cmd, env=full_env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("server not ready after 60 s")


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


def run_bench_api(
    runs: int, jobs: int, workers: int, console: Console, instance: Path = DEFAULT_INSTANCE
) -> None:
    """End-to-end overhead of a ?wait solve over HTTP vs. in process, and tiny jobs/s."""
    from rich.table import Table

    data, name = instance.read_bytes(), instance.name
    with tempfile.TemporaryDirectory(prefix="mipguide-bench-") as tmp:
        port = free_port()
        server = start_server(Path(tmp), workers, port)
        url = f"http://127.0.0.1:{port}"
        try:
            paired_times(url, data, name, 5)  # warm imports, caches and connections
            pairs = paired_times(url, data, name, runs)
            rate = throughput(url, jobs)
        finally:
            server.terminate()
            server.wait(30)
    local = [p[0] for p in pairs]
    remote = [p[1] for p in pairs]
    med_local, med_http = statistics.median(local), statistics.median(remote)
    overhead = statistics.median(r - q for q, r in pairs)
    table = Table(title=f"bench api ({name.split('.')[0]}, {runs} runs, {workers} workers)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("in-process read+solve, median", f"{med_local * 1000:.1f} ms")
    table.add_row("HTTP ?wait solve, median", f"{med_http * 1000:.1f} ms")
    table.add_row(
        "HTTP ?wait solve, p90", f"{statistics.quantiles(remote, n=10)[-1] * 1000:.1f} ms"
    )
    table.add_row("overhead (median of paired differences)", f"{overhead * 1000:.1f} ms")
    table.add_row(f"throughput, {jobs} tiny jobs", f"{rate:.1f} jobs/s")
    console.print(table)
