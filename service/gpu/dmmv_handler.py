"""The pool's ``dmmv`` kind: coalesced DMMV requests -> one batched search per tile.

Requests with the same matrix and configuration are merged into one batch; the batch is cut into
tiles sized from the memory budget; a tile that runs out of memory is halved and retried, and
a single instance that still does not fit gets the round-to-nearest result marked ``fallback``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from mipguide.gpu.context import WorkerContext
from mipguide.heuristics.dmmv.evaluate import fallback_results
from mipguide.heuristics.dmmv.types import DmmvBatch, DmmvConfig, DmmvResult

SolveFn = Callable[..., list[DmmvResult]]


@dataclass(frozen=True)
class DmmvRequest:
    """Payload of a ``dmmv`` request: a batch sharing A, the search config, and A's hash."""

    batch: DmmvBatch
    config: DmmvConfig
    matrix_key: str


def coalesce_key(req: DmmvRequest) -> str:
    """Requests with equal keys can share one tensor program (same A, same search settings)."""
    return f"{req.matrix_key}|{replace(req.config, seed=0)!r}"


def merge(batches: list[DmmvBatch]) -> DmmvBatch:
    """Concatenate batches that share A (levels padded to a common width)."""
    n = batches[0].shape[1]
    width = max(b.levels.shape[-1] for b in batches)
    levels = []
    for b in batches:
        lv = np.broadcast_to(b.levels, (b.size, n, b.levels.shape[-1]))
        pad = np.full((b.size, n, width - lv.shape[-1]), np.nan)
        levels.append(np.concatenate([lv, pad], axis=2))
    x0s = [b.x0 for b in batches]
    fixed = [b.fixed if b.fixed is not None else np.zeros((b.size, n), bool) for b in batches]
    return DmmvBatch(
        A=batches[0].A,
        lower=np.concatenate([b.lower for b in batches]),
        upper=np.concatenate([b.upper for b in batches]),
        levels=np.concatenate(levels),
        x0=None
        if any(x is None for x in x0s)
        else np.concatenate([x for x in x0s if x is not None]),
        fixed=np.concatenate(fixed),
    )


def take(batch: DmmvBatch, lo: int, hi: int) -> DmmvBatch:
    """Instances lo..hi-1 of a batch."""
    return DmmvBatch(
        A=batch.A,
        lower=batch.lower[lo:hi],
        upper=batch.upper[lo:hi],
        levels=batch.levels if batch.levels.ndim == 2 else batch.levels[lo:hi],
        x0=None if batch.x0 is None else batch.x0[lo:hi],
        fixed=None if batch.fixed is None else batch.fixed[lo:hi],
    )


def tile_size(batch: DmmvBatch, config: DmmvConfig, budget: int, matrix_bytes: int) -> int:
    """Instances per tile so that the search's working tensors fit in the budget."""
    m, n = batch.shape
    cand = n * 2 * len(config.steps) + config.swap_pool**2
    per_instance = 8 * (6 * min(config.top_k, m) * cand + 4 * config.exact_candidates * m)
    per_instance += 8 * (n * batch.levels.shape[-1] + 6 * m + 6 * n)
    return max(1, int((budget - matrix_bytes) // max(1, per_instance)))


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def run_tiles(
    batch: DmmvBatch,
    config: DmmvConfig,
    tile: int,
    solve: SolveFn,
    matrix: object | None = None,
) -> tuple[list[DmmvResult], int]:
    """Solve tile by tile, halving a tile on out-of-memory; returns results and halvings."""
    out: list[DmmvResult] = []
    halvings = 0
    lo = 0
    while lo < batch.size:
        hi = min(batch.size, lo + tile)
        try:
            out.extend(solve(take(batch, lo, hi), config, matrix=matrix))
            lo = hi
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            if tile > 1:
                tile = max(1, tile // 2)
                halvings += 1
                continue
            out.extend(fallback_results(take(batch, lo, hi), config.device, "out_of_memory"))
            lo = hi
    return out, halvings


def handle_dmmv(
    payloads: list[DmmvRequest], ctx: WorkerContext, solve: SolveFn | None = None
) -> list[list[DmmvResult]]:
    """Run coalesced requests (same key) as one batch; split the results per request."""
    import torch

    from mipguide.heuristics.dmmv.solve import solve_batch
    from mipguide.heuristics.dmmv.tensors import resolve_dtype, to_device_matrix

    solve_fn = solve or solve_batch
    first = payloads[0]
    config = replace(first.config, device=ctx.config.device)
    device = torch.device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    batch = merge([p.batch for p in payloads])
    mkey = f"{first.matrix_key}|{dtype}"
    try:
        matrix = ctx.cached(mkey, lambda: to_device_matrix(batch.A, device, dtype))
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        results = fallback_results(batch, config.device, "out_of_memory")
    else:
        tile = tile_size(batch, config, ctx.config.memory_budget_bytes, matrix.nbytes)
        results, _ = run_tiles(batch, config, tile, solve_fn, matrix)
    split, lo = [], 0
    for p in payloads:
        split.append(results[lo : lo + p.batch.size])
        lo += p.batch.size
    return split
