"""Guided large-neighbourhood search around the incumbent (between the trust-region subproblem
and the completion, ``LnsParams.share`` of the budget; shared by PaS and SRG).

Each round frees a share of the binaries and fixes the others to the incumbent's values, then
solves that sub-MIP (warm-started with the incumbent) for a short time. The freed binaries are
drawn at random, weighted towards those where the guide (the model's P(x_j = 1)) disagrees with
the incumbent:

    w_j = (1 - guide) + guide * |p_j - x_j| / mean_j |p_j - x_j|

(``guide`` 0: uniform random LNS). The share freed adapts between rounds: a round whose
neighbourhood is solved to optimality frees more next time, a round that runs out of time
without improving frees less. The search stops early when the largest neighbourhood is
exhausted without improvement: the full model takes over.

With ``relax`` above 0, each round first solves the LP relaxation of the full model with a
local-branching row around the incumbent (at most ``LNS_RELAX_RADIUS`` of the freed count may
change, summed over the binaries: LB-RELAX, Huang et al., AAAI 2023) by GLOP, and frees the
binaries whose LP value moved away from the incumbent's (up to ``relax`` of the freed
count, drawn in proportion to how far they moved; the rest drawn as above). The LP points at
the binaries that must change together to improve, which a random draw rarely frees at once.

With ``disagree`` above 0 the same share of each round is drawn instead among the binaries the
guide is unsure of (``disagreement``: 0 < P(x_j = 1) < 1; for SRG, whose guide is the mean of
its K candidates, exactly the binaries on which the candidates disagree), weighted by how evenly
split they are, all of them when they are fewer than the share: the search frees what the
candidates disagree on and keeps what they agree on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mipguide.guidance.best import Best
from mipguide.guidance.params import LnsParams
from mipguide.guidance.trust_region import trust_region
from mipguide.pipeline.trace import Trace
from mipguide.problem.model import Problem
from mipguide.solvers.base import SolverBackend, get_backend
from mipguide.solvers.types import IncumbentSource, Interrupt, SolveOptions, Status, is_stopped

# the freed share adapts within [LNS_MIN_FREE, LNS_MAX_FREE] by LNS_ADAPT per round
LNS_MIN_FREE = 0.02
LNS_MAX_FREE = 0.9
LNS_ADAPT = 1.5
# a round shorter than this is not started (building the sub-MIP alone takes about as long)
LNS_MIN_ROUND = 0.2
# ``relax``: the local-branching radius as a share of the freed count, and the share of a
# round's time its LP may take
LNS_RELAX_RADIUS = 0.1
LNS_RELAX_SHARE = 0.25
# an LP value this far from the incumbent's counts as moved
LNS_RELAX_MOVED = 1e-6


@dataclass
class LnsOutcome:
    """Attributes:
    rounds: sub-MIPs solved; improved: how many improved the incumbent; exhausted: how many
    were solved to optimality; free: the share freed in the last round; stopped_early: the
    largest neighbourhood was exhausted without improvement before the budget ran out;
    relaxed: rounds whose neighbourhood the local-branching LP chose (``relax``); stalled:
    the rounds were ended by ``LnsParams.stall``.
    """

    rounds: int = 0
    improved: int = 0
    exhausted: int = 0
    free: float = 0.0
    stopped_early: bool = False
    relaxed: int = 0
    stalled: bool = False


def fix_binaries(problem: Problem, index: np.ndarray, values: np.ndarray) -> Problem:
    """The problem with the binaries ``index`` fixed to ``values`` (rounded at 0.5) by bounds."""
    lower, upper = problem.col_lower.copy(), problem.col_upper.copy()
    v = (np.asarray(values, dtype=np.float64) > 0.5).astype(np.float64)
    lower[index] = v
    upper[index] = v
    return replace(problem, col_lower=lower, col_upper=upper)


def lns_weights(x_bin: np.ndarray, guide: np.ndarray | None, mix: float) -> np.ndarray:
    """Sampling weights of the binaries (positive, summing to 1); see the module docstring."""
    n = x_bin.size
    w = np.ones(n)
    if guide is not None and mix > 0:
        d = np.abs(np.asarray(guide, dtype=np.float64) - (x_bin > 0.5))
        mean = float(d.mean())
        if mean > 0:
            w = (1.0 - mix) + mix * d / mean
    w = np.maximum(w, 1e-12)
    return w / w.sum()


def disagreement(probs: np.ndarray) -> np.ndarray:
    """4 p (1 - p) per binary: 1 where the guide is evenly split (half the candidates take 1),
    0 where it is sure (every candidate agrees)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    return 4.0 * p * (1.0 - p)


def relaxation_values(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    seconds: float,
    interrupt: Interrupt | None,
) -> np.ndarray | None:
    """The solution of ``problem``'s LP relaxation, or None when it is not solved to optimality
    within ``seconds``."""
    relaxed = replace(problem, integrality=np.zeros(problem.num_vars, dtype=bool))
    res = backend.solve(relaxed, replace(options, time_limit=seconds, start=None), None, interrupt)
    if res.status != Status.OPTIMAL or res.x is None:
        return None
    return np.asarray(res.x, dtype=np.float64)


def relaxation_moves(
    problem: Problem,
    bidx: np.ndarray,
    x_bin: np.ndarray,
    radius: int,
    seconds: float,
    interrupt: Interrupt | None,
) -> np.ndarray | None:
    """|x_lp - x| on the binaries ``bidx``, where x_lp solves the LP relaxation of ``problem``
    within ``radius`` (L1, on the binaries) of the incumbent's binary values ``x_bin``
    (GLOP); None when that LP is not solved to optimality within ``seconds``."""
    center = (np.asarray(x_bin) > 0.5).astype(np.float64)
    ball = trust_region(problem, bidx, center, radius)
    x_lp = relaxation_values(ball, get_backend("glop"), SolveOptions(), seconds, interrupt)
    if x_lp is None:
        return None
    return np.abs(x_lp[bidx] - center)


def draw_neighbourhood(
    rng: np.random.Generator, k: int, w: np.ndarray, moves: np.ndarray | None, share: float
) -> np.ndarray:
    """``k`` distinct positions: up to ``share * k`` drawn among those whose ``moves`` exceed
    ``LNS_RELAX_MOVED`` with weights ``moves`` (all of them when they are fewer), the rest
    drawn with weights ``w``."""
    n = w.size
    chosen = np.zeros(0, dtype=np.int64)
    if moves is not None and share > 0:
        moved = np.flatnonzero(moves > LNS_RELAX_MOVED)
        take = min(k, round(share * k), moved.size)
        p_moved = moves[moved] / moves[moved].sum() if moved.size else None
        chosen = rng.choice(moved, size=take, replace=False, p=p_moved)
    if chosen.size >= k:
        return chosen
    rest = np.ones(n, dtype=bool)
    rest[chosen] = False
    pool = np.flatnonzero(rest)
    p = w[pool] / w[pool].sum()
    more = rng.choice(pool, size=min(pool.size, k - chosen.size), replace=False, p=p)
    return np.concatenate([chosen, more])


def run_lns(
    problem: Problem,
    backend: SolverBackend,
    options: SolveOptions,
    sub_options: SolveOptions,
    params: LnsParams,
    guide: tuple[np.ndarray, np.ndarray] | None,
    best: Best,
    trace: Trace,
    interrupt: Interrupt | None,
    budget: float,
) -> LnsOutcome:
    """LNS rounds around ``best`` for at most ``budget`` seconds.

    Args:
        options: the solve's options (seed); sub_options: the options of each sub-MIP (time
            limit and start are set per round).
        guide: (binary variable indices, P(x = 1) on them); None: uniform over the binaries.
        best: updated with every verified improvement.
    """
    out = LnsOutcome(free=params.free)
    if best.x is None or budget <= LNS_MIN_ROUND:
        return out
    bidx, probs = _guide_arrays(problem, guide)
    n = bidx.size
    if n == 0:
        return out
    rng = np.random.default_rng(options.seed)
    deadline = trace.elapsed() + budget
    round_seconds = max(LNS_MIN_ROUND, params.round * budget)
    free = params.free
    while True:
        left = deadline - trace.elapsed()
        if left <= LNS_MIN_ROUND or is_stopped(interrupt):
            return out
        x = best.x
        k = min(n, max(1, round(free * n)))
        moves = None
        if params.relax > 0:
            radius = max(1, round(LNS_RELAX_RADIUS * k))
            lp_seconds = min(left, LNS_RELAX_SHARE * round_seconds)
            moves = relaxation_moves(problem, bidx, x[bidx], radius, lp_seconds, interrupt)
            out.relaxed += int(moves is not None)
            left = deadline - trace.elapsed()
            if left <= LNS_MIN_ROUND:
                return out
        w = lns_weights(x[bidx], probs, params.guide)
        share = params.relax
        if params.disagree > 0 and probs is not None:
            moves, share = disagreement(probs), params.disagree
        freed = draw_neighbourhood(rng, k, w, moves, share)
        keep = np.ones(n, dtype=bool)
        keep[freed] = False  # the binaries outside the neighbourhood keep the incumbent's values
        sub = fix_binaries(problem, bidx[keep], x[bidx[keep]])
        opts = replace(sub_options, time_limit=min(round_seconds, left), start=x)
        relay = trace.relay(keep_bound=False, source=IncumbentSource.LNS)
        res = backend.solve(sub, opts, relay, interrupt)
        improved = best.consider(problem, res.x)
        next_free = _adapt(out, free, res.status == Status.OPTIMAL, improved)
        if next_free is None:
            return out
        free = next_free


def _guide_arrays(
    problem: Problem, guide: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(binary indices, P(x = 1) or None for uniform)."""
    if guide is None:
        return np.flatnonzero(problem.binary_mask), None
    return np.asarray(guide[0], dtype=np.int64), np.asarray(guide[1], dtype=float)


def _adapt(out: LnsOutcome, free: float, exhausted: bool, improved: bool) -> float | None:
    """Count the round; the next round's free share, or None to stop (the whole neighbourhood
    of the largest size was searched without improvement)."""
    out.rounds += 1
    out.improved += int(improved)
    out.free = free
    if exhausted:
        out.exhausted += 1
        if not improved and free >= LNS_MAX_FREE:
            out.stopped_early = True
            return None
        return min(LNS_MAX_FREE, free * LNS_ADAPT)
    return free if improved else max(LNS_MIN_FREE, free / LNS_ADAPT)
