"""Small random DMMV instances shared by the heuristic tests."""

from __future__ import annotations

import numpy as np

from mipguide.heuristics.dmmv import DmmvInstance


def random_instance(
    seed: int,
    m: int = 12,
    n: int = 8,
    n_levels: int = 5,
    slack: float = 0.3,
    matrix_seed: int | None = None,
) -> DmmvInstance:
    """A planted instance: a random level assignment, rows around its activity, mixed row kinds
    (ranges, equalities, one-sided), per-variable levels of different lengths.
    matrix_seed draws A from its own seed, so instances can share A.
    """
    rng = np.random.default_rng(seed)
    mrng = rng if matrix_seed is None else np.random.default_rng(matrix_seed)
    A = mrng.normal(size=(m, n)) * (mrng.random((m, n)) < 0.7)
    levels = np.full((n, n_levels), np.nan)
    for j in range(n):
        k = int(rng.integers(2, n_levels + 1))
        levels[j, :k] = np.sort(rng.choice(np.arange(-6, 7), size=k, replace=False)) * 0.5
    planted = np.array([rng.choice(levels[j][np.isfinite(levels[j])]) for j in range(n)])
    b = A @ planted + rng.normal(0, 0.5, m)
    lower, upper = b - slack, b + slack
    kind = rng.integers(0, 4, m)
    lower = np.where(kind == 1, -np.inf, np.where(kind == 2, b, lower))
    upper = np.where(kind == 3, np.inf, np.where(kind == 2, b, upper))
    x0 = planted + rng.normal(0, 1.0, n)
    return DmmvInstance(A, lower, upper, levels, x0=x0)
