"""Completion stage: (Problem, values of the binaries) -> a verified full solution, or None.

Shared by PaS (its rounded prediction on problems with non-binary variables) and SRG (its
candidates): the binaries are fixed and the rest is solved, an LP by GLOP when it is continuous.

``complete_prediction`` turns marginals into a first incumbent on such problems: the binaries
rounded at 0.5, and, when that has no completion (facility location: too little capacity open),
the shortest completable prefix of the binaries ranked by probability (bisection), within a
time cap. Measured on facility location (hard, seeds 2000-2001, pas-facility@1, whose
probabilities all lie below 0.5): objective 30325 and 29169 in 1.8 s (8 LPs), against 64711
and 52411 for the best fixed threshold (0.3) and references 24690 and 25822.

Each completion the bisection finds is handed on at once (``on_found``), so the caller has an
incumbent after the first feasible LP instead of after the last: on hard facility location the
bisection runs 5-8 LPs of 0.1-0.5 s each. The bisection starts at the prediction's expected
count of ones (there 18-21 of 100, the shortest completable prefix 11-13), so its first
completion is near the answer rather than all the binaries open (objective about 4x the
optimum).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from mipguide.errors import MipguideError
from mipguide.guidance.rounding import repaired_start
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify
from mipguide.solvers.base import get_backend
from mipguide.solvers.types import SolveOptions, Status


def complete_prediction(
    problem: Problem,
    probs: np.ndarray,
    binary_index: np.ndarray,
    *,
    solver: str = "scip",
    time_limit: float = 2.0,
    on_found: Callable[[np.ndarray], object] | None = None,
    stop: Callable[[], bool] | None = None,
) -> np.ndarray | None:
    """A verified solution from P(x_j = 1) on the binaries, or None (see module docstring).

    The rounding at 0.5 first; when it has no completion, the binaries ranked by probability
    and the shortest completable prefix of the ranking set to 1 (the rest 0), found by
    bisection between the rounding's count and all of them, started at the expected count of
    ones (the sum of the probabilities; exact when more ones never break feasibility, as with
    capacities; otherwise some completable prefix). Stops when
    ``time_limit`` is spent, with the shortest completable prefix found so far.
    ``on_found``: called with each verified completion as it is found (the last call's is the
    answer). ``stop``: polled before each completion (a cooperative interrupt); once true, the
    best found so far is the answer.
    """
    t0 = time.perf_counter()
    probs = np.asarray(probs, dtype=np.float64)
    bidx = np.asarray(binary_index, dtype=np.int64)
    lo_b, hi_b = problem.col_lower[bidx], problem.col_upper[bidx]
    order = np.argsort(-probs, kind="stable")

    def attempt(n: int) -> np.ndarray | None:
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0 or (stop is not None and stop()):
            return None
        values = np.zeros(bidx.size)
        values[order[:n]] = 1.0
        values = np.clip(values, lo_b, hi_b)
        found = complete_binaries(problem, bidx, values, solver=solver, time_limit=left)
        if found is not None and on_found is not None:
            on_found(found)
        return found

    lo = int((probs > 0.5).sum())
    best = attempt(lo)  # the ranking's prefix of length lo is the rounding at 0.5
    if best is not None:
        return best
    hi = bidx.size
    # the prediction's expected count of ones first: the bisection's first step then starts
    # near the answer (one LP more when it has no completion)
    guess = min(max(int(np.ceil(probs.sum())), lo + 1), hi)
    best = attempt(guess) if guess < hi else None
    if best is not None:
        hi = guess
    else:
        lo = guess if guess < hi else lo  # no completion at the guess: at least one more
        best = attempt(hi)
    while best is not None and hi - lo > 1 and time.perf_counter() - t0 < time_limit:
        mid = (lo + hi) // 2
        found = attempt(mid)
        if found is None:
            lo = mid
        else:
            hi, best = mid, found
    return best


def complete_binaries(
    problem: Problem,
    binary_index: np.ndarray,
    values: np.ndarray,
    *,
    solver: str = "scip",
    time_limit: float = 2.0,
) -> np.ndarray | None:
    """A verified feasible solution with the binaries fixed to ``values``, or None.

    The binaries are substituted out (rows shifted by their activity); rows left with one
    variable become bounds (facility location's x_ij <= y_j), rows left with none are checked
    directly. The rest is solved by GLOP when continuous (``solver`` when GLOP is missing or
    the rest has integers), under ``time_limit``.
    """
    bidx = np.asarray(binary_index, dtype=np.int64)
    rest = np.setdiff1d(np.arange(problem.num_vars), bidx)
    full = np.zeros(problem.num_vars)
    full[bidx] = values
    if rest.size == 0:
        return full if verify(problem, full).feasible else None
    reduced = _reduced(problem, bidx, rest, np.asarray(values, dtype=np.float64))
    if reduced is None:
        return None
    out = _solve_rest(reduced, solver, time_limit)
    if out is None:
        return None
    full[rest] = out
    return full if verify(problem, full).feasible else None


def _reduced(
    problem: Problem, bidx: np.ndarray, rest: np.ndarray, values: np.ndarray
) -> Problem | None:
    """The problem over ``rest`` with the binaries fixed; None when a row is already broken."""
    act = problem.A[:, bidx] @ values
    lo, hi = problem.row_lower - act, problem.row_upper - act
    A = problem.A[:, rest].tocsr()
    deg = np.diff(A.indptr)
    empty = deg == 0
    if ((lo[empty] > _slack(lo[empty])) | (hi[empty] < -_slack(hi[empty]))).any():
        return None
    col_lo, col_hi = problem.col_lower[rest].copy(), problem.col_upper[rest].copy()
    single = np.flatnonzero(deg == 1)
    cols, coef = A.indices[A.indptr[single]], A.data[A.indptr[single]]
    with np.errstate(divide="ignore", invalid="ignore"):
        b_lo = np.where(coef > 0, lo[single], hi[single]) / coef
        b_hi = np.where(coef > 0, hi[single], lo[single]) / coef
    np.maximum.at(col_lo, cols, np.nan_to_num(b_lo, nan=-np.inf))
    np.minimum.at(col_hi, cols, np.nan_to_num(b_hi, nan=np.inf))
    integral = problem.integrality[rest]
    col_lo = np.where(integral, np.ceil(col_lo - 1e-9), col_lo)
    col_hi = np.where(integral, np.floor(col_hi + 1e-9), col_hi)
    if (col_lo > col_hi + 1e-9).any():
        return None
    keep = np.flatnonzero(deg >= 2)
    return replace(
        problem,
        A=sp.csr_matrix(A[keep]),
        row_lower=lo[keep],
        row_upper=hi[keep],
        c=problem.c[rest],
        col_lower=np.minimum(col_lo, col_hi),
        col_upper=col_hi,
        integrality=integral,
        var_names=tuple(problem.var_names[j] for j in rest),
        row_names=tuple(problem.row_names[i] for i in keep),
        warnings=(),
    )


def _slack(bound: np.ndarray) -> np.ndarray:
    return 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(bound, posinf=0.0, neginf=0.0)))


def _solve_rest(reduced: Problem, solver: str, time_limit: float) -> np.ndarray | None:
    """Values of the remaining variables, or None (infeasible, no solution in time, failure)."""
    name = solver if reduced.is_mip else "glop"
    try:
        backend = get_backend(name)
    except MipguideError:
        backend = get_backend(solver)
    try:
        out = backend.solve(reduced, SolveOptions(time_limit=time_limit, threads=1))
    except MipguideError:
        return None
    if out.status not in (Status.OPTIMAL, Status.FEASIBLE) or out.x is None:
        return None
    return np.asarray(out.x, dtype=np.float64)


def prediction_start(
    problem: Problem,
    probs: np.ndarray,
    binary_index: np.ndarray,
    *,
    solver: str = "scip",
    time_limit: float = 2.0,
    on_found: Callable[[np.ndarray], object] | None = None,
    stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """The start a prediction gives: ``repaired_start`` (complete on packing and covering
    problems), else, when the problem has other variables, ``complete_prediction`` under
    ``time_limit`` (0: never; ``on_found`` gets its completions as they are found; ``stop``
    ends it early), else the partial rounding (NaN off the binaries).

    Nothing here decides feasibility: the caller verifies.
    """
    start = repaired_start(problem, probs, binary_index)
    if not np.isnan(start).any() or time_limit <= 0 or np.size(binary_index) == 0:
        return start
    done = complete_prediction(
        problem,
        probs,
        binary_index,
        solver=solver,
        time_limit=time_limit,
        on_found=on_found,
        stop=stop,
    )
    return start if done is None else done
