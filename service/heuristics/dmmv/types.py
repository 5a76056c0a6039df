"""DMMV data that crosses module boundaries: instances, batches, configuration and results.

Problem: choose x_j from a finite sorted level set D_j to minimize max_i viol_i(x), with
viol_i(x) = max(0, l_i - a_i x, a_i x - u_i). Level sets are stored as a NaN-padded array:
row j holds D_j in ascending order followed by NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

Matrix: TypeAlias = np.ndarray | sp.csr_matrix


def nonzeros(A: Matrix) -> int:
    """Stored nonzeros of A, dense or CSR."""
    return int(A.nnz) if isinstance(A, sp.spmatrix | sp.sparray) else int(np.count_nonzero(A))


def dense(A: Matrix) -> np.ndarray:
    """A as a dense float64 ndarray."""
    if isinstance(A, np.ndarray):
        return np.asarray(A, dtype=np.float64)
    return np.asarray(sp.csr_matrix(A).toarray(), dtype=np.float64)


def _levels_2d(levels: np.ndarray, n: int) -> np.ndarray:
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim == 1:
        lv = np.broadcast_to(lv, (n, lv.shape[0]))
    if lv.ndim != 2 or lv.shape[0] != n or lv.shape[1] == 0:
        raise ValueError(f"levels must have shape (L,) or ({n}, L), got {lv.shape}")
    return lv


def check_levels(levels: np.ndarray) -> None:
    """Validate a (..., n, L) NaN-padded level array (ascending, NaN only as trailing padding).

    Raises:
        ValueError: a variable has no level, a level is infinite, levels are not ascending,
            or NaN padding is followed by a level.
    """
    finite = np.isfinite(levels)
    if np.isinf(levels).any():
        raise ValueError("levels must be finite (NaN is padding)")
    if not finite[..., 0].all():
        raise ValueError("every variable needs at least one level")
    if (finite[..., 1:] & ~finite[..., :-1]).any():
        raise ValueError("NaN padding must come after the levels of a variable")
    with np.errstate(invalid="ignore"):
        step = np.diff(levels, axis=-1)
    if (step[finite[..., 1:]] <= 0).any():
        raise ValueError("levels must be strictly ascending")


@dataclass(frozen=True, eq=False)
class DmmvBatch:
    """Many DMMV instances that share one matrix A (the unit of one tensor program).

    Attributes:
        A: (m, n) constraint matrix, dense ndarray or CSR, shared by all instances.
        lower, upper: (B, m) row bounds, -inf/+inf where absent (equality rows: lower == upper).
        levels: (n, L) shared by all instances or (B, n, L); ascending, NaN-padded.
        x0: (B, n) values to round for the start, or None (a relaxed start is computed).
        fixed: (B, n) bool, variables kept at round(x0) (needs x0), or None.
    """

    A: Matrix
    lower: np.ndarray
    upper: np.ndarray
    levels: np.ndarray
    x0: np.ndarray | None = None
    fixed: np.ndarray | None = None

    def __post_init__(self) -> None:
        m, n = self.A.shape
        b = self.lower.shape[0] if self.lower.ndim == 2 else -1
        if self.lower.shape != (b, m) or self.upper.shape != (b, m):
            raise ValueError(f"lower/upper must have shape (B, {m})")
        if self.levels.shape[:-1] not in ((n,), (b, n)):
            raise ValueError(f"levels must have shape ({n}, L) or ({b}, {n}, L)")
        check_levels(self.levels)
        for label, arr in (("x0", self.x0), ("fixed", self.fixed)):
            if arr is not None and arr.shape != (b, n):
                raise ValueError(f"{label} must have shape ({b}, {n})")
        if self.fixed is not None and self.x0 is None and self.fixed.any():
            raise ValueError("fixed variables need x0")
        if (self.lower > self.upper).any():
            raise ValueError("a row has lower > upper")

    @property
    def size(self) -> int:
        return int(self.lower.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        m, n = self.A.shape
        return int(m), int(n)

    def levels_of(self, b: int) -> np.ndarray:
        """The (n, L) level array of instance b."""
        return self.levels if self.levels.ndim == 2 else self.levels[b]


@dataclass(frozen=True, eq=False)
class DmmvInstance:
    """One DMMV instance.

    Attributes:
        A: (m, n) dense or CSR.
        lower, upper: (m,) row bounds (+-inf allowed).
        levels: (L,) shared by every variable, or (n, L) per variable, NaN-padded.
        x0: (n,) values to round for the start, or None.
        fixed: (n,) bool mask of variables kept at round(x0), or None.
    """

    A: Matrix
    lower: np.ndarray
    upper: np.ndarray
    levels: np.ndarray
    x0: np.ndarray | None = None
    fixed: np.ndarray | None = None

    def as_batch(self) -> DmmvBatch:
        n = self.A.shape[1]
        return DmmvBatch(
            A=self.A,
            lower=np.asarray(self.lower, dtype=np.float64)[None, :],
            upper=np.asarray(self.upper, dtype=np.float64)[None, :],
            levels=_levels_2d(self.levels, n),
            x0=None if self.x0 is None else np.asarray(self.x0, dtype=np.float64)[None, :],
            fixed=None if self.fixed is None else np.asarray(self.fixed, dtype=bool)[None, :],
        )


def stack_instances(instances: list[DmmvInstance]) -> DmmvBatch:
    """Stack instances that share A (the same object or equal contents) into one batch.

    Raises:
        ValueError: the instances do not share A, or mix given and missing x0.
    """
    if not instances:
        raise ValueError("no instances")
    first = instances[0]
    n = first.A.shape[1]
    for inst in instances[1:]:
        if inst.A is not first.A and not _same_matrix(inst.A, first.A):
            raise ValueError("instances in one batch must share A")
    lv = [_levels_2d(i.levels, n) for i in instances]
    width = max(x.shape[1] for x in lv)
    levels = np.full((len(lv), n, width), np.nan)
    for b, x in enumerate(lv):
        levels[b, :, : x.shape[1]] = x
    has_x0 = [i.x0 is not None for i in instances]
    if any(has_x0) and not all(has_x0):
        raise ValueError("either every instance has x0 or none has")
    x0 = np.stack([np.asarray(i.x0, dtype=np.float64) for i in instances]) if all(has_x0) else None
    fixed = None
    if any(i.fixed is not None for i in instances):
        fixed = np.stack(
            [np.zeros(n, bool) if i.fixed is None else np.asarray(i.fixed, bool) for i in instances]
        )
    return DmmvBatch(
        A=first.A,
        lower=np.stack([np.asarray(i.lower, dtype=np.float64) for i in instances]),
        upper=np.stack([np.asarray(i.upper, dtype=np.float64) for i in instances]),
        levels=levels,
        x0=x0,
        fixed=fixed,
    )


def _same_matrix(a: Matrix, b: Matrix) -> bool:
    if a.shape != b.shape:
        return False
    return bool(np.array_equal(dense(a), dense(b)))


@dataclass(frozen=True)
class DmmvConfig:
    """Search parameters.

    Attributes:
        time_limit: wall seconds for the search (checked between passes).
        seed: seed of the torch.Generator that drives perturbations.
        max_iterations: stop after this many passes (None: only the time limit).
        top_k: rows (the most violated) on which every candidate move is screened.
        exact_candidates: best screened moves re-scored exactly on all rows per pass.
        steps: level steps tried for single moves (each in both directions).
        swap_pool: up and down +-1 moves combined into swap pairs (swap_pool**2 pairs screened).
        recompute_every: passes between full recomputations of A x (drift control).
        kick_probability: chance that a perturbation is an active kick (else random).
        rounding_restarts: chance that a stuck instance restarts from a random rounding of
            the continuous start (x0, or the relaxed start) instead of being perturbed: each
            variable takes the level above with probability equal to its fractional position
            between its two nearest levels.
        max_perturb: largest number of variables one perturbation changes.
        escalate_after: failed perturbations before the perturbation size doubles.
        device: torch device ("cpu", "cuda", "cuda:1").
        dtype: "float64", "float32" or "auto" (float64 on CPU, float32 on CUDA).
        cuda_graph: on CUDA, capture one pass as a CUDA graph and replay it (one launch per
            pass instead of a few hundred); the search falls back to plain passes when the
            capture fails. Off by default: not yet run on a device (``bench device`` measures
            it, ``tests/gpu`` checks it, where a GPU is present).
    """

    time_limit: float = 1.0
    seed: int = 0
    max_iterations: int | None = None
    top_k: int = 32
    exact_candidates: int = 16
    steps: tuple[int, ...] = (1, 2)
    swap_pool: int = 8
    recompute_every: int = 256
    kick_probability: float = 0.5
    rounding_restarts: float = 0.0
    max_perturb: int = 16
    escalate_after: int = 8
    device: str = "cpu"
    dtype: str = "auto"
    cuda_graph: bool = False


@dataclass(frozen=True)
class DmmvResult:
    """The best assignment found for one instance, checked in float64.

    Attributes:
        x: (n,) chosen values (each one of its variable's levels).
        level_index: (n,) index of each value in its level set.
        max_violation: max_i viol_i(x), recomputed from scratch in float64.
        argmax_row: a row attaining it (-1 when there are no rows).
        sum_squares: sum_i viol_i(x)^2 (the tie-breaker of the search).
        start_max_violation: max violation of the round-to-nearest start.
        iterations: search passes run.
        seconds: wall time of the search.
        device: where it ran.
        counters: moves, swaps, kicks, random perturbations, restarts, improvements, recomputes.
        fallback: True when this is round-to-nearest returned because the search could not run.
        interrupted: True when a stop request ended the search before its limits.
    """

    x: np.ndarray
    level_index: np.ndarray
    max_violation: float
    argmax_row: int
    sum_squares: float
    start_max_violation: float
    iterations: int
    seconds: float
    device: str
    counters: Mapping[str, int] = field(default_factory=dict)
    fallback: bool = False
    interrupted: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "x": self.x.tolist(),
            "level_index": self.level_index.tolist(),
            "max_violation": self.max_violation,
            "argmax_row": self.argmax_row,
            "sum_squares": self.sum_squares,
            "start_max_violation": self.start_max_violation,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "device": self.device,
            "counters": dict(self.counters),
            "fallback": self.fallback,
            "interrupted": self.interrupted,
        }
