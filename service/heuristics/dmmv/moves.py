"""Move generation and scoring: (state, batch) -> candidate moves -> the best move per instance.

A move changes one variable (single move) or two (an adjacent-level swap: one variable one level
up, another one level down). Every candidate is first screened on the K most violated rows: the
largest new violation on those rows is a lower bound of the move's new max violation (a move can
only lower the max if it lowers every row that attains it). Candidates are then re-scored exactly
on all rows in lower-bound order; with ``max_chunks=None`` this goes on until the bound proves
that no unscored candidate can win, which makes the screened best move the exact best move.
Moves are ranked by (max violation, sum of squared violations), lexicographically.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mipguide.heuristics.dmmv.state import SearchState, gather_levels, violations
from mipguide.heuristics.dmmv.tensors import DeviceBatch, DeviceMatrix


@dataclass(frozen=True)
class Moves:
    """N candidate moves per instance, each of up to two components, tensors of shape (B, N).

    A single move has delta_b == 0 and var_b == var_a (the second component does nothing).
    """

    var_a: torch.Tensor
    idx_a: torch.Tensor
    delta_a: torch.Tensor
    var_b: torch.Tensor
    idx_b: torch.Tensor
    delta_b: torch.Tensor
    valid: torch.Tensor
    is_pair: torch.Tensor
    has_pairs: bool = True

    def take(self, sel: torch.Tensor) -> Moves:
        """The candidates at positions sel (B, C)."""
        return _moves([t.gather(1, sel) for t in self._parts()], self.has_pairs)

    def _parts(self) -> tuple[torch.Tensor, ...]:
        return (
            self.var_a,
            self.idx_a,
            self.delta_a,
            self.var_b,
            self.idx_b,
            self.delta_b,
            self.valid,
            self.is_pair,
        )


def concat(first: Moves, second: Moves) -> Moves:
    parts = zip(first._parts(), second._parts(), strict=True)
    return _moves([torch.cat([a, b], dim=1) for a, b in parts], True)


def _moves(parts: list[torch.Tensor], has_pairs: bool) -> Moves:
    va, ia, da, vb, ib, db, valid, pair = parts
    return Moves(va, ia, da, vb, ib, db, valid, pair, has_pairs)


@dataclass(frozen=True)
class BestMove:
    """The best scored move per instance: its exact key and its components, shapes (B,)."""

    max_violation: torch.Tensor
    sum_squares: torch.Tensor
    moves: Moves
    evaluated: int


def single_moves(state: SearchState, batch: DeviceBatch, steps: tuple[int, ...]) -> Moves:
    """Every variable by +-s levels for s in steps: N = n * 2 * len(steps), variable-major."""
    signed = [d for s in steps for d in (s, -s)]
    shift = torch.tensor(signed, device=state.idx.device)
    target = state.idx.unsqueeze(-1) + shift
    valid = (target >= 0) & (target < batch.nlev.unsqueeze(-1)) & ~batch.fixed.unsqueeze(-1)
    target = target.clamp(0, batch.levels.shape[2] - 1)
    delta = torch.where(valid, gather_levels(batch, target) - state.x.unsqueeze(-1), 0.0)
    b, n, s = target.shape
    var = torch.arange(n, device=state.idx.device).view(1, n, 1).expand(b, n, s).reshape(b, -1)
    return Moves(
        var_a=var,
        idx_a=target.reshape(b, -1),
        delta_a=delta.reshape(b, -1),
        var_b=var,
        idx_b=target.reshape(b, -1),
        delta_b=torch.zeros_like(delta.reshape(b, -1)),
        valid=valid.reshape(b, -1),
        is_pair=torch.zeros_like(valid.reshape(b, -1)),
        has_pairs=False,
    )


def top_rows(viol: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, k) of the k most violated rows."""
    return torch.topk(viol, min(k, viol.shape[1]), dim=1).indices


def screen(
    moves: Moves,
    state: SearchState,
    mat: DeviceMatrix,
    batch: DeviceBatch,
    rows: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Score moves on the given rows: (lower bound of the new max, change of the sum of squares
    on those rows), each (B, N); invalid moves get +inf.
    """
    b, k = rows.shape
    n_cand = moves.var_a.shape[1]
    a_rows = mat.A[rows]  # (B, K, n)
    ga = a_rows.gather(2, moves.var_a.unsqueeze(1).expand(b, k, n_cand))
    r_rows = state.r.gather(1, rows).unsqueeze(-1)
    new = torch.addcmul(r_rows, ga, moves.delta_a.unsqueeze(1))
    if moves.has_pairs:
        gb = a_rows.gather(2, moves.var_b.unsqueeze(1).expand(b, k, n_cand))
        new.addcmul_(gb, moves.delta_b.unsqueeze(1))
    lo = batch.lower.gather(1, rows).unsqueeze(-1)
    hi = batch.upper.gather(1, rows).unsqueeze(-1)
    # viol = max(l - new, new - u, 0), in place: this is the hot loop of the search
    v_new = torch.sub(lo, new)
    torch.maximum(v_new, new.sub_(hi), out=v_new)
    v_new.clamp_(min=0.0)
    v_old = violations(r_rows, lo, hi)
    lb = torch.where(moves.valid, v_new.amax(1), torch.inf)
    dss = torch.where(moves.valid, v_new.square_().sum(1) - v_old.square().sum(1), torch.inf)
    return lb, dss


def lexicographic_order(primary: torch.Tensor, secondary: torch.Tensor) -> torch.Tensor:
    """Positions (B, N) sorting by primary, ties broken by secondary (both ascending)."""
    o1 = torch.sort(secondary, dim=1, stable=True).indices
    o2 = torch.sort(primary.gather(1, o1), dim=1, stable=True).indices
    return o1.gather(1, o2)


def exact_scores(
    moves: Moves, state: SearchState, mat: DeviceMatrix, batch: DeviceBatch
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact (new max violation, new sum of squares) of each move over all rows, (B, C)."""
    # the same operations as ``screen`` so that its bound is exact on the screened rows
    new = torch.addcmul(state.r.unsqueeze(1), mat.At[moves.var_a], moves.delta_a.unsqueeze(-1))
    if moves.has_pairs:
        new.addcmul_(mat.At[moves.var_b], moves.delta_b.unsqueeze(-1))
    lo, hi = batch.lower.unsqueeze(1), batch.upper.unsqueeze(1)
    v = torch.sub(lo, new)
    torch.maximum(v, new.sub_(hi), out=v)
    v.clamp_(min=0.0)
    mx = torch.where(moves.valid, v.amax(2), torch.inf)
    ss = torch.where(moves.valid, v.square().sum(2), torch.inf)
    return mx, ss


def promising(primary: torch.Tensor, secondary: torch.Tensor, k: int) -> torch.Tensor:
    """Positions (B, k): the k//2 smallest by primary, then the rest smallest by secondary.

    A cheap stand-in for the first k of ``lexicographic_order`` (two top-k instead of two
    sorts); the union may repeat a position, which only wastes a slot.
    """
    k = max(1, min(k, primary.shape[1]))
    k1 = max(1, k // 2)
    first = torch.topk(primary, k1, dim=1, largest=False).indices
    if k == k1:
        return first
    rest = torch.topk(secondary, k - k1, dim=1, largest=False).indices
    return torch.cat([first, rest], dim=1)


def _argbest(mx: torch.Tensor, ss: torch.Tensor) -> torch.Tensor:
    """Position (B,) of the lexicographically smallest (mx, ss)."""
    tie = mx == mx.amin(1, keepdim=True)
    return torch.where(tie, ss, torch.inf).argmin(1)


def best_move(
    moves: Moves,
    lb: torch.Tensor,
    dss: torch.Tensor,
    state: SearchState,
    mat: DeviceMatrix,
    batch: DeviceBatch,
    chunk: int,
    max_chunks: int | None = 1,
) -> BestMove:
    """Re-score candidates exactly in screened order, ``chunk`` at a time.

    With max_chunks=None, candidates go in lexicographic (bound, screened sum of squares) order
    and scoring stops only when every unscored candidate's lower bound exceeds the best exact
    max found, so the result is the exact best move (ties in the max broken by the sum of
    squares). With max_chunks=1 (the search), one chunk of ``promising`` candidates is scored.
    """
    order = promising(lb, dss, chunk) if max_chunks == 1 else lexicographic_order(lb, dss)
    n_cand = order.shape[1]
    chunk = max(1, min(chunk, n_cand))
    best_mx = best_ss = best_pos = None
    start = 0
    while start < n_cand:
        sel = order[:, start : start + chunk]
        mx, ss = exact_scores(moves.take(sel), state, mat, batch)
        j = _argbest(mx, ss).unsqueeze(1)
        c_mx, c_ss, c_pos = mx.gather(1, j)[:, 0], ss.gather(1, j)[:, 0], sel.gather(1, j)[:, 0]
        if best_mx is None or best_ss is None or best_pos is None:
            best_mx, best_ss, best_pos = c_mx, c_ss, c_pos
        else:
            better = (c_mx < best_mx) | ((c_mx == best_mx) & (c_ss < best_ss))
            best_mx = torch.where(better, c_mx, best_mx)
            best_ss = torch.where(better, c_ss, best_ss)
            best_pos = torch.where(better, c_pos, best_pos)
        start += chunk
        if max_chunks is not None and start >= chunk * max_chunks:
            break
        if start < n_cand:
            nxt = lb.gather(1, order[:, start : start + 1])[:, 0]
            # a hair of slack in case the two code paths round differently
            if bool((nxt > best_mx + 1e-12 * best_mx.abs()).all()):
                break
    assert best_mx is not None and best_ss is not None and best_pos is not None
    return BestMove(best_mx, best_ss, moves.take(best_pos.unsqueeze(1)), min(start, n_cand))


def swap_moves(
    singles: Moves,
    lb: torch.Tensor,
    dss: torch.Tensor,
    n_steps: int,
    pool: int,
) -> Moves:
    """Adjacent-level swaps: the ``pool`` best screened +1 moves times the ``pool`` best -1
    moves (pool**2 pairs per instance); pairs on one variable are invalid.
    """
    b = lb.shape[0]
    per_var = 2 * n_steps
    n = lb.shape[1] // per_var
    pool = max(1, min(pool, n))

    def best_of(col: int) -> torch.Tensor:
        pos = torch.arange(n, device=lb.device) * per_var + col
        pos = pos.unsqueeze(0).expand(b, n)
        return pos.gather(1, promising(lb.gather(1, pos), dss.gather(1, pos), pool))

    up, down = best_of(0), best_of(1)
    ua = singles.take(up.repeat_interleave(pool, dim=1))
    db = singles.take(down.repeat(1, pool))
    return Moves(
        var_a=ua.var_a,
        idx_a=ua.idx_a,
        delta_a=ua.delta_a,
        var_b=db.var_a,
        idx_b=db.idx_a,
        delta_b=db.delta_a,
        valid=ua.valid & db.valid & (ua.var_a != db.var_a),
        is_pair=torch.ones_like(ua.valid),
    )
