"""A DMMV job in a worker process: (stored instance, options) -> result.json + summary.

The search runs in the job worker itself, on the device the server's settings name (``auto``:
CUDA when this process sees one). It polls the job's interrupt between passes, and reports the
best max violation as it improves: as log lines and as incumbents with source ``dmmv`` whose
``objective`` is that max violation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mipguide.heuristics.dmmv.types import DmmvConfig, DmmvResult
from mipguide.pipeline.dmmv_hybrid import DEFAULT_SOLVER, HybridInfo
from mipguide.solvers.types import Interrupt

FEASIBLE_TOL = 1e-9
REPORT_EVERY = 0.1  # seconds between progress reports (the last improvement is always sent)

Log = Callable[[str], None]
OnIncumbent = Callable[[dict[str, Any]], None]


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when this process sees a CUDA device, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def dmmv_config(options: dict[str, Any]) -> DmmvConfig:
    """The search configuration of a DMMV job's stored options."""
    return DmmvConfig(
        time_limit=float(options.get("time_limit", 60.0)),
        seed=int(options.get("seed", 0)),
        device=resolve_device(str(options.get("device", "cpu"))),
    )


class _Progress:
    """Turns the search's improvements into (throttled) log lines and incumbents."""

    def __init__(self, log: Log, on_incumbent: OnIncumbent) -> None:
        self.log, self.on_incumbent = log, on_incumbent
        self.t0 = time.perf_counter()
        self.last_sent = -REPORT_EVERY
        self.pending: float | None = None
        self.best = float("inf")

        self.source = "dmmv"

    def __call__(self, _search_t: float, value: float, source: str = "dmmv") -> None:
        if value >= min(self.best, self.pending if self.pending is not None else self.best):
            return
        self.pending, self.source = value, source
        if time.perf_counter() - self.t0 - self.last_sent >= REPORT_EVERY:
            self.flush()

    def milp(self, search_t: float, value: float) -> None:
        """An incumbent of the hybrid's MILP (its objective t, the max violation)."""
        self(search_t, value, "solver")

    def flush(self, final: float | None = None, source: str | None = None) -> None:
        value = final if final is not None else self.pending
        source = source or self.source
        self.pending = None
        if value is None or value >= self.best:
            return
        self.best = value
        t = time.perf_counter() - self.t0
        self.last_sent = t
        self.log(f"[{source}] {t:8.3f} s  best max violation {value:.10g}")
        self.on_incumbent({"t": t, "objective": value, "bound": None, "source": source})


def result_document(
    res: DmmvResult,
    config: DmmvConfig,
    shape: tuple[int, int],
    hybrid: HybridInfo | None = None,
) -> dict[str, Any]:
    """The stored result of a DMMV job: ``DmmvResult.to_dict()`` plus status and context, and
    with the hybrid what its MILP did (``hybrid``; ``proven_optimal`` when the MILP proved the
    answer's max violation minimal)."""
    proven = hybrid is not None and hybrid.status == "optimal"
    if res.interrupted:
        termination = "interrupted"
    elif res.max_violation <= FEASIBLE_TOL:
        termination = "zero_violation"
    elif proven:
        termination = "optimal"
    else:
        termination = "time_limit"
    return {
        "kind": "dmmv",
        "rows": shape[0],
        "vars": shape[1],
        "status": "feasible" if res.max_violation <= FEASIBLE_TOL else "violated",
        "termination": termination,
        **res.to_dict(),
        "seed": config.seed,
        "config": asdict(config),
        "proven_optimal": proven or res.max_violation <= FEASIBLE_TOL,
        "hybrid": None if hybrid is None else hybrid.to_dict(),
    }


def run_dmmv_job(
    input_path: Path,
    options: dict[str, Any],
    log: Log,
    on_incumbent: OnIncumbent,
    interrupt: Interrupt,
) -> dict[str, Any]:
    """Load the stored instance, search, and return the result document.

    Raises:
        FieldError: the stored instance is unreadable. torch errors propagate.
    """
    import torch

    from mipguide.heuristics.dmmv.io import instance_from_npz
    from mipguide.heuristics.dmmv.solve import solve

    torch.set_num_threads(int(options.get("threads", 1)))
    inst = instance_from_npz(input_path)
    config = dmmv_config(options)
    m, n = inst.A.shape
    solver = str(options.get("milp_solver", DEFAULT_SOLVER))
    beside = f", the MILP ({solver}) beside it" if options.get("hybrid") else ""
    log(f"[dmmv] {m} rows, {n} variables, {config.time_limit:g} s on {config.device}{beside}")
    progress = _Progress(log, on_incumbent)
    hybrid = None
    if options.get("hybrid"):
        from mipguide.pipeline.dmmv_hybrid import solve_hybrid

        res, hybrid = solve_hybrid(
            inst,
            config,
            solver=solver,
            interrupt=interrupt,
            on_improve=progress,
            on_milp_improve=progress.milp,
        )
    else:
        res = solve(inst, config, stop=interrupt.is_set, on_improve=progress)
    progress.flush(res.max_violation, "solver" if hybrid and hybrid.source == "milp" else "dmmv")
    log(
        f"[dmmv] max violation {res.max_violation:.10g} (start {res.start_max_violation:.10g}), "
        f"{res.iterations} passes in {res.seconds:.2f} s"
        + (" (interrupted)" if res.interrupted else "")
    )
    if hybrid is not None:
        bound = "none" if hybrid.bound is None else f"{hybrid.bound:.10g}"
        switched = (
            ""
            if hybrid.switched is None
            else f"; DMMV's thread ran the other backend from {hybrid.switched:g} s"
        )
        log(
            f"[solver] {solver}: {hybrid.status}, bound {bound}; the answer is {hybrid.source}'s"
            + switched
            + (f" ({hybrid.error})" if hybrid.error else "")
        )
    return result_document(res, config, (m, n), hybrid)
