"""Perturbations that move a stuck search off its local minimum: (state, mask) -> state.

An active kick moves variables of the worst row's support one level in the direction that
relieves that row; a random perturbation moves random variables one level up or down. The
caller escalates the number of variables on repeated failure.
"""

from __future__ import annotations

import torch

from mipguide.heuristics.dmmv.state import SearchState, apply_moves, violations
from mipguide.heuristics.dmmv.tensors import DeviceBatch, DeviceMatrix


def _directions(
    state: SearchState,
    mat: DeviceMatrix,
    batch: DeviceBatch,
    kick: torch.Tensor,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per variable: the +-1 level direction and whether the kick may use it, (B, n) each."""
    v = violations(state.r, batch.lower, batch.upper)
    worst = v.argmax(1, keepdim=True)
    above = state.r.gather(1, worst) > batch.upper.gather(1, worst)
    coef = mat.A[worst[:, 0]]
    sign = torch.sign(coef).long()
    relieve = torch.where(above, -sign, sign)
    rand = torch.rand(state.idx.shape, generator=gen, device=state.idx.device)
    random_dir = torch.where(rand < 0.5, 1, -1)
    at_top = state.idx >= batch.nlev - 1
    random_dir = torch.where(at_top, -1, torch.where(state.idx <= 0, 1, random_dir))
    kick_col = kick.unsqueeze(1)
    direction = torch.where(kick_col, relieve, random_dir)
    usable = torch.where(kick_col, coef != 0, torch.ones_like(kick_col))
    return direction, usable


def perturb(
    state: SearchState,
    mat: DeviceMatrix,
    batch: DeviceBatch,
    mask: torch.Tensor,
    size: torch.Tensor,
    kick: torch.Tensor,
    max_perturb: int,
    gen: torch.Generator,
) -> None:
    """Move up to size[b] variables of each instance selected by mask (B,), in place."""
    direction, usable = _directions(state, mat, batch, kick, gen)
    target = state.idx + direction
    valid = usable & (direction != 0) & (target >= 0) & (target < batch.nlev) & ~batch.fixed
    rand = torch.rand(state.idx.shape, generator=gen, device=state.idx.device)
    score = torch.where(valid, rand, -1.0)
    k = min(max_perturb, score.shape[1])
    top = torch.topk(score, k, dim=1)
    rank = torch.arange(k, device=score.device).unsqueeze(0)
    active = (rank < size.unsqueeze(1)) & (top.values >= 0) & mask.unsqueeze(1)
    var = top.indices
    new_idx = target.gather(1, var).clamp(0, batch.levels.shape[2] - 1)
    apply_moves(state, mat, batch, var, new_idx, active)
