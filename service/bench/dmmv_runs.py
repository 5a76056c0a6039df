"""``mipguide bench dmmv``: DMMV vs round-to-nearest vs the min-max MILP (SCIP, HiGHS, CP-SAT)
on the three use cases at equal wall budgets, and batch throughput (and GPU vs CPU where a
device exists). Rows are plain dataclasses; the CLI prints them and writes CSV and a PNG.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from mipguide.heuristics.dmmv.evaluate import evaluate, start_indices, values_of
from mipguide.heuristics.dmmv.milp import build_minmax_milp, integer_scaled
from mipguide.heuristics.dmmv.solve import solve_batch
from mipguide.heuristics.dmmv.types import DmmvBatch, DmmvConfig
from mipguide.instances.dmmv.case import DmmvCase

SOLVERS = ("scip", "highs", "cpsat")

# per-family search settings (the defaults elsewhere)
FAMILY_CONFIG = {
    "fir": DmmvConfig(
        steps=(1, 2), top_k=64, exact_candidates=32, swap_pool=16, escalate_after=4, max_perturb=8
    ),
    "quant": DmmvConfig(steps=(1,), top_k=16, exact_candidates=8, swap_pool=4),
    "tomo": DmmvConfig(steps=(1,), top_k=32, exact_candidates=16),
}


@dataclass(frozen=True)
class BenchRow:
    """One method on one case: mean/max of the per-instance max violation, extra quality."""

    case: str
    method: str
    instances: int
    mean_violation: float
    worst_violation: float
    seconds: float
    extra: str = ""
    note: str = ""
    rtn_mean: float = float("nan")  # round-to-nearest on the same instances, for "vs RTN"


@dataclass(frozen=True)
class ThroughputRow:
    """Wall time of the same search work batched vs one instance at a time."""

    device: str
    instances: int
    iterations: int
    batch_seconds: float
    sequential_seconds: float

    @property
    def speedup(self) -> float:
        return self.sequential_seconds / max(self.batch_seconds, 1e-12)


def _take(batch: DmmvBatch, b: int) -> DmmvBatch:
    from mipguide.gpu.dmmv_handler import take

    return take(batch, b, b + 1)


def rtn_row(case: DmmvCase, extra: Callable[[np.ndarray], str]) -> BenchRow:
    t0 = time.perf_counter()
    b = case.batch
    idx = start_indices(b)
    xs = np.stack([values_of(b.levels_of(i), idx[i]) for i in range(b.size)])
    v = [evaluate(b.A, xs[i], b.lower[i], b.upper[i]).max_violation for i in range(b.size)]
    return BenchRow(
        case.name,
        "round-to-nearest",
        b.size,
        float(np.mean(v)),
        max(v),
        time.perf_counter() - t0,
        extra(xs),
        rtn_mean=float(np.mean(v)),
    )


def dmmv_row(
    case: DmmvCase,
    budget: float,
    extra: Callable[[np.ndarray], str],
    device: str = "cpu",
    seed: int = 0,
) -> tuple[BenchRow, list[float]]:
    cfg = replace(FAMILY_CONFIG[case.family], time_limit=budget, seed=seed, device=device)
    t0 = time.perf_counter()
    res = solve_batch(case.batch, cfg)
    wall = time.perf_counter() - t0
    v = [r.max_violation for r in res]
    xs = np.stack([r.x for r in res])
    name = "dmmv" if device == "cpu" else f"dmmv ({device})"
    note = f"{res[0].iterations} passes, whole batch in one budget"
    v0 = float(np.mean([r.start_max_violation for r in res]))
    row = BenchRow(case.name, name, len(res), float(np.mean(v)), max(v), wall, extra(xs), note, v0)
    return row, v


def milp_row(
    case: DmmvCase, solver: str, budget: float, count: int, extra: Callable[[np.ndarray], str]
) -> BenchRow:
    """The MILP on the first ``count`` instances, ``budget`` seconds each, RTN as the start."""
    from mipguide.errors import MipguideError
    from mipguide.pipeline.solve import solve_problem
    from mipguide.solvers.types import SolveOptions

    b = case.batch
    idx0 = start_indices(b)
    viols, xs, wall, notes, rtns = [], [], 0.0, set(), []
    for i in range(min(count, b.size)):
        one = _take(b, i)
        x_rtn = values_of(one.levels_of(0), idx0[i])
        v_rtn = evaluate(b.A, x_rtn, b.lower[i], b.upper[i]).max_violation
        rtns.append(v_rtn)
        t_up = v_rtn * 1.000001 + 1e-12
        milp = build_minmax_milp(one, t_upper=t_up)
        if solver == "cpsat":
            milp = integer_scaled(milp)
        start = milp.encode(idx0[i], t_up)
        if solver == "cpsat":
            start = np.ceil(start)
        t0 = time.perf_counter()
        try:
            res = solve_problem(
                milp.problem, solver, SolveOptions(time_limit=budget, threads=1, start=start)
            )
        except MipguideError as exc:
            return BenchRow(case.name, solver, 0, np.nan, np.nan, 0.0, "", f"unavailable: {exc}")
        wall += time.perf_counter() - t0
        if res.values:
            vals = np.array([res.values[n] for n in milp.problem.var_names])
            x = values_of(one.levels_of(0), milp.decode(vals))
        else:
            x = x_rtn
            notes.add("no incumbent: RTN counted")
        xs.append(x)
        viols.append(evaluate(b.A, x, b.lower[i], b.upper[i]).max_violation)
        notes.add(res.status.value)
    note = f"{len(viols)} of {b.size} instances, {budget:g}s each; " + ", ".join(sorted(notes))
    return BenchRow(
        case.name,
        solver,
        len(viols),
        float(np.mean(viols)),
        max(viols),
        wall,
        extra(np.stack(xs)),
        note,
        float(np.mean(rtns)),
    )


def throughput(device: str = "cpu", count: int = 64, iterations: int = 200) -> ThroughputRow:
    """The same number of passes for ``count`` small planted instances, batched vs one by one."""
    from mipguide.instances.dmmv.planted import planted_batch

    batch = planted_batch(count)
    cfg = DmmvConfig(time_limit=1e9, max_iterations=iterations, device=device, seed=0)
    # keep every instance searching for the whole run: rows too tight to reach zero
    tight = DmmvBatch(batch.A, batch.lower + 0.999, batch.upper - 0.999, batch.levels, batch.x0)
    solve_batch(_take(tight, 0), replace(cfg, max_iterations=5))  # warm-up
    t0 = time.perf_counter()
    solve_batch(tight, cfg)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(count):
        solve_batch(_take(tight, i), cfg)
    t_seq = time.perf_counter() - t0
    return ThroughputRow(device, count, iterations, t_batch, t_seq)
