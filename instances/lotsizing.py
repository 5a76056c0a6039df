"""Capacitated lot sizing generator (multi-item, single level, with setup times, in the style
of Trigeiro, Thomas & McClain 1989): seed -> Problem.

    min  sum_it (f_i y_it + h_i s_it)
    s.t. s_i,t-1 + x_it - s_it = d_it                 (inventory balance; s_i,-1 = 0)
         x_it <= M_it y_it                           (M_it: demand from t to the horizon)
         sum_i (a_i x_it + st_i y_it) <= C_t         (capacity of each period)
         y binary, x, s >= 0

Demands are uniform integers in 0..max_demand; setup costs f_i in 50..500, holding costs h_i
in 1..5, unit times a_i in 1..3, setup times st_i in 10..50. A period's capacity is its load
when each period's demand is produced in that period with a setup (lot for lot, so that plan is
feasible), raised to ``utilization`` times the mean load where it is lower: stock is built in
the quieter periods, within that slack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class LotSizingParams:
    n_items: int
    n_periods: int
    max_demand: int = 100
    utilization: float = 0.8


def generate_lot_sizing(p: LotSizingParams, rng: np.random.Generator, name: str) -> Problem:
    """One lot sizing instance (minimize). Columns: x_it, then s_it, then y_it (item-major)."""
    N, T = p.n_items, p.n_periods
    d = rng.integers(0, p.max_demand + 1, size=(N, T)).astype(np.float64)
    f = rng.integers(50, 501, size=N).astype(np.float64)
    h = rng.integers(1, 6, size=N).astype(np.float64)
    a = rng.integers(1, 4, size=N).astype(np.float64)
    st = rng.integers(10, 51, size=N).astype(np.float64)
    load = (a[:, None] * d + st[:, None]).sum(axis=0)  # lot for lot, a setup every period
    capacity = np.maximum(load, p.utilization * load.mean())
    NT = N * T
    ix = np.arange(NT).reshape(N, T)
    xs, ss, ys = ix, NT + ix, 2 * NT + ix
    remaining = np.cumsum(d[:, ::-1], axis=1)[:, ::-1]  # demand from t to the horizon
    rows, cols, vals = [], [], []
    # balance rows 0..NT-1: s_{t-1} + x_t - s_t = d_t
    r = ix.ravel()
    rows += [r, r, ix[:, 1:].ravel()]
    cols += [xs.ravel(), ss.ravel(), ss[:, :-1].ravel()]
    vals += [np.ones(NT), -np.ones(NT), np.ones(N * (T - 1))]
    # setup rows NT..2NT-1: x_t - M_t y_t <= 0
    r = NT + ix.ravel()
    rows += [r, r]
    cols += [xs.ravel(), ys.ravel()]
    vals += [np.ones(NT), -remaining.ravel()]
    # capacity rows 2NT..2NT+T-1
    r = 2 * NT + np.tile(np.arange(T), N)
    rows += [r, r]
    cols += [xs.ravel(), ys.ravel()]
    vals += [np.repeat(a, T), np.repeat(st, T)]
    m, n = 2 * NT + T, 3 * NT
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (m, n))
    lower = np.concatenate([d.ravel(), np.full(NT + T, -np.inf)])
    upper = np.concatenate([d.ravel(), np.zeros(NT), capacity])
    c = np.concatenate([np.zeros(NT), np.repeat(h, T), np.repeat(f, T)])
    names = [f"{v}_{i}_{t}" for v in ("x", "s", "y") for i in range(N) for t in range(T)]
    row_names = [f"balance_{i}_{t}" for i in range(N) for t in range(T)]
    row_names += [f"setup_{i}_{t}" for i in range(N) for t in range(T)]
    row_names += [f"capacity_{t}" for t in range(T)]
    return make_problem(
        A,
        lower,
        upper,
        c,
        col_upper=np.concatenate([np.full(2 * NT, np.inf), np.ones(NT)]),
        integrality=np.concatenate([np.zeros(2 * NT, dtype=bool), np.ones(NT, dtype=bool)]),
        sense=Sense.MINIMIZE,
        name=name,
        var_names=names,
        row_names=row_names,
    )
