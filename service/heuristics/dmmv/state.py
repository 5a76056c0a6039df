"""The mutable search state of a batch (level indices, values, cached activities) and the
rank-k residual updates that move it. Internal to the DMMV search.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mipguide.heuristics.dmmv.tensors import DeviceBatch, DeviceMatrix


@dataclass
class SearchState:
    """idx (B, n) level indices, x (B, n) their values, r (B, m) the cached activities A x."""

    idx: torch.Tensor
    x: torch.Tensor
    r: torch.Tensor

    def clone(self) -> SearchState:
        return SearchState(self.idx.clone(), self.x.clone(), self.r.clone())

    def copy_from(self, other: SearchState, mask: torch.Tensor) -> None:
        """Overwrite the instances selected by mask (B,) with other's."""
        m = mask[:, None]
        self.idx = torch.where(m, other.idx, self.idx)
        self.x = torch.where(m, other.x, self.x)
        self.r = torch.where(m, other.r, self.r)


def gather_levels(batch: DeviceBatch, idx: torch.Tensor) -> torch.Tensor:
    """Level values of idx (B, ...) taken per variable; idx has shape (B, n) or (B, n, S)."""
    if idx.dim() == 2:
        return batch.levels.gather(2, idx.unsqueeze(-1)).squeeze(-1)
    return batch.levels.gather(2, idx)


def new_state(mat: DeviceMatrix, batch: DeviceBatch, idx: torch.Tensor) -> SearchState:
    x = gather_levels(batch, idx)
    return SearchState(idx=idx, x=x, r=x @ mat.At)


def recompute(state: SearchState, mat: DeviceMatrix) -> None:
    """Refresh the cached activities from scratch (drift control)."""
    state.r = state.x @ mat.At


def violations(r: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """viol = max(0, l - r, r - u), elementwise (infinite bounds give no violation)."""
    return torch.clamp_min(torch.maximum(lower - r, r - upper), 0.0)


def apply_moves(
    state: SearchState,
    mat: DeviceMatrix,
    batch: DeviceBatch,
    var: torch.Tensor,
    new_idx: torch.Tensor,
    active: torch.Tensor,
) -> None:
    """Move variable var[b, k] to level new_idx[b, k] where active[b, k]; rank-k update of r.

    The variables of one instance must be distinct among its active entries.
    """
    old_x = state.x.gather(1, var)
    rows = batch.levels.gather(1, var.unsqueeze(-1).expand(-1, -1, batch.levels.shape[2]))
    new_x = rows.gather(2, new_idx.unsqueeze(-1)).squeeze(-1)
    delta = torch.where(active, new_x - old_x, torch.zeros_like(old_x))
    state.r = state.r + torch.einsum("bk,bkm->bm", delta, mat.At[var])
    cur_idx = state.idx.gather(1, var)
    state.idx = state.idx.scatter(1, var, torch.where(active, new_idx, cur_idx))
    state.x = state.x.scatter(1, var, torch.where(active, new_x, old_x))
