"""Predict-and-search: verified results, widening, fallback, honest status and trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mipguide.errors import InvalidOptionError
from mipguide.guidance import pas as pas_module
from mipguide.guidance.params import PasParams, SrgParams, parse_params
from mipguide.guidance.pas import PasGuide
from mipguide.guidance.predict import Prediction
from mipguide.guidance.run import EMPTY_REGION_WARNING, run_guided
from mipguide.instances.facility import FacilityParams
from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.models.registry import LoadedModel
from mipguide.pipeline import solve as solve_module
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.model import Problem, Sense, make_problem
from mipguide.solvers.types import IncumbentSource, SolveOptions, Status

# the region: every binary fixed near 0 (HARD_ZEROS) or the half most likely 0 (HALF_ZEROS)
HARD_ZEROS = {"k0": 1.0, "k1": 0.0, "delta": 0.0}
HALF_ZEROS = {"k0": 0.5, "k1": 0.0, "delta": 0.0}


def choose_three() -> Problem:
    """min c.x, sum x = 3 over six binaries: every region around all-zeros needs 3 flips."""
    return make_problem(
        np.ones((1, 6)),
        [3],
        [3],
        [5, 4, 3, 2, 1, 6],
        col_upper=np.ones(6),
        integrality=np.ones(6, dtype=bool),
    )


@pytest.fixture(scope="module")
def cover() -> tuple[Problem, float]:
    """A small set cover and its optimum (plain SCIP), shared by the tests that solve it."""
    p = generate_with(Family.SET_COVER, SetCoverParams(n_rows=80, n_cols=60, density=0.08), 3)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    assert exact.status == Status.OPTIMAL and exact.objective is not None
    return p, exact.objective


@pytest.fixture
def predict_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model predicts P(x = 1) = 0.1 everywhere."""

    def fake(graph, loaded):  # noqa: ANN001, ANN202
        bidx = np.flatnonzero(graph.binary_mask)
        return Prediction(np.full(bidx.size, 0.1), bidx, "fake@1", "cpu", 0.0)

    monkeypatch.setattr(pas_module, "predict", fake)


def assert_trace_is_sane(result, sense: Sense) -> None:  # noqa: ANN001
    times = [i.t for i in result.incumbents]
    objs = np.array([i.objective for i in result.incumbents]) * float(sense)
    assert times == sorted(times)
    assert (np.diff(objs) < 0).all()
    assert result.incumbents[-1].objective == pytest.approx(result.objective)


def test_pas_proves_the_optimum_of_a_small_set_cover(
    tiny_model: LoadedModel, cover: tuple[Problem, float]
) -> None:
    p, optimum = cover
    result = run_guided(p, "scip", SolveOptions(time_limit=30), PasGuide(tiny_model, PasParams()))
    assert result.mode == "pas" and result.status == Status.OPTIMAL
    assert result.objective == pytest.approx(optimum)
    assert result.max_violation is not None and result.max_violation <= 1e-6
    assert result.incumbents[0].source == IncumbentSource.GNN  # the repaired rounding
    assert_trace_is_sane(result, p.sense)
    info = result.extra["pas"]
    assert info["completed"] and info["start_feasible"] and info["model"] == "pas-tiny@1"
    for stage in ("features", "predict", "subproblem", "completion"):
        assert result.seconds[stage] >= 0


@pytest.mark.usefixtures("predict_zeros")
def test_infeasible_region_is_widened_then_the_full_model_takes_over(
    tiny_model: LoadedModel,
) -> None:
    p = choose_three()
    params = PasParams.model_validate(
        {"region": HARD_ZEROS, "search": {"subproblem": {"widen": 1}}}
    )
    result = run_guided(p, "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params))
    info = result.extra["pas"]
    assert info["widened"] == 1 and info["delta"] == 1
    assert info["subproblem_status"] == "infeasible"
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(1 + 2 + 3)


@pytest.mark.usefixtures("predict_zeros")
def test_widening_until_the_region_holds_a_solution(tiny_model: LoadedModel) -> None:
    params = PasParams.model_validate(
        {"region": HARD_ZEROS, "search": {"subproblem": {"widen": 3}, "completion": {"run": False}}}
    )
    result = run_guided(
        choose_three(), "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params)
    )
    info = result.extra["pas"]
    assert info["widened"] == 3 and info["delta"] == 4  # 0 -> 1 -> 2 -> 4
    assert info["subproblem_status"] == "optimal"
    # heuristic only: the region's optimum is not claimed optimal, and no bound is reported
    assert result.status == Status.FEASIBLE and result.bound is None and result.gap is None
    assert result.objective == pytest.approx(6)


@pytest.mark.usefixtures("predict_zeros")
def test_infeasible_region_without_completion_is_no_solution_not_infeasible(
    tiny_model: LoadedModel,
) -> None:
    params = PasParams.model_validate(
        {"region": HARD_ZEROS, "search": {"subproblem": {"widen": 0}, "completion": {"run": False}}}
    )
    result = run_guided(
        choose_three(), "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params)
    )
    assert result.status == Status.NO_SOLUTION and result.objective is None
    assert not result.extra["pas"]["completed"]


def test_zero_budget_share_skips_the_subproblem(tiny_model: LoadedModel) -> None:
    params = PasParams.model_validate({"search": {"subproblem": {"share": 0.0}}})
    result = run_guided(
        choose_three(), "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params)
    )
    assert result.extra["pas"]["subproblem_status"] is None
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(6)
    assert EMPTY_REGION_WARNING not in result.warnings  # no subproblem was asked for


def test_an_empty_region_is_said_not_hidden(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network that puts every binary above 1/2 leaves a zeros-only region empty: the answer
    is the backend's on the full model, and the result says so."""

    def fake(graph, loaded):  # noqa: ANN001, ANN202
        bidx = np.flatnonzero(graph.binary_mask)
        return Prediction(np.full(bidx.size, 0.65), bidx, "fake@1", "cpu", 0.0)

    monkeypatch.setattr(pas_module, "predict", fake)
    params = PasParams.model_validate({"region": HALF_ZEROS})
    result = run_guided(
        choose_three(), "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params)
    )
    assert result.extra["pas"]["region_size"] == 0
    assert EMPTY_REGION_WARNING in result.warnings
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(6)
    # the same network with ones in the region: a region, no warning
    params = PasParams.model_validate({"region": {"k0": 0.0, "k1": 0.5, "delta": 0.0}})
    result = run_guided(
        choose_three(), "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params)
    )
    assert result.extra["pas"]["region_size"] == 3
    assert EMPTY_REGION_WARNING not in result.warnings


@pytest.mark.parametrize(
    ("values", "option"),
    [
        ({"region": {"k0": 1.5}}, "pas.region.k0"),
        ({"region": {"k1": -0.1}}, "pas.region.k1"),
        ({"region": {"delta": -1}}, "pas.region.delta"),
        ({"search": {"subproblem": {"share": 2}}}, "pas.search.subproblem.share"),
        ({"search": {"subproblem": {"widen": -1}}}, "pas.search.subproblem.widen"),
        ({"search": {"completion": {"run": "yes"}}}, "pas.search.completion.run"),
        ({"region": {"k0": "0.5"}}, "pas.region.k0"),
        ({"kk": 1}, "pas.kk"),
    ],
)
def test_bad_parameters_are_rejected_naming_the_field(values: dict, option: str) -> None:
    with pytest.raises(InvalidOptionError) as err:
        parse_params(PasParams, "pas", values)
    assert err.value.option == option


def test_stall_interrupt_fires_after_no_improvement_and_follows_the_outer_flag() -> None:
    import time

    from mipguide.guidance.search import StallInterrupt
    from mipguide.pipeline.trace import Trace
    from mipguide.solvers.types import Interrupt

    trace = Trace(True, None)
    stall = StallInterrupt(trace, 1.0, None)
    assert not stall.is_set()
    time.sleep(0.8)
    trace.offer(10.0, None, IncumbentSource.SOLVER)  # an improvement restarts the window
    time.sleep(0.4)
    assert not stall.is_set()  # 0.4 s since the improvement, 1.2 s since creation
    time.sleep(0.7)
    assert stall.is_set() and stall.stalled
    trace.offer(9.0, None, IncumbentSource.SOLVER)
    assert stall.is_set()  # a stop once requested stays requested
    outer = Interrupt()
    never = StallInterrupt(trace, 0.0, outer)  # 0: no stall stop
    time.sleep(0.05)
    assert not never.is_set()
    outer.set()
    assert never.is_set() and not never.stalled


@pytest.mark.usefixtures("predict_zeros")
def test_a_mixed_problem_gets_a_completed_first_incumbent(tiny_model: LoadedModel) -> None:
    p = generate_with(
        Family.FACILITY_LOCATION, FacilityParams(n_customers=12, n_facilities=8), 3
    )  # every P(open) = 0.1: the rounding closes all, the completion opens a prefix
    # 5 % of a minute (3 s) for the start: room for the first import of OR-Tools on a busy machine
    result = run_guided(p, "scip", SolveOptions(time_limit=60), PasGuide(tiny_model, PasParams()))
    assert_trace_is_sane(result, p.sense)
    assert result.incumbents[0].source == IncumbentSource.GNN
    assert result.extra["pas"]["start_feasible"]
    off = run_guided(
        p, "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, PasParams(start_seconds=0))
    )
    assert_trace_is_sane(off, p.sense)
    assert not off.extra["pas"]["start_feasible"]
    assert result.objective == pytest.approx(off.objective)  # both proven optimal
    assert result.status == off.status == Status.OPTIMAL


def record_scip_solves(
    monkeypatch: pytest.MonkeyPatch,
    what: Callable[[Problem, SolveOptions], tuple[int, Any]] = lambda problem, options: (
        problem.num_rows,
        dict(options.params),
    ),
) -> list[tuple[int, Any]]:
    """Route PaS's backend to the real SCIP backend, recording ``what`` of each solve (by
    default: rows of the model, parameters) in the returned list."""
    from mipguide.solvers.base import get_backend

    real = get_backend("scip")
    seen: list[tuple[int, Any]] = []

    class Recording:
        def __getattr__(self, attr: str):  # noqa: ANN204
            return getattr(real, attr)

        def solve(self, problem, options, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            seen.append(what(problem, options))
            return real.solve(problem, options, *args, **kwargs)

    monkeypatch.setattr(solve_module, "get_backend", lambda name: Recording())
    return seen


@pytest.mark.usefixtures("predict_zeros")
def test_subproblem_heuristic_settings_reach_the_subproblem_only(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch, cover: tuple[Problem, float]
) -> None:
    solves = record_scip_solves(monkeypatch)
    p, optimum = cover
    user = {"limits/nodes": 100000, "heuristics": "fast"}
    result = run_guided(
        p,
        "scip",
        SolveOptions(time_limit=30, params=user),
        PasGuide(
            tiny_model,
            PasParams.model_validate(
                {"region": HALF_ZEROS, "search": {"subproblem": {"heuristics": True}}}
            ),
        ),
    )
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(optimum)
    assert result.extra["pas"]["region_size"] == 30
    seen = [params for _, params in solves]
    sub = [params for params in seen if params != user]
    full = [params for params in seen if params == user]
    # the subproblem: cuts off, the user's own setting of heuristics kept; the completion: as given
    assert sub and all(s == {**user, "separating": "off"} for s in sub)
    assert len(full) == 1 and len(seen) == len(sub) + 1


@pytest.mark.usefixtures("predict_zeros")
def test_completion_heuristic_settings_reach_the_completion_only(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch, cover: tuple[Problem, float]
) -> None:
    solves = record_scip_solves(monkeypatch)
    p, optimum = cover
    user = {"limits/nodes": 100000}
    params = PasParams.model_validate(
        {"region": {**HALF_ZEROS, "delta": 0.02}, "search": {"completion": {"heuristics": True}}}
    )
    result = run_guided(
        p, "scip", SolveOptions(time_limit=30, params=user), PasGuide(tiny_model, params)
    )
    seen = [(rows == p.num_rows, params) for rows, params in solves]
    # still proven optimal: the completion's bound is the full model's
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(optimum)
    assert result.extra["pas"]["completed"]
    # the subproblem (one row more: the trust region) as given, the completion aggressive
    sub = [s[1] for s in seen if not s[0]]
    assert sub and all(s == user for s in sub)
    assert [s[1] for s in seen if s[0]] == [{"heuristics": "aggressive", **user}]


@pytest.mark.usefixtures("predict_zeros")
def test_lns_rounds_take_the_subproblem_settings(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch, cover: tuple[Problem, float]
) -> None:
    solves = record_scip_solves(monkeypatch)
    p, optimum = cover
    search = {"subproblem": {"heuristics": True}, "lns": {"share": 0.2, "round": 0.5}}
    params = PasParams.model_validate({"region": {**HALF_ZEROS, "delta": 0.02}, "search": search})
    result = run_guided(p, "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params))
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(optimum)
    rounds = result.extra["pas"]["lns"]["rounds"]
    assert rounds >= 1
    # subproblem (the trust-region row), LNS rounds (original rows), completion (last)
    sub = [params for rows, params in solves if rows == p.num_rows + 1]
    lns = [params for rows, params in solves[:-1] if rows == p.num_rows]
    aggressive = {"separating": "off", "heuristics": "aggressive"}
    assert sub and all(s == aggressive for s in sub)
    assert len(lns) == rounds and all(s == aggressive for s in lns)
    assert solves[-1] == (p.num_rows, {})


@pytest.mark.usefixtures("predict_zeros")
@pytest.mark.parametrize("warm", [True, False])
def test_the_completion_starts_from_the_best_solution_unless_told_not_to(
    tiny_model: LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    cover: tuple[Problem, float],
    warm: bool,
) -> None:
    starts = record_scip_solves(monkeypatch, lambda problem, o: (problem.num_rows, o.start))
    p, optimum = cover
    params = PasParams.model_validate(
        {"region": {**HALF_ZEROS, "delta": 0.02}, "search": {"completion": {"warm": warm}}}
    )
    result = run_guided(p, "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params))
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(optimum)
    # the subproblem (the trust-region row) is warm-started either way; the completion last
    assert starts[0][0] == p.num_rows + 1 and starts[0][1] is not None
    rows, start = starts[-1]
    assert rows == p.num_rows and (start is not None) == warm
    assert result.extra["pas"]["completed"]


def test_subproblem_options_map_per_backend() -> None:
    from mipguide.guidance import search
    from mipguide.guidance.search import subproblem_options

    base = SolveOptions(time_limit=5, params={"limits/nodes": 10})
    assert subproblem_options(base, "scip", False) is base
    assert subproblem_options(base, "highs", True) is base  # no settings for that backend
    scip = subproblem_options(base, "scip", True)
    assert scip.params == {"separating": "off", "heuristics": "aggressive", "limits/nodes": 10}
    assert scip.time_limit == 5 and base.params == {"limits/nodes": 10}
    # the completion's table: heuristics only, the user's own setting wins
    table = search.COMPLETION_HEURISTIC_PARAMS
    assert search.stage_options(base, table, "scip", False) is base
    assert search.stage_options(base, table, "cpsat", True) is base
    mine = SolveOptions(params={"heuristics": "off"})
    assert search.stage_options(mine, table, "scip", True).params == {"heuristics": "off"}
    assert search.stage_options(base, table, "scip", True).params == {
        "heuristics": "aggressive",
        "limits/nodes": 10,
    }


def test_lp_pricing_reaches_every_stage_and_the_user_wins(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch, cover: tuple[Problem, float]
) -> None:
    solves = record_scip_solves(monkeypatch)
    p, optimum = cover
    search = {"lns": {"share": 0.2, "round": 0.5}, "lp_pricing": "q"}
    params = PasParams.model_validate({"region": {**HALF_ZEROS, "delta": 0.02}, "search": search})
    result = run_guided(p, "scip", SolveOptions(time_limit=20), PasGuide(tiny_model, params))
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(optimum)
    # subproblem, LNS rounds and completion all priced with "q"
    seen = [params for _, params in solves]
    assert len(seen) >= 3 and all(s == {"lp/pricing": "q"} for s in seen)
    assert result.extra["pas"]["lns"]["rounds"] >= 1
    # a pricing rule the user sets wins
    solves.clear()
    mine = SolveOptions(time_limit=20, params={"lp/pricing": "s"})
    result = run_guided(p, "scip", mine, PasGuide(tiny_model, params))
    assert result.objective == pytest.approx(optimum)
    assert solves and all(params == {"lp/pricing": "s"} for _, params in solves)


def test_search_options_set_the_pricing_for_scip_only() -> None:
    from mipguide.guidance.search import search_options

    base = SolveOptions(time_limit=5, params={"limits/nodes": 10})
    assert search_options(base, "scip", "") is base
    assert search_options(base, "highs", "q") is base
    assert search_options(base, "scip", "q").params == {"lp/pricing": "q", "limits/nodes": 10}
    assert base.params == {"limits/nodes": 10}


@pytest.mark.parametrize("cls", [PasParams, SrgParams])
@pytest.mark.parametrize("bad", ["x", "qq", 1, None])
def test_lp_pricing_is_checked(cls: type, bad: object) -> None:
    with pytest.raises(InvalidOptionError, match="search.lp_pricing"):
        parse_params(cls, "p", {"search": {"lp_pricing": bad}})
    assert parse_params(cls, "p", {"search": {"lp_pricing": "q"}}).search.lp_pricing == "q"


def _network_must_not_run(graph, loaded):  # noqa: ANN001, ANN202
    raise AssertionError("an ablation ran the network")


@pytest.mark.parametrize(
    ("prediction", "first"),
    [("lp", IncumbentSource.START), ("incumbent", IncumbentSource.SOLVER)],
)
def test_ablations_run_the_same_search_without_the_network(
    tiny_model: LoadedModel,
    cover: tuple[Problem, float],
    monkeypatch: pytest.MonkeyPatch,
    prediction: str,
    first: IncumbentSource,
) -> None:
    """pas-lp (the LP relaxation as the prediction) and lns (the backend's first incumbent,
    no prediction): the network is never called, the result is verified and says which."""
    monkeypatch.setattr(pas_module, "predict", _network_must_not_run)
    p, optimum = cover
    params = parse_params(PasParams, "pas", {"prediction": prediction})
    result = run_guided(p, "scip", SolveOptions(time_limit=30), PasGuide(tiny_model, params))
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(optimum)
    assert result.max_violation is not None and result.max_violation <= 1e-6
    assert result.incumbents[0].source == first
    assert IncumbentSource.GNN not in {i.source for i in result.incumbents}
    assert result.extra["pas"]["prediction"] == prediction
    assert "features" not in result.seconds and result.seconds["predict"] >= 0
    assert_trace_is_sane(result, p.sense)


def test_network_incumbent_keeps_the_incumbents_values_and_lets_the_network_rank_them(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prediction=network-incumbent: P(x = 1) is the mean of the network's and the first
    incumbent's, so the region fixes the incumbent's values where the network agrees most and
    leaves free those where it disagrees; the answer is verified."""
    p = choose_three()
    network = np.array([0.9, 0.1, 0.2, 0.8, 0.3, 0.05])
    incumbent = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # cost 12; the optimum is 6

    def fake(graph, loaded):  # noqa: ANN001, ANN202
        return Prediction(network, np.flatnonzero(graph.binary_mask), "fake@1", "cpu", 0.0)

    def first(ctx, seconds):  # noqa: ANN001, ANN202
        ctx.offer([incumbent], IncumbentSource.SOLVER)
        return incumbent

    regions: list[tuple[np.ndarray, Any]] = []
    choose = pas_module.choose_region

    def spy(probs, binary_index, *args):  # noqa: ANN001, ANN002, ANN202
        region = choose(probs, binary_index, *args)
        regions.append((np.array(probs), region))
        return region

    monkeypatch.setattr(pas_module, "predict", fake)
    monkeypatch.setattr(pas_module, "_first_incumbent", first)
    monkeypatch.setattr(pas_module, "choose_region", spy)
    region = {"k0": 2 / 6, "k1": 0.0, "delta": 0.0}
    params = parse_params(PasParams, "pas", {"prediction": "network-incumbent", "region": region})
    result = run_guided(p, "scip", SolveOptions(time_limit=30), PasGuide(tiny_model, params))

    probs, chosen = regions[0]
    np.testing.assert_allclose(probs, 0.5 * (network + incumbent))
    # the incumbent's zeros the network is surest of are fixed (x5, x4); x3, where the network
    # says 1 against the incumbent's 0, stays free
    assert sorted(chosen.index.tolist()) == [4, 5] and not chosen.x_hat.any()
    assert result.status == Status.OPTIMAL and result.objective == pytest.approx(6.0)
    assert result.max_violation is not None and result.max_violation <= 1e-6
    assert result.incumbents[0].source == IncumbentSource.SOLVER
    assert result.extra["pas"]["prediction"] == "network-incumbent"
    assert "features" in result.seconds  # the network ran
    assert_trace_is_sane(result, p.sense)
