"""Guidance rows of SRG: Problem -> the normalized problem over the binaries (no torch here).

The Lagrangian that guides sampling is ``L(x, lambda) = c~^T x + lambda^T v(x)`` over the
binaries x, with

- ``c~ = sense * c_B / max |c_B|`` (minimization direction, entries in [-1, 1]);
- each row reduced to its binary part: the other variables (continuous, general integer) are
  replaced by their most favourable activity within their bounds, so a row is violated "by the
  binaries" only when no setting of the others can satisfy it (l'_i = l_i - max a_iR x_R,
  u'_i = u_i - min a_iR x_R; a side whose favourable activity is infinite is dropped);
- rows scaled by their largest binary coefficient, so violations are comparable across rows;
- rows with no binary, or with both sides dropped, left out.

``v_i(x) = max(0, l'_i - a'_i x, a'_i x - u'_i)`` on the scaled rows.

A row alone can miss what only a sum of rows shows: on capacitated facility location no single
row is violated by the binaries (each x may be 0), yet the open capacity must cover the total
demand. So where the problem has non-binary variables, ``aggregate_rows`` adds rows over the
binaries alone that are nonnegative combinations of the problem's rows with the others at their
most favourable activity (valid for every feasible point, so they never exclude one): for each
of the all-zeros and all-ones assignments, the combination that it violates most, found by an
LP (the dual of the others' feasibility problem at that assignment; its multipliers sum to at
most 1). The row is rebuilt from the LP's multipliers in float64, so its validity does not rest
on the LP's accuracy. On facility location the all-zeros assignment gives
``sum_j s_j y_j >= sum_i d_i``. An aggregate row is scaled by its right-hand side where that
exceeds its largest coefficient (``sum_j (s_j / D) y_j >= 1``): its residual is then the share
of the total still missing, at most 1. Scaled by the largest capacity it counted facilities,
its multiplier jumped by several per step, and every candidate opened nearly everything. Its
multiplier has a step of its own (``sampling.aggregate_rho``).

Off by default (``sampling.aggregates``): the raw candidates are better with them
(docs/benchmarks.md#srg-aggregates), but end to end they do not pay. SRG builds them after its
first estimate's incumbent (the LP takes 2.8 s on hard facility location and had delayed that
incumbent from 1.7 s to 6.0 s); on validation facility location (hard, seeds 1500-1502, 60 s,
solver seeds 0-2) SRG's mean primal integral is then 0.0665 with them against 0.0634 without.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem
from mipguide.solvers.base import get_backend
from mipguide.solvers.types import SolveOptions, Status

# the aggregate rows' LP: at most this many seconds per assignment (GLOP), and an assignment
# violating the combination by less than this (relative to its largest binary coefficient) adds
# no row
AGGREGATE_SECONDS = 3.0
AGGREGATE_MIN_VIOLATION = 1e-6


@dataclass(frozen=True, eq=False)
class GuidanceRows:
    """The normalized problem over the binaries.

    Attributes:
        A: (m', nb) CSR, binary part of the kept rows, scaled.
        lower, upper: (m',) scaled bounds (+-inf where a side is dropped).
        c: (nb,) normalized objective (minimization direction).
        rows: (m',) indices of the kept rows in the problem (-1: an aggregate row).
        binary_index: (nb,) variable indices of the binaries.
    """

    A: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    c: np.ndarray
    rows: np.ndarray
    binary_index: np.ndarray

    @property
    def num_rows(self) -> int:
        return int(self.A.shape[0])

    def violations(self, x: np.ndarray) -> np.ndarray:
        """(K, m') row violations of K assignments x (K, nb) of the binaries."""
        ax = np.asarray(self.A @ np.atleast_2d(x).T).T
        with np.errstate(invalid="ignore"):
            below = np.where(np.isfinite(self.lower), self.lower - ax, 0.0)
            above = np.where(np.isfinite(self.upper), ax - self.upper, 0.0)
        return np.maximum(np.maximum(below, above), 0.0)

    def objective(self, x: np.ndarray) -> np.ndarray:
        """(K,) normalized objective c~^T x."""
        return np.atleast_2d(x) @ self.c


def _favourable(A_rest: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """(min, max) of each row's activity over the box [lo, hi] (+-inf when unbounded)."""
    rows = np.repeat(np.arange(A_rest.shape[0]), np.diff(A_rest.indptr))
    a = A_rest.data
    lo_c, hi_c = lo[A_rest.indices], hi[A_rest.indices]
    with np.errstate(invalid="ignore"):
        low_term = np.where(a > 0, a * lo_c, a * hi_c)
        high_term = np.where(a > 0, a * hi_c, a * lo_c)
    m = A_rest.shape[0]
    return _row_sum(rows, low_term, m), _row_sum(rows, high_term, m)


def _row_sum(rows: np.ndarray, terms: np.ndarray, m: int) -> np.ndarray:
    """Sum per row with infinities kept (+inf and -inf never meet: one sign per bound side)."""
    finite = np.isfinite(terms)
    out = np.bincount(rows[finite], weights=terms[finite], minlength=m).astype(np.float64)
    pos = np.bincount(rows[terms == np.inf], minlength=m) > 0
    neg = np.bincount(rows[terms == -np.inf], minlength=m) > 0
    out[pos] = np.inf
    out[neg] = -np.inf
    return out


def aggregate_rows(
    problem: Problem, seconds: float = AGGREGATE_SECONDS
) -> list[tuple[np.ndarray, float]]:
    """Rows ``g x_B >= r`` over the binaries implied by the problem (module docstring): one per
    assignment (all zeros, all ones) that some combination excludes; [] for a pure-binary
    problem, or when the LP is not solved within ``seconds``."""
    mask = problem.binary_mask
    bidx, rest = np.flatnonzero(mask), np.flatnonzero(~mask)
    if rest.size == 0 or bidx.size == 0:
        return []
    A = problem.A.tocsr()
    low_rows = np.flatnonzero(np.isfinite(problem.row_lower))
    up_rows = np.flatnonzero(np.isfinite(problem.row_upper))
    # g = A_L^T p - A_U^T q over the columns; the others' part g_R = G [p; q]
    G = sp.hstack([A[low_rows].T, -A[up_rows].T], format="csr")
    G_bin, G_rest = G[bidx], G[rest]
    beta = np.concatenate([problem.row_lower[low_rows], -problem.row_upper[up_rows]])
    lo, hi = problem.col_lower[rest], problem.col_upper[rest]
    n_mult, n_rest = G.shape[1], rest.size
    # t_r >= g_r * bound for each finite bound (t_r: the others' most favourable activity);
    # an infinite upper bound needs g_r <= 0, an infinite lower one g_r >= 0
    blocks, lows, ups = [], [], []
    eye = sp.identity(n_rest, format="csr")
    for bound, sign in ((hi, 1.0), (lo, -1.0)):
        fin = np.isfinite(bound)
        f, inf = np.flatnonzero(fin), np.flatnonzero(~fin)
        blocks.append(sp.hstack([-sp.diags(bound[f]) @ G_rest[f], eye[f]]))
        lows.append(np.zeros(f.size))
        ups.append(np.full(f.size, np.inf))
        blocks.append(sp.hstack([sign * G_rest[inf], sp.csr_matrix((inf.size, n_rest))]))
        lows.append(np.full(inf.size, -np.inf))
        ups.append(np.zeros(inf.size))
    blocks.append(sp.hstack([sp.csr_matrix(np.ones((1, n_mult))), sp.csr_matrix((1, n_rest))]))
    lows.append(np.array([-np.inf]))
    ups.append(np.array([1.0]))
    M = sp.vstack(blocks, format="csr")
    row_lo, row_up = np.concatenate(lows), np.concatenate(ups)
    col_lo = np.concatenate([np.zeros(n_mult), np.full(n_rest, -np.inf)])
    backend = get_backend("glop")
    out: list[tuple[np.ndarray, float]] = []
    for point in (np.zeros(bidx.size), np.ones(bidx.size)):
        # maximize beta^T m - sum t - (G_bin^T m)^T point: the combination's violation there
        c = np.concatenate([beta - G_bin.T @ point, -np.ones(n_rest)])
        lp = make_problem(
            M, row_lo, row_up, c, col_lower=col_lo, sense=Sense.MAXIMIZE, name="aggregate"
        )
        res = backend.solve(lp, SolveOptions(time_limit=seconds), None, None)
        if res.status != Status.OPTIMAL or res.x is None:
            continue
        found = _combination(np.asarray(res.x[:n_mult]), G_bin, G_rest, beta, lo, hi)
        if found is None:
            continue
        g, r = found
        scale = np.abs(g).max()
        if r - g @ point > AGGREGATE_MIN_VIOLATION * scale:
            out.append((g, r))
    return out


def _combination(
    mult: np.ndarray,
    G_bin: sp.csr_matrix,
    G_rest: sp.csr_matrix,
    beta: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, float] | None:
    """The row ``g x_B >= r`` of the multipliers (clipped at 0), the others at their most
    favourable activity; None when that activity is unbounded, the row has no binary, or it is
    one row of the problem (a guidance row already)."""
    m = np.where(mult > 1e-12, mult, 0.0)
    if np.count_nonzero(m) < 2:
        return None
    g_rest = G_rest @ m
    g_rest = np.where(
        np.abs(g_rest) > 1e-12 * max(1.0, np.abs(g_rest).max(initial=0.0)), g_rest, 0.0
    )
    with np.errstate(invalid="ignore"):
        best = np.where(g_rest > 0, g_rest * hi, np.where(g_rest < 0, g_rest * lo, 0.0))
    used = m > 0
    r = float(beta[used] @ m[used]) - float(best.sum())
    g = G_bin @ m
    if not np.isfinite(r) or not np.any(np.abs(g) > 0):
        return None
    return np.asarray(g, dtype=np.float64), r


def guidance_rows(problem: Problem, aggregates: bool = False) -> GuidanceRows:
    """Build the normalized problem over the binaries (see module docstring); ``aggregates``:
    with the rows of ``aggregate_rows``."""
    mask = problem.binary_mask
    bidx = np.flatnonzero(mask)
    A = problem.A
    A_bin = A[:, bidx].tocsr()
    rest = np.flatnonzero(~mask)
    lo_rest, hi_rest = _favourable(
        A[:, rest].tocsr(), problem.col_lower[rest], problem.col_upper[rest]
    )
    with np.errstate(invalid="ignore"):
        lower = problem.row_lower - hi_rest  # the others at their most helpful
        upper = problem.row_upper - lo_rest
    lower = np.where(np.isnan(lower), -np.inf, lower)
    upper = np.where(np.isnan(upper), np.inf, upper)
    scale = np.zeros(problem.num_rows)
    absd = np.abs(A_bin.data)
    nonempty = np.diff(A_bin.indptr) > 0
    if absd.size:
        scale[nonempty] = np.maximum.reduceat(absd, A_bin.indptr[:-1][nonempty])
    keep = np.flatnonzero(nonempty & (scale > 0) & (np.isfinite(lower) | np.isfinite(upper)))
    inv = sp.diags(1.0 / scale[keep])
    c = float(problem.sense) * problem.c[bidx]
    cmax = np.abs(c).max(initial=0.0)
    rows_A, rows_lo = [(inv @ A_bin[keep]).tocsr()], [lower[keep] / scale[keep]]
    rows_up, index = [upper[keep] / scale[keep]], [keep]
    for g, r in aggregate_rows(problem) if aggregates else []:
        # scaled by its right-hand side where that is larger (module docstring)
        top = max(np.abs(g).max(), abs(r))
        rows_A.append(sp.csr_matrix(g / top))
        rows_lo.append(np.array([r / top]))
        rows_up.append(np.array([np.inf]))
        index.append(np.array([-1]))
    return GuidanceRows(
        A=sp.vstack(rows_A, format="csr"),
        lower=np.concatenate(rows_lo),
        upper=np.concatenate(rows_up),
        c=c / cmax if cmax > 0 else np.zeros_like(c),
        rows=np.concatenate(index),
        binary_index=bidx,
    )
