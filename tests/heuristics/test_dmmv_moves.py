"""The screened best move (top-K rows, then exact in bound order) equals brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mipguide.heuristics.dmmv.evaluate import row_violations, start_indices
from mipguide.heuristics.dmmv.moves import best_move, screen, single_moves, swap_moves, top_rows
from mipguide.heuristics.dmmv.state import new_state, violations
from mipguide.heuristics.dmmv.tensors import to_device_batch, to_device_matrix
from mipguide.heuristics.dmmv.types import stack_instances
from tests.heuristics.dmmv_cases import random_instance

STEPS = (1, 2)


def _setup(seeds: list[int], m: int, n: int):
    batch = stack_instances([random_instance(s, m=m, n=n, matrix_seed=99) for s in seeds])
    dev = torch.device("cpu")
    mat = to_device_matrix(batch.A, dev, torch.float64)
    db = to_device_batch(batch, dev, torch.float64)
    state = new_state(mat, db, torch.as_tensor(start_indices(batch)))
    return batch, mat, db, state


def _brute_force(batch, b: int, idx: np.ndarray) -> tuple[float, float]:
    """Best (max, sum of squares) over every single move of instance b, in numpy."""
    levels = batch.levels_of(b)
    counts = np.isfinite(levels).sum(1)
    x = levels[np.arange(len(idx)), idx]
    best = (np.inf, np.inf)
    for j in range(len(idx)):
        for d in [s for s in STEPS for s in (s, -s)]:
            t = idx[j] + d
            if not 0 <= t < counts[j]:
                continue
            y = x.copy()
            y[j] = levels[j, t]
            v = row_violations(batch.A, y, batch.lower[b], batch.upper[b])
            best = min(best, (float(v.max()), float(v @ v)))
    return best


@pytest.mark.parametrize("top_k", [1, 3, 40])
@pytest.mark.parametrize("chunk", [1, 4])
def test_screened_best_move_equals_brute_force(top_k: int, chunk: int) -> None:
    seeds = list(range(6))
    batch, mat, db, state = _setup(seeds, m=10, n=7)
    v = violations(state.r, db.lower, db.upper)
    rows = top_rows(v, top_k)
    moves = single_moves(state, db, STEPS)
    lb, dss = screen(moves, state, mat, db, rows)
    bm = best_move(moves, lb, dss, state, mat, db, chunk=chunk, max_chunks=None)
    for b in range(len(seeds)):
        mx, ss = _brute_force(batch, b, state.idx[b].numpy())
        assert bm.max_violation[b].item() == pytest.approx(mx, rel=1e-12, abs=1e-12)
        assert bm.sum_squares[b].item() == pytest.approx(ss, rel=1e-9, abs=1e-12)


def test_screening_prunes_when_the_bound_is_tight() -> None:
    batch, mat, db, state = _setup([11, 12], m=40, n=30)
    v = violations(state.r, db.lower, db.upper)
    moves = single_moves(state, db, STEPS)
    lb, dss = screen(moves, state, mat, db, top_rows(v, 40))
    bm = best_move(moves, lb, dss, state, mat, db, chunk=4, max_chunks=None)
    assert bm.evaluated < moves.var_a.shape[1]


def test_lower_bound_never_exceeds_exact_score() -> None:
    batch, mat, db, state = _setup([3, 4, 5], m=15, n=9)
    v = violations(state.r, db.lower, db.upper)
    moves = single_moves(state, db, STEPS)
    lb, dss = screen(moves, state, mat, db, top_rows(v, 4))
    pairs = swap_moves(moves, lb, dss, len(STEPS), pool=3)
    plb, _ = screen(pairs, state, mat, db, top_rows(v, 4))
    from mipguide.heuristics.dmmv.moves import exact_scores

    for cand, bound in ((moves, lb), (pairs, plb)):
        mx, _ = exact_scores(cand, state, mat, db)
        assert bool((bound <= mx).all())


def test_swaps_move_two_variables_in_opposite_directions() -> None:
    _, mat, db, state = _setup([7], m=10, n=6)
    moves = single_moves(state, db, STEPS)
    v = violations(state.r, db.lower, db.upper)
    lb, dss = screen(moves, state, mat, db, top_rows(v, 5))
    pairs = swap_moves(moves, lb, dss, len(STEPS), pool=3)
    ok = pairs.valid[0]
    assert bool(ok.any())
    up = pairs.idx_a[0][ok] - state.idx[0][pairs.var_a[0][ok]]
    down = pairs.idx_b[0][ok] - state.idx[0][pairs.var_b[0][ok]]
    assert bool((up == 1).all()) and bool((down == -1).all())
    assert bool((pairs.var_a[0][ok] != pairs.var_b[0][ok]).all())
