"""The exact baseline: (DMMV instance) -> the MILP  min t  s.t.  l - t <= A x <= u + t,
x_j in D_j, as a ``Problem`` that any backend solves.

When every level set is uniform (D_j = lo_j + step_j * {0..L_j-1}) x_j is an integer index
k_j through that affine map; otherwise x_j = sum_k D_jk z_jk with level-choice binaries z and
one assignment row per variable. ``integer_scaled`` turns the model into one with integer
coefficients (and an integer t in units of 1/scale) for CP-SAT. Whatever a solver returns is
decoded to level indices and evaluated by the DMMV evaluator in float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.heuristics.dmmv.evaluate import level_counts
from mipguide.heuristics.dmmv.types import DmmvBatch, dense
from mipguide.problem.model import Problem, make_problem


@dataclass(frozen=True, eq=False)
class MinMaxMilp:
    """A built baseline model and how to read its solutions.

    Attributes:
        problem: the MILP (the last variable is t).
        encoding: "index" (integer level index per variable) or "binary" (level-choice binaries).
        levels: (n, L) NaN-padded level sets of the instance.
        scale: 1.0, or the integer scaling factor applied by ``integer_scaled``.
    """

    problem: Problem
    encoding: str
    levels: np.ndarray
    scale: float = 1.0

    def decode(self, values: np.ndarray) -> np.ndarray:
        """Level indices (n,) from a solution of ``problem``."""
        n, width = self.levels.shape
        counts = level_counts(self.levels)
        v = np.asarray(values, dtype=np.float64)
        if self.encoding == "index":
            idx = np.rint(v[:n]).astype(np.int64)
        else:
            idx = np.argmax(v[: n * width].reshape(n, width), axis=1)
        return np.clip(idx, 0, counts - 1)

    def decode_values(self, values: Mapping[str, float]) -> np.ndarray:
        """Level indices (n,) from a solver's answer by variable name."""
        return self.decode(np.array([values[name] for name in self.problem.var_names]))

    def encode(self, index: np.ndarray, t: float) -> np.ndarray:
        """A solution of ``problem`` for level indices (n,) and a value of t (a start)."""
        n, width = self.levels.shape
        if self.encoding == "index":
            head = index.astype(np.float64)
        else:
            head = np.zeros(n * width)
            head[np.arange(n) * width + index] = 1.0
        return np.append(head, t * self.scale)


def is_uniform(levels: np.ndarray) -> bool:
    """Every variable's levels are equally spaced (1 level counts as uniform)."""
    steps = np.diff(levels, axis=1)
    first = steps[:, :1]
    ok = np.isnan(steps) | np.isclose(steps, first, rtol=1e-9, atol=0.0)
    return bool(ok.all())


def _columns(levels: np.ndarray, fixed: np.ndarray, fixed_idx: np.ndarray, uniform: bool):
    """(x = offset + M y) map, y bounds, and assignment rows for the chosen encoding."""
    n, width = levels.shape
    counts = level_counts(levels)
    if uniform:
        step = np.where(counts > 1, np.nan_to_num(levels[:, 1] - levels[:, 0]), 0.0)
        lo = np.where(fixed, fixed_idx, 0).astype(np.float64)
        hi = np.where(fixed, fixed_idx, counts - 1).astype(np.float64)
        return levels[:, 0], sp.diags(step).tocsr(), lo, hi, None
    rows = np.repeat(np.arange(n), width)
    vals = np.nan_to_num(levels.ravel())
    mapping = sp.csr_matrix((vals, (rows, np.arange(n * width))), shape=(n, n * width))
    valid = np.isfinite(levels)
    hi = valid.astype(np.float64)
    hi[fixed] = 0.0
    hi[fixed, fixed_idx[fixed]] = 1.0
    assign = sp.csr_matrix((valid.ravel().astype(float), (rows, np.arange(n * width))))
    return np.zeros(n), mapping, np.zeros(n * width), hi.ravel(), assign


def build_minmax_milp(batch: DmmvBatch, b: int = 0, t_upper: float | None = None) -> MinMaxMilp:
    """The min-max MILP of instance b. t_upper bounds t from above (e.g. a known violation)."""
    from mipguide.heuristics.dmmv.evaluate import round_to_nearest

    levels = batch.levels_of(b)
    n = levels.shape[0]
    fixed = np.zeros(n, bool) if batch.fixed is None else batch.fixed[b]
    x0 = batch.x0[b] if batch.x0 is not None else np.nanmin(levels, axis=1)
    fixed_idx = round_to_nearest(levels, x0)
    uniform = is_uniform(levels)
    offset, mapping, y_lo, y_hi, assign = _columns(levels, fixed, fixed_idx, uniform)
    A = sp.csr_matrix(dense(batch.A)) if isinstance(batch.A, np.ndarray) else batch.A
    core = sp.csr_matrix(A @ mapping)
    const = np.asarray(A @ offset).ravel()
    lo, up = batch.lower[b] - const, batch.upper[b] - const
    rows, lows, ups, tcol = [], [], [], []
    has_up, has_lo = np.isfinite(up), np.isfinite(lo)
    rows.append(core[has_up])
    lows.append(np.full(has_up.sum(), -np.inf))
    ups.append(up[has_up])
    tcol.append(np.full(has_up.sum(), -1.0))
    rows.append(core[has_lo])
    lows.append(lo[has_lo])
    ups.append(np.full(has_lo.sum(), np.inf))
    tcol.append(np.full(has_lo.sum(), 1.0))
    body = sp.vstack(rows)
    matrix = sp.hstack([body, sp.csr_matrix(np.concatenate(tcol)[:, None])])
    row_lo, row_up = np.concatenate(lows), np.concatenate(ups)
    if assign is not None:
        matrix = sp.vstack([matrix, sp.hstack([assign, sp.csr_matrix((n, 1))])])
        row_lo = np.concatenate([row_lo, np.ones(n)])
        row_up = np.concatenate([row_up, np.ones(n)])
    n_y = mapping.shape[1]
    c = np.zeros(n_y + 1)
    c[-1] = 1.0
    problem = make_problem(
        matrix,
        row_lo,
        row_up,
        c,
        col_lower=np.append(y_lo, 0.0),
        col_upper=np.append(y_hi, np.inf if t_upper is None else t_upper),
        integrality=np.append(np.ones(n_y, bool), False),
        name="dmmv-minmax",
        var_names=[f"y{j}" for j in range(n_y)] + ["t"],
    )
    return MinMaxMilp(problem, "index" if uniform else "binary", levels)


def integer_scaled(milp: MinMaxMilp, target: float = 1e6) -> MinMaxMilp:
    """The same model with integer coefficients: rows times one factor S (the largest |coef|
    becomes ``target``), rounded, and t an integer in units of 1/S. An approximation whose
    solutions are re-evaluated exactly; made for CP-SAT.
    """
    p = milp.problem
    body = p.A[:, :-1]
    biggest = max(float(np.abs(body.data).max(initial=0.0)), 1e-12)
    scale = target / biggest
    scaled = body.multiply(scale).tocsr()
    scaled.data = np.rint(scaled.data)
    tcol = p.A[:, -1:].toarray().ravel()
    matrix = sp.hstack([scaled, sp.csr_matrix(tcol[:, None])]).tocsr()
    assign_rows = (p.row_lower == 1.0) & (p.row_upper == 1.0) & (tcol == 0)
    factor = np.where(assign_rows, 1.0, scale)
    if milp.encoding == "binary":
        matrix = sp.diags(np.where(assign_rows, 1.0 / scale, 1.0)) @ matrix
        matrix.data = np.rint(matrix.data)
    with np.errstate(invalid="ignore"):
        row_lo = np.where(np.isfinite(p.row_lower), np.ceil(p.row_lower * factor - 1e-9), -np.inf)
        row_up = np.where(np.isfinite(p.row_upper), np.floor(p.row_upper * factor + 1e-9), np.inf)
    t_up = p.col_upper[-1] * scale if np.isfinite(p.col_upper[-1]) else np.inf
    problem = make_problem(
        matrix,
        row_lo,
        row_up,
        p.c,
        col_lower=p.col_lower,
        col_upper=np.append(p.col_upper[:-1], np.ceil(t_up)),
        integrality=np.ones(p.num_vars, bool),
        name=p.name + "-int",
        var_names=p.var_names,
    )
    return MinMaxMilp(problem, milp.encoding, milp.levels, scale)
