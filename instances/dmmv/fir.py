"""FIR filter design with p-bit coefficients: (taps, bands, bits) -> DmmvCase.

A linear-phase low-pass filter of odd length N = 2M + 1 with symmetric taps has the real
amplitude response H(w) = h_0 + 2 sum_{k=1..M} h_k cos(k w). On a grid of passband and
stopband frequencies, row i is W_i (H(w_i) - D_i) with l_i = u_i = 0 (D = 1 in the passband,
0 in the stopband, W the band weight), so the max violation is the weighted Chebyshev ripple.
Coefficients are p-bit fixed point in [-1, 1). x0 is the continuous minimax design (an LP),
so round-to-nearest is the usual "design, then quantize" baseline.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from mipguide.heuristics.dmmv.types import DmmvBatch
from mipguide.instances.dmmv.case import DmmvCase


def response_matrix(n_vars: int, freqs: np.ndarray) -> np.ndarray:
    """Rows [1, 2 cos(w), ..., 2 cos(M w)] for each frequency (M = n_vars - 1)."""
    k = np.arange(n_vars)
    mat = np.cos(np.outer(freqs, k))
    mat[:, 1:] *= 2.0
    return mat


def minimax_design(A: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Continuous min_h max_i |A h - target| (an LP solved by SciPy's HiGHS)."""
    m, n = A.shape
    c = np.zeros(n + 1)
    c[-1] = 1.0
    ones = np.ones((m, 1))
    a_ub = np.vstack([np.hstack([A, -ones]), np.hstack([-A, -ones])])
    b_ub = np.concatenate([target, -target])
    bounds = [(-1.0, 1.0)] * n + [(0.0, None)]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"minimax FIR design failed: {res.message}")
    return np.asarray(res.x[:n])


def fir_case(
    n_vars: int = 16,
    bits: int = 10,
    passband: float = 0.2,
    stopband: float = 0.3,
    grid: int = 300,
    stop_weight: float = 1.0,
) -> DmmvCase:
    """A low-pass design: band edges as fractions of pi, ``grid`` frequency points in total.

    Args:
        n_vars: distinct coefficients (taps N = 2 n_vars - 1), 7..31 in the use case.
        bits: coefficient word length; levels are k / 2^(bits-1), k in [-2^(bits-1), 2^(bits-1)).
        passband, stopband: band edges / pi.
        grid: number of frequency points, split between the bands by width.
        stop_weight: weight of the stopband rows.
    """
    n_pass = max(2, round(grid * passband / (passband + 1 - stopband)))
    wp = np.linspace(0.0, passband * np.pi, n_pass)
    ws = np.linspace(stopband * np.pi, np.pi, grid - n_pass)
    freqs = np.concatenate([wp, ws])
    weight = np.concatenate([np.ones(len(wp)), np.full(len(ws), stop_weight)])
    desired = np.concatenate([np.ones(len(wp)), np.zeros(len(ws))])
    A = response_matrix(n_vars, freqs) * weight[:, None]
    target = desired * weight
    x0 = minimax_design(A, target)
    half = 2 ** (bits - 1)
    levels = np.arange(-half, half, dtype=np.float64) / half
    batch = DmmvBatch(
        A=A,
        lower=target[None, :],
        upper=target[None, :].copy(),
        levels=np.broadcast_to(levels, (n_vars, len(levels))),
        x0=x0[None, :],
    )
    ripple = float(np.abs(A @ x0 - target).max())
    return DmmvCase(
        name=f"fir-n{n_vars}-p{bits}",
        family="fir",
        batch=batch,
        metric="weighted max ripple",
        info={"taps": 2 * n_vars - 1, "bits": bits, "grid": grid, "continuous_ripple": ripple},
    )
