"""Guided LNS between the subproblem and the completion: neighbourhoods, adaptation, real SCIP
rounds that improve a poor incumbent, and PaS with LNS still proving the optimum."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mipguide.errors import InvalidOptionError
from mipguide.guidance.best import Best
from mipguide.guidance.lns import (
    LNS_MAX_FREE,
    disagreement,
    draw_neighbourhood,
    fix_binaries,
    lns_weights,
    relaxation_moves,
    relaxation_values,
    run_lns,
)
from mipguide.guidance.params import (
    LnsParams,
    PasParams,
    SearchParams,
    SrgParams,
    SubproblemParams,
    parse_params,
)
from mipguide.guidance.pas import PasGuide
from mipguide.guidance.run import run_guided
from mipguide.guidance.search import search_region
from mipguide.guidance.trust_region import Region
from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.models.registry import LoadedModel
from mipguide.pipeline.solve import solve_problem
from mipguide.pipeline.trace import Trace
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify
from mipguide.solvers.base import get_backend
from mipguide.solvers.types import (
    IncumbentSource,
    SolveOptions,
    SolveOutput,
    Status,
    Termination,
    TerminationReason,
)


def small_set_cover(seed: int = 3) -> Problem:
    params = SetCoverParams(n_rows=150, n_cols=120, density=0.06)
    return generate_with(Family.SET_COVER, params, seed)


def test_fix_binaries_sets_bounds_and_leaves_the_rest() -> None:
    p = small_set_cover()
    sub = fix_binaries(p, np.array([0, 5, 7]), np.array([1.0, 0.2, 0.9]))
    assert sub.col_lower[[0, 5, 7]].tolist() == [1.0, 0.0, 1.0]
    assert sub.col_upper[[0, 5, 7]].tolist() == [1.0, 0.0, 1.0]
    others = np.setdiff1d(np.arange(p.num_vars), [0, 5, 7])
    assert (sub.col_lower[others] == p.col_lower[others]).all()
    assert (sub.col_upper[others] == p.col_upper[others]).all()
    assert sub.A is p.A and p.col_upper[5] == 1.0  # the original is untouched


def test_lns_weights_follow_the_disagreement_of_guide_and_incumbent() -> None:
    x = np.array([0.0, 0.0, 1.0, 1.0])
    guide = np.array([0.0, 0.5, 1.0, 0.0])  # disagreement 0, 0.5, 0, 1
    assert np.allclose(lns_weights(x, guide, 0.0), 0.25)
    assert np.allclose(lns_weights(x, None, 1.0), 0.25)
    pure = lns_weights(x, guide, 1.0)
    assert pure.sum() == pytest.approx(1.0) and (pure > 0).all()
    assert pure[3] == pytest.approx(2 * pure[1]) and pure[0] < 1e-9
    half = lns_weights(x, guide, 0.5)
    assert half[0] == pytest.approx(half[2]) and half[0] < half[1] < half[3]
    # the incumbent agrees with the guide everywhere: uniform
    assert np.allclose(lns_weights(x, x, 1.0), 0.25)


class NoProgress:
    """A backend stand-in for the neighbourhood choice: records each round's fixings and
    reports its neighbourhood exhausted without improvement."""

    name = "scip"

    def __init__(self) -> None:
        self.fixed: list[np.ndarray] = []
        self.limits: list[float] = []

    def solve(self, problem, options, on_incumbent, interrupt):  # noqa: ANN001, ANN201
        self.fixed.append(problem.col_lower == problem.col_upper)
        self.limits.append(options.time_limit)
        return stub_output(Status.OPTIMAL, options.start, problem.objective_value(options.start))


def stub_output(status: Status, x: np.ndarray | None, objective: float | None) -> SolveOutput:
    """A backend's answer for the stand-ins below (optimal, or stopped by its time limit)."""
    reason = TerminationReason.OPTIMAL if status == Status.OPTIMAL else TerminationReason.TIME_LIMIT
    return SolveOutput(
        status=status,
        termination=Termination(reason),
        x=x,
        objective=objective,
        bound=None,
        solver="scip",
        solver_version="test",
        build_seconds=0.0,
        solve_seconds=0.0,
        incumbents=(),
    )


def record_rounds(seed: int, guide_mix: float = 0.5) -> tuple[NoProgress, object]:
    p = small_set_cover()
    best = Best()
    assert best.consider(p, np.ones(p.num_vars))
    backend = NoProgress()
    params = LnsParams(share=1.0, free=0.2, guide=guide_mix)
    probs = np.linspace(0.0, 1.0, p.num_vars)
    guide = (np.arange(p.num_vars), probs)
    out = run_lns(
        p,
        backend,  # type: ignore[arg-type]
        SolveOptions(seed=seed),
        SolveOptions(),
        params,
        guide,
        best,
        Trace(True),
        None,
        budget=30.0,
    )
    return backend, out


def test_exhausted_neighbourhoods_grow_until_the_largest_then_the_search_stops() -> None:
    backend, out = record_rounds(seed=1)
    n = backend.fixed[0].size
    freed = [int((~f).sum()) for f in backend.fixed]
    assert freed[0] == round(0.2 * n)
    assert freed == sorted(freed) and freed[-1] == round(LNS_MAX_FREE * n)
    assert out.stopped_early and out.rounds == len(freed) and out.improved == 0  # type: ignore[attr-defined]
    assert out.exhausted == out.rounds  # type: ignore[attr-defined]


def test_neighbourhoods_are_reproducible_from_the_seed_and_follow_the_guide() -> None:
    a, _ = record_rounds(seed=1)
    b, _ = record_rounds(seed=1)
    c, _ = record_rounds(seed=2)
    assert all((x == y).all() for x, y in zip(a.fixed, b.fixed, strict=True))
    assert not (a.fixed[0] == c.fixed[0]).all()
    # the incumbent is all ones; the guide rises from 0 to 1, so the binaries it expects at 0
    # (the first half, weight 1 - p) are freed more often than the others in the small first
    # neighbourhoods (20 % and 30 % of the binaries)
    guided, _ = record_rounds(seed=1, guide_mix=1.0)
    first, second = ~guided.fixed[0], ~guided.fixed[1]
    half = first.size // 2
    for freed in (first, second):
        assert freed[:half].sum() > 1.5 * freed[half:].sum()


def test_lns_rounds_with_scip_improve_a_poor_incumbent() -> None:
    p = small_set_cover()
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    best = Best()
    assert best.consider(p, np.ones(p.num_vars))
    start = best.objective
    trace = Trace(True)
    out = run_lns(
        p,
        get_backend("scip"),
        SolveOptions(seed=0),
        SolveOptions(),
        LnsParams(share=1.0, free=0.3),
        None,
        best,
        trace,
        None,
        budget=60.0,
    )
    assert out.rounds >= 1 and out.improved >= 1
    assert best.x is not None and verify(p, best.x).feasible
    assert best.objective is not None and start is not None
    assert exact.objective is not None and exact.objective <= best.objective < start
    assert trace.items and {i.source for i in trace.items} == {IncumbentSource.LNS}
    assert trace.items[-1].objective == pytest.approx(best.objective)
    # a small problem: the largest neighbourhood is exhausted long before 60 s
    assert out.stopped_early


def test_relaxation_values_solve_the_lp_relaxation() -> None:
    p = small_set_cover(seed=4)  # its LP optimum is fractional (637.1 vs 657)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    x = relaxation_values(p, get_backend("scip"), SolveOptions(), 30.0, None)
    assert x is not None and x.shape == (p.num_vars,)
    assert (x >= -1e-9).all() and (x <= 1 + 1e-9).all()
    assert (p.A @ x >= p.row_lower - 1e-6).all()  # every row covered
    fractional = (x > 1e-6) & (x < 1 - 1e-6)
    assert fractional.any()  # a real relaxation here, not the integer optimum
    assert exact.objective is not None
    assert p.objective_value(x) < exact.objective - 1e-6  # the LP bound is below the optimum


def test_lns_with_local_branching_lps_improves_a_poor_incumbent() -> None:
    """``relax``: every round's neighbourhood from the local-branching LP around the
    incumbent."""
    params = LnsParams(share=1.0, free=0.3, relax=1.0)
    p = small_set_cover(seed=4)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    best = Best()
    assert best.consider(p, np.ones(p.num_vars))
    start = best.objective
    out = run_lns(
        p,
        get_backend("scip"),
        SolveOptions(seed=0),
        SolveOptions(),
        params,
        None,
        best,
        Trace(True),
        None,
        budget=60.0,
    )
    assert out.rounds >= 1 and out.improved >= 1
    assert out.relaxed == out.rounds  # every round's LP was solved
    assert best.x is not None and verify(p, best.x).feasible
    assert exact.objective is not None and start is not None and best.objective is not None
    assert exact.objective <= best.objective < start


def test_neighbourhood_draw_takes_the_moved_by_their_moves_then_fills_by_weight() -> None:
    rng = np.random.default_rng(0)
    w = np.full(10, 0.1)
    moves = np.array([0.0, 0.9, 0.0, 0.3, 0.0, 0.0, 0.6, 0.0, 1e-9, 0.0])
    freed = draw_neighbourhood(rng, 5, w, moves, 1.0)
    assert freed.size == 5 and np.unique(freed).size == 5
    assert sorted(freed[:3].tolist()) == [1, 3, 6]  # all three moved (1e-9 does not count)
    # a share caps the LP's part: 2 of 4 among the moved, 2 more by weight (here only 0 or 9)
    w2 = np.zeros(10)
    w2[[0, 9]] = 0.5
    counts = np.zeros(10)
    for seed in range(300):
        capped = draw_neighbourhood(np.random.default_rng(seed), 4, w2, moves, 0.5)
        assert set(capped[:2]) <= {1, 3, 6} and sorted(capped[2:].tolist()) == [0, 9]
        counts[capped[:2]] += 1
    # drawn in proportion to the moves: 6 (0.6) more often than 3 (0.3), 1 (0.9) the most
    assert counts[1] > counts[6] > counts[3] > 0
    # without moves (the LP not solved) or share 0: the weighted draw alone
    assert set(draw_neighbourhood(np.random.default_rng(2), 2, w2, None, 1.0)) == {0, 9}
    assert set(draw_neighbourhood(np.random.default_rng(2), 2, w2, moves, 0.0)) == {0, 9}


def test_relaxation_moves_stay_within_the_radius_and_point_downhill() -> None:
    p = small_set_cover(seed=4)
    x = np.ones(p.num_vars)  # every column taken: feasible and far from optimal
    bidx = np.flatnonzero(p.binary_mask)
    for radius in (1, 5):
        moves = relaxation_moves(p, bidx, x[bidx], radius, 30.0, None)
        assert moves is not None and moves.shape == bidx.shape
        assert (moves >= 0).all() and moves.sum() == pytest.approx(radius, abs=1e-6)
        # the LP drops expensive columns first: the cheapest moved one costs at least the
        # median of those left in place
        moved = moves > 1e-6
        assert p.c[bidx[moved]].min() >= np.median(p.c[bidx[~moved]])


def test_pas_with_lns_still_proves_the_optimum(tiny_model: LoadedModel) -> None:
    p = small_set_cover(seed=5)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    params = PasParams(search=SearchParams(lns=LnsParams(share=0.5, free=0.3)))
    result = run_guided(p, "scip", SolveOptions(time_limit=30), PasGuide(tiny_model, params))
    assert result.status == Status.OPTIMAL
    assert result.objective == pytest.approx(exact.objective)
    assert result.max_violation is not None and result.max_violation <= 1e-6
    info = result.extra["pas"]
    assert info["completed"] and info["lns"]["rounds"] >= 1
    assert result.seconds["lns"] >= 0 and result.seconds["completion"] >= 0


@pytest.mark.parametrize("cls", [PasParams, SrgParams])
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"share": 1.5}, "share"),
        ({"share": -0.1}, "share"),
        ({"free": 0.0}, "free"),
        ({"round": 0.0}, "round"),
        ({"guide": 2.0}, "guide"),
        ({"relax": 1.5}, "relax"),
        ({"relax": -0.5}, "relax"),
        ({"relax": "0.5"}, "relax"),
        ({"stretch": 2.0}, "stretch"),
    ],
)
def test_lns_parameters_are_checked_and_named(cls: type, bad: dict, field: str) -> None:
    option = cls.__name__[:3].lower()
    with pytest.raises(InvalidOptionError) as err:
        parse_params(cls, option, {"search": {"lns": bad}})
    assert err.value.option == f"{option}.search.lns.{field}"
    ok = parse_params(cls, option, {"search": {"lns": {"share": 0.5}}})
    assert ok.search.lns.share == 0.5


def test_disagreement_neighbourhoods_free_exactly_the_binaries_the_candidates_disagree_on() -> None:
    """Four candidates (SRG's K) agree on every binary but 2, 5 and 7: a round freeing three
    frees exactly those, whatever the seed; a larger round frees them and fills by weight."""
    x = np.zeros((4, 10))
    x[:, [0, 9]] = 1.0  # agreed on: 1
    x[:2, 2] = 1.0  # split 2 / 2
    x[:1, 5] = 1.0  # split 1 / 3
    x[1:, 7] = 1.0  # split 3 / 1
    guide = x.mean(axis=0)
    d = disagreement(guide)
    assert np.flatnonzero(d).tolist() == [2, 5, 7] and d[2] == 1.0 and d[5] == d[7] == 0.75
    w = lns_weights(np.zeros(10), guide, 0.5)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        assert sorted(draw_neighbourhood(rng, 3, w, d, 1.0).tolist()) == [2, 5, 7]
        larger = draw_neighbourhood(np.random.default_rng(seed), 5, w, d, 1.0)
        assert {2, 5, 7} <= set(larger.tolist()) and len(set(larger.tolist())) == 5
    smaller = draw_neighbourhood(np.random.default_rng(0), 2, w, d, 1.0)
    assert set(smaller.tolist()) <= {2, 5, 7} and len(smaller) == 2


def test_lns_on_the_candidates_disagreement_improves_a_poor_incumbent() -> None:
    p = small_set_cover()
    best = Best()
    assert best.consider(p, np.ones(p.num_vars))
    start = best.objective
    rng = np.random.default_rng(0)
    guide = (rng.random((8, p.num_vars)) < 0.3).mean(axis=0)  # eight "candidates"
    out = run_lns(
        p,
        get_backend("scip"),
        SolveOptions(seed=0),
        SolveOptions(),
        LnsParams(share=1.0, free=0.3, disagree=1.0),
        (np.arange(p.num_vars), guide),
        best,
        Trace(True),
        None,
        budget=20.0,
    )
    assert out.rounds >= 1 and out.improved >= 1
    assert best.x is not None and verify(p, best.x).feasible
    assert best.objective is not None and start is not None and best.objective < start


def test_relax_and_disagree_are_not_both_allowed() -> None:
    with pytest.raises(InvalidOptionError) as err:
        parse_params(SrgParams, "srg", {"search": {"lns": {"relax": 0.5, "disagree": 0.5}}})
    assert err.value.option.startswith("srg.search.lns")
    assert "relax and disagree" in str(err.value)


class Stalling:
    """A backend stand-in whose LNS rounds never improve: each runs until its time limit or its
    interrupt; the completion (the full model, no variable fixed) answers at once."""

    name = "scip"

    def version(self) -> str:
        return "test"

    def __init__(self) -> None:
        self.rounds: list[float] = []  # each LNS round's seconds
        self.completion_limit: float | None = None

    def solve(self, problem, options, on_incumbent, interrupt):  # noqa: ANN001, ANN201
        if not (problem.col_lower == problem.col_upper).any():
            self.completion_limit = options.time_limit
            return stub_output(Status.FEASIBLE, options.start, None)
        began = time.monotonic()
        while time.monotonic() - began < options.time_limit:
            if interrupt is not None and interrupt.is_set():
                break
            time.sleep(0.01)
        self.rounds.append(time.monotonic() - began)
        return stub_output(Status.FEASIBLE, options.start, None)


@pytest.mark.parametrize("stall", [0.0, 0.1])
def test_lns_rounds_that_stall_hand_the_rest_to_the_completion(stall: float) -> None:
    p = small_set_cover()
    start = np.ones(p.num_vars)
    best = Best()
    assert best.consider(p, start)
    backend = Stalling()
    params = SearchParams(
        subproblem=SubproblemParams(share=0.0),
        lns=LnsParams(share=0.8, round=0.5, stall=stall),
    )
    empty = Region(np.zeros(0, dtype=np.int64), np.zeros(0), 0)
    options = SolveOptions(time_limit=4.0, seed=0)
    trace = Trace(True)
    found = search_region(p, backend, options, params, empty, start, best, trace, None)  # type: ignore[arg-type]
    assert found.lns.rounds >= 1 and found.lns.improved == 0
    assert backend.completion_limit is not None
    if stall == 0.0:
        # without it the rounds take their whole budget (0.8 of 4 s), the completion the rest
        assert not found.lns.stalled and sum(backend.rounds) > 3.0
        assert backend.completion_limit < 1.0
    else:
        # no improvement for a tenth of the LNS budget (0.32 s, counted from before the round's
        # set-up): the first round is cut there
        assert found.lns.stalled and len(backend.rounds) == 1
        assert 0.2 <= backend.rounds[0] < 1.0
        assert backend.completion_limit > 2.9
