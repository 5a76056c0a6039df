"""DMMV: discrete min-max violation, a batched local search in torch (CPU and CUDA).

Choose x_j from a finite sorted level set D_j to minimize max_i viol_i(x), with
viol_i(x) = max(0, l_i - a_i x, a_i x - u_i). Clean-room from the mathematics of Ahmed,
Mostajabdaveh, Aref, Zhou (arXiv 2508.13437).
"""

from mipguide.heuristics.dmmv.solve import solve, solve_batch
from mipguide.heuristics.dmmv.types import (
    DmmvBatch,
    DmmvConfig,
    DmmvInstance,
    DmmvResult,
    stack_instances,
)

__all__ = [
    "DmmvBatch",
    "DmmvConfig",
    "DmmvInstance",
    "DmmvResult",
    "solve",
    "solve_batch",
    "stack_instances",
]
