"""Discrete tomography: (phantom size, grey levels, angles, noise) -> DmmvCase.

A phantom of s x s pixels with values in {0, ..., L-1} is projected by a parallel-beam
projector (numpy: each pixel centre falls between two detector bins of unit width and is split
between them linearly). Measurements get uniform noise in [-eps, eps]; each row is one
projection value with bounds [b - eps, b + eps], so the phantom itself has max violation 0.
x0 is a continuous least-squares reconstruction (LSQR, clipped to the level range), whose
rounding is the round-to-nearest baseline.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from mipguide.heuristics.dmmv.types import DmmvBatch
from mipguide.instances.dmmv.case import DmmvCase


def phantom(size: int, n_levels: int, rng: np.random.Generator, n_ellipses: int = 6) -> np.ndarray:
    """A piecewise-constant phantom of random ellipses, values in {0, ..., n_levels - 1}."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) * 2.0 - 1.0
    img = np.zeros((size, size), dtype=np.int64)
    for _ in range(n_ellipses):
        cx, cy = rng.uniform(-0.5, 0.5, 2)
        ax, ay = rng.uniform(0.15, 0.45, 2)
        th = rng.uniform(0, np.pi)
        u = (xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)
        v = -(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)
        inside = (u / ax) ** 2 + (v / ay) ** 2 <= 1.0
        img[inside] = rng.integers(1, n_levels) if n_levels > 2 else 1 - img[inside]
    return img


def projector(size: int, n_angles: int) -> sp.csr_matrix:
    """Parallel-beam projection matrix (n_angles * bins, size^2), empty rows removed."""
    c = (size - 1) / 2.0
    ys, xs = np.mgrid[0:size, 0:size]
    px, py = (xs - c).ravel(), (ys - c).ravel()
    n_bins = int(np.ceil(size * np.sqrt(2))) + 2
    half = n_bins / 2.0
    rows, cols, vals = [], [], []
    pix = np.arange(size * size)
    for a, theta in enumerate(np.linspace(0.0, np.pi, n_angles, endpoint=False)):
        t = px * np.cos(theta) + py * np.sin(theta) + half - 0.5
        lo = np.floor(t).astype(np.int64)
        frac = t - lo
        for off, w in ((0, 1.0 - frac), (1, frac)):
            rows.append(a * n_bins + lo + off)
            cols.append(pix)
            vals.append(w)
    mat = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_angles * n_bins, size * size),
    )
    mat.eliminate_zeros()
    keep = np.diff(mat.indptr) > 0
    return sp.csr_matrix(mat[keep])


def tomography_case(
    size: int = 32,
    n_levels: int = 2,
    n_angles: int = 8,
    noise: float = 0.5,
    seed: int = 0,
    count: int = 1,
) -> DmmvCase:
    """``count`` phantoms sharing one projector.

    Args:
        size: phantom side (32 to 64 in the use case).
        n_levels: grey levels (2: binary, 4: four-level).
        n_angles: projection angles in [0, pi).
        noise: uniform measurement noise amplitude eps (also the row half-width).
        seed: phantom and noise seed.
        count: number of phantoms (batch size).
    """
    rng = np.random.default_rng(seed)
    A = projector(size, n_angles)
    truth = np.stack([phantom(size, n_levels, rng).ravel() for _ in range(count)]).astype(float)
    b = np.asarray((A @ truth.T).T)
    b = b + rng.uniform(-noise, noise, size=b.shape)
    x0 = np.stack(
        [np.clip(lsqr(A, b[i], iter_lim=200)[0], 0.0, n_levels - 1.0) for i in range(count)]
    )
    levels = np.arange(n_levels, dtype=np.float64)
    n = size * size
    batch = DmmvBatch(
        A=A,
        lower=b - noise,
        upper=b + noise,
        levels=np.broadcast_to(levels, (n, n_levels)),
        x0=x0,
    )
    return DmmvCase(
        name=f"tomo-{size}x{size}-L{n_levels}",
        family="tomo",
        batch=batch,
        metric="max projection violation",
        truth=truth,
        info={"size": size, "levels": n_levels, "angles": n_angles, "noise": noise},
    )


def pixel_error(x: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of pixels whose level differs from the phantom."""
    return float(np.mean(np.abs(np.asarray(x) - truth) > 0.5))
