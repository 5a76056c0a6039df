"""Verification stage: (Problem, x) -> Verification, in float64, independent of any solver."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mipguide.problem.model import Problem

# A solution counts as feasible when every violation is at most this (absolute, after scaling
# by max(1, |bound|) for rows and bounds): the usual 1e-6 feasibility tolerance of MILP solvers.
FEAS_TOL = 1e-6
INT_TOL = 1e-5


@dataclass(frozen=True)
class Verification:
    """What an assignment does to the original model.

    Attributes:
        objective: c^T x + offset recomputed in float64.
        max_bound_violation: largest amount by which a variable leaves its bounds.
        max_row_violation: largest amount by which A x leaves [row_lower, row_upper].
        max_integrality_violation: largest distance of an integer variable to the nearest integer.
        worst_row: index of the row attaining max_row_violation (-1 when there are no rows).
        worst_var: index of the variable attaining the larger of bound/integrality violation.
        feasible: all violations within tolerance (relative for rows and bounds).
    """

    objective: float
    max_bound_violation: float
    max_row_violation: float
    max_integrality_violation: float
    worst_row: int
    worst_var: int
    feasible: bool

    @property
    def max_violation(self) -> float:
        return max(self.max_bound_violation, self.max_row_violation, self.max_integrality_violation)


def _excess(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    # An absent bound (lower -inf, upper +inf) is never violated; a bound that can never hold
    # (lower +inf, upper -inf) always is, by an infinite amount.
    with np.errstate(invalid="ignore"):
        below = np.where(lo == -np.inf, -np.inf, lo - v)
        above = np.where(hi == np.inf, -np.inf, v - hi)
    return np.maximum(np.maximum(below, above), 0.0)


def impossible_bounds(problem: Problem) -> str | None:
    """Why no x can satisfy the bounds alone, or None: a row or variable whose lower bound is
    +inf, whose upper bound is -inf, or whose lower bound exceeds its upper bound (beyond the
    feasibility tolerance). Such a model is infeasible whatever the solver does with it."""
    for kind, lo, hi, names in (
        ("row", problem.row_lower, problem.row_upper, problem.row_names),
        ("variable", problem.col_lower, problem.col_upper, problem.var_names),
    ):
        with np.errstate(invalid="ignore"):
            crossed = _scaled(np.maximum(lo - hi, 0.0), lo, hi) > FEAS_TOL
        bad = (lo == np.inf) | (hi == -np.inf) | crossed
        if bad.any():
            k = int(np.argmax(bad))
            return f"{kind} {names[k]} has bounds [{lo[k]:g}, {hi[k]:g}], which no value satisfies"
    return None


def _scaled(excess: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    mag = np.maximum(
        np.where(np.isfinite(lo), np.abs(lo), 0.0), np.where(np.isfinite(hi), np.abs(hi), 0.0)
    )
    return excess / np.maximum(1.0, mag)


def verify(
    problem: Problem, x: np.ndarray, tol: float = FEAS_TOL, int_tol: float = INT_TOL
) -> Verification:
    """Check x against the model's bounds, rows and integrality, and recompute the objective.

    Args:
        problem: the original model.
        x: one value per variable.
        tol: feasibility tolerance, relative to max(1, |bound|).
        int_tol: integrality tolerance (absolute).

    Returns:
        The violations (absolute) and a feasible flag (scaled tolerances).

    Raises:
        ValueError: x has the wrong length or contains NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (problem.num_vars,):
        raise ValueError(f"x has shape {x.shape}, expected ({problem.num_vars},)")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    bound_ex = _excess(x, problem.col_lower, problem.col_upper)
    ax = problem.A @ x if problem.num_rows else np.zeros(0)
    row_ex = _excess(ax, problem.row_lower, problem.row_upper)
    int_ex = np.where(problem.integrality, np.abs(x - np.round(x)), 0.0)
    worst_row = int(np.argmax(row_ex)) if row_ex.size else -1
    var_ex = np.maximum(bound_ex, int_ex)
    worst_var = int(np.argmax(var_ex)) if var_ex.size else -1
    feasible = bool(
        (_scaled(bound_ex, problem.col_lower, problem.col_upper) <= tol).all()
        and (_scaled(row_ex, problem.row_lower, problem.row_upper) <= tol).all()
        and (int_ex <= int_tol).all()
    )
    return Verification(
        objective=problem.objective_value(x),
        max_bound_violation=float(bound_ex.max(initial=0.0)),
        max_row_violation=float(row_ex.max(initial=0.0)),
        max_integrality_violation=float(int_ex.max(initial=0.0)),
        worst_row=worst_row,
        worst_var=worst_var,
        feasible=feasible,
    )
