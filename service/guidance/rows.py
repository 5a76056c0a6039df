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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem


@dataclass(frozen=True, eq=False)
class GuidanceRows:
    """The normalized problem over the binaries.

    Attributes:
        A: (m', nb) CSR, binary part of the kept rows, scaled.
        lower, upper: (m',) scaled bounds (+-inf where a side is dropped).
        c: (nb,) normalized objective (minimization direction).
        rows: (m',) indices of the kept rows in the problem.
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


def guidance_rows(problem: Problem) -> GuidanceRows:
    """Build the normalized problem over the binaries (see module docstring)."""
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
    return GuidanceRows(
        A=(inv @ A_bin[keep]).tocsr(),
        lower=lower[keep] / scale[keep],
        upper=upper[keep] / scale[keep],
        c=c / cmax if cmax > 0 else np.zeros_like(c),
        rows=keep,
        binary_index=bidx,
    )
