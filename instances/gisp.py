"""Generalized independent set generator (GISP, Colombi, Mansini & Savelsbergh 2017, as in
Distributional MIPLIB): seed -> Problem.

    max  sum_v r_v x_v - sum_{e in E2} c_e y_e
    s.t. x_u + x_v <= 1          for each permanent edge e = (u, v) in E1
         x_u + x_v - y_e <= 1    for each removable edge e = (u, v) in E2
         x, y binary

The graph is Erdos-Renyi G(n, p); each edge is removable with probability ``alpha``. Revenues
are uniform integers in 1..max_revenue, removal costs uniform in 1..max_cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class GispParams:
    n_nodes: int
    edge_probability: float = 0.1
    alpha: float = 0.75
    max_revenue: int = 100
    max_cost: int = 30


def erdos_renyi(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Edges (E, 2) with u < v, each pair present with probability p."""
    u, v = np.triu_indices(n, k=1)
    keep = rng.random(u.size) < p
    return np.stack([u[keep], v[keep]], axis=1).astype(np.int64)


def generate_gisp(p: GispParams, rng: np.random.Generator, name: str) -> Problem:
    """One GISP instance (maximize): nodes x_0.. first, then one y per removable edge."""
    n = p.n_nodes
    edges = erdos_renyi(n, p.edge_probability, rng)
    removable = np.less(rng.random(edges.shape[0]), p.alpha)
    revenue = rng.integers(1, p.max_revenue + 1, size=n).astype(np.float64)
    n_y = int(removable.sum())
    cost = rng.integers(1, p.max_cost + 1, size=n_y).astype(np.float64)
    m = edges.shape[0]
    rows = np.repeat(np.arange(m), 2)
    cols = edges.ravel()
    y_rows = np.flatnonzero(removable)
    A = sp.csr_matrix(
        (
            np.concatenate([np.ones(2 * m), -np.ones(n_y)]),
            (np.concatenate([rows, y_rows]), np.concatenate([cols, n + np.arange(n_y)])),
        ),
        shape=(m, n + n_y),
    )
    names = [f"x_{v}" for v in range(n)]
    names += [f"y_{u}_{v}" for u, v in edges[removable].tolist()]
    return make_problem(
        A,
        np.full(m, -np.inf),
        np.ones(m),
        np.concatenate([revenue, -cost]),
        col_upper=np.ones(n + n_y),
        integrality=np.ones(n + n_y, dtype=bool),
        sense=Sense.MAXIMIZE,
        name=name,
        var_names=names,
        row_names=[f"edge_{u}_{v}" for u, v in edges.tolist()],
    )
