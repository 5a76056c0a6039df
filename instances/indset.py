"""Independent set generator (Barabasi-Albert graph, clique formulation, as in learn2branch /
Ecole): seed -> Problem.

    max  sum_v x_v   s.t.  sum_{v in K} x_v <= 1 for each clique K of a greedy clique partition,
                           x_u + x_v <= 1 for each edge not inside one clique,   x binary

Graph: the first ``affinity + 1`` nodes form a clique; every later node links to ``affinity``
distinct earlier nodes drawn with probability proportional to their degree. The greedy partition
starts each clique at the remaining node of highest degree and adds its remaining neighbours in
decreasing degree order when they are adjacent to the whole clique.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class IndependentSetParams:
    n_nodes: int
    affinity: int = 4


def barabasi_albert(n: int, affinity: int, rng: np.random.Generator) -> np.ndarray:
    """Edges (E, 2) with u < v of a Barabasi-Albert graph."""
    if not 1 <= affinity < n:
        raise ValueError("affinity must be in [1, n_nodes)")
    edges: list[tuple[int, int]] = []
    degrees = np.zeros(n, dtype=np.int64)
    for v in range(affinity + 1):
        for u in range(v):
            edges.append((u, v))
            degrees[u] += 1
            degrees[v] += 1
    for v in range(affinity + 1, n):
        prob = degrees[:v] / degrees[:v].sum()
        for u in rng.choice(v, size=affinity, replace=False, p=prob):
            edges.append((int(u), v))
            degrees[u] += 1
        degrees[v] += affinity
    return np.asarray(edges, dtype=np.int64)


def greedy_clique_partition(n: int, edges: np.ndarray) -> list[list[int]]:
    """Partition the nodes into cliques, greedily by degree."""
    neighbors: list[set[int]] = [set() for _ in range(n)]
    for u, v in edges.tolist():
        neighbors[u].add(v)
        neighbors[v].add(u)
    degrees = np.array([len(s) for s in neighbors])
    order = np.argsort(-degrees, kind="stable").tolist()
    left = np.ones(n, dtype=bool)
    cliques: list[list[int]] = []
    for center in order:
        if not left[center]:
            continue
        left[center] = False
        clique = [center]
        candidates = sorted((u for u in neighbors[center] if left[u]), key=lambda u: -degrees[u])
        for u in candidates:
            if all(u in neighbors[w] for w in clique):
                clique.append(u)
                left[u] = False
        cliques.append(clique)
    return cliques


def generate_independent_set(
    p: IndependentSetParams, rng: np.random.Generator, name: str
) -> Problem:
    """One maximum independent set instance (maximize)."""
    n = p.n_nodes
    edges = barabasi_albert(n, p.affinity, rng)
    cliques = greedy_clique_partition(n, edges)
    clique_of = np.empty(n, dtype=np.int64)
    for k, clique in enumerate(cliques):
        clique_of[clique] = k
    rows: list[np.ndarray] = [np.asarray(c, dtype=np.int64) for c in cliques]
    loose = edges[clique_of[edges[:, 0]] != clique_of[edges[:, 1]]]
    rows.extend(loose)
    lengths = np.array([len(r) for r in rows])
    row_idx = np.repeat(np.arange(len(rows)), lengths)
    col_idx = np.concatenate(rows)
    A = sp.csr_matrix((np.ones(col_idx.size), (row_idx, col_idx)), shape=(len(rows), n))
    m = len(rows)
    return make_problem(
        A,
        np.full(m, -np.inf),
        np.ones(m),
        np.ones(n),
        col_lower=np.zeros(n),
        col_upper=np.ones(n),
        integrality=np.ones(n, dtype=bool),
        sense=Sense.MAXIMIZE,
        name=name,
        var_names=[f"n_{v}" for v in range(n)],
        row_names=[f"c_{i}" for i in range(m)],
    )
