"""One contract suite over every backend: optima, verification, incumbents, limits, interrupt."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mipguide.errors import InvalidOptionError
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.model import make_problem
from mipguide.problem.verify import verify
from mipguide.solvers.base import SolverBackend, get_backend
from mipguide.solvers.types import (
    Incumbent,
    IncumbentSource,
    Interrupt,
    InterruptWhen,
    SolveOptions,
    Status,
)
from tests.solvers.cases import CASES, Case, hard_problem, refuse_or_none

HARD = hard_problem()


def _monotone(incumbents: list[Incumbent], minimize: bool) -> bool:
    objs = [i.objective for i in incumbents]
    pairs = zip(objs, objs[1:], strict=False)
    return all(b < a if minimize else b > a for a, b in pairs)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_known_result(backend: SolverBackend, case: Case) -> None:
    refuse_or_none(backend, case.problem)
    seen: list[Incumbent] = []
    out = backend.solve(case.problem, SolveOptions(time_limit=20), on_incumbent=seen.append)
    assert out.status in case.statuses, out.termination
    assert out.solver == backend.name and out.solver_version
    assert out.build_seconds >= 0 and out.solve_seconds >= 0
    if case.objective is None:
        return
    assert out.x is not None and out.objective is not None
    assert out.x.shape == (case.problem.num_vars,)
    check = verify(case.problem, out.x)
    assert check.feasible, check
    assert check.objective == pytest.approx(case.objective, rel=1e-6, abs=1e-6)
    assert out.objective == pytest.approx(case.objective, rel=1e-6, abs=1e-6)
    assert out.bound is not None
    assert out.bound == pytest.approx(case.objective, rel=1e-6, abs=1e-6)
    assert seen == list(out.incumbents) and seen
    assert _monotone(seen, case.problem.sense == 1)
    assert seen[-1].objective == pytest.approx(out.objective, rel=1e-9)


def test_time_limit_on_hard_instance(backend: SolverBackend) -> None:
    refuse_or_none(backend, HARD)
    t0 = time.perf_counter()
    out = backend.solve(HARD, SolveOptions(time_limit=1.0))
    wall = time.perf_counter() - t0
    assert wall < 2.5
    assert out.termination.reason == "time_limit"
    if out.x is not None:
        assert verify(HARD, out.x).feasible
        assert out.status == Status.FEASIBLE


def test_interrupt_from_another_thread(backend: SolverBackend) -> None:
    refuse_or_none(backend, HARD)
    interrupt = Interrupt()
    timer = threading.Timer(0.5, interrupt.set)
    cannot = backend.name == "ortools-highs"  # OR-Tools passes no interrupter to HiGHS
    t0 = time.perf_counter()
    timer.start()
    out = backend.solve(HARD, SolveOptions(time_limit=1.5 if cannot else 30), interrupt=interrupt)
    wall = time.perf_counter() - t0
    timer.join()
    if cannot:
        assert out.termination.reason == "time_limit"
        assert any("cannot be interrupted" in w for w in out.warnings)
        return
    assert wall < 0.5 + 1.5
    assert out.termination.reason == "interrupted"


def test_interrupt_when_a_condition_turns_true(backend: SolverBackend) -> None:
    """``InterruptWhen``: the backend polls the condition (another stage's proof, say) as it
    polls the flag."""
    refuse_or_none(backend, HARD)
    if backend.name == "ortools-highs":
        pytest.skip("OR-Tools passes no interrupter to HiGHS (see the test above)")
    t0 = time.perf_counter()
    interrupt = InterruptWhen(lambda: time.perf_counter() - t0 > 0.5)
    out = backend.solve(HARD, SolveOptions(time_limit=30), interrupt=interrupt)
    assert time.perf_counter() - t0 < 0.5 + 1.5
    assert out.termination.reason == "interrupted"


def test_feasible_start_is_first_incumbent(backend: SolverBackend) -> None:
    case = next(c for c in CASES if c.name == "equality_mip")
    refuse_or_none(backend, case.problem)
    start = np.array([2.0, 1.0, 2.0])  # feasible, objective 16 - 2.5
    seen: list[Incumbent] = []
    out = backend.solve(case.problem, SolveOptions(start=start), on_incumbent=seen.append)
    assert seen[0].objective <= case.problem.objective_value(start) + 1e-9
    assert seen[0].source == IncumbentSource.START
    assert out.objective == pytest.approx(9.5)


def test_partial_start_is_accepted(backend: SolverBackend) -> None:
    case = next(c for c in CASES if c.name == "knapsack")
    refuse_or_none(backend, case.problem)
    out = backend.solve(case.problem, SolveOptions(start=np.array([1.0, np.nan, np.nan, 0.0])))
    assert out.objective == pytest.approx(23.0)


def test_start_of_wrong_length_is_rejected(backend: SolverBackend) -> None:
    case = next(c for c in CASES if c.name == "knapsack")
    refuse_or_none(backend, case.problem)
    with pytest.raises(InvalidOptionError):
        backend.solve(case.problem, SolveOptions(start=np.zeros(3)))


def test_unknown_param_lists_valid_names(any_backend: SolverBackend) -> None:
    case = CASES[0]
    with pytest.raises(InvalidOptionError) as err:
        any_backend.solve(case.problem, SolveOptions(params={"no_such_param_xyz": 1}))
    assert err.value.valid
    assert set(err.value.valid) <= set(any_backend.param_names())
    assert "valid" in str(err.value)


def test_protocol_surface(any_backend: SolverBackend) -> None:
    assert isinstance(any_backend, SolverBackend)
    assert any_backend.version()
    table = any_backend.param_names()
    assert table and all(isinstance(t, type) for t in table.values())


def test_through_the_pipeline(backend: SolverBackend) -> None:
    case = next(c for c in CASES if c.name == "maximize_offset")
    refuse_or_none(backend, case.problem)
    result = solve_problem(case.problem, backend.name, SolveOptions(time_limit=10))
    assert result.status == Status.OPTIMAL
    assert result.objective == pytest.approx(120.0)
    assert result.max_violation is not None and result.max_violation <= 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("name", ["glop", "pdlp"])
def test_interrupt_lp_only_backends(name: str) -> None:
    """The hard instance is a MIP, so LP-only backends get a big random LP instead."""
    from tests.solvers.test_build_time import random_problem

    mip = random_problem(2000, 50000, nnz=1_000_000)
    lp = make_problem(
        mip.A, mip.row_lower, mip.row_upper, mip.c, col_upper=mip.col_upper, sense=mip.sense
    )
    interrupt = Interrupt()
    timer = threading.Timer(1.0, interrupt.set)
    t0 = time.perf_counter()
    timer.start()
    out = get_backend(name).solve(lp, SolveOptions(time_limit=60), interrupt=interrupt)
    timer.join()
    assert time.perf_counter() - t0 < 1.0 + 3.0 + out.build_seconds
    assert out.termination.reason == "interrupted"
