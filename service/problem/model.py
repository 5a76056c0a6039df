"""The solver-neutral MILP model: ``Problem``.

    min/max  c^T x + offset
    s.t.     row_lower <= A x <= row_upper
             col_lower <= x <= col_upper
             x_j integer for j with integrality[j]

A is CSR (rows x columns), float64. Infinite bounds are +-inf (readers map |v| >= 1e20 to inf).
Binary variables are integer variables with bounds [0, 1]; there is no separate type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import scipy.sparse as sp

INF_THRESHOLD = 1e20


class Sense(IntEnum):
    """Objective sense; the value multiplies the objective to get a minimization."""

    MINIMIZE = 1
    MAXIMIZE = -1


@dataclass(frozen=True, eq=False)
class Problem:
    """A MILP in row-bounded form.

    Attributes:
        name: model name (from the file, or given).
        A: constraint matrix, CSR, shape (num_rows, num_vars), float64, no explicit duplicates.
        row_lower, row_upper: row bounds, float64, -inf/+inf where absent.
        c: objective coefficients, float64.
        offset: constant term of the objective.
        sense: minimize or maximize.
        col_lower, col_upper: variable bounds, float64, -inf/+inf where absent.
        integrality: bool per variable, True for integer (and binary) variables.
        var_names, row_names: names, unique within their kind.
        objective_name: name of the objective row.
        warnings: things the reader noticed and the user should know (e.g. a negative UP bound).
    """

    name: str
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    c: np.ndarray
    offset: float
    sense: Sense
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    var_names: tuple[str, ...]
    row_names: tuple[str, ...]
    objective_name: str = "obj"
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        m, n = self.A.shape
        checks = {
            "row_lower": (self.row_lower, m),
            "row_upper": (self.row_upper, m),
            "c": (self.c, n),
            "col_lower": (self.col_lower, n),
            "col_upper": (self.col_upper, n),
            "integrality": (self.integrality, n),
        }
        for label, (arr, size) in checks.items():
            if arr.shape != (size,):
                raise ValueError(f"{label} has shape {arr.shape}, expected ({size},)")
        if len(self.var_names) != n or len(self.row_names) != m:
            raise ValueError("names do not match the matrix shape")

    @property
    def num_vars(self) -> int:
        return int(self.A.shape[1])

    @property
    def num_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    @property
    def binary_mask(self) -> np.ndarray:
        """True for integer variables whose bounds lie within [0, 1]."""
        return self.integrality & (self.col_lower >= 0.0) & (self.col_upper <= 1.0)

    @property
    def num_binaries(self) -> int:
        return int(self.binary_mask.sum())

    @property
    def num_integers(self) -> int:
        return int(self.integrality.sum())

    def objective_value(self, x: np.ndarray) -> float:
        """c^T x + offset in float64 (in the problem's own sense)."""
        return float(np.dot(self.c, np.asarray(x, dtype=np.float64)) + self.offset)

    def same_as(self, other: Problem, rtol: float = 0.0, atol: float = 0.0) -> bool:
        """Structural equality (names, matrix, bounds, objective, types), within tolerances."""
        if (
            self.A.shape != other.A.shape
            or self.sense != other.sense
            or self.var_names != other.var_names
            or self.row_names != other.row_names
        ):
            return False
        if not np.array_equal(self.integrality, other.integrality):
            return False
        vecs = ("row_lower", "row_upper", "c", "col_lower", "col_upper")
        for v in vecs:
            if not np.allclose(getattr(self, v), getattr(other, v), rtol=rtol, atol=atol):
                return False
        if not np.isclose(self.offset, other.offset, rtol=rtol, atol=atol):
            return False
        diff = (self.A - other.A).tocsr()
        diff.eliminate_zeros()
        if diff.nnz == 0:
            return True
        scale = np.abs(other.A).max() if other.A.nnz else 1.0
        return bool(np.abs(diff.data).max() <= atol + rtol * scale)


def make_problem(
    A: sp.spmatrix | np.ndarray,
    row_lower: np.ndarray | list[float],
    row_upper: np.ndarray | list[float],
    c: np.ndarray | list[float],
    *,
    col_lower: np.ndarray | list[float] | None = None,
    col_upper: np.ndarray | list[float] | None = None,
    integrality: np.ndarray | list[bool] | None = None,
    sense: Sense = Sense.MINIMIZE,
    offset: float = 0.0,
    name: str = "problem",
    var_names: list[str] | tuple[str, ...] | None = None,
    row_names: list[str] | tuple[str, ...] | None = None,
    objective_name: str = "obj",
    warnings: tuple[str, ...] = (),
) -> Problem:
    """Build a Problem from array-likes, with defaults (bounds [0, inf), continuous, x0.. / r0..).

    Duplicate (row, col) entries are summed; explicit zeros are dropped.
    """
    mat = sp.csr_matrix(A, dtype=np.float64)
    mat.sum_duplicates()
    mat.eliminate_zeros()
    m, n = mat.shape

    def vec(v: object, default: float, size: int) -> np.ndarray:
        if v is None:
            return np.full(size, default, dtype=np.float64)
        return np.asarray(v, dtype=np.float64).reshape(size)

    return Problem(
        name=name,
        A=mat,
        row_lower=vec(row_lower, -np.inf, m),
        row_upper=vec(row_upper, np.inf, m),
        c=vec(c, 0.0, n),
        offset=float(offset),
        sense=Sense(sense),
        col_lower=vec(col_lower, 0.0, n),
        col_upper=vec(col_upper, np.inf, n),
        integrality=(
            np.zeros(n, dtype=bool)
            if integrality is None
            else np.asarray(integrality, dtype=bool).reshape(n)
        ),
        var_names=tuple(var_names) if var_names is not None else tuple(f"x{j}" for j in range(n)),
        row_names=tuple(row_names) if row_names is not None else tuple(f"r{i}" for i in range(m)),
        objective_name=objective_name,
        warnings=tuple(warnings),
    )
