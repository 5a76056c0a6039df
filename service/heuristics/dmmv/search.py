"""The DMMV search loop on one device: (matrix, batch tensors, start, config) -> best indices.

Iterated local search, all instances of the batch in one tensor program: each pass every
instance either takes its best improving move (single or swap, screened then exact) or, at a
local minimum, records it if it beats the best, returns to the best otherwise, and perturbs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from mipguide.heuristics.dmmv.moves import (
    best_move,
    concat,
    screen,
    single_moves,
    swap_moves,
    top_rows,
)
from mipguide.heuristics.dmmv.perturb import perturb
from mipguide.heuristics.dmmv.state import (
    SearchState,
    apply_moves,
    new_state,
    recompute,
    violations,
)
from mipguide.heuristics.dmmv.tensors import DeviceBatch, DeviceMatrix
from mipguide.heuristics.dmmv.types import DmmvConfig

COUNTERS = (
    "moves",
    "swaps",
    "kicks",
    "random_perturbations",
    "restarts",
    "rounding_restarts",
    "improvements",
    "recomputes",
    "exact_scored",
)


@dataclass(frozen=True)
class SearchOutcome:
    """Best level indices (B, n), passes run, counters per instance, wall seconds, whether
    ``stop`` ended the search early, and whether the passes ran as a CUDA graph."""

    best_idx: torch.Tensor
    iterations: int
    counters: list[dict[str, int]]
    seconds: float
    interrupted: bool = False
    graphed: bool = False


StopCheck = Callable[[], bool]
# (seconds since the search started, largest best max violation over the batch)
ProgressCallback = Callable[[float, float], None]


def _keys(state: SearchState, batch: DeviceBatch) -> tuple[torch.Tensor, torch.Tensor]:
    v = violations(state.r, batch.lower, batch.upper)
    return v.amax(1), v.square().sum(1)


class _Loop:
    """Holds the tensors of one search; ``step`` runs one pass."""

    def __init__(
        self,
        mat: DeviceMatrix,
        batch: DeviceBatch,
        start: torch.Tensor,
        config: DmmvConfig,
        rounding: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> None:
        self.mat, self.batch, self.cfg, self.rounding = mat, batch, config, rounding
        self.state = new_state(mat, batch, start)
        self.best = self.state.clone()
        self.best_mx, self.best_ss = _keys(self.best, batch)
        b = start.shape[0]
        dev = start.device
        self.fails = torch.zeros(b, dtype=torch.long, device=dev)
        self.count = {k: torch.zeros(b, dtype=torch.long, device=dev) for k in COUNTERS}
        self.gen = torch.Generator(device=dev)
        self.gen.manual_seed(config.seed)
        eps = torch.finfo(mat.A.dtype).eps
        self.rel = 64 * eps

    def step(self, it: int, sync: bool = True) -> None:
        """One pass. ``sync=False``: no host synchronization (the perturbation step runs with
        an all-false mask when no instance is stuck), as a CUDA graph needs."""
        cfg = self.cfg
        if cfg.recompute_every > 0 and it % cfg.recompute_every == 0:
            recompute(self.state, self.mat)
            recompute(self.best, self.mat)
            self.count["recomputes"] += 1
        self.move(sync)

    def move(self, sync: bool = True) -> None:
        cfg, st = self.cfg, self.state
        v = violations(st.r, self.batch.lower, self.batch.upper)
        cur_mx, cur_ss = v.amax(1), v.square().sum(1)
        rows = top_rows(v, cfg.top_k)
        singles = single_moves(st, self.batch, cfg.steps)
        lb, dss = screen(singles, st, self.mat, self.batch, rows)
        cand = singles
        if cfg.swap_pool > 0 and st.idx.shape[1] > 1:
            pairs = swap_moves(singles, lb, dss, len(cfg.steps), cfg.swap_pool)
            plb, pdss = screen(pairs, st, self.mat, self.batch, rows)
            cand, lb, dss = (
                concat(singles, pairs),
                torch.cat([lb, plb], 1),
                torch.cat([dss, pdss], 1),
            )
        bm = best_move(cand, lb, dss, st, self.mat, self.batch, cfg.exact_candidates, 1)
        self.count["exact_scored"] += bm.evaluated
        scale = st.r.abs().amax(1) + cur_mx
        improve = (bm.max_violation < cur_mx - self.rel * scale) | (
            (bm.max_violation <= cur_mx) & (bm.sum_squares < cur_ss * (1 - self.rel * 16))
        )
        mv = bm.moves
        pair = improve & mv.is_pair[:, 0]
        apply_moves(st, self.mat, self.batch, mv.var_a, mv.idx_a, improve.unsqueeze(1))
        apply_moves(st, self.mat, self.batch, mv.var_b, mv.idx_b, pair.unsqueeze(1))
        self.count["moves"] += (improve & ~pair).long()
        self.count["swaps"] += pair.long()
        stuck = ~improve
        if not sync or bool(stuck.any()):
            self._restart(stuck, cur_mx, cur_ss)

    def _restart(self, stuck: torch.Tensor, cur_mx: torch.Tensor, cur_ss: torch.Tensor) -> None:
        cfg = self.cfg
        better = self.keep_if_better(stuck, cur_mx, cur_ss)
        self.fails = torch.where(better, 0, torch.where(stuck, self.fails + 1, self.fails))
        revert = stuck & ~better
        self.state.copy_from(self.best, revert)
        self.count["restarts"] += revert.long()
        level = (self.fails // max(1, cfg.escalate_after)).clamp(max=30)
        size = torch.clamp(2 ** (level + 1), max=cfg.max_perturb)
        rand = torch.rand(stuck.shape, generator=self.gen, device=stuck.device)
        kick = rand < cfg.kick_probability
        if self.rounding is not None:
            again = torch.rand(stuck.shape, generator=self.gen, device=stuck.device)
            fresh = stuck & (again < cfg.rounding_restarts)
            lo, frac = self.rounding
            up = torch.rand(frac.shape, generator=self.gen, device=frac.device) < frac
            self.state.copy_from(new_state(self.mat, self.batch, lo + up.long()), fresh)
            self.count["rounding_restarts"] += fresh.long()
            stuck = stuck & ~fresh
        perturb(self.state, self.mat, self.batch, stuck, size, kick, cfg.max_perturb, self.gen)
        self.count["kicks"] += (stuck & kick).long()
        self.count["random_perturbations"] += (stuck & ~kick).long()

    def keep_if_better(
        self, mask: torch.Tensor, cur_mx: torch.Tensor, cur_ss: torch.Tensor
    ) -> torch.Tensor:
        """Record the current state as the best where it is (lexicographically) better."""
        better = mask & (
            (cur_mx < self.best_mx) | ((cur_mx == self.best_mx) & (cur_ss < self.best_ss))
        )
        self.best.copy_from(self.state, better)
        self.best_mx = torch.where(better, cur_mx, self.best_mx)
        self.best_ss = torch.where(better, cur_ss, self.best_ss)
        self.count["improvements"] += better.long()
        return better

    def finish(self) -> torch.Tensor:
        recompute(self.state, self.mat)
        recompute(self.best, self.mat)
        self.best_mx, self.best_ss = _keys(self.best, self.batch)
        cur_mx, cur_ss = _keys(self.state, self.batch)
        self.keep_if_better(torch.ones_like(cur_mx, dtype=torch.bool), cur_mx, cur_ss)
        return self.best.idx


def run_search(
    mat: DeviceMatrix,
    batch: DeviceBatch,
    start: torch.Tensor,
    config: DmmvConfig,
    *,
    stop: StopCheck | None = None,
    on_improve: ProgressCallback | None = None,
    rounding: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> SearchOutcome:
    """Search from the start indices (B, n) until the time limit, the iteration limit, ``stop()``
    answers True, or every instance has a zero max violation.

    Args:
        stop: polled between passes, where the time limit is checked (a cooperative interrupt).
        rounding: (lo, frac) of ``evaluate.rounding_brackets`` on the device, for the random
            rounding restarts (``config.rounding_restarts``).
        on_improve: called with (seconds, value) at the start and whenever the largest best max
            violation over the batch goes down (values from the working dtype; the final answer
            is recomputed in float64 by the caller).
    """
    t0 = time.perf_counter()
    loop = _Loop(mat, batch, start, config, rounding)
    graph: _GraphedPass | None = None
    want_graph = config.cuda_graph and start.device.type == "cuda"
    it, interrupted = 0, False
    reported = float("inf")
    while time.perf_counter() - t0 < config.time_limit:
        if on_improve is not None:
            reported = _report(loop, reported, t0, on_improve)
        if stop is not None and stop():
            interrupted = True
            break
        if config.max_iterations is not None and it >= config.max_iterations:
            break
        if bool((loop.best_mx <= 0).all()):
            break
        it += 1
        if graph is not None:
            graph.step(it)
            continue
        loop.step(it, sync=not want_graph)
        if want_graph and it >= GRAPH_WARMUP:
            graph, want_graph = _GraphedPass.capture(loop), False
    best = loop.finish()
    if on_improve is not None:
        _report(loop, reported, t0, on_improve)
    per = {k: c.tolist() for k, c in loop.count.items()}
    counters = [{k: int(per[k][b]) for k in COUNTERS} for b in range(start.shape[0])]
    seconds = time.perf_counter() - t0
    return SearchOutcome(best, it, counters, seconds, interrupted, graph is not None)


GRAPH_WARMUP = 3  # plain passes before the capture (lazy initialization happens outside it)


class _GraphedPass:
    """One pass of a ``_Loop`` captured as a CUDA graph.

    The pass rebinds the loop's tensors (``state.r = ...``); inside the capture the new values
    are copied back into the tensors the pass started from, so every replay reads and writes
    the same memory. The drift recomputation runs outside the graph, into those tensors.
    """

    def __init__(self, loop: _Loop, graph: Any, fields: list[tuple[Any, str, torch.Tensor]]):
        self.loop, self.graph, self.fields = loop, graph, fields

    @staticmethod
    def fields_of(loop: _Loop) -> list[tuple[Any, str, torch.Tensor]]:
        owners: list[tuple[Any, str]] = [(loop.state, n) for n in ("idx", "x", "r")]
        owners += [(loop.best, n) for n in ("idx", "x", "r")]
        owners += [(loop, n) for n in ("best_mx", "best_ss", "fails")]
        owners += [(loop.count, k) for k in COUNTERS]
        return [(o, n, _get(o, n)) for o, n in owners]

    @classmethod
    def capture(cls, loop: _Loop) -> _GraphedPass | None:
        """The captured pass, or None (and the loop untouched) when the capture fails."""
        fields = cls.fields_of(loop)
        try:
            graph = torch.cuda.CUDAGraph()
            graph.register_generator_state(loop.gen)
            torch.cuda.synchronize()
            with torch.cuda.graph(graph):
                loop.move(sync=False)
                for owner, name, static in fields:
                    new = _get(owner, name)
                    if new is not static:
                        static.copy_(new)
        except Exception:  # noqa: BLE001 - any capture failure: plain passes are still correct
            graph = None
        for owner, name, static in fields:  # capture ran nothing: the statics hold the state
            _set(owner, name, static)
        return None if graph is None else cls(loop, graph, fields)

    def step(self, it: int) -> None:
        loop, cfg = self.loop, self.loop.cfg
        if cfg.recompute_every > 0 and it % cfg.recompute_every == 0:
            for st in (loop.state, loop.best):
                st.r.copy_(st.x @ loop.mat.At)
            loop.count["recomputes"] += 1
        self.graph.replay()


def _get(owner: Any, name: str) -> torch.Tensor:
    return owner[name] if isinstance(owner, dict) else getattr(owner, name)


def _set(owner: Any, name: str, value: torch.Tensor) -> None:
    if isinstance(owner, dict):
        owner[name] = value
    else:
        setattr(owner, name, value)


def _report(loop: _Loop, reported: float, t0: float, on_improve: ProgressCallback) -> float:
    value = float(loop.best_mx.max())
    if value < reported:
        on_improve(time.perf_counter() - t0, value)
        return value
    return reported
