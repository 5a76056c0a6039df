"""SCIP solution pool: (Problem, time limit, K) -> the stored SCIP solutions (binaries + objective).

Kept apart from the SCIP adapter on purpose: the SolverBackend protocol returns one solution, and
training needs SCIP's whole solution storage (``getSols()`` after the solve). The model is the
adapter's (``mipguide.solvers.scip.build_model``); only the limits and the read-out of the storage
are here. Fold it into the adapter when the protocol grows a solution-pool API.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mipguide.problem.model import Problem


@dataclass(frozen=True)
class ScipPool:
    """Solutions SCIP kept, best first.

    Attributes:
        x_bin: (K, num_binaries) uint8, values of the binaries (``problem.binary_mask`` order).
        objectives: (K,) objective values in the problem's sense.
        status: SCIP's status string.
    """

    x_bin: np.ndarray
    objectives: np.ndarray
    status: str


def solve_pool(
    problem: Problem, *, time_limit: float, max_solutions: int = 100, seed: int = 0
) -> ScipPool:
    """Solve with SCIP (one thread, quiet) under a time limit and return its solution storage."""
    from mipguide.solvers.scip import build_model

    model, xs = build_model(problem)  # the adapter's model: same variables, rows and sense
    model.setParam("limits/time", float(time_limit))
    model.setParam("limits/maxsol", max(int(max_solutions), 1))
    model.setParam("randomization/randomseedshift", int(seed))
    model.optimize()
    bins = [xs[j] for j in np.flatnonzero(problem.binary_mask)]
    sols = model.getSols()
    x_bin = np.zeros((len(sols), len(bins)), dtype=np.uint8)
    objs = np.zeros(len(sols))
    for k, sol in enumerate(sols):
        x_bin[k] = [model.getSolVal(sol, v) > 0.5 for v in bins]
        objs[k] = model.getSolObjVal(sol)
    return ScipPool(x_bin=x_bin, objectives=objs, status=str(model.getStatus()))
