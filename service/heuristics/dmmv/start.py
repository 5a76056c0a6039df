"""DMMV as a MILP feasibility heuristic: (pure-integer Problem) -> a feasible start or None.

Each integer variable's domain {ceil(lb), ..., floor(ub)} becomes its level set and the rows
keep their bounds, so a zero max violation is a feasible point; the objective is ignored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mipguide.heuristics.dmmv.solve import solve
from mipguide.heuristics.dmmv.types import DmmvConfig, DmmvInstance
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify

MAX_DOMAIN = 4096
MAX_DENSE_ENTRIES = 20_000_000


def dmmv_instance(problem: Problem, max_domain: int = MAX_DOMAIN) -> DmmvInstance | None:
    """The DMMV instance of a pure-integer problem with finite bounds, or None when the problem
    has continuous variables, an infinite bound, a domain wider than max_domain, or an empty one.
    """
    if problem.num_vars == 0 or not problem.integrality.all():
        return None
    lo = np.ceil(problem.col_lower - 1e-9)
    hi = np.floor(problem.col_upper + 1e-9)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()) or (hi < lo).any():
        return None
    width = int((hi - lo).max()) + 1
    if width > max_domain:
        return None
    steps = np.arange(width, dtype=np.float64)
    levels = lo[:, None] + steps[None, :]
    levels[levels > hi[:, None]] = np.nan
    return DmmvInstance(problem.A, problem.row_lower, problem.row_upper, levels)


def dmmv_unsuitable(problem: Problem) -> str | None:
    """Why DMMV cannot search this problem (a sentence for a warning), or None when it can."""
    if problem.num_vars == 0:
        return "the problem has no variables"
    continuous = int((~problem.integrality).sum())
    if continuous:
        return f"the problem is not pure-integer ({continuous} continuous variables)"
    if dmmv_instance(problem) is None:
        return f"an integer variable has an infinite bound or a domain over {MAX_DOMAIN} values"
    if problem.num_rows * problem.num_vars > MAX_DENSE_ENTRIES:
        return f"rows x columns is over {MAX_DENSE_ENTRIES} (the search keeps A dense)"
    return None


def dmmv_start(
    problem: Problem,
    time_limit: float,
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
) -> np.ndarray | None:
    """Search for a feasible point of a pure-integer problem with DMMV.

    Args:
        problem: the model (objective ignored).
        time_limit: seconds for the search.
        seed: search seed.
        stop: polled between passes; True ends the search (a cooperative interrupt).

    Returns:
        A verified feasible assignment, or None (not pure integer with finite bounds, too large
        for the dense search, or no zero-violation point found in time).
    """
    inst = dmmv_instance(problem)
    if inst is None or problem.num_rows * problem.num_vars > MAX_DENSE_ENTRIES:
        return None
    res = solve(inst, DmmvConfig(time_limit=time_limit, seed=seed), stop=stop)
    check = verify(problem, res.x)
    return res.x if check.feasible else None
