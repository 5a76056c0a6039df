"""Bin packing generator (uniform item sizes, as in Falkenauer's u-classes): seed -> Problem.

    min  sum_j y_j
    s.t. sum_j x_ij = 1                     for each item i
         sum_i w_i x_ij <= C y_j            for each bin j
         y_j >= y_{j+1}                     (bins are used in order)
         x, y binary

The bins offered are those first-fit decreasing needs, so that packing is a feasible point
and the question is whether fewer bins suffice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class BinPackingParams:
    n_items: int
    capacity: int = 150
    min_weight: int = 20
    max_weight: int = 100


def first_fit_decreasing(weights: np.ndarray, capacity: float) -> np.ndarray:
    """The bin of each item when items go, heaviest first, into the first bin they fit."""
    loads: list[float] = []
    assignment = np.empty(weights.size, dtype=np.int64)
    for i in np.argsort(-weights, kind="stable").tolist():
        for j, load in enumerate(loads):
            if load + weights[i] <= capacity:
                loads[j] += float(weights[i])
                assignment[i] = j
                break
        else:
            loads.append(float(weights[i]))
            assignment[i] = len(loads) - 1
    return assignment


def generate_bin_packing(p: BinPackingParams, rng: np.random.Generator, name: str) -> Problem:
    """One bin packing instance (minimize): x_ij item-major (x_i0, x_i1, ...), then y_0.."""
    n = p.n_items
    w = rng.integers(p.min_weight, p.max_weight + 1, size=n).astype(np.float64)
    m = int(first_fit_decreasing(w, p.capacity).max()) + 1
    nx = n * m
    item_rows = np.repeat(np.arange(n), m)
    assign = sp.csr_matrix((np.ones(nx), (item_rows, np.arange(nx))), shape=(n, nx + m))
    bins = np.tile(np.arange(m), n)
    y = nx + np.arange(m)
    cap_rows = np.concatenate([bins, np.arange(m)])
    cap_cols = np.concatenate([np.arange(nx), y])
    cap_vals = np.concatenate([np.repeat(w, m), np.full(m, -float(p.capacity))])
    cap = sp.csr_matrix((cap_vals, (cap_rows, cap_cols)), shape=(m, nx + m))
    order_rows = np.tile(np.arange(m - 1), 2)
    order_cols = np.concatenate([y[:-1], y[1:]])
    order_vals = np.concatenate([np.ones(m - 1), -np.ones(m - 1)])
    order = sp.csr_matrix((order_vals, (order_rows, order_cols)), shape=(m - 1, nx + m))
    A = sp.vstack([assign, cap, order]).tocsr()
    lower = np.concatenate([np.ones(n), np.full(m, -np.inf), np.zeros(m - 1)])
    upper = np.concatenate([np.ones(n), np.zeros(m), np.full(m - 1, np.inf)])
    c = np.concatenate([np.zeros(nx), np.ones(m)])
    names = [f"x_{i}_{j}" for i in range(n) for j in range(m)] + [f"y_{j}" for j in range(m)]
    rows = [f"item_{i}" for i in range(n)] + [f"capacity_{j}" for j in range(m)]
    rows += [f"order_{j}" for j in range(m - 1)]
    return make_problem(
        A,
        lower,
        upper,
        c,
        col_upper=np.ones(nx + m),
        integrality=np.ones(nx + m, dtype=bool),
        sense=Sense.MINIMIZE,
        name=name,
        var_names=names,
        row_names=rows,
    )
