"""DMMV with the exact MILP beside it: real SCIP and HiGHS, real threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mipguide.heuristics.dmmv import DmmvConfig, solve
from mipguide.heuristics.dmmv.evaluate import evaluate
from mipguide.heuristics.dmmv.types import DmmvInstance
from mipguide.instances.dmmv.planted import planted_batch
from mipguide.instances.dmmv.tomography import tomography_case
from mipguide.pipeline.dmmv_hybrid import (
    _Follower,
    _Turn,
    milp_size,
    solve_hybrid,
    solve_minmax_milp,
)
from mipguide.solvers.types import Interrupt
from tests.heuristics.dmmv_cases import random_instance


def _unreachable(seed: int) -> DmmvInstance:
    """Equality rows off the lattice: the optimum is positive, and small enough to prove."""
    return random_instance(seed, m=12, n=8, slack=0.0)


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_the_milp_proves_the_optimum_and_stops_the_search(solver: str) -> None:
    inst = _unreachable(3)
    cfg = DmmvConfig(time_limit=30.0, seed=0)
    t0 = time.perf_counter()
    res, info = solve_hybrid(inst, cfg, solver=solver)
    assert time.perf_counter() - t0 < 20.0  # the proof ended both sides long before 30 s
    assert info.status == "optimal" and info.bound is not None and info.error is None
    assert res.max_violation > 0.0
    assert info.bound <= res.max_violation + 1e-6
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
    for j, v in enumerate(res.x):  # every value is one of its levels
        assert np.isclose(inst.levels[j], v).any()
    assert res.max_violation <= min(info.dmmv_max_violation, info.milp_max_violation or np.inf)


def test_never_worse_than_dmmv_alone_on_the_same_passes() -> None:
    for seed in range(3):
        inst = _unreachable(10 + seed)
        cfg = DmmvConfig(time_limit=30.0, seed=seed, max_iterations=40)
        alone = solve(inst, cfg)
        res, info = solve_hybrid(inst, cfg)
        assert res.max_violation <= alone.max_violation + 1e-12
        assert info.dmmv_max_violation <= alone.max_violation + 1e-12 or info.status == "optimal"


def test_zero_violation_from_dmmv_interrupts_the_milp() -> None:
    b = planted_batch(1, m=40, n=30, n_levels=8, seed=1)
    inst = DmmvInstance(
        b.A, b.lower[0], b.upper[0], b.levels_of(0), b.x0[0] if b.x0 is not None else None
    )
    t0 = time.perf_counter()
    res, info = solve_hybrid(inst, DmmvConfig(time_limit=60.0, seed=0))
    assert res.max_violation == 0.0
    assert time.perf_counter() - t0 < 30.0
    assert info.source in {"dmmv", "milp"} and info.milp_seconds < 30.0


def test_an_interrupt_stops_both_sides() -> None:
    b = tomography_case(32, n_levels=4, n_angles=8, seed=0).batch
    inst = DmmvInstance(
        b.A, b.lower[0], b.upper[0], b.levels_of(0), b.x0[0] if b.x0 is not None else None
    )
    stop = Interrupt()
    threading.Timer(1.0, stop.set).start()
    t0 = time.perf_counter()
    res, info = solve_hybrid(inst, DmmvConfig(time_limit=120.0, seed=0), interrupt=stop)
    assert time.perf_counter() - t0 < 15.0
    assert res.interrupted and info.status != "optimal"
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)


def test_the_milp_baseline_starts_from_round_to_nearest() -> None:
    inst = _unreachable(5)
    milp, res = solve_minmax_milp(inst.as_batch(), "scip", 10.0)
    assert res.values and res.status.value == "optimal"
    assert milp.problem.num_vars == len(res.values)
    # another backend seed: another search, the same proven optimum
    _, other = solve_minmax_milp(inst.as_batch(), "scip", 10.0, seed=7)
    assert other.status.value == "optimal"
    assert other.objective == pytest.approx(res.objective, abs=1e-6)


def test_bad_arguments_and_size() -> None:
    inst = _unreachable(1)
    with pytest.raises(ValueError, match="scip, highs, both"):
        solve_hybrid(inst, DmmvConfig(time_limit=1.0), solver="cpsat")
    # non-uniform levels: one binary per level (nnz x width), two rows per range
    assert milp_size(inst) == int(np.count_nonzero(inst.A)) * 5 * 2 + 12 * 2


def test_the_polish_starts_from_the_milps_point_and_the_answer_is_the_best_of_three() -> None:
    b = tomography_case(24, n_levels=2, n_angles=4, seed=3).batch
    inst = DmmvInstance(
        b.A, b.lower[0], b.upper[0], b.levels_of(0), b.x0[0] if b.x0 is not None else None
    )
    res, info = solve_hybrid(
        inst,
        DmmvConfig(time_limit=4.0, seed=0),
        solver="highs",
        polish=0.5,
        follow=False,
        polish_on="milp",
    )
    # neither side ends this run early (no proof, no zero in 2 s): the polish runs
    assert info.status != "optimal" and res.max_violation > 0.0
    assert info.milp_max_violation is not None and info.polish_max_violation is not None
    # the polish keeps its start's point when nothing beats it: never worse than the MILP's
    assert info.polish_max_violation <= info.milp_max_violation + 1e-12
    best = min(info.dmmv_max_violation, info.milp_max_violation, info.polish_max_violation)
    assert res.max_violation == pytest.approx(best, abs=1e-12)
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
    no_polish = solve_hybrid(
        inst, DmmvConfig(time_limit=1.0), solver="highs", polish=0.0, follow=False
    )[1]
    assert no_polish.polish_max_violation is None and no_polish.source in {"dmmv", "milp"}
    assert no_polish.restarts == 0
    with pytest.raises(ValueError, match="polish"):
        solve_hybrid(inst, DmmvConfig(time_limit=1.0), polish=0.95)


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_dmmv_follows_the_milps_better_incumbents(solver: str) -> None:
    # DMMV's own search from the rounded least-squares image stays far above what the MILP
    # finds in its first second on this sparse-angle phantom: DMMV restarts from the MILP's points
    b = tomography_case(24, n_levels=2, n_angles=4, seed=3).batch
    inst = DmmvInstance(
        b.A, b.lower[0], b.upper[0], b.levels_of(0), b.x0[0] if b.x0 is not None else None
    )
    res, info = solve_hybrid(
        inst, DmmvConfig(time_limit=4.0, seed=0), solver=solver, polish=0.0, follow=True
    )
    assert info.restarts >= 1 and info.polish_max_violation is not None
    assert info.milp_max_violation is not None
    best = min(info.dmmv_max_violation, info.milp_max_violation, info.polish_max_violation)
    assert res.max_violation == pytest.approx(best, abs=1e-12)
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)


def test_the_follower_takes_only_points_better_than_its_best() -> None:
    f = _Follower(follow=True)
    f._seen(1.0)
    f.offer(np.zeros(3), 1.5)  # worse than DMMV's best: ignored
    assert f.pending is None
    f.offer(np.ones(3), 0.8)
    f.offer(np.full(3, 2.0), 0.9)  # worse than the point already waiting: ignored
    assert f.pending is not None and f.pending[1] == 0.8 and f.pending[0][0] == 1.0
    off = _Follower(follow=False)
    off.offer(np.ones(3), 0.1)
    assert off.pending is None and not off.wants_points


def test_the_follower_turns_to_the_milps_best_point_once_its_own_best_is_old() -> None:
    f = _Follower(follow=False, turn=_Turn(at=time.perf_counter(), window=0.5))
    assert f.wants_points
    f._seen(1.0)
    assert not f._turning()  # no MILP point yet
    f.offer(np.zeros(3), 2.0)  # kept although worse than DMMV's best: the polish's start
    f.offer(np.ones(3), 3.0)  # a worse MILP point does not replace it
    assert f.pending is None and f.latest is not None and f.latest[1] == 2.0
    assert not f._turning()  # DMMV's best is fresh
    f.improved -= 1.0  # its best now a second old, past the window
    assert f._turning()
    f._seen(0.9)  # an improvement: fresh again
    assert not f._turning()
    f.improved -= 1.0
    f.turned = True  # one turn only
    assert not f._turning()
    late = _Follower(follow=False, turn=_Turn(at=time.perf_counter() + 60.0, window=0.0))
    late.offer(np.zeros(3), 2.0)
    assert not late._turning()  # not before its time


def test_the_follower_switches_once_at_its_time_and_only_when_the_milp_has_led() -> None:
    calm = _Follower(follow=False)
    assert not calm.wants_points
    calm.switch_at = time.perf_counter()
    assert calm.wants_points  # the switch needs the MILP's points, following or not
    calm.offer(np.zeros(3), 3.0)  # before DMMV's first value: no lead
    calm._seen(1.0)
    calm.offer(np.zeros(3), 1.5)  # never better than DMMV's best
    assert not calm._switching() and calm.switch_decided
    calm.offer(np.ones(3), 0.5)  # a lead after the decision changes nothing
    assert not calm._switching()
    led = _Follower(follow=True)
    led.switch_at = time.perf_counter() + 60.0
    led._seen(1.0)
    led.offer(np.ones(3), 0.5)  # the MILP leads ...
    led._seen(0.4)  # ... and DMMV, following, has passed it since: it led, all the same
    assert not led._switching()  # not before its time
    led.switch_at = time.perf_counter()
    assert led._switching()
    led.switched = time.perf_counter()  # it ran: once only
    assert not led._switching()


def test_dmmvs_thread_switches_to_the_other_backend_when_the_milp_leads() -> None:
    inst = _sparse_binary_tomography()
    threads: set[str] = set()
    # DMMV's own search ends after 5 passes (each restart too), at 1.77, above what HiGHS
    # reaches in its first 0.3 s on this phantom (1.54; a slow machine has 2.5 s for it): at
    # 2.5 s DMMV's thread runs SCIP, until the polish's turn at 3.5 s
    cfg = DmmvConfig(time_limit=5.0, seed=0, max_iterations=5)
    res, info = solve_hybrid(
        inst,
        cfg,
        solver="highs",
        polish=0.3,
        switch=0.5,
        on_milp_improve=lambda s, v: threads.add(threading.current_thread().name),
    )
    assert info.switched is not None and 2.49 <= info.switched < 3.5
    assert threads == {"hybrid-highs", threading.current_thread().name}  # SCIP on this thread
    assert info.error is None and info.milp_max_violation is not None
    assert info.restarts >= 1 and info.polish_max_violation is not None  # then the polish
    best = min(info.dmmv_max_violation, info.milp_max_violation, info.polish_max_violation)
    assert res.max_violation == pytest.approx(best, abs=1e-12)
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
    _, both = solve_hybrid(inst, DmmvConfig(time_limit=1.0, seed=0), solver="both", switch=0.1)
    assert both.switched is None  # both backends run already
    with pytest.raises(ValueError, match="switch"):
        solve_hybrid(inst, cfg, switch=0.95)


def _sparse_binary_tomography() -> DmmvInstance:
    b = tomography_case(24, n_levels=2, n_angles=4, seed=3).batch
    return DmmvInstance(
        b.A, b.lower[0], b.upper[0], b.levels_of(0), b.x0[0] if b.x0 is not None else None
    )


def test_the_polish_on_dmmvs_thread_leaves_the_milp_its_whole_budget() -> None:
    inst = _sparse_binary_tomography()
    # DMMV's own search ends after 50 passes (a fraction of a second), long before the turn at
    # 1.5 s: its thread waits, then polishes the MILP's best point; the MILP runs on to 3 s
    cfg = DmmvConfig(time_limit=3.0, seed=0, max_iterations=50)
    res, info = solve_hybrid(  # stalled
        inst, cfg, solver="highs", polish=0.5, follow=False, switch=0.0
    )
    assert info.status != "optimal" and res.max_violation > 0.0
    assert info.milp_seconds >= 2.5  # not stopped at 1.5 s, as polish_on="milp" would
    assert info.restarts == 1 and info.polish_max_violation is not None
    assert info.milp_max_violation is not None
    best = min(info.dmmv_max_violation, info.milp_max_violation, info.polish_max_violation)
    assert res.max_violation == pytest.approx(best, abs=1e-12)
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
    with pytest.raises(ValueError, match="polish_on"):
        solve_hybrid(inst, DmmvConfig(time_limit=1.0), polish_on="cpu")


def test_both_milps_run_beside_dmmv_and_the_answer_is_the_best_of_all() -> None:
    b = tomography_case(24, n_levels=2, n_angles=4, seed=3).batch
    inst = DmmvInstance(
        b.A, b.lower[0], b.upper[0], b.levels_of(0), b.x0[0] if b.x0 is not None else None
    )
    threads = set()
    res, info = solve_hybrid(
        inst,
        DmmvConfig(time_limit=4.0, seed=0),
        solver="both",
        on_milp_improve=lambda s, v: threads.add(threading.current_thread().name),
        polish_on="milp",  # the polish on both MILPs' threads
    )
    assert info.solver == "both" and info.error is None and info.status != "error"
    assert info.milp_max_violation is not None and info.polish_max_violation is not None
    best = min(info.dmmv_max_violation, info.milp_max_violation, info.polish_max_violation)
    assert res.max_violation == pytest.approx(best, abs=1e-12)
    ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
    assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
    assert threads == {"hybrid-scip", "hybrid-highs"}  # both MILPs ran and found incumbents


def test_both_milps_stop_when_one_proves_the_optimum() -> None:
    inst = _unreachable(4)
    t0 = time.perf_counter()
    res, info = solve_hybrid(inst, DmmvConfig(time_limit=30.0, seed=0), solver="both")
    assert time.perf_counter() - t0 < 20.0
    assert info.status == "optimal" and info.bound is not None
    assert info.bound <= res.max_violation + 1e-6
