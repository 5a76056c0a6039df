"""Features stage: Problem -> BipartiteGraph (static features only, no LP solve).

Variable nodes, constraint nodes, one edge per nonzero of A carrying the real coefficient. The
feature columns are named by ``VarFeature``, ``RowFeature`` and ``EdgeFeature`` (this module is the
one place they are defined). Every feature is finite whatever the input: empty rows or columns,
a zero objective, infinite bounds and huge coefficients all map to finite values.

Normalizations (chosen so a feature means the same across instance sizes and scalings):
- objective: ``sense * c_j / max|c|`` (minimization direction; 0 when c = 0);
- a row is scaled by its Euclidean norm ``||a_i||`` (1 for an empty row); coefficient statistics
  and the row bounds use these normalized values;
- bounds and normalized row bounds go through a signed log ``sign(v) * log1p(|v|)``, and an
  infinite bound is 0 with its "finite" flag 0;
- degrees appear twice: relative to the largest degree, and as ``log1p(degree) / 10``;
- magnitudes that the normalizations above hide, kept scale-free: the objective on a log scale
  relative to the largest (``OBJ_LOG``: a holding cost 200 times below a setup cost reads
  0.47, not 0.005) and a row's coefficient range ``log(max|a_ij| / min|a_ij|) / 10``
  (``COEF_RANGE_LOG``: the big-M of a linking row, the capacity of a server);
- ranks within the instance, among its binaries: the cost (``OBJ_RANK``) and the cost per unit
  of the column's largest coefficient (``COST_RATIO_RANK``: a server's cost over its capacity, a
  set's cost over its largest entry). A ratio that decides which binaries are on can vary by a
  few percent between them, far too little to show on any scale fixed across instances; its
  rank spreads it over [0, 1].

Columns are only ever appended: a network stores the widths it was trained with and reads
that many columns (``PaSNet``, ``SrgNet``), so older networks keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from mipguide.problem.model import Problem, Sense

# Everything is clipped to this magnitude at the end (after the log transforms nothing legitimate
# comes near it); it keeps float32 overflow impossible.
FEATURE_CLIP = 1e6


class VarFeature(IntEnum):
    """Columns of ``BipartiteGraph.var_features``."""

    OBJ = 0
    IS_BINARY = 1
    IS_INTEGER = 2  # general integer (not binary)
    IS_CONTINUOUS = 3
    HAS_LOWER = 4
    HAS_UPPER = 5
    LOWER = 6  # signed log, 0 when infinite
    UPPER = 7
    DEGREE_REL = 8
    DEGREE_LOG = 9
    COEF_MEAN = 10  # statistics of the row-normalized coefficients in this column
    COEF_MIN = 11
    COEF_MAX = 12
    OBJ_LOG = 13  # 1 + ln(|c_j| / max|c|) / 10, clipped to [0, 1]; 0 when c_j = 0
    # ranks among the instance's binaries, as fractions in [0, 1] (ties share their mean rank;
    # 0.5 for a lone binary, 0 for the other variables):
    OBJ_RANK = 14  # of the cost sense * c_j
    COST_RATIO_RANK = 15  # of the cost per unit of the column's largest |a_ij|


class RowFeature(IntEnum):
    """Columns of ``BipartiteGraph.row_features``."""

    HAS_LOWER = 0
    HAS_UPPER = 1
    LOWER = 2  # signed log of row_lower / ||a_i||, 0 when infinite
    UPPER = 3
    IS_LE = 4
    IS_GE = 5
    IS_EQ = 6
    IS_RANGED = 7
    DEGREE_REL = 8
    DEGREE_LOG = 9
    COEF_MEAN = 10  # statistics of a_i / ||a_i||
    COEF_MIN = 11
    COEF_MAX = 12
    OBJ_COSINE = 13  # cosine of a_i with sense * c
    COEF_RANGE_LOG = 14  # ln(max|a_ij| / min|a_ij|) / 10 over the row's nonzeros; 0 if empty


class EdgeFeature(IntEnum):
    """Columns of ``BipartiteGraph.edge_attr``."""

    COEF = 0  # the real coefficient a_ij (finite, as in the Problem)
    COEF_NORM = 1  # a_ij / ||a_i||, in [-1, 1]


@dataclass(frozen=True, eq=False)
class BipartiteGraph:
    """The variable-constraint graph of one Problem.

    Attributes:
        var_features: (n, len(VarFeature)) float32.
        row_features: (m, len(RowFeature)) float32.
        edge_index: (2, nnz) int64; row 0 is the constraint index, row 1 the variable index.
        edge_attr: (nnz, len(EdgeFeature)) float32; COEF is clipped to +-FEATURE_CLIP (the
            Problem stays the exact source of the coefficients).
        binary_mask: (n,) bool, the variables the models predict.
    """

    var_features: np.ndarray
    row_features: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    binary_mask: np.ndarray

    @property
    def num_vars(self) -> int:
        return int(self.var_features.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.row_features.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])


def _slog(v: np.ndarray) -> np.ndarray:
    """Signed log1p; non-finite entries become 0."""
    out = np.zeros(v.shape, dtype=np.float64)
    fin = np.isfinite(v)
    out[fin] = np.sign(v[fin]) * np.log1p(np.abs(v[fin]))
    return out


def _safe_norms(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Euclidean norm of each CSR segment without overflow (scaled by the segment's max |a|)."""
    n = indptr.size - 1
    absd = np.abs(data)
    mx = _segment_reduce(np.maximum, indptr, absd, 0.0)
    scale = np.where(mx > 0, mx, 1.0)
    seg = np.repeat(np.arange(n), np.diff(indptr))
    sq = np.bincount(seg, weights=(absd / scale[seg]) ** 2, minlength=n)
    norms = scale * np.sqrt(sq)
    return np.where((norms > 0) & np.isfinite(norms), norms, 1.0)


def _segment_reduce(ufunc: np.ufunc, indptr: np.ndarray, data: np.ndarray, empty: float):
    """ufunc.reduceat over CSR segments, with ``empty`` for empty segments."""
    n = indptr.size - 1
    out = np.full(n, empty, dtype=np.float64)
    nonempty = np.diff(indptr) > 0
    if data.size:
        out[nonempty] = ufunc.reduceat(data, indptr[:-1][nonempty])
    return out


def _segment_stats(indptr: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, ...]:
    """(mean, min, max) per segment; 0 for empty segments."""
    n = indptr.size - 1
    deg = np.diff(indptr)
    seg = np.repeat(np.arange(n), deg)
    total = np.bincount(seg, weights=data, minlength=n)
    mean = total / np.maximum(deg, 1)
    return (
        mean,
        _segment_reduce(np.minimum, indptr, data, 0.0),
        _segment_reduce(np.maximum, indptr, data, 0.0),
    )


def _degree_features(deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = max(int(deg.max(initial=0)), 1)
    return deg / top, np.log1p(deg) / 10.0


def _binary_ranks(values: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """The rank of each binary's value among the binaries, in [0, 1] (ties share their mean
    rank; 0.5 for a lone binary); 0 for the other variables."""
    out = np.zeros(values.shape, dtype=np.float64)
    nb = int(binary.sum())
    if nb == 1:
        out[binary] = 0.5
    elif nb > 1:
        out[binary] = (rankdata(values[binary], method="average") - 1.0) / (nb - 1)
    return out


def _var_features(p: Problem, c_min: np.ndarray, norm_coef_csc, col_max: np.ndarray) -> np.ndarray:
    n = p.num_vars
    f = np.zeros((n, len(VarFeature)), dtype=np.float64)
    cmax = np.abs(c_min).max(initial=0.0)
    f[:, VarFeature.OBJ] = c_min / cmax if cmax > 0 else 0.0
    f[:, VarFeature.OBJ_LOG] = _log_scale(np.abs(c_min), cmax)
    binary = p.binary_mask
    f[:, VarFeature.IS_BINARY] = binary
    f[:, VarFeature.OBJ_RANK] = _binary_ranks(c_min, binary)
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = np.nan_to_num(c_min / np.where(col_max > 0, col_max, 1.0))
    f[:, VarFeature.COST_RATIO_RANK] = _binary_ranks(ratio, binary)
    f[:, VarFeature.IS_INTEGER] = p.integrality & ~binary
    f[:, VarFeature.IS_CONTINUOUS] = ~p.integrality
    f[:, VarFeature.HAS_LOWER] = np.isfinite(p.col_lower)
    f[:, VarFeature.HAS_UPPER] = np.isfinite(p.col_upper)
    f[:, VarFeature.LOWER] = _slog(p.col_lower)
    f[:, VarFeature.UPPER] = _slog(p.col_upper)
    indptr, data = norm_coef_csc
    rel, log = _degree_features(np.diff(indptr))
    f[:, VarFeature.DEGREE_REL] = rel
    f[:, VarFeature.DEGREE_LOG] = log
    mean, mn, mx = _segment_stats(indptr, data)
    f[:, VarFeature.COEF_MEAN] = mean
    f[:, VarFeature.COEF_MIN] = mn
    f[:, VarFeature.COEF_MAX] = mx
    return f


def _row_features(p: Problem, norms: np.ndarray, norm_data: np.ndarray, c_min) -> np.ndarray:
    m = p.num_rows
    f = np.zeros((m, len(RowFeature)), dtype=np.float64)
    lo, hi = p.row_lower, p.row_upper
    has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)
    f[:, RowFeature.HAS_LOWER] = has_lo
    f[:, RowFeature.HAS_UPPER] = has_hi
    with np.errstate(over="ignore", invalid="ignore"):
        f[:, RowFeature.LOWER] = _slog(lo / norms)
        f[:, RowFeature.UPPER] = _slog(hi / norms)
    eq = has_lo & has_hi & (lo == hi)
    f[:, RowFeature.IS_LE] = has_hi & ~has_lo
    f[:, RowFeature.IS_GE] = has_lo & ~has_hi
    f[:, RowFeature.IS_EQ] = eq
    f[:, RowFeature.IS_RANGED] = has_lo & has_hi & ~eq
    indptr = p.A.indptr
    rel, log = _degree_features(np.diff(indptr))
    f[:, RowFeature.DEGREE_REL] = rel
    f[:, RowFeature.DEGREE_LOG] = log
    mean, mn, mx = _segment_stats(indptr, norm_data)
    f[:, RowFeature.COEF_MEAN] = mean
    f[:, RowFeature.COEF_MIN] = mn
    f[:, RowFeature.COEF_MAX] = mx
    absd = np.abs(norm_data)
    big = _segment_reduce(np.maximum, indptr, absd, 0.0)
    small = _segment_reduce(np.minimum, indptr, np.where(absd > 0, absd, np.inf), np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        spread = np.where((small > 0) & np.isfinite(small), np.log(big / small) / 10.0, 0.0)
    f[:, RowFeature.COEF_RANGE_LOG] = np.clip(np.nan_to_num(spread), 0.0, 10.0)
    c_unit = _unit(c_min)
    rows = np.repeat(np.arange(m), np.diff(indptr))
    cos = np.bincount(rows, weights=norm_data * c_unit[p.A.indices], minlength=m)
    f[:, RowFeature.OBJ_COSINE] = np.clip(cos, -1.0, 1.0)
    return f


def _log_scale(a: np.ndarray, top: float) -> np.ndarray:
    """``1 + ln(a / top) / 10`` clipped to [0, 1] (a >= 0); 0 where a = 0 or top is not > 0."""
    out = np.zeros(a.shape, dtype=np.float64)
    if not (top > 0 and np.isfinite(top)):
        return out
    pos = a > 0
    out[pos] = np.clip(1.0 + (np.log(a[pos]) - np.log(top)) / 10.0, 0.0, 1.0)
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    """v / ||v|| without overflow; zeros stay zeros."""
    mx = np.abs(v).max(initial=0.0)
    if not mx > 0 or not np.isfinite(mx):
        return np.zeros_like(v)
    w = v / mx
    return w / np.sqrt(np.dot(w, w))


def _finite32(a: np.ndarray) -> np.ndarray:
    out = np.nan_to_num(a, nan=0.0, posinf=FEATURE_CLIP, neginf=-FEATURE_CLIP)
    return np.clip(out, -FEATURE_CLIP, FEATURE_CLIP).astype(np.float32)


def build_graph(problem: Problem) -> BipartiteGraph:
    """Build the bipartite variable-constraint graph with static, safely normalized features.

    Args:
        problem: the model (A is CSR without explicit duplicates).

    Returns:
        The graph; edges are in CSR order (row-major), so edge k is A.data[k].
    """
    A = problem.A
    m = problem.num_rows
    sense = 1.0 if problem.sense == Sense.MINIMIZE else -1.0
    c_min = np.nan_to_num(sense * problem.c, nan=0.0, posinf=FEATURE_CLIP, neginf=-FEATURE_CLIP)
    data = np.nan_to_num(A.data.astype(np.float64), nan=0.0)
    norms = _safe_norms(A.indptr, data)
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(A.indptr))
    norm_data = np.clip(data / norms[rows], -1.0, 1.0)
    # Column statistics on the normalized coefficients: same sparsity, CSC order.
    normed = sp.csr_matrix((norm_data, A.indices, A.indptr), shape=A.shape).tocsc()
    raw = sp.csr_matrix((np.abs(data), A.indices, A.indptr), shape=A.shape).tocsc()
    col_max = _segment_reduce(np.maximum, raw.indptr, raw.data, 0.0)
    var_f = _var_features(problem, c_min, (normed.indptr, normed.data), col_max)
    row_f = _row_features(problem, norms, norm_data, c_min)
    edge_index = np.vstack([rows, A.indices.astype(np.int64)])
    edge_attr = np.stack([data, norm_data], axis=1)
    return BipartiteGraph(
        var_features=_finite32(var_f),
        row_features=_finite32(row_f),
        edge_index=edge_index,
        edge_attr=_finite32(edge_attr),
        binary_mask=problem.binary_mask.copy(),
    )
