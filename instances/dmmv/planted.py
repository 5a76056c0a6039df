"""Small planted DMMV instances sharing one matrix (for throughput and tests)."""

from __future__ import annotations

import numpy as np

from mipguide.heuristics.dmmv.types import DmmvBatch


def planted_batch(
    count: int, m: int = 40, n: int = 30, n_levels: int = 8, seed: int = 0
) -> DmmvBatch:
    """``count`` instances with A shared: integer A in [-3, 3], a planted level assignment per
    instance, rows [A x* - 1, A x* + 1], and x0 = x* plus Gaussian noise of one level.
    """
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, size=(m, n)).astype(np.float64)
    planted = rng.integers(0, n_levels, size=(count, n)).astype(np.float64)
    act = planted @ A.T
    return DmmvBatch(
        A=A,
        lower=act - 1.0,
        upper=act + 1.0,
        levels=np.broadcast_to(np.arange(n_levels, dtype=np.float64), (n, n_levels)),
        x0=planted + rng.normal(0.0, 1.0, size=planted.shape),
    )
