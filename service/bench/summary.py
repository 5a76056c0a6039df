"""``mipguide bench summarize``: the protocol table over several ``bench guided`` runs
(families, solver seeds) -> markdown table and a gap-over-time plot.

Each run folder is the ``--out`` of one ``mipguide bench guided`` (its ``traces.csv`` and
``run.json``: budget, solver seed, senses). Runs are grouped by family (the instance name's
prefix, ``setcover-hard-2000`` -> ``setcover``). Every run of a family is scored against one
reference per instance: the best objective any method found under any seed in the given runs.
Per family, method and seed: mean primal integral, its ratio to plain SCIP's under the same
seed, and final objectives against plain SCIP's (better / equal / worse); then the seeds pooled.
A folder without plain SCIP on an instance (another model's runs, made beside the plain ones)
is compared with SCIP's run of that instance under the same solver seed and budget in another
of the folders given (the first that has one); with none, it has no ratio and no finals.
A second table holds the protocol's targets: per family, each guided method with all seeds
pooled against PaS and against the best plain solver (the plain method of the lowest pooled
integral among ``PLAIN``), with its finals against that solver's, run by run.
A third splits each family's and method's pooled integral at 1, 5 and 20 s (``PART_EDGES``):
how much of it is the wait for a first incumbent and how much the gap left later.
Above the tables, the runs' machine calibrations (``pipeline.machine``): their spread, and a
warning when runs made at different speeds are mixed.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mipguide.errors import InputError
from mipguide.pipeline.machine import SPREAD, spread
from mipguide.pipeline.primal import (
    compare,
    integral_parts,
    mean_gap_curve,
    primal_integral,
    time_to_first,
)

Trace = list[tuple[float, float]]
BASELINE = "scip"
# the plain solvers a guided method is measured against (those present in the runs)
PLAIN = ("scip", "scip-aggressive", "highs")
# where the integral accumulates: its parts before and between these seconds (``parts``)
PART_EDGES = (1.0, 5.0, 20.0)


@dataclass(frozen=True)
class Run:
    """One ``bench guided`` folder: (instance, method) -> trace, its seed, budget, senses."""

    traces: dict[tuple[str, str], Trace]
    seed: int
    budget: float
    senses: dict[str, int]
    # each run's machine calibration (``pipeline.machine``), None where it was not recorded
    calibrations: tuple[float | None, ...] = ()


def load_run(folder: Path) -> Run:
    """Read a ``bench guided --out`` folder.

    Raises:
        InputError: the folder lacks ``traces.csv`` or ``run.json``.
    """
    meta_file, trace_file = folder / "run.json", folder / "traces.csv"
    if not meta_file.is_file() or not trace_file.is_file():
        raise InputError(f"{folder}: not a bench guided output (run.json, traces.csv)")
    meta = json.loads(meta_file.read_text())
    traces: dict[tuple[str, str], Trace] = defaultdict(list)
    with trace_file.open(newline="") as fh:
        for row in csv.DictReader(fh):
            traces[(row["instance"], row["method"])].append(
                (float(row["t"]), float(row["objective"]))
            )
    for key in meta.get("runs", []):  # runs without any incumbent have no trace row
        traces.setdefault(tuple(key), [])  # type: ignore[arg-type]
    # runs made before the calibration existed have none: one None per run
    calibrations = meta.get("calibration") or [None] * len(meta.get("runs", []))
    if not isinstance(calibrations, list) or not all(
        c is None or (isinstance(c, int | float) and not isinstance(c, bool)) for c in calibrations
    ):
        raise InputError(f"{folder}: run.json 'calibration' is not a list of seconds")
    return Run(
        dict(traces),
        int(meta["seed"]),
        float(meta["budget"]),
        meta["senses"],
        tuple(None if c is None else float(c) for c in calibrations),
    )


def machine_note(runs: list[Run]) -> str:
    """Whether the runs were made at comparable speed: the spread of their machine
    calibrations, a warning above ``SPREAD``, and how many runs recorded none."""
    values = [c for r in runs for c in r.calibrations]
    recorded = [c for c in values if c is not None]
    missing = len(values) - len(recorded)
    if not recorded:
        return "Machine calibration: not recorded by these runs (their speed is unknown).\n"
    lo, hi = min(recorded), max(recorded)
    note = f"Machine calibration: {lo:.3f}-{hi:.3f} s over {len(recorded)} runs"
    factor = spread(recorded)
    if factor > SPREAD:
        note += (
            f": **not comparable**, {factor:.2f}x apart (more than {SPREAD}x): these runs were"
            " made on machines, or under loads, of different speed"
        )
    else:
        note += f" ({factor:.2f}x apart)"
    if missing:
        note += f"; {missing} runs recorded none (their speed is unknown)"
    return note + ".\n"


def family_of(instance: str) -> str:
    """``setcover-hard-2000`` -> ``setcover`` (names from ``mipguide.instances.registry``)."""
    return instance.rsplit("-", 2)[0]


def final(trace: Trace, sense: int, budget: float) -> float | None:
    objs = [o for t, o in trace if t <= budget]
    if not objs:
        return None
    return min(objs) if sense > 0 else max(objs)


@dataclass(frozen=True)
class Line:
    """One row of the table: a family, a method, a seed (None: pooled)."""

    family: str
    method: str
    seed: int | None
    integral: float
    baseline: float  # plain SCIP's mean integral on the same runs
    finals: tuple[int, int, int]
    first: float | None
    instances: int

    @property
    def ratio(self) -> float:
        """The mean integral over plain SCIP's (NaN without a SCIP run)."""
        return self.integral / self.baseline if self.baseline else float("nan")


def summarize(runs: list[Run]) -> list[Line]:
    """The table's rows: per family, method and seed, then each family and method pooled."""
    references = _references(runs)
    scip_runs = _baseline_runs(runs)
    lines: list[Line] = []
    for family in sorted({family_of(i) for r in runs for i, _ in r.traces}):
        methods = list(
            dict.fromkeys(m for r in runs for i, m in r.traces if family_of(i) == family)
        )
        pooled: dict[str, list[Line]] = defaultdict(list)
        for run in sorted(runs, key=lambda r: r.seed):
            cells = {k: v for k, v in run.traces.items() if family_of(k[0]) == family}
            if not cells:
                continue
            # plain SCIP on each instance: this folder's run, else another folder's run of the
            # same instance under the same solver seed and budget
            scip = {
                i: t
                for i in dict.fromkeys(i for i, _ in cells)
                if (t := cells.get((i, BASELINE), scip_runs.get((run.seed, run.budget, i))))
                is not None
            }
            base = _integrals(
                run, {(i, BASELINE): t for i, t in scip.items()}, references, BASELINE
            )
            for method in methods:
                line = _line(run, cells, references, family, method, base, scip)
                if line is not None:
                    lines.append(line)
                    pooled[method].append(line)
        for method in methods:
            if len(pooled[method]) > 1:
                lines.append(_pooled(family, method, pooled[method]))
    return lines


def _references(runs: list[Run]) -> dict[str, float]:
    best: dict[str, float] = {}
    for run in runs:
        for (instance, _), trace in run.traces.items():
            sense = run.senses[instance]
            f = final(trace, sense, run.budget)
            if f is not None and (instance not in best or sense * (f - best[instance]) < 0):
                best[instance] = f
    return best


def _baseline_runs(runs: list[Run]) -> dict[tuple[int, float, str], Trace]:
    """(solver seed, budget, instance) -> plain SCIP's trace, the first folder's that has it."""
    found: dict[tuple[int, float, str], Trace] = {}
    for run in runs:
        for (instance, method), trace in run.traces.items():
            if method == BASELINE:
                found.setdefault((run.seed, run.budget, instance), trace)
    return found


def _integrals(
    run: Run, cells: dict[tuple[str, str], Trace], refs: dict[str, float], method: str
) -> dict[str, float]:
    return {
        i: primal_integral(t, refs[i], run.senses[i], run.budget)
        for (i, m), t in cells.items()
        if m == method and i in refs
    }


def _line(
    run: Run,
    cells: dict[tuple[str, str], Trace],
    refs: dict[str, float],
    family: str,
    method: str,
    base: dict[str, float],
    scip_traces: dict[str, Trace],
) -> Line | None:
    mine = _integrals(run, cells, refs, method)
    if not mine:
        return None
    finals = [0, 0, 0]
    firsts = []
    for instance in mine:
        sense = run.senses[instance]
        trace = cells[(instance, method)]
        if instance in scip_traces:  # a final is compared only with a SCIP run's
            other = scip_traces[instance]
            mine_final = final(trace, sense, run.budget)
            finals[compare(mine_final, final(other, sense, run.budget), sense)] += 1
        first = time_to_first(trace, run.budget)
        if first is not None:
            firsts.append(first)
    integral = statistics.mean(mine.values())
    scip = statistics.mean(base.values()) if base else float("nan")
    return Line(
        family,
        method,
        run.seed,
        integral,
        scip,
        (finals[0], finals[1], finals[2]),
        statistics.mean(firsts) if firsts else None,
        len(mine),
    )


def _pooled(family: str, method: str, lines: list[Line]) -> Line:
    integral = statistics.mean(line.integral for line in lines)
    baseline = statistics.mean(line.baseline for line in lines)
    finals = tuple(sum(line.finals[k] for line in lines) for k in range(3))
    firsts = [line.first for line in lines if line.first is not None]
    return Line(
        family,
        method,
        None,
        integral,
        baseline,
        (finals[0], finals[1], finals[2]),
        statistics.mean(firsts) if firsts else None,
        sum(line.instances for line in lines),
    )


@dataclass(frozen=True)
class Versus:
    """A guided method against PaS and the best plain solver, a family's seeds pooled. Each
    ratio is taken on the runs (instance, seed) both methods have."""

    family: str
    method: str
    runs: int
    integral: float  # over all of the method's runs
    to_pas: float | None  # None: no PaS run, or the method is PaS
    plain: str  # the best plain method
    plain_integral: float  # its mean over the runs it shares with the method
    to_plain: float | None  # None: no shared run
    finals: tuple[int, int, int]  # against the best plain method's, run by run


# (seed, instance) -> (integral, final) of each run there: folders that ran a method under the
# same solver seed (a model run again, or another model's runs beside the same plain ones) all count
Cells = dict[tuple[int, str], list[tuple[float, float | None]]]


def versus(runs: list[Run]) -> list[Versus]:
    """Per family with a plain method: each guided method's pooled integral over PaS's and over
    the best plain method's (the plain one of the lowest integral on the runs all plain
    methods share), and its finals against that method's (same instance and seed: the first
    folder's run of it there). Every run of a method counts, also two folders' runs of it on
    the same instance and seed."""
    from mipguide.bench.guided_run import METHODS

    refs = _references(runs)
    senses = {i: r.senses[i] for r in runs for i, _ in r.traces}
    out: list[Versus] = []
    for family in sorted({family_of(i) for r in runs for i, _ in r.traces}):
        cells: dict[str, Cells] = defaultdict(dict)
        for run in runs:
            for (instance, method), trace in run.traces.items():
                if family_of(instance) == family and instance in refs:
                    sense = run.senses[instance]
                    value = primal_integral(trace, refs[instance], sense, run.budget)
                    cell = cells[method].setdefault((run.seed, instance), [])
                    cell.append((value, final(trace, sense, run.budget)))
        plains = [m for m in PLAIN if m in cells]
        if not plains:
            continue
        common = set.intersection(*(set(cells[m]) for m in plains))
        best = min(plains, key=lambda m: (_mean(cells[m], common), plains.index(m)))
        for method, mine in cells.items():
            if method in PLAIN or METHODS.get(method, ("guided",))[0] == "exact":
                continue
            shared = set(mine) & set(cells[best])
            finals = [0, 0, 0]
            for key in shared:
                theirs = cells[best][key][0][1]
                for _, my_final in mine[key]:
                    finals[compare(my_final, theirs, senses[key[1]])] += 1
            plain = _mean(cells[best], shared)
            pas = cells.get("pas") if method != "pas" else None
            with_pas = set(mine) & set(pas or {})
            out.append(
                Versus(
                    family,
                    method,
                    sum(len(cell) for cell in mine.values()),
                    _mean(mine, set(mine)),
                    _ratio(_mean(mine, with_pas), _mean(pas, with_pas)) if pas else None,
                    best,
                    plain,
                    _ratio(_mean(mine, shared), plain) if shared else None,
                    (finals[0], finals[1], finals[2]),
                )
            )
    return out


def _mean(cells: Cells, keys: set[tuple[int, str]]) -> float:
    """The mean integral of the runs at ``keys`` (all of ``cells`` when ``keys`` is empty)."""
    values = [v for k, cell in cells.items() if not keys or k in keys for v, _ in cell]
    return statistics.mean(values) if values else float("nan")


def _ratio(a: float, b: float) -> float:
    if b == 0:
        return 1.0 if a == 0 else float("inf")
    return a / b


def versus_markdown(rows: list[Versus]) -> str:
    """The targets table: guided methods against PaS and the best plain solver, pooled."""
    header = ["family", "method", "runs", "mean primal integral", "/ PaS's", "best plain"]
    header += ["/ best plain's", "final vs best plain's (better/equal/worse)"]
    cells = [
        [
            r.family,
            r.method,
            str(r.runs),
            f"{r.integral:.4f}",
            "-" if r.to_pas is None else f"{r.to_pas:.2f}",
            f"{r.plain} ({r.plain_integral:.4f})",
            "-" if r.to_plain is None else f"{r.to_plain:.2f}",
            "/".join(map(str, r.finals)),
        ]
        for r in rows
    ]
    return _table(header, cells)


def markdown(lines: list[Line]) -> str:
    """The table (integrals divided by the budget; finals against plain SCIP's)."""
    header = ["family", "method", "solver seed", "runs", "mean primal integral", "/ SCIP's"]
    header += ["final vs SCIP's (better/equal/worse)", "mean time to first"]
    cells = [
        [
            line.family,
            line.method,
            "pooled" if line.seed is None else str(line.seed),
            str(line.instances),
            f"{line.integral:.4f}",
            f"{line.ratio:.2f}",
            "-" if line.method == BASELINE else "/".join(map(str, line.finals)),
            "-" if line.first is None else f"{line.first:.2f} s",
        ]
        for line in lines
    ]
    return _table(header, cells)


@dataclass(frozen=True)
class Parts:
    """A family's and method's mean primal integral, seeds pooled, split at ``edges``."""

    family: str
    method: str
    runs: int
    edges: tuple[float, ...]  # 0 first, the budget last
    parts: tuple[float, ...]  # the mean of each part over the runs; they add up to the mean


def parts(runs: list[Run]) -> list[Parts]:
    """Each family's and method's pooled integral split at ``PART_EDGES`` (empty when the runs'
    budgets differ: the parts would not line up)."""
    budgets = {r.budget for r in runs}
    if len(budgets) != 1:
        return []
    budget = budgets.pop()
    edges = (0.0, *(e for e in PART_EDGES if e < budget), budget)
    refs = _references(runs)
    sums: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
    for run in runs:
        for (instance, method), trace in run.traces.items():
            if instance in refs:
                split = integral_parts(trace, refs[instance], run.senses[instance], budget, edges)
                sums[(family_of(instance), method)].append(split)
    out = []
    for (family, method), rows in sorted(sums.items(), key=lambda kv: kv[0][0]):
        means = tuple(statistics.mean(row[k] for row in rows) for k in range(len(edges) - 1))
        out.append(Parts(family, method, len(rows), edges, means))
    return out


def parts_markdown(rows: list[Parts]) -> str:
    """The split integrals: each part and its share of the whole."""
    if not rows:
        return ""
    edges = rows[0].edges
    spans = [f"{a:g}-{b:g} s" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    header = ["family", "method", "runs", "mean primal integral", *spans]
    cells = []
    for r in rows:
        whole = sum(r.parts)
        shares = [f"{p:.4f} ({p / whole:.0%})" if whole else f"{p:.4f}" for p in r.parts]
        cells.append([r.family, r.method, str(r.runs), f"{whole:.4f}", *shares])
    return _table(header, cells)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def plot(runs: list[Run], path: Path, points: int = 200) -> None:
    """Mean primal gap over time per family, one line per method and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = _references(runs)
    families = sorted({family_of(i) for r in runs for i, _ in r.traces})
    cols = min(2, len(families)) or 1
    rows = (len(families) + cols - 1) // cols or 1
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.5 * rows), squeeze=False)
    for ax, family in zip(axes.flat, families, strict=False):
        for run in sorted(runs, key=lambda r: r.seed):
            by_method: dict[str, list[str]] = defaultdict(list)
            for i, m in run.traces:
                if family_of(i) == family and i in refs:
                    by_method[m].append(i)
            for method, instances in by_method.items():
                grid, gap = mean_gap_curve(
                    [run.traces[(i, method)] for i in instances],
                    [refs[i] for i in instances],
                    [run.senses[i] for i in instances],
                    run.budget,
                    points,
                )
                ax.step(grid, gap, where="post", label=f"{method} (seed {run.seed})")
        ax.set_title(family)
        ax.set_xlabel("seconds")
        ax.set_ylabel("mean primal gap")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(families) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summarize_command(folders: list[Path], out: Path | None) -> str:
    """Load the runs, print the table; with ``out``, write ``summary.md`` and ``gap.png``."""
    runs = [load_run(f) for f in folders]
    table = machine_note(runs) + "\n" + markdown(summarize(runs))
    rows = versus(runs)
    if rows:
        title = "\nAgainst PaS and the best plain solver (seeds pooled):\n\n"
        table += title + versus_markdown(rows)
    split = parts_markdown(parts(runs))
    if split:
        title = "\nWhere the integral accumulates (seeds pooled; each part over the budget):\n\n"
        table += title + split
    print(table, end="")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.md").write_text(table)
        plot(runs, out / "gap.png")
    return table
