"""SCIP solution pool: (Problem, time limit, K) -> the stored SCIP solutions (binaries + objective).

Kept apart from the SCIP adapter on purpose: the SolverBackend protocol returns one solution, and
training needs SCIP's whole solution storage (``getSols()`` after the solve). This is the only
other module that calls PySCIPOpt; fold it into ``service/solvers/scip.py`` when the adapter
grows a pool API.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.problem.model import Problem, Sense


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
    from pyscipopt import Model, quicksum

    model = Model(problem.name)
    model.hideOutput()
    model.setParam("limits/time", float(time_limit))
    model.setParam("limits/maxsol", max(int(max_solutions), 1))
    model.setParam("randomization/randomseedshift", int(seed))
    n = problem.num_vars
    xs = []
    for j in range(n):
        lo, hi = problem.col_lower[j], problem.col_upper[j]
        vtype = "C"
        if problem.integrality[j]:
            vtype = "B" if lo >= 0 and hi <= 1 else "I"
        xs.append(
            model.addVar(
                name=problem.var_names[j],
                vtype=vtype,
                lb=None if np.isneginf(lo) else float(lo),
                ub=None if np.isposinf(hi) else float(hi),
                obj=float(problem.c[j]),
            )
        )
    A = problem.A
    for i in range(problem.num_rows):
        lo_i, hi_i = problem.row_lower[i], problem.row_upper[i]
        start, end = A.indptr[i], A.indptr[i + 1]
        expr = quicksum(
            float(a) * xs[k] for a, k in zip(A.data[start:end], A.indices[start:end], strict=True)
        )
        has_lo, has_hi = not np.isneginf(lo_i), not np.isposinf(hi_i)
        if has_hi:
            cons = expr <= float(hi_i)
            model.addCons(float(lo_i) <= cons if has_lo else cons, name=problem.row_names[i])
        elif has_lo:
            model.addCons(expr >= float(lo_i), name=problem.row_names[i])
    if problem.offset:
        model.addObjoffset(float(problem.offset))
    if problem.sense == Sense.MAXIMIZE:
        model.setMaximize()
    else:
        model.setMinimize()
    model.optimize()
    bins = [xs[j] for j in np.flatnonzero(problem.binary_mask)]
    sols = model.getSols()
    x_bin = np.zeros((len(sols), len(bins)), dtype=np.uint8)
    objs = np.zeros(len(sols))
    for k, sol in enumerate(sols):
        x_bin[k] = [model.getSolVal(sol, v) > 0.5 for v in bins]
        objs[k] = model.getSolObjVal(sol)
    return ScipPool(x_bin=x_bin, objectives=objs, status=str(model.getStatus()))
