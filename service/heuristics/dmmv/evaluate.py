"""Float64 evaluation of DMMV assignments, independent of the search: (A, x, l, u) -> violations.

Also the round-to-nearest start, the relaxed start used when no x0 is given, and the
round-to-nearest fallback result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.heuristics.dmmv.types import DmmvBatch, DmmvResult, Matrix, dense


@dataclass(frozen=True)
class Violation:
    """Row violations of one assignment: the max, a row attaining it, and the sum of squares."""

    max_violation: float
    argmax_row: int
    sum_squares: float


def activity(A: Matrix, x: np.ndarray) -> np.ndarray:
    """A x in float64 for x of shape (n,) or (B, n) (returns (m,) or (B, m))."""
    x = np.asarray(x, dtype=np.float64)
    if sp.issparse(A):
        return np.asarray((A @ x.T).T)
    return x @ np.asarray(A, dtype=np.float64).T


def row_violations(A: Matrix, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """viol_i = max(0, l_i - a_i x, a_i x - u_i), in float64, same leading shape as x."""
    r = activity(A, x)
    with np.errstate(invalid="ignore"):
        v = np.maximum(np.asarray(lower) - r, r - np.asarray(upper))
    return np.maximum(np.nan_to_num(v, nan=0.0, neginf=0.0), 0.0)


def evaluate(A: Matrix, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Violation:
    """Max violation, arg-max row and sum of squares of one assignment x (n,)."""
    v = row_violations(A, x, lower, upper)
    if v.size == 0:
        return Violation(0.0, -1, 0.0)
    i = int(np.argmax(v))
    return Violation(float(v[i]), i, float(np.dot(v, v)))


def level_counts(levels: np.ndarray) -> np.ndarray:
    """Number of levels per variable of a NaN-padded (..., n, L) array."""
    return np.isfinite(levels).sum(axis=-1)


def round_to_nearest(levels: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of the level nearest to each x_j (ties go to the lower level); shapes (..., n)."""
    dist = np.abs(levels - np.asarray(x, dtype=np.float64)[..., None])
    return np.nanargmin(np.where(np.isfinite(levels), dist, np.inf), axis=-1)


def values_of(levels: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The level values selected by index, shapes (..., n, L) and (..., n) -> (..., n)."""
    return np.take_along_axis(levels, index[..., None], axis=-1)[..., 0]


def spectral_norm(mat: np.ndarray, iterations: int = 30) -> float:
    """An estimate (from above, by 5%) of ||mat||_2 by power iteration from a fixed vector."""
    v = np.ones(mat.shape[1]) / np.sqrt(max(1, mat.shape[1]))
    est = 0.0
    for _ in range(iterations):
        w = mat.T @ (mat @ v)
        norm = float(np.linalg.norm(w))
        if norm == 0.0:
            return float(np.abs(mat).max(initial=0.0))
        v, est = w / norm, np.sqrt(norm)
    return 1.05 * est


def relaxed_start(
    A: Matrix, lower: np.ndarray, upper: np.ndarray, levels: np.ndarray, iterations: int = 100
) -> np.ndarray:
    """A continuous start for one instance: projected gradient on sum_i viol_i(x)^2 over the box
    [min D_j, max D_j], from the box centre. Used when the caller gives no x0.
    """
    lo = np.nanmin(levels, axis=-1)
    hi = np.nanmax(levels, axis=-1)
    x = 0.5 * (lo + hi)
    if A.shape[0] == 0:
        return x
    mat = dense(A)
    lip = max(spectral_norm(mat) ** 2, 1e-12)
    for _ in range(iterations):
        r = mat @ x
        g = mat.T @ (np.maximum(r - upper, 0.0) - np.maximum(lower - r, 0.0))
        x = np.clip(x - g / lip, lo, hi)
    return x


def continuous_start(batch: DmmvBatch) -> np.ndarray:
    """(B, n) the point the search rounds: x0 when given, else the relaxed start."""
    if batch.x0 is not None:
        return np.asarray(batch.x0, dtype=np.float64)
    levels = np.broadcast_to(batch.levels, (batch.size, *batch.levels.shape[-2:]))
    return np.stack(
        [
            relaxed_start(batch.A, batch.lower[b], batch.upper[b], levels[b])
            for b in range(batch.size)
        ]
    )


def start_indices(batch: DmmvBatch, x: np.ndarray | None = None) -> np.ndarray:
    """(B, n) round-to-nearest level indices of ``x`` (default: ``continuous_start``)."""
    levels = np.broadcast_to(batch.levels, (batch.size, *batch.levels.shape[-2:]))
    return round_to_nearest(levels, continuous_start(batch) if x is None else x)


def rounding_brackets(
    batch: DmmvBatch, x: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per variable (B, n): the index of the level at or below x (clipped to the level set)
    and x's fractional position towards the next level (0 at a level, at the ends and for
    fixed variables, which keep their start index)."""
    levels = np.broadcast_to(batch.levels, (batch.size, *batch.levels.shape[-2:]))
    counts = level_counts(levels)
    below = np.where(np.isfinite(levels), levels <= x[..., None], False).sum(-1) - 1
    lo = np.clip(below, 0, counts - 1)
    hi = np.minimum(lo + 1, counts - 1)
    v_lo = np.take_along_axis(levels, lo[..., None], -1)[..., 0]
    v_hi = np.take_along_axis(levels, hi[..., None], -1)[..., 0]
    gap = np.where(hi > lo, v_hi - v_lo, 1.0)
    frac = np.where(hi > lo, np.clip((x - v_lo) / gap, 0.0, 1.0), 0.0)
    if batch.fixed is not None:
        lo = np.where(batch.fixed, start, lo)
        frac = np.where(batch.fixed, 0.0, frac)
    return lo.astype(np.int64), frac


def fallback_results(batch: DmmvBatch, device: str, reason: str = "fallback") -> list[DmmvResult]:
    """Round-to-nearest results, marked ``fallback``, for when the search cannot run."""
    idx = start_indices(batch)
    out = []
    for b in range(batch.size):
        x = values_of(batch.levels_of(b), idx[b])
        ev = evaluate(batch.A, x, batch.lower[b], batch.upper[b])
        out.append(
            DmmvResult(
                x=x,
                level_index=idx[b].astype(np.int64),
                max_violation=ev.max_violation,
                argmax_row=ev.argmax_row,
                sum_squares=ev.sum_squares,
                start_max_violation=ev.max_violation,
                iterations=0,
                seconds=0.0,
                device=device,
                counters={reason: 1},
                fallback=True,
            )
        )
    return out
