"""Set cover generator (Balas & Ho, as in learn2branch / Ecole): seed -> Problem.

    min  c^T x   s.t.  sum_{j covers i} x_j >= 1  for every row i,   x binary

Construction (the classic one): ``nnz = rows * cols * density``; every column first gets two
entries, the rest are drawn at random without replacement, which fixes the number of rows per
column; a random permutation of the rows is laid over the first entries so every row is covered,
and each column's rows are drawn without repetition. Costs are uniform integers in 1..max_coef.
We add one guard the classic code lacks: a row covered by fewer than ``min_row_cover`` columns gets
extra random columns (at density 0.05 this essentially never fires).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class SetCoverParams:
    n_rows: int
    n_cols: int = 1000
    density: float = 0.05
    max_coef: int = 100
    min_row_cover: int = 2


def _column_rows(p: SetCoverParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """CSC (indices, indptr) of the 0/1 cover matrix."""
    n_rows, n_cols = p.n_rows, p.n_cols
    nnz = int(n_rows * n_cols * p.density)
    indices = np.empty(nnz, dtype=np.int64)
    indices[: 2 * n_cols] = np.arange(2 * n_cols) % n_cols
    extra = rng.choice(n_cols * (n_rows - 2), size=nnz - 2 * n_cols, replace=False)
    indices[2 * n_cols :] = extra % n_cols
    col_counts = np.bincount(indices, minlength=n_cols)
    # From here on `indices` holds row indices, column by column.
    indices[:n_rows] = rng.permutation(n_rows)
    indptr = np.zeros(n_cols + 1, dtype=np.int64)
    i = 0
    for j, n in enumerate(col_counts):
        if i >= n_rows:
            indices[i : i + n] = rng.choice(n_rows, size=n, replace=False)
        elif i + n > n_rows:
            taken = indices[i:n_rows]
            remaining = np.setdiff1d(np.arange(n_rows), taken, assume_unique=True)
            indices[n_rows : i + n] = rng.choice(remaining, size=i + n - n_rows, replace=False)
        i += n
        indptr[j + 1] = i
    return indices, indptr


def _ensure_row_cover(A: sp.csc_matrix, k: int, rng: np.random.Generator) -> sp.csc_matrix:
    """Add random columns to rows covered fewer than k times."""
    counts = np.asarray(A.sum(axis=1)).ravel()
    short = np.flatnonzero(counts < k)
    if short.size == 0:
        return A
    A = A.tolil()
    for i in short:
        free = np.flatnonzero(A[i].toarray().ravel() == 0)
        need = int(k - counts[i])
        for j in rng.choice(free, size=need, replace=False):
            A[i, j] = 1.0
    return A.tocsc()


def generate_set_cover(p: SetCoverParams, rng: np.random.Generator, name: str) -> Problem:
    """One set cover instance (minimize)."""
    indices, indptr = _column_rows(p, rng)
    data = np.ones(indices.size)
    A = sp.csc_matrix((data, indices, indptr), shape=(p.n_rows, p.n_cols))
    A = _ensure_row_cover(A, p.min_row_cover, rng)
    c = rng.integers(1, p.max_coef + 1, size=p.n_cols).astype(np.float64)
    return make_problem(
        A.tocsr(),
        np.ones(p.n_rows),
        np.full(p.n_rows, np.inf),
        c,
        col_lower=np.zeros(p.n_cols),
        col_upper=np.ones(p.n_cols),
        integrality=np.ones(p.n_cols, dtype=bool),
        sense=Sense.MINIMIZE,
        name=name,
        var_names=[f"x_{j}" for j in range(p.n_cols)],
        row_names=[f"c_{i}" for i in range(p.n_rows)],
    )
