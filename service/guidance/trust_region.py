"""Trust-region stage (DESIGN step 5): (Problem, S, x^, Delta) -> Problem with one extra row.

    sum_{j in S, x^_j = 0} x_j + sum_{j in S, x^_j = 1} (1 - x_j) <= Delta

written as ``sum_{x^=0} x_j - sum_{x^=1} x_j <= Delta - |{j in S : x^_j = 1}|``. Delta = 0 is hard
fixing of S to x^ (every term is non-negative on binaries). PaS chooses S as the k0 binaries most
likely 0 and the k1 most likely 1 (``choose_region``); k0 and k1 are fractions of the binaries so
one setting transfers across instance sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem

TRUST_REGION_ROW = "mipguide_trust_region"


@dataclass(frozen=True, eq=False)
class Region:
    """A trust region on binaries.

    Attributes:
        index: (|S|,) int64 variable indices of S (distinct binaries), the most confident
            first.
        x_hat: (|S|,) 0/1 reference values on S.
        delta: how many variables of S may differ from x^ (>= 0).
    """

    index: np.ndarray
    x_hat: np.ndarray
    delta: int

    @property
    def size(self) -> int:
        return int(self.index.size)

    def distance(self, x: np.ndarray) -> int:
        """How many variables of S differ from x^ in x (rounded to 0/1)."""
        return int(np.sum((np.asarray(x)[self.index] > 0.5) != (self.x_hat > 0.5)))

    def widened(self, factor: float = 2.0) -> Region:
        """The same S and x^ with a larger Delta (at least one more)."""
        return Region(self.index, self.x_hat, max(self.delta + 1, math.ceil(self.delta * factor)))


def trust_region(problem: Problem, index: np.ndarray, x_hat: np.ndarray, delta: float) -> Problem:
    """The original problem plus the trust-region row around x^ on S.

    Args:
        problem: the original model (unchanged).
        index: variable indices of S; each must be a binary of ``problem``; no repeats.
        x_hat: reference values on S (0/1; values are rounded at 0.5).
        delta: the radius (>= 0); 0 fixes S to x^.

    Returns:
        A new Problem, same variables, one extra row named ``mipguide_trust_region``.

    Raises:
        ValueError: shapes differ, S has repeats or non-binaries, or delta < 0.
    """
    idx = np.asarray(index, dtype=np.int64).ravel()
    ref = np.asarray(x_hat, dtype=np.float64).ravel() > 0.5
    if idx.shape != ref.shape:
        raise ValueError(f"index has {idx.size} entries, x_hat {ref.size}")
    if not delta >= 0:
        raise ValueError(f"delta must be >= 0, got {delta}")
    if np.unique(idx).size != idx.size:
        raise ValueError("index has repeated variables")
    if idx.size and (idx.min() < 0 or idx.max() >= problem.num_vars):
        raise ValueError("index out of range")
    if not problem.binary_mask[idx].all():
        raise ValueError("the trust region is defined on binary variables only")
    coef = np.where(ref, -1.0, 1.0)
    row = sp.csr_matrix(
        (coef, (np.zeros(idx.size, dtype=np.int64), idx)), shape=(1, problem.num_vars)
    )
    return Problem(
        name=problem.name,
        A=sp.vstack([problem.A, row], format="csr"),
        row_lower=np.append(problem.row_lower, -np.inf),
        row_upper=np.append(problem.row_upper, float(delta) - float(ref.sum())),
        c=problem.c,
        offset=problem.offset,
        sense=problem.sense,
        col_lower=problem.col_lower,
        col_upper=problem.col_upper,
        integrality=problem.integrality,
        var_names=problem.var_names,
        row_names=(*problem.row_names, _fresh_name(problem.row_names)),
        objective_name=problem.objective_name,
        warnings=problem.warnings,
    )


def _fresh_name(names: tuple[str, ...]) -> str:
    taken = set(names)
    name, k = TRUST_REGION_ROW, 0
    while name in taken:
        k += 1
        name = f"{TRUST_REGION_ROW}_{k}"
    return name


def apply_region(problem: Problem, region: Region) -> Problem:
    """``trust_region`` with a ``Region``."""
    return trust_region(problem, region.index, region.x_hat, region.delta)


def choose_region(
    probs: np.ndarray,
    binary_index: np.ndarray,
    k0: float,
    k1: float,
    delta: float,
    reference: np.ndarray | None = None,
) -> Region:
    """PaS: S = the k0 binaries most likely 0 and the k1 most likely 1.

    Args:
        probs: P(x_j = 1) per binary (order of ``binary_index``).
        binary_index: variable indices of the binaries.
        k0, k1: fractions of the binaries in [0, 1]; each side is capped by how many binaries
            the model predicts on that side (p < 0.5, resp. p > 0.5), so a sparse solution
            (few ones) never gets ones forced onto it.
        delta: Delta as a fraction of |S| (rounded up; 0 is hard fixing).
        reference: optional full-length values (e.g. a repaired rounding) whose binaries give
            x^ on S instead of the rounded probabilities.

    Returns:
        The region, S ordered by confidence |p - 1/2| (most confident first); empty S when
        there are no binaries.
    """
    p = np.asarray(probs, dtype=np.float64)
    bidx = np.asarray(binary_index, dtype=np.int64)
    n = p.size
    n0 = min(round(k0 * n), int((p < 0.5).sum()))
    n1 = min(round(k1 * n), int((p > 0.5).sum()))
    order = np.argsort(p, kind="stable")
    pick = np.concatenate([order[:n0], order[n - n1 :] if n1 else order[:0]])
    pick = pick[np.argsort(-np.abs(p[pick] - 0.5), kind="stable")]
    x_hat = (p[pick] > 0.5).astype(np.float64)
    if reference is not None:
        x_hat = (np.asarray(reference)[bidx[pick]] > 0.5).astype(np.float64)
    radius = math.ceil(delta * pick.size - 1e-9) if delta > 0 else 0
    return Region(bidx[pick], x_hat, radius)
