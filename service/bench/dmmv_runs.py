"""``mipguide bench dmmv``'s runs: one method on one instance at a wall budget (round-to-nearest,
DMMV, the hybrid, the min-max MILP on SCIP or HiGHS), and batch throughput (on CUDA too where a
device exists). Rows are plain dataclasses; ``bench.dmmv`` prints them and writes CSV and PNG.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mipguide.heuristics.dmmv.evaluate import evaluate, start_indices, values_of
from mipguide.heuristics.dmmv.solve import solve_batch
from mipguide.heuristics.dmmv.types import DmmvBatch, DmmvConfig, DmmvInstance

SOLVERS = ("scip", "highs")

# per-family search settings (the defaults elsewhere)
FAMILY_CONFIG = {
    "fir": DmmvConfig(
        steps=(1, 2), top_k=64, exact_candidates=32, swap_pool=16, escalate_after=4, max_perturb=8
    ),
    "quant": DmmvConfig(steps=(1,), top_k=16, exact_candidates=8, swap_pool=4),
    "tomo": DmmvConfig(steps=(1,), top_k=32, exact_candidates=16),
}


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


def instance_of(batch: DmmvBatch, b: int) -> DmmvInstance:
    """Instance b of a batch, on its own."""
    return DmmvInstance(
        batch.A,
        batch.lower[b],
        batch.upper[b],
        batch.levels_of(b),
        None if batch.x0 is None else batch.x0[b],
        None if batch.fixed is None else batch.fixed[b],
    )


@dataclass(frozen=True)
class InstanceRow:
    """One method on one instance: its max violation (float64) at the budget, wall seconds,
    and a note (the MILP's status; the hybrid's source and MILP status)."""

    group: str
    instance: str
    method: str
    max_violation: float
    seconds: float
    note: str = ""


def run_instance(
    group: str,
    name: str,
    inst: DmmvInstance,
    family: str,
    method: str,
    budget: float,
    seed: int,
    overrides: dict[str, Any] | None = None,
) -> InstanceRow:
    """One method on one instance at ``budget`` wall seconds (one thread; the hybrid two).

    Methods: ``rtn`` (round-to-nearest), ``dmmv``, ``dmmv (cuda)``, ``hybrid (S)`` and the
    plain MILP ``scip`` / ``highs`` (from round-to-nearest, as the hybrid's MILP side).
    ``overrides``: DmmvConfig fields set on top of the family's configuration, and the
    hybrid's ``polish``, ``follow``, ``polish_on`` and ``switch``.
    """
    from mipguide.errors import MipguideError
    from mipguide.pipeline.dmmv_hybrid import (
        DEFAULT_FOLLOW,
        DEFAULT_POLISH,
        DEFAULT_POLISH_ON,
        DEFAULT_SWITCH,
        solve_hybrid,
        solve_minmax_milp,
    )

    batch = inst.as_batch()
    overrides = dict(overrides or {})
    polish = overrides.pop("polish", DEFAULT_POLISH)  # the hybrid's, not the search's
    follow = overrides.pop("follow", DEFAULT_FOLLOW)
    polish_on = str(overrides.pop("polish_on", DEFAULT_POLISH_ON))
    switch = float(overrides.pop("switch", DEFAULT_SWITCH))
    cfg = replace(FAMILY_CONFIG[family], time_limit=budget, seed=seed, **overrides)
    t0 = time.perf_counter()
    note = ""
    if method == "rtn":
        x = values_of(batch.levels_of(0), start_indices(batch)[0])
    elif method.startswith("dmmv"):
        device = "cuda" if "cuda" in method else "cpu"
        res = solve_batch(batch, replace(cfg, device=device))[0]
        x, note = res.x, f"{res.iterations} passes"
    elif method.startswith("hybrid"):
        solver = method.split("(")[1].rstrip(")")
        res, info = solve_hybrid(
            inst,
            cfg,
            solver=solver,
            polish=float(polish),
            follow=bool(follow),
            polish_on=polish_on,
            switch=switch,
        )
        x, note = res.x, f"{info.source}; {solver} {info.status}; {info.restarts} restarts"
        if info.switched is not None:
            note += f"; switched at {info.switched:g} s"
    else:
        try:
            milp, out = solve_minmax_milp(batch, method, budget, seed=seed)
        except MipguideError as exc:
            return InstanceRow(group, name, method, np.nan, 0.0, f"unavailable: {exc}")
        if out.values:
            x = values_of(milp.levels, milp.decode_values(out.values))
        else:
            x = values_of(batch.levels_of(0), start_indices(batch)[0])
            note = "no incumbent: round-to-nearest counted; "
        note += out.status.value
    wall = time.perf_counter() - t0
    v = evaluate(inst.A, x, inst.lower, inst.upper).max_violation
    return InstanceRow(group, name, method, v, wall, note)


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
