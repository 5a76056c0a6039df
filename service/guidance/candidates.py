"""Candidates stage (SRG): (Problem, K sampled binary assignments) -> verified solutions.

Each candidate is rounded (already 0/1, clipped to the binaries' bounds) and checked against the
original problem:

- pure-binary problems: the candidate is the whole assignment; ``verify`` decides;
- otherwise the binaries must admit a completion of the other variables: the best candidates
  (fewest violated guidance rows, then objective) are tried, by a solve of the problem with the
  binaries fixed (an LP when the rest is continuous, under a small time cap each), until
  ``complete_top`` distinct ones have a completion (at most 2 complete_top + 2 attempts).

"Raw feasible" is this verdict before any repair. Then the infeasible ones are repaired
(``repair``): the greedy packing/covering repair of PaS (``rounding``, which also improves the
feasible ones), or a short batched DMMV search (pure-integer problems; it ignores the objective).
Whatever is returned as a solution has passed ``verify``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mipguide.guidance.completion import complete_binaries
from mipguide.guidance.params import CandidateParams
from mipguide.guidance.rounding import Structure, repaired_start, structure
from mipguide.guidance.rows import GuidanceRows
from mipguide.guidance.sample import Samples
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify

# DMMV repairs at most this many candidates (the least violated infeasible ones).
DMMV_REPAIR_MAX = 8


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """The K candidates after verification (and completion) and repair.

    Attributes:
        x: (K, nb) 0/1 rounded candidates, in the order of ``binary_index``.
        binary_index: (nb,) variable indices of the binaries.
        objective: (K,) objective of the raw candidate's verified solution (NaN when not
            feasible or not completed).
        violation: (K,) raw max violation: verify's for pure-binary problems, else the largest
            normalized violation of the guidance rows.
        raw_feasible: (K,) verified feasible before any repair (completed where needed).
        solutions: per candidate, a verified feasible full solution after repair, or None.
        repaired: (K,) feasible only thanks to the repair.
        repair: the repair that ran ("greedy", "dmmv" or "none").
        seconds: time of this stage.
    """

    x: np.ndarray
    binary_index: np.ndarray
    objective: np.ndarray
    violation: np.ndarray
    raw_feasible: np.ndarray
    solutions: tuple[np.ndarray | None, ...]
    repaired: np.ndarray
    repair: str
    seconds: float

    @property
    def feasible(self) -> np.ndarray:
        return np.array([s is not None for s in self.solutions], dtype=bool)


def rounded(problem: Problem, samples: Samples) -> np.ndarray:
    """(K, nb) candidates clipped to the binaries' bounds (a fixed binary keeps its value)."""
    bidx = samples.binary_index
    return np.clip(samples.x, problem.col_lower[bidx], problem.col_upper[bidx])


def evaluate_candidates(
    problem: Problem,
    samples: Samples,
    rows: GuidanceRows,
    params: CandidateParams,
    *,
    solver: str = "scip",
    complete_all: bool = False,
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
) -> CandidateSet:
    """Verify (complete), then repair the candidates (see module docstring).

    Args:
        solver: backend for completions whose rest is not continuous (LPs use ``glop``, or
            this backend when GLOP is not installed).
        complete_all: complete every candidate, not only the ``params.complete_top`` best
            (the benchmark's raw feasibility).
        seed: DMMV's seed.
        stop: polled between completions and by DMMV (a cooperative interrupt).
    """
    t0 = time.perf_counter()
    x = rounded(problem, samples)
    k = x.shape[0]
    bidx = samples.binary_index
    objective = np.full(k, np.nan)
    solutions: list[np.ndarray | None] = [None] * k
    if problem.binary_mask.all():
        violation = _verify_binaries(problem, x, bidx, objective, solutions)
    else:
        viol = rows.violations(x)
        violation = viol.max(axis=1) if viol.size else np.zeros(k)
        order, wanted = _completion_order(x, violation, rows, params.complete_top, complete_all)
        _complete(
            problem,
            x,
            bidx,
            order,
            wanted,
            objective,
            solutions,
            solver=solver,
            time_limit=params.complete_seconds,
            stop=stop,
        )
    raw = np.array([s is not None for s in solutions], dtype=bool)
    method = repair_method(problem, params.repair)
    _repair(problem, method, samples, x, violation, solutions, params.repair_seconds, seed, stop)
    feasible = np.array([s is not None for s in solutions], dtype=bool)
    return CandidateSet(
        x=x,
        binary_index=bidx,
        objective=objective,
        violation=violation,
        raw_feasible=raw,
        solutions=tuple(solutions),
        repaired=feasible & ~raw,
        repair=method,
        seconds=time.perf_counter() - t0,
    )


def _verify_binaries(
    problem: Problem,
    x: np.ndarray,
    bidx: np.ndarray,
    objective: np.ndarray,
    solutions: list[np.ndarray | None],
) -> np.ndarray:
    """Pure-binary problems: verify each candidate as it is; returns the max violations."""
    violation = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        full = np.zeros(problem.num_vars)
        full[bidx] = x[i]
        check = verify(problem, full)
        violation[i] = check.max_violation
        if check.feasible:
            solutions[i], objective[i] = full, check.objective
    return violation


def _complete(
    problem: Problem,
    x: np.ndarray,
    bidx: np.ndarray,
    order: list[int],
    wanted: int,
    objective: np.ndarray,
    solutions: list[np.ndarray | None],
    *,
    solver: str,
    time_limit: float,
    stop: Callable[[], bool] | None,
) -> None:
    """Complete the candidates in ``order`` until ``wanted`` have a completion."""
    found = 0
    for i in order:
        if found >= wanted or (stop is not None and stop()):
            break
        done = complete_binaries(problem, bidx, x[i], solver=solver, time_limit=time_limit)
        if done is not None:
            found += 1
            same = np.flatnonzero((x == x[i]).all(axis=1))  # duplicates share the verdict
            objective[same] = problem.objective_value(done)
            for j in same:
                solutions[j] = done


def _completion_order(
    x: np.ndarray, violation: np.ndarray, rows: GuidanceRows, top: int, every: bool
) -> tuple[list[int], int]:
    """The candidates to try to complete, best first, and how many completions are wanted.

    The guidance rows may not see why binaries have no completion (facility location: too
    little capacity open), so failures do not count, up to a few extra attempts.
    """
    ranked = _ranked_distinct(x, violation, rows.objective(x))
    wanted = len(ranked) if every else top
    attempts = len(ranked) if every else 2 * top + 2
    return ranked[: attempts if wanted else 0], wanted


def _repair(
    problem: Problem,
    method: str,
    samples: Samples,
    x: np.ndarray,
    violation: np.ndarray,
    solutions: list[np.ndarray | None],
    seconds: float,
    seed: int,
    stop: Callable[[], bool] | None,
) -> None:
    bidx = samples.binary_index
    if method == "greedy":
        _repair_greedy(problem, samples.probs, bidx, solutions)
    elif method == "dmmv":
        _repair_dmmv(problem, x, bidx, violation, solutions, seconds, seed, stop)


def _ranked_distinct(x: np.ndarray, violation: np.ndarray, objective: np.ndarray) -> list[int]:
    """Indices of the distinct candidates, fewest violations first, then best objective."""
    order = np.lexsort((objective, violation))
    _, first = np.unique(x[order], axis=0, return_index=True)
    return [int(i) for i in order[np.sort(first)]]


def repair_method(problem: Problem, repair: str) -> str:
    """The repair that applies: ``auto`` is greedy on packing/covering, else DMMV when the
    problem is pure-integer and small enough, else none; an explicit choice that does not
    apply is none."""
    from mipguide.heuristics.dmmv.start import dmmv_unsuitable

    greedy_ok = structure(problem) != Structure.OTHER
    if repair == "greedy" or (repair == "auto" and greedy_ok):
        return "greedy" if greedy_ok else "none"
    if repair in ("dmmv", "auto"):
        return "dmmv" if dmmv_unsuitable(problem) is None else "none"
    return "none"


def _repair_greedy(
    problem: Problem, probs: np.ndarray, bidx: np.ndarray, solutions: list[np.ndarray | None]
) -> None:
    """PaS's packing/covering repair on every candidate (it also improves feasible ones)."""
    for i in range(probs.shape[0]):
        x = repaired_start(problem, probs[i], bidx)
        if np.isnan(x).any() or not verify(problem, x).feasible:
            continue
        current = solutions[i]
        if current is None or _better(problem, x, current):
            solutions[i] = x


def _better(problem: Problem, x: np.ndarray, than: np.ndarray) -> bool:
    a, b = problem.objective_value(x), problem.objective_value(than)
    return problem.sense * a < problem.sense * b - 1e-9 * max(1.0, abs(b))


def _repair_dmmv(
    problem: Problem,
    x: np.ndarray,
    bidx: np.ndarray,
    violation: np.ndarray,
    solutions: list[np.ndarray | None],
    seconds: float,
    seed: int,
    stop: Callable[[], bool] | None,
) -> None:
    """One batched DMMV search from the least violated infeasible candidates."""
    from mipguide.heuristics.dmmv import DmmvConfig
    from mipguide.heuristics.dmmv.solve import solve_batch
    from mipguide.heuristics.dmmv.start import dmmv_instance
    from mipguide.heuristics.dmmv.types import DmmvBatch

    todo = [i for i in np.argsort(violation, kind="stable") if solutions[i] is None]
    todo = todo[:DMMV_REPAIR_MAX]
    inst = dmmv_instance(problem)
    if not todo or inst is None or seconds <= 0:
        return
    base = np.clip(np.zeros(problem.num_vars), problem.col_lower, problem.col_upper)
    x0 = np.tile(base, (len(todo), 1))
    x0[:, bidx] = x[todo]
    batch = DmmvBatch(
        A=problem.A,
        lower=np.tile(problem.row_lower, (len(todo), 1)),
        upper=np.tile(problem.row_upper, (len(todo), 1)),
        levels=inst.levels,
        x0=x0,
    )
    results = solve_batch(batch, DmmvConfig(time_limit=seconds, seed=seed), stop=stop)
    for i, res in zip(todo, results, strict=True):
        if verify(problem, res.x).feasible:
            solutions[i] = np.asarray(res.x, dtype=np.float64)
