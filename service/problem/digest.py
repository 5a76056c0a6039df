"""Problem digest: Problem -> sha256 hex of its normalized arrays (names excluded).

Two problems with the same matrix, bounds, objective, sense, offset and integrality have the same
digest, whatever their names or the file they came from. Used to tie cached artefacts (solution
pools, features) to the exact instance.
"""

from __future__ import annotations

import hashlib

import numpy as np

from mipguide.problem.model import Problem


def problem_hash(problem: Problem) -> str:
    """sha256 of the canonical CSR matrix, bounds, objective, sense, offset and integrality."""
    A = problem.A.copy()
    A.sum_duplicates()
    A.sort_indices()
    h = hashlib.sha256()
    h.update(np.asarray(A.shape, dtype=np.int64).tobytes())
    for arr in (
        A.indptr.astype(np.int64),
        A.indices.astype(np.int64),
        A.data.astype(np.float64),
        problem.row_lower.astype(np.float64),
        problem.row_upper.astype(np.float64),
        problem.c.astype(np.float64),
        problem.col_lower.astype(np.float64),
        problem.col_upper.astype(np.float64),
        problem.integrality.astype(np.uint8),
        np.asarray([float(problem.sense), problem.offset], dtype=np.float64),
    ):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()
