"""``mipguide bench cli``: the wall time of one ``mipguide solve`` process, cold, against the same
solve by a bare ``python -c`` script (pyscipopt, OR-Tools model_builder) on the same file.

What a pipeline that calls the CLI once per model pays: interpreter start, imports, reading,
solving, verifying and writing the result. Ours and the bare script alternate, so drift in the
machine's load hits both; the overhead is the median of the paired differences.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mipguide.bench.api import TINY_MPS

# the tiny MILP without its integer markers: an LP
TINY_LP_MPS = "\n".join(ln for ln in TINY_MPS.splitlines() if "MARKER" not in ln) + "\n"

BARE_SCIP = (
    "import sys, pyscipopt; m = pyscipopt.Model(); m.hideOutput(); m.readProblem(sys.argv[1]); "
    "m.optimize(); print(m.getObjVal())"
)
BARE_GLOP = (
    "import sys; from ortools.linear_solver.python import model_builder as mb; m = mb.Model(); "
    "m.import_from_mps_file(sys.argv[1]); s = mb.Solver('glop'); s.solve(m); "
    "print(s.objective_value)"
)
# targets of the pipeline issue: our overhead over the bare script, and the whole call
MAX_OVERHEAD = 0.3
MAX_WALL = 1.0


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    solver: str
    bare: str


CASES = (
    Case("tiny MILP, scip", TINY_MPS, "scip", BARE_SCIP),
    Case("tiny LP, glop", TINY_LP_MPS, "glop", BARE_GLOP),
)


@dataclass(frozen=True)
class CaseTimes:
    case: str
    ours: list[float]
    bare: list[float]

    @property
    def overhead(self) -> float:
        return statistics.median(o - b for o, b in zip(self.ours, self.bare, strict=True))


def mipguide_command() -> list[str]:
    """The installed ``mipguide`` script next to this interpreter (what users run), else
    ``python -m mipguide.cli``."""
    script = Path(sys.executable).parent / "mipguide"
    found = script if script.is_file() else shutil.which("mipguide")
    return [str(found)] if found else [sys.executable, "-m", "mipguide.cli"]


def wall(cmd: list[str]) -> float:
    """Seconds of one run of ``cmd``, which must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr.strip()[-300:]}")
    return seconds


def measure(case: Case, runs: int, work: Path) -> CaseTimes:
    path = work / f"{case.solver}.mps"
    path.write_text(case.text)
    ours_cmd = [*mipguide_command(), "solve", str(path), "--solver", case.solver]
    ours_cmd += ["--out", str(work / f"{case.solver}.json")]
    bare_cmd = [sys.executable, "-c", case.bare, str(path)]
    wall(ours_cmd), wall(bare_cmd)  # warm the page cache; not counted
    ours, bare = [], []
    for _ in range(runs):
        ours.append(wall(ours_cmd))
        bare.append(wall(bare_cmd))
    return CaseTimes(case.name, ours, bare)


def run_bench_cli(runs: int, console: Console) -> list[CaseTimes]:
    """Measure every case and the doctor; print the table."""
    results = []
    with tempfile.TemporaryDirectory(prefix="mipguide-bench-cli-") as tmp:
        for case in CASES:
            console.print(f"{case.name}: {runs} runs each ...")
            results.append(measure(case, runs, Path(tmp)))
        doctor = [wall([*mipguide_command(), "doctor"]) for _ in range(max(1, runs // 2))]
    table = Table(title=f"cold CLI calls, median of {runs}")
    for col in ("case", "mipguide (s)", "bare script (s)", "overhead (s)", "targets met"):
        table.add_column(col)
    for r in results:
        ours = statistics.median(r.ours)
        met = r.overhead <= MAX_OVERHEAD and ours < MAX_WALL
        table.add_row(
            r.case,
            f"{ours:.3f}",
            f"{statistics.median(r.bare):.3f}",
            f"{r.overhead:+.3f}",
            f"{'yes' if met else 'no'} (<= {MAX_OVERHEAD} s over, < {MAX_WALL} s)",
        )
    table.add_row("mipguide doctor", f"{statistics.median(doctor):.3f}", "", "", "")
    console.print(table)
    return results
