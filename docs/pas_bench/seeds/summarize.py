"""The protocol benchmark under several solver seeds (README, "How much single runs vary").

    .venv/bin/python docs/pas_bench/seeds/summarize.py [DIR]   # default: this folder

DIR holds, per family F and solver seed S, ``F-seedS-traces.csv`` (the traces.csv of
``mipguide bench guided ... --solver-seed S``). Every run of a family is scored against one
reference per instance: the best objective any scip or pas run found under any seed. Prints
the table and writes ``gap-by-seed.png`` (mean primal gap over time, scip vs pas, per family,
one line per seed).
"""

from __future__ import annotations

import csv
import re
import statistics as st
import sys
from collections import defaultdict
from pathlib import Path

from service.bench.primal import mean_gap_curve, primal_integral

FAMILIES = [
    ("setcover", "set cover", 1),
    ("cauction", "auctions", -1),
    ("indset", "independent set", -1),
    ("facility", "facility location", 1),
]
METHODS = ("scip", "pas")
BUDGET = 60.0

Trace = list[tuple[float, float]]


def load(root: Path, fam: str) -> dict[int, dict[tuple[str, str], Trace]]:
    """seed -> (instance, method) -> trace (time, objective), scip and pas only."""
    out: dict[int, dict[tuple[str, str], Trace]] = {}
    for path in sorted(root.glob(f"{fam}-seed*-traces.csv")):
        m = re.fullmatch(rf"{fam}-seed(\d+)-traces\.csv", path.name)
        if m is None:
            continue
        runs: dict[tuple[str, str], Trace] = defaultdict(list)
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row["method"] in METHODS:
                    runs[(row["instance"], row["method"])].append(
                        (float(row["t"]), float(row["objective"]))
                    )
        out[int(m.group(1))] = dict(runs)
    return out


def final(trace: Trace, sense: int) -> float | None:
    objs = [o for t, o in trace if t <= BUDGET]
    if not objs:
        return None
    return min(objs) if sense > 0 else max(objs)


def compare(a: float | None, s: float | None, sense: int) -> int:
    """0 better, 1 equal, 2 worse (a against s)."""
    if a is None:
        return 2 if s is not None else 1
    if s is None:
        return 0
    if abs(a - s) <= 1e-6 * max(1.0, abs(s)):
        return 1
    return 0 if sense * (a - s) < 0 else 2


def main(root: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    print(
        "| family (hard, 5 instances) | solver seed | SCIP integral | PaS integral | "
        "PaS / SCIP | PaS final vs SCIP's (better/equal/worse) |"
    )
    print("|---|---|---|---|---|---|")
    total = [0, 0, 0]
    mean_total = [0, 0, 0]
    for (fam, name, sense), ax in zip(FAMILIES, axes.flat, strict=True):
        by_seed = load(root, fam)
        instances = sorted({i for runs in by_seed.values() for i, _ in runs})
        ref = {}
        for inst in instances:
            objs = [o for runs in by_seed.values() for (i, _), tr in runs.items() if i == inst
                    for t, o in tr if t <= BUDGET]
            ref[inst] = min(objs) if sense > 0 else max(objs)
        pooled: dict[str, list[float]] = defaultdict(list)
        finals: dict[tuple[str, str], list[float]] = defaultdict(list)
        for seed, runs in sorted(by_seed.items()):
            integral = {
                m: [primal_integral(runs[(i, m)], ref[i], sense, BUDGET) for i in instances]
                for m in METHODS
            }
            counts = [0, 0, 0]
            for inst in instances:
                fp, fs = final(runs[(inst, "pas")], sense), final(runs[(inst, "scip")], sense)
                counts[compare(fp, fs, sense)] += 1
                for m, f in (("pas", fp), ("scip", fs)):
                    if f is not None:
                        finals[(inst, m)].append(f)
            for k in range(3):
                total[k] += counts[k]
            for m in METHODS:
                pooled[m] += integral[m]
            s_int, p_int = st.mean(integral["scip"]), st.mean(integral["pas"])
            print(
                f"| {name} | {seed} | {s_int:.4f} | {p_int:.4f} | {p_int / s_int:.2f} | "
                f"{counts[0]}/{counts[1]}/{counts[2]} |"
            )
            for m, style in (("scip", "--"), ("pas", "-")):
                grid, curve = mean_gap_curve(
                    [runs[(i, m)] for i in instances],
                    [ref[i] for i in instances],
                    [sense] * len(instances),
                    BUDGET,
                )
                ax.step(grid, curve, style, where="post", label=f"{m} seed {seed}")
        # per instance, the mean final over the seeds
        mean_counts = [0, 0, 0]
        for inst in instances:
            fp, fs = finals[(inst, "pas")], finals[(inst, "scip")]
            mean_counts[compare(st.mean(fp) if fp else None, st.mean(fs) if fs else None, sense)] += 1
        for k in range(3):
            mean_total[k] += mean_counts[k]
        s_all, p_all = st.mean(pooled["scip"]), st.mean(pooled["pas"])
        print(
            f"| {name} | all {len(by_seed)} | {s_all:.4f} | {p_all:.4f} | "
            f"**{p_all / s_all:.2f}** | mean final per instance: "
            f"{mean_counts[0]}/{mean_counts[1]}/{mean_counts[2]} |"
        )
        ax.set_title(f"{name} (hard, 5 instances)")
        ax.set_xlim(0, BUDGET)
        ax.set_ylim(-0.01, 0.2)
        ax.set_xlabel("seconds")
        ax.set_ylabel("mean primal gap")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    n = sum(total)
    print()
    print(
        f"- PaS final vs SCIP's over all {n} runs (instance, seed): {total[0]} better, "
        f"{total[1]} equal, {total[2]} worse ({n - total[2]} of {n} no worse)"
    )
    m = sum(mean_total)
    print(
        f"- PaS mean final over the seeds vs SCIP's, per instance: {mean_total[0]} better, "
        f"{mean_total[1]} equal, {mean_total[2]} worse ({m - mean_total[2]} of {m} no worse)"
    )
    fig.suptitle("Primal gap over time under solver seeds (60 s, one thread)")
    fig.tight_layout()
    fig.savefig(root / "gap-by-seed.png", dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
