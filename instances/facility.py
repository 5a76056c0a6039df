"""Capacitated facility location generator (Cornuejols et al. 1991, as in Ecole): seed -> Problem.

    min  sum_j f_j y_j + sum_ij t_ij x_ij
    s.t. sum_j x_ij >= 1                      demand of customer i is served      (d_i)
         sum_i d_i x_ij - s_j y_j <= 0        capacity of facility j              (c_j)
         x_ij - y_j <= 0                      tightening: no service from a closed facility (t_i_j)
         x_ij in [0, 1] continuous, y_j binary

Demands d ~ U{5..35}, capacities s ~ U{10..160} rescaled so that sum s = ratio * sum d, fixed
costs f = U{100..110} * sqrt(s_raw) + U{0..90}, unit transport costs 10 * euclidean distance of
uniform points in the unit square, times the demand. Variables: y first, then x row-major.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class FacilityParams:
    n_customers: int
    n_facilities: int = 100
    ratio: float = 5.0


def generate_facility(p: FacilityParams, rng: np.random.Generator, name: str) -> Problem:
    """One capacitated facility location instance (minimize)."""
    nc, nf = p.n_customers, p.n_facilities
    demands = rng.integers(5, 36, size=nc).astype(np.float64)
    capacities = rng.integers(10, 161, size=nf).astype(np.float64)
    fixed = rng.integers(100, 111, size=nf) * np.sqrt(capacities) + rng.integers(0, 91, size=nf)
    cx, cy = rng.random(nc), rng.random(nc)
    fx, fy = rng.random(nf), rng.random(nf)
    dist = np.sqrt((cx[:, None] - fx[None, :]) ** 2 + (cy[:, None] - fy[None, :]) ** 2)
    transport = 10.0 * dist * demands[:, None]
    capacities = capacities * p.ratio * demands.sum() / capacities.sum()

    n_x = nc * nf
    x_idx = nf + np.arange(n_x).reshape(nc, nf)  # column of x_ij
    cust = np.repeat(np.arange(nc), nf)
    fac = np.tile(np.arange(nf), nc)
    # demand rows: 0..nc-1
    demand = sp.csr_matrix((np.ones(n_x), (cust, x_idx.ravel())), shape=(nc, nf + n_x))
    # capacity rows: sum_i d_i x_ij - s_j y_j
    cap_rows = np.concatenate([fac, np.arange(nf)])
    cap_cols = np.concatenate([x_idx.ravel(), np.arange(nf)])
    cap_vals = np.concatenate([demands[cust], -capacities])
    capacity = sp.csr_matrix((cap_vals, (cap_rows, cap_cols)), shape=(nf, nf + n_x))
    # tightening rows: x_ij - y_j
    t_rows = np.concatenate([np.arange(n_x), np.arange(n_x)])
    t_cols = np.concatenate([x_idx.ravel(), fac])
    t_vals = np.concatenate([np.ones(n_x), -np.ones(n_x)])
    tight = sp.csr_matrix((t_vals, (t_rows, t_cols)), shape=(n_x, nf + n_x))
    A = sp.vstack([demand, capacity, tight], format="csr")

    m = nc + nf + n_x
    row_lower = np.concatenate([np.ones(nc), np.full(nf + n_x, -np.inf)])
    row_upper = np.concatenate([np.full(nc, np.inf), np.zeros(nf + n_x)])
    c = np.concatenate([fixed, transport.ravel()])
    integrality = np.concatenate([np.ones(nf, dtype=bool), np.zeros(n_x, dtype=bool)])
    var_names = [f"f_{j}" for j in range(nf)] + [
        f"s_{i}_{j}" for i, j in zip(cust, fac, strict=True)
    ]
    row_names = (
        [f"d_{i}" for i in range(nc)]
        + [f"c_{j}" for j in range(nf)]
        + [f"t_{i}_{j}" for i, j in zip(cust, fac, strict=True)]
    )
    assert len(row_names) == m
    return make_problem(
        A,
        row_lower,
        row_upper,
        c,
        col_lower=np.zeros(nf + n_x),
        col_upper=np.ones(nf + n_x),
        integrality=integrality,
        sense=Sense.MINIMIZE,
        name=name,
        var_names=var_names,
        row_names=row_names,
    )
