"""Reader benchmark: random MILP MPS files -> read times of ours, SCIP and HiGHS (table, CSV).

HiGHS runs in a separate child interpreter: highspy cannot share a process with OR-Tools.
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class ReadTiming:
    """Median read times (seconds) of one generated file; None where a reader is missing."""

    size: int
    nnz: int
    rows: int
    cols: int
    ours_s: float
    scip_s: float | None
    highs_s: float | None

    @property
    def ours_over_scip(self) -> float | None:
        return self.ours_s / self.scip_s if self.scip_s else None


def write_random_mps(path: Path, nnz: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """Write a random MILP (free MPS, realistic names) with about ``nnz`` nonzeros.

    Returns:
        (rows, cols, nnz) actually written.
    """
    n = max(10, nnz // 8)
    m = max(5, nnz // 16)
    per_col = rng.multinomial(nnz - n, np.full(n, 1.0 / n)) + 1
    cols = np.repeat(np.arange(n), per_col)
    rows = rng.integers(0, m, cols.shape[0])
    key = np.unique(cols.astype(np.int64) * m + rows)
    cols, rows = key // m, key % m
    vals = np.round(rng.normal(0.0, 10.0, key.shape[0]), 4)
    is_int = rng.random(n) < 0.3
    cname = np.array([f"{'y' if b else 'x'}_{j}_{j % 97}" for j, b in enumerate(is_int)])
    rname = np.array([f"cap_{i}[{i % 13}]" for i in range(m)])
    rtype = rng.choice(np.array(["L", "G", "E"]), size=m, p=[0.6, 0.3, 0.1])
    with open(path, "w", encoding="ascii") as f:
        f.write(f"NAME          rand{nnz}\nROWS\n N  obj\n")
        f.write(
            "".join(f" {t}  {r}\n" for t, r in zip(rtype.tolist(), rname.tolist(), strict=True))
        )
        f.write("COLUMNS\n")
        _write_columns(f, cname, rname, cols, rows, vals, is_int, rng)
        f.write("RHS\n")
        rhs = rng.integers(1, 100, m)
        f.write(
            "".join(
                f"    rhs  {r}  {v}\n" for r, v in zip(rname.tolist(), rhs.tolist(), strict=True)
            )
        )
        f.write("BOUNDS\n")
        ub = rng.integers(1, 50, n)
        f.write(
            "".join(
                f" UP bnd  {c}  {u}\n" for c, u in zip(cname.tolist(), ub.tolist(), strict=True)
            )
        )
        f.write("ENDATA\n")
    return m, n, int(key.shape[0])


def _write_columns(f, cname, rname, cols, rows, vals, is_int, rng) -> None:  # type: ignore[no-untyped-def]
    starts = np.searchsorted(cols, np.arange(cname.shape[0] + 1))
    obj = np.round(rng.normal(0.0, 5.0, cname.shape[0]), 3).tolist()
    names, rnames, vlist = cname.tolist(), rname[rows].tolist(), vals.tolist()
    bounds, flags = starts.tolist(), is_int.tolist()
    in_int = False
    out: list[str] = []
    for j, name in enumerate(names):
        if flags[j] != in_int:
            kind = "INTORG" if flags[j] else "INTEND"
            out.append(f"    MARKER  'MARKER'  '{kind}'\n")
            in_int = flags[j]
        lo, hi = bounds[j], bounds[j + 1]
        pairs = [("obj", obj[j]), *zip(rnames[lo:hi], vlist[lo:hi], strict=True)]
        for k in range(0, len(pairs), 2):
            chunk = "  ".join(f"{r}  {v!r}" for r, v in pairs[k : k + 2])
            out.append(f"    {name}  {chunk}\n")
    if in_int:
        out.append("    MARKER  'MARKER'  'INTEND'\n")
    f.write("".join(out))


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _read_ours(path: Path) -> None:
    from mipguide.problem.io import read_problem

    read_problem(path)


def _read_scip(path: Path) -> None:
    from pyscipopt import Model

    model = Model()
    model.hideOutput()
    model.readProblem(str(path))


# Runs in a fresh interpreter (-I: no user site, no PYTHON* variables) so that nothing the
# parent imported or set can clash with highspy's bundled HiGHS (OR-Tools bundles another).
_RESULT = "RESULT "
_HIGHS_CHILD = """
import statistics, sys, time
try:
    import highspy
except ImportError:
    print("RESULT missing")
    raise SystemExit(0)
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(sys.argv[1])
    times.append(time.perf_counter() - t0)
print("RESULT", statistics.median(times))
"""


def _time_highs(path: Path, repeat: int) -> float | None:
    """Median HiGHS readModel time in a child process; None if highspy is missing."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _HIGHS_CHILD, str(path), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"HiGHS reader child failed: {proc.stderr.strip()[-500:]}")
    # HiGHS may print its banner to stdout (1.16 does, before ``output_flag`` can be set):
    # the answer is the line the child marks
    marked = [ln for ln in proc.stdout.splitlines() if ln.startswith(_RESULT)]
    if not marked:
        raise RuntimeError(f"HiGHS reader child printed no result: {proc.stdout.strip()[-500:]}")
    out = marked[-1][len(_RESULT) :].strip()
    return None if out == "missing" else float(out)


def _scip_available() -> bool:
    try:
        import pyscipopt  # noqa: F401
    except ImportError:
        return False
    return True


def bench_read(
    sizes: tuple[int, ...] = DEFAULT_SIZES, repeat: int = 3, seed: int = 0
) -> list[ReadTiming]:
    """Generate one file per size and time the three readers (median of ``repeat``)."""
    rng = np.random.default_rng(seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="mipguide-bench-read-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"rand{size}.mps"
            m, n, nnz = write_random_mps(path, size, rng)
            reps = repeat if size < 1_000_000 else max(1, min(repeat, 3))
            scip = _time(partial(_read_scip, path), reps) if _scip_available() else None
            results.append(
                ReadTiming(
                    size=size,
                    nnz=nnz,
                    rows=m,
                    cols=n,
                    ours_s=_time(partial(_read_ours, path), reps),
                    scip_s=scip,
                    highs_s=_time_highs(path, reps),
                )
            )
    return results


def write_csv(results: list[ReadTiming], path: Path) -> None:
    """One row per size, with the ratio ours/SCIP."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*asdict(results[0]), "ours_over_scip"])
        writer.writeheader()
        for r in results:
            writer.writerow({**asdict(r), "ours_over_scip": r.ours_over_scip})


def print_table(results: list[ReadTiming]) -> None:
    """A rich table: size, rows, cols, nnz, ours s, SCIP s, HiGHS s, ours/SCIP."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="MPS read time (median, seconds)")
    for col in ("size", "rows", "cols", "nnz", "ours s", "SCIP s", "HiGHS s", "ours/SCIP"):
        table.add_column(col, justify="right")

    def fmt(v: float | None, spec: str = ".3f") -> str:
        return "-" if v is None else format(v, spec)

    for r in results:
        table.add_row(
            str(r.size),
            str(r.rows),
            str(r.cols),
            str(r.nnz),
            fmt(r.ours_s),
            fmt(r.scip_s),
            fmt(r.highs_s),
            fmt(r.ours_over_scip, ".2f"),
        )
    Console().print(table)


def run_bench_read(sizes: str, repeat: int, out: Path | None) -> list[ReadTiming]:
    """``mipguide bench read``: time, print, and (with ``out``) write read.csv."""
    results = bench_read(tuple(int(s) for s in sizes.split(",") if s.strip()), repeat=repeat)
    print_table(results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(results, out / "read.csv")
    return results
