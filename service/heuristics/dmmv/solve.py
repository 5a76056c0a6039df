"""DMMV entry points: (instance or batch, config) -> verified results.

``solve_batch`` runs many instances that share A in one tensor program; ``solve`` is the batch
of one. Every returned value is one of its variable's levels and the reported max violation is
recomputed from scratch in float64.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from mipguide.heuristics.dmmv.evaluate import (
    continuous_start,
    evaluate,
    rounding_brackets,
    start_indices,
    values_of,
)
from mipguide.heuristics.dmmv.search import COUNTERS, ProgressCallback, StopCheck, run_search
from mipguide.heuristics.dmmv.tensors import (
    DeviceMatrix,
    resolve_dtype,
    to_device_batch,
    to_device_matrix,
)
from mipguide.heuristics.dmmv.types import DmmvBatch, DmmvConfig, DmmvInstance, DmmvResult


def solve(
    instance: DmmvInstance,
    config: DmmvConfig | None = None,
    *,
    stop: StopCheck | None = None,
    on_improve: ProgressCallback | None = None,
) -> DmmvResult:
    """Minimize the max row violation of one instance. See ``solve_batch``."""
    return solve_batch(instance.as_batch(), config, stop=stop, on_improve=on_improve)[0]


def solve_batch(
    batch: DmmvBatch,
    config: DmmvConfig | None = None,
    *,
    matrix: DeviceMatrix | None = None,
    stop: StopCheck | None = None,
    on_improve: ProgressCallback | None = None,
) -> list[DmmvResult]:
    """Minimize the max row violation of every instance of a batch.

    Args:
        batch: instances sharing A.
        config: search parameters (time limit, seed, device, ...); defaults when None.
        matrix: A already on the device (the worker pool's cache), or None.
        stop: polled between passes (with the time limit); True ends the search early and the
            best point so far is returned, marked ``interrupted``.
        on_improve: progress callback (seconds, largest best max violation over the batch).

    Returns:
        One result per instance, in batch order.

    Raises:
        ValueError: bad dtype name. torch errors (e.g. out of memory) propagate.
    """
    cfg = config or DmmvConfig()
    device = torch.device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    x_cont = continuous_start(batch)
    start = start_indices(batch, x_cont)
    m, n = batch.shape
    if m == 0 or n == 0:
        return _results(batch, start, start, 0, [dict.fromkeys(COUNTERS, 0)] * batch.size, 0.0, cfg)
    widest = int(np.isfinite(batch.levels).sum(-1).max())
    cfg = replace(cfg, steps=tuple(s for s in cfg.steps if s < widest) or (1,))
    mat = matrix if matrix is not None else to_device_matrix(batch.A, device, dtype)
    dbatch = to_device_batch(batch, device, dtype)
    start_t = torch.as_tensor(start, dtype=torch.long, device=device)
    rounding = None
    if cfg.rounding_restarts > 0:
        lo, frac = rounding_brackets(batch, x_cont, start)
        rounding = (
            torch.as_tensor(lo, dtype=torch.long, device=device),
            torch.as_tensor(frac, dtype=dtype, device=device),
        )
    out = run_search(mat, dbatch, start_t, cfg, stop=stop, on_improve=on_improve, rounding=rounding)
    best = out.best_idx.cpu().numpy()
    results = _results(batch, start, best, out.iterations, out.counters, out.seconds, cfg)
    return [replace(r, interrupted=out.interrupted) for r in results]


def _results(
    batch: DmmvBatch,
    start: np.ndarray,
    best: np.ndarray,
    iterations: int,
    counters: list[dict[str, int]],
    seconds: float,
    cfg: DmmvConfig,
) -> list[DmmvResult]:
    results = []
    for b in range(batch.size):
        levels = batch.levels_of(b)
        x = values_of(levels, best[b])
        ev = evaluate(batch.A, x, batch.lower[b], batch.upper[b])
        ev0 = evaluate(batch.A, values_of(levels, start[b]), batch.lower[b], batch.upper[b])
        results.append(
            DmmvResult(
                x=x,
                level_index=best[b].astype(np.int64),
                max_violation=ev.max_violation,
                argmax_row=ev.argmax_row,
                sum_squares=ev.sum_squares,
                start_max_violation=ev0.max_violation,
                iterations=iterations,
                seconds=seconds,
                device=cfg.device,
                counters=counters[b],
            )
        )
    return results
