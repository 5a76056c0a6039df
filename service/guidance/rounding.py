"""Start-solution stage: (Problem, P(x_j = 1) on the binaries) -> a start for the solver.

The prediction is rounded at 0.5. When the problem has a structure where repair is cheap and
exact, the rounding is repaired into a feasible point and improved greedily:

- packing (pure binary, A >= 0, rows with an upper bound only): drop the least likely ones from
  violated rows, then add zeros in order of likelihood while every row stays within its bound;
  on set packing (every coefficient and row bound 1: auctions, independent set) then
  exchanges: a zero whose objective gain exceeds that of the ones sharing a row with it enters
  and they leave ((1, k)); two or more zeros that conflict with one one alone and not with each
  other replace it when they gain more ((k, 1)); the freed rows are refilled in order of
  likelihood; until no exchange gains (at most ``EXCHANGE_ROUNDS`` rounds). Measured on hard
  validation seeds 1500-1502: auctions (pas-cauction@1) 16944 / 18583 / 17342 -> 20712 /
  23633 / 22065 (references 22802 / 25283 / 24080), independent set (pas-indset@1) 674 / 655 /
  655 -> 690 / 674 / 672 (references 701 / 684 / 686), each in at most 25 ms;
- covering (pure binary, A >= 0, rows with a lower bound only): add the most likely zeros to
  violated rows, then drop ones in order of unlikelihood while every row stays covered.

Otherwise the start is partial: the rounded binaries, NaN elsewhere (SCIP completes partial
starts with its completesol heuristic). Nothing here decides feasibility: the caller verifies.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem

_TOL = 1e-9
# rounds of exchanges on set packing; each round gains or ends the search
EXCHANGE_ROUNDS = 20


class Structure(StrEnum):
    PACKING = "packing"
    COVERING = "covering"
    OTHER = "other"


def structure(problem: Problem) -> Structure:
    """Which cheap repair applies (pure-binary, non-negative A, one-sided rows)."""
    if problem.num_vars == 0 or not problem.binary_mask.all():
        return Structure.OTHER
    if problem.A.nnz and problem.A.data.min() < 0:
        return Structure.OTHER
    has_lo, has_hi = np.isfinite(problem.row_lower), np.isfinite(problem.row_upper)
    if not has_lo.any() and (problem.row_upper >= 0).all():
        return Structure.PACKING
    if not has_hi.any():
        return Structure.COVERING
    return Structure.OTHER


def round_prediction(problem: Problem, probs: np.ndarray, binary_index: np.ndarray) -> np.ndarray:
    """Binaries rounded at 0.5, NaN for the other variables (full length)."""
    start = np.full(problem.num_vars, np.nan)
    start[np.asarray(binary_index, dtype=np.int64)] = (np.asarray(probs) > 0.5).astype(np.float64)
    return start


def repaired_start(problem: Problem, probs: np.ndarray, binary_index: np.ndarray) -> np.ndarray:
    """The rounded prediction, repaired and improved when the structure allows (see module).

    Returns a full-length vector; it is complete (no NaN) for packing and covering problems.
    """
    start = round_prediction(problem, probs, binary_index)
    kind = structure(problem)
    if kind == Structure.OTHER:
        return start
    score = np.zeros(problem.num_vars)
    score[np.asarray(binary_index, dtype=np.int64)] = probs
    x = np.nan_to_num(start, nan=0.0)
    x = np.clip(x, problem.col_lower, problem.col_upper)
    if kind == Structure.PACKING:
        return _repair_packing(problem, x, score)
    return _repair_covering(problem, x, score)


def _objective_gain(problem: Problem) -> np.ndarray:
    """Improvement of the objective per unit increase of each variable (higher is better)."""
    return -float(problem.sense) * problem.c


def _repair_packing(problem: Problem, x: np.ndarray, score: np.ndarray) -> np.ndarray:
    A, hi = problem.A, problem.row_upper
    csc = A.tocsc()
    act = A @ x
    # Drop: visit the ones from least to most likely; drop one that sits in a violated row.
    ones = np.flatnonzero((x > 0.5) & (problem.col_lower < 0.5))
    for j in ones[np.argsort(score[ones], kind="stable")]:
        rows, vals = _column(csc, j)
        if (act[rows] > hi[rows] + _TOL).any():
            x[j] = 0.0
            act[rows] -= vals
    # Add: zeros in order of likelihood (then objective gain) while every row stays feasible.
    gain = _objective_gain(problem)
    zeros = np.flatnonzero((x < 0.5) & (problem.col_upper > 0.5) & (gain > 0))
    for j in zeros[np.lexsort((-gain[zeros], -score[zeros]))]:
        rows, vals = _column(csc, j)
        if (act[rows] + vals <= hi[rows] + _TOL).all():
            x[j] = 1.0
            act[rows] += vals
    if _set_packing(problem):
        return _exchange(problem, x, score, csc)
    return x


def _set_packing(problem: Problem) -> bool:
    """Every coefficient 1 and every row bound 1: two ones conflict exactly where they share a
    row."""
    A = problem.A
    return A.nnz > 0 and bool((A.data == 1.0).all()) and bool((problem.row_upper == 1.0).all())


def _exchange(problem: Problem, x: np.ndarray, score: np.ndarray, csc: sp.csc_matrix) -> np.ndarray:
    """(1, k)- and (k, 1)-exchanges on a feasible set packing point (see module); never lowers
    the objective and keeps the point feasible, ones fixed by their bounds included.

    Each round prices every zero at once (its gain less the gain of the ones it shares a row
    with) and takes the gaining (1, k)-exchanges best first; then, for each one, the zeros
    that conflict with it alone, pairwise compatible (sharing no row), most gaining first,
    replace it when there are two or more and they gain more; then it refills the rows left
    empty. An exchange whose rows or whose leaving ones' rows an earlier exchange of the round
    touched is skipped, so every taken price is still exact.
    """
    A = problem.A.tocsr()  # ``csc`` is the same matrix by columns (the repair's)
    gain = _objective_gain(problem)
    # a one fixed by its bound never leaves: it costs any exchange that would drop it everything
    keep = np.where(problem.col_lower > 0.5, np.inf, gain)
    free = (problem.col_upper > 0.5) & (gain > 0)
    refill = np.lexsort((-gain, -score))
    refill = refill[free[refill]]
    for _ in range(EXCHANGE_ROUNDS):
        before = x.copy()
        ones, shares = _shares(A, csc, x)
        price = gain - shares @ keep[ones]
        price[ones] = -np.inf
        price[~free] = -np.inf
        gaining = np.flatnonzero(price > _TOL * np.maximum(1.0, np.abs(gain)))
        touched = np.zeros(A.shape[0], dtype=bool)
        for j in gaining[np.argsort(-price[gaining], kind="stable")]:
            leave = ones[shares.indices[shares.indptr[j] : shares.indptr[j + 1]]]
            rows = [_column(csc, i)[0] for i in (j, *leave)]
            if any(touched[r].any() for r in rows):
                continue
            x[leave] = 0.0
            x[j] = 1.0
            for r in rows:
                touched[r] = True
        _many_for_one(csc, x, gain, score, keep, free, touched, *_shares(A, csc, x))
        act = A @ x
        for j in refill[x[refill] < 0.5]:
            its = _column(csc, j)[0]
            if (act[its] < 0.5).all():
                x[j] = 1.0
                act[its] += 1.0
        if np.array_equal(x, before):
            break
    return x


def _shares(
    A: sp.csr_matrix, csc: sp.csc_matrix, x: np.ndarray
) -> tuple[np.ndarray, sp.csr_matrix]:
    """The ones of ``x`` and, per variable, which of them it shares a row with (values 1)."""
    ones = np.flatnonzero(x > 0.5)
    shares = (csc.T @ A[:, ones]).tocsr()
    shares.data[:] = 1.0
    return ones, shares


def _many_for_one(
    csc: sp.csc_matrix,
    x: np.ndarray,
    gain: np.ndarray,
    score: np.ndarray,
    keep: np.ndarray,
    free: np.ndarray,
    touched: np.ndarray,
    ones: np.ndarray,
    shares: sp.csr_matrix,
) -> None:
    """(k, 1)-exchanges in place: a one leaves for two or more zeros that conflict with it
    alone and share no row with each other, when they gain more (see ``_exchange``)."""
    count = np.diff(shares.indptr)
    single = np.flatnonzero((count == 1) & (x < 0.5) & free)
    if single.size == 0:
        return
    owner = ones[shares.indices[shares.indptr[single]]]
    order = np.lexsort((-score[single], -gain[single], owner))
    single, owner = single[order], owner[order]
    cuts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1], True])
    for a, b in zip(cuts[:-1], cuts[1:], strict=False):
        v = owner[a]
        v_rows = _column(csc, v)[0]
        if b - a < 2 or not np.isfinite(keep[v]) or touched[v_rows].any():
            continue
        chosen: list[int] = []
        used = np.zeros(touched.size, dtype=bool)
        for u in single[a:b]:
            u_rows = _column(csc, u)[0]
            if not (touched[u_rows].any() or used[u_rows].any()):
                chosen.append(int(u))
                used[u_rows] = True
        if len(chosen) >= 2 and gain[chosen].sum() > keep[v] + _TOL * max(1.0, abs(keep[v])):
            x[v] = 0.0
            x[chosen] = 1.0
            touched[v_rows] = True
            touched |= used


def _repair_covering(problem: Problem, x: np.ndarray, score: np.ndarray) -> np.ndarray:
    A, lo = problem.A, problem.row_lower
    csc = A.tocsc()
    act = A @ x
    # Add: for each violated row, its most likely zero until the row is covered.
    for i in np.flatnonzero(act < lo - _TOL):
        cols = A.indices[A.indptr[i] : A.indptr[i + 1]]
        order = np.argsort(-score[cols], kind="stable")
        for j in cols[order]:
            if act[i] >= lo[i] - _TOL:
                break
            if x[j] < 0.5 and problem.col_upper[j] > 0.5:
                x[j] = 1.0
                rows, vals = _column(csc, j)
                act[rows] += vals
    # Drop: ones from least likely (then most costly) while every row stays covered.
    gain = _objective_gain(problem)
    ones = np.flatnonzero((x > 0.5) & (problem.col_lower < 0.5) & (gain < 0))
    for j in ones[np.lexsort((gain[ones], score[ones]))]:
        rows, vals = _column(csc, j)
        if (act[rows] - vals >= lo[rows] - _TOL).all():
            x[j] = 0.0
            act[rows] -= vals
    return x


def _column(csc: sp.csc_matrix, j: int) -> tuple[np.ndarray, np.ndarray]:
    s, e = csc.indptr[j], csc.indptr[j + 1]
    return csc.indices[s:e], csc.data[s:e]
