"""Minimum weighted vertex cover generator (Barabasi-Albert graph, as the independent set
family): seed -> Problem.

    min  sum_v w_v x_v   s.t.  x_u + x_v >= 1 for each edge (u, v),   x binary

Weights are uniform integers in 1..max_weight (unit weights make every cover of a size tie);
each new node links to 8 earlier ones (with 4, SCIP proves 2000-node instances optimal in a
second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.instances.indset import barabasi_albert
from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class VertexCoverParams:
    n_nodes: int
    affinity: int = 8
    max_weight: int = 100


def generate_vertex_cover(p: VertexCoverParams, rng: np.random.Generator, name: str) -> Problem:
    """One minimum weighted vertex cover instance (minimize)."""
    n = p.n_nodes
    edges = barabasi_albert(n, p.affinity, rng)
    weights = rng.integers(1, p.max_weight + 1, size=n).astype(np.float64)
    m = edges.shape[0]
    rows = np.repeat(np.arange(m), 2)
    A = sp.csr_matrix((np.ones(2 * m), (rows, edges.ravel())), shape=(m, n))
    return make_problem(
        A,
        np.ones(m),
        np.full(m, np.inf),
        weights,
        col_upper=np.ones(n),
        integrality=np.ones(n, dtype=bool),
        sense=Sense.MINIMIZE,
        name=name,
        var_names=[f"x_{v}" for v in range(n)],
        row_names=[f"edge_{u}_{v}" for u, v in edges.tolist()],
    )
