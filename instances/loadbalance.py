"""Load balancing generator (robust workload apportionment, in the style of the ML4CO 2021
load balancing problems): seed -> Problem.

    min  sum_k c_k y_k
    s.t. sum_j x_jk <= cap_k y_k                 for each server k   (capacity)
         x_jk <= d_j y_k                         for each workload j and server k
         sum_{k' != k} x_jk' >= d_j              for each j and k    (survives losing k)
         y binary, x >= 0

Demands are uniform in [1, 10]; capacities uniform in [2, 6] mean demands (a server holds a few
workloads), raised where needed to 1.01 D / (K - 1) (D the total demand, K the servers), so that
every server on, each workload split evenly, is feasible. A server costs cap_k^0.9 (bigger is
cheaper per unit of capacity) times a uniform factor in [0.9, 1.1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class LoadBalanceParams:
    n_workloads: int
    n_servers: int
    min_capacity: float = 2.0  # in mean workloads
    max_capacity: float = 6.0


def generate_load_balance(p: LoadBalanceParams, rng: np.random.Generator, name: str) -> Problem:
    """One load balancing instance (minimize): y_0.. first, then x_jk workload-major."""
    J, K = p.n_workloads, p.n_servers
    d = np.round(rng.uniform(1.0, 10.0, size=J), 2)
    # a few workloads per server (a packing problem), and never less than the even split needs
    cap = rng.uniform(p.min_capacity, p.max_capacity, size=K) * d.mean()
    cap = np.round(np.maximum(cap, 1.01 * d.sum() / (K - 1)), 2)
    # a server costs about its capacity to the power 0.9 (bigger is cheaper per unit), +-10 %
    cost = np.round(cap**0.9 * rng.uniform(0.9, 1.1, size=K), 2)
    n = K + J * K
    x = (K + np.arange(J * K)).reshape(J, K)  # column of x_jk
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    # capacity rows 0..K-1
    add(np.tile(np.arange(K), J), x.ravel(), np.ones(J * K))
    add(np.arange(K), np.arange(K), -cap)
    # link rows K..K+J*K-1, row K + j*K + k
    link = K + np.arange(J * K)
    add(link, x.ravel(), np.ones(J * K))
    add(link, np.tile(np.arange(K), J), -np.repeat(d, K))
    # robust rows K+J*K.., row for (j, k) holds x_jk' for every k' != k
    base = K + J * K
    jj, kk, kp = np.meshgrid(np.arange(J), np.arange(K), np.arange(K), indexing="ij")
    keep = kk != kp
    add(base + (jj * K + kk)[keep], x[jj[keep], kp[keep]], np.ones(int(keep.sum())))
    m = base + J * K
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (m, n))
    lower = np.concatenate([np.full(K + J * K, -np.inf), np.repeat(d, K)])
    upper = np.concatenate([np.zeros(K + J * K), np.full(J * K, np.inf)])
    names = [f"y_{k}" for k in range(K)] + [f"x_{j}_{k}" for j in range(J) for k in range(K)]
    row_names = [f"capacity_{k}" for k in range(K)]
    row_names += [f"link_{j}_{k}" for j in range(J) for k in range(K)]
    row_names += [f"robust_{j}_{k}" for j in range(J) for k in range(K)]
    return make_problem(
        A,
        lower,
        upper,
        np.concatenate([cost, np.zeros(J * K)]),
        col_upper=np.concatenate([np.ones(K), np.full(J * K, np.inf)]),
        integrality=np.concatenate([np.ones(K, dtype=bool), np.zeros(J * K, dtype=bool)]),
        sense=Sense.MINIMIZE,
        name=name,
        var_names=names,
        row_names=row_names,
    )
