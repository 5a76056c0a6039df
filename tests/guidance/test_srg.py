"""mode=srg: every answer verified, never worse than what the solver proves, honest status and
trace; the ablations (no guidance, K = 1, top-k region, no completion) run the same way."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.errors import InvalidOptionError
from mipguide.guidance.candidates import CandidateSet
from mipguide.guidance.params import SrgParams, SrgRegion, parse_params
from mipguide.guidance.run import run_guided
from mipguide.guidance.sample import Samples
from mipguide.guidance.srg import SrgGuide, other_starts, srg_region
from mipguide.instances.cauction import AuctionParams
from mipguide.instances.facility import FacilityParams
from mipguide.instances.indset import IndependentSetParams
from mipguide.instances.registry import PROTOCOL_FAMILIES, Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.models.registry import LoadedModel, ModelError
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify
from mipguide.solvers.types import IncumbentSource, SolveOptions, Status

SMALL = {
    Family.SET_COVER: SetCoverParams(n_rows=80, n_cols=60, density=0.08),
    Family.COMBINATORIAL_AUCTION: AuctionParams(n_items=20, n_bids=60),
    Family.INDEPENDENT_SET: IndependentSetParams(n_nodes=60),
    Family.FACILITY_LOCATION: FacilityParams(n_customers=12, n_facilities=8),
}


def _small(family: Family, seed: int = 3) -> Problem:
    return generate_with(family, SMALL[family], seed)


def _check(problem: Problem, result, optimum: float | None = None) -> None:  # noqa: ANN001
    assert result.mode == "srg"
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        x = np.array([result.values[v] for v in problem.var_names])
        assert verify(problem, x).feasible and result.max_violation <= 1e-6
        assert result.objective == pytest.approx(problem.objective_value(x))
    if optimum is not None and result.status == Status.OPTIMAL:
        assert result.objective == pytest.approx(optimum, rel=1e-6)
    if optimum is not None and result.objective is not None:
        assert problem.sense * result.objective >= problem.sense * optimum - 1e-6 * abs(optimum)
    times = [i.t for i in result.incumbents]
    objs = np.array([i.objective for i in result.incumbents]) * float(problem.sense)
    assert times == sorted(times) and (np.diff(objs) < 0).all()
    if result.incumbents:
        assert result.incumbents[-1].objective == pytest.approx(result.objective)


@pytest.mark.parametrize("family", PROTOCOL_FAMILIES)
def test_srg_proves_the_optimum_of_small_instances(
    tiny_srg_model: LoadedModel, family: Family
) -> None:
    p = _small(family)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    result = run_guided(
        p, "scip", SolveOptions(time_limit=30), SrgGuide(tiny_srg_model, SrgParams())
    )
    _check(p, result, exact.objective)
    assert result.status == Status.OPTIMAL
    info = result.extra["srg"]
    assert info["model"] == "srg-tiny@1" and info["k"] == 16 and info["completed"]
    assert info["lambda_min"] >= 0
    for stage in ("features", "sample", "candidates", "subproblem", "completion", "select"):
        assert result.seconds.get(stage, 0.0) >= 0
    if info["feasible"]:
        assert result.incumbents[0].source == IncumbentSource.SRG and info["start_feasible"]


@pytest.mark.parametrize(
    "params",
    [
        SrgParams.model_validate({"sampling": {"guidance": False}}),
        SrgParams.model_validate({"sampling": {"k": 1}}),
        SrgParams.model_validate({"region": {"kind": "topk"}}),
        SrgParams.model_validate(  # hard fixing
            {"region": {"agreement": 0.5, "max_share": 1.0, "delta_min": 0, "delta_factor": 0.0}}
        ),
        SrgParams.model_validate({"candidates": {"repair": "none", "complete_top": 0}}),
        SrgParams.model_validate({"candidates": {"starts": 16}}),
    ],
    ids=["noguide", "k1", "topk", "hard-fixing", "raw-only", "starts"],
)
@pytest.mark.parametrize("family", [Family.SET_COVER, Family.FACILITY_LOCATION])
def test_ablations_stay_correct(
    tiny_srg_model: LoadedModel, family: Family, params: SrgParams
) -> None:
    p = _small(family, seed=4)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30))
    result = run_guided(p, "scip", SolveOptions(time_limit=30), SrgGuide(tiny_srg_model, params))
    _check(p, result, exact.objective)
    assert result.status == Status.OPTIMAL and result.extra["srg"]["region"] == params.region.kind


def test_without_completion_the_status_is_at_most_feasible(tiny_srg_model: LoadedModel) -> None:
    p = _small(Family.INDEPENDENT_SET)
    params = SrgParams.model_validate({"search": {"completion": {"run": False}}})
    result = run_guided(p, "scip", SolveOptions(time_limit=20), SrgGuide(tiny_srg_model, params))
    _check(p, result)
    assert result.status == Status.FEASIBLE and result.bound is None and result.gap is None
    assert not result.extra["srg"]["completed"]


def srg(**groups: object) -> SrgParams:
    """SRG parameters from nested groups (``sampling={"k": 4}``)."""
    return SrgParams.model_validate(groups)


def test_the_sampling_seed_defaults_to_the_solve_seed(tiny_srg_model: LoadedModel) -> None:
    p = _small(Family.SET_COVER)
    a = run_guided(
        p, "scip", SolveOptions(time_limit=10, seed=4), SrgGuide(tiny_srg_model, SrgParams())
    )
    b = run_guided(
        p, "scip", SolveOptions(time_limit=10), SrgGuide(tiny_srg_model, srg(sampling={"seed": 4}))
    )
    assert a.extra["srg"]["seed"] == b.extra["srg"]["seed"] == 4
    assert a.extra["srg"]["raw_feasible"] == b.extra["srg"]["raw_feasible"]
    assert a.extra["srg"]["region_size"] == b.extra["srg"]["region_size"]


def test_a_pas_model_is_refused(tiny_model: LoadedModel) -> None:
    with pytest.raises(ModelError, match="srg"):
        run_guided(
            _small(Family.SET_COVER),
            "scip",
            SolveOptions(time_limit=5),
            SrgGuide(tiny_model, SrgParams()),
        )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sampling": {"k": 0}}, "sampling.k"),
        ({"sampling": {"steps": 0}}, "sampling.steps"),
        ({"sampling": {"eta": -1}}, "sampling.eta"),
        ({"region": {"agreement": 0.3}}, "region.agreement"),
        ({"region": {"kind": "box"}}, "region.kind"),
        ({"candidates": {"repair": "magic"}}, "candidates.repair"),
        ({"sampling": {"k": 2.5}}, "sampling.k"),
        ({"sampling": {"guidance": "yes"}}, "sampling.guidance"),
        ({"sampling": {"eta": float("inf")}}, "sampling.eta"),
        ({"sampling": {"speed": 1}}, "sampling.speed"),
    ],
)
def test_bad_parameters_are_rejected_by_name(values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidOptionError) as info:
        parse_params(SrgParams, "srg", values)
    assert info.value.option == f"srg.{field}"


def test_the_first_incumbent_comes_from_the_first_step(tiny_srg_model: LoadedModel) -> None:
    p = _small(Family.SET_COVER)  # covering: the greedy repair always makes the estimate feasible
    on = run_guided(
        p,
        "scip",
        SolveOptions(time_limit=10),
        SrgGuide(tiny_srg_model, srg(sampling={"steps": 20})),
    )
    _check(p, on)
    first = on.incumbents[0]
    assert first.source == IncumbentSource.SRG
    assert first.objective == on.extra["srg"]["first_estimate"]
    assert first.t < on.seconds["features"] + on.seconds["sample"]  # before step 20 ended
    off = run_guided(
        p,
        "scip",
        SolveOptions(time_limit=10),
        SrgGuide(tiny_srg_model, srg(sampling={"first_estimate": False})),
    )
    _check(p, off)
    assert off.extra["srg"]["first_estimate"] is None
    assert off.incumbents[0].t > off.seconds["features"] + off.seconds["sample"]


def test_the_consensus_of_two_feasible_candidates_keeps_the_most_confident_binaries() -> None:
    """Two feasible candidates agree on every binary, so agreement ties everywhere: the capped
    S must be the binaries the K soft estimates are surest of, not the first ones by index."""
    nb, k = 6, 4
    bidx = np.arange(10, 10 + nb)
    x = np.zeros((k, nb))
    probs = np.tile([0.45, 0.40, 0.30, 0.02, 0.05, 0.01], (k, 1))  # surest: 5, 3, 4
    samples = Samples(x, probs, bidx, np.zeros((k, 0)), 0.0, "m", "cpu", 0.0, 0)
    full = np.zeros(10 + nb)
    cands = CandidateSet(
        x=x,
        binary_index=bidx,
        objective=np.zeros(k),
        violation=np.zeros(k),
        raw_feasible=np.array([True, True, False, False]),
        solutions=(full, full.copy(), None, None),
        repaired=np.zeros(k, dtype=bool),
        repair="none",
        seconds=0.0,
    )
    params = SrgRegion(max_share=0.5, delta_min=0, delta_factor=0.0)
    region = srg_region(samples, cands, params, full)
    assert region.index.tolist() == [15, 13, 14]
    assert region.x_hat.tolist() == [0.0, 0.0, 0.0] and region.delta == 0


def test_other_starts_are_distinct_feasible_candidates_best_first_without_the_incumbent() -> None:
    p = _small(Family.SET_COVER)
    exact = solve_problem(p, "scip", SolveOptions(time_limit=30, keep_solutions=4))
    assert exact.values
    incumbent = np.array([exact.values[v] for v in p.var_names])
    pool = [incumbent] + [x for _, x in exact.solutions]
    worst, middle = pool[-1], pool[len(pool) // 2]
    k = 5
    solutions = (worst, None, middle, worst.copy(), incumbent)
    cands = CandidateSet(
        x=np.zeros((k, 1)),
        binary_index=np.zeros(1, dtype=int),
        objective=np.zeros(k),
        violation=np.zeros(k),
        raw_feasible=np.ones(k, dtype=bool),
        solutions=solutions,
        repaired=np.zeros(k, dtype=bool),
        repair="none",
        seconds=0.0,
    )
    got = other_starts(p, cands, incumbent, 8)
    # the incumbent left out, the duplicate once, the better first
    expected = [middle, worst] if not np.array_equal(middle, worst) else [worst]
    assert len(got) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    assert len(other_starts(p, cands, None, 1)) == 1 and other_starts(p, cands, None, 0) == ()


def test_the_aggregate_rows_multiplier_has_a_step_of_its_own() -> None:
    """``aggregate_rho`` moves the aggregate row's multiplier (rows == -1), ``rho`` the others'."""
    import scipy.sparse as sp
    import torch

    from mipguide.guidance.rows import GuidanceRows
    from mipguide.guidance.sample import _Rows

    rows = GuidanceRows(  # x0 + x1 >= 1 (a problem row), x0 + x1 >= 2 (an aggregate row)
        A=sp.csr_matrix(np.array([[1.0, 1.0], [0.5, 0.5]])),
        lower=np.array([1.0, 1.0]),
        upper=np.array([np.inf, np.inf]),
        c=np.zeros(2),
        rows=np.array([0, -1]),
        binary_index=np.array([0, 1]),
    )
    g = _Rows(rows, torch.device("cpu"), rho=1.0, aggregate_rho=0.25)
    lam, grad = g.step(torch.zeros(1, 2), torch.zeros(1, 2), objective=0.0)
    np.testing.assert_allclose(lam.numpy(), [[1.0, 0.25]])  # both rows short by 1
    np.testing.assert_allclose(grad.numpy(), [[-1.125, -1.125]])  # -(1 * 1 + 0.25 * 0.5)


def test_the_aggregate_rows_do_not_delay_the_first_incumbent(
    tiny_srg_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``sampling.aggregates`` the rows' LP runs after the first estimate's incumbent, and
    the candidates are still checked against the rows with the aggregate ones."""
    import mipguide.guidance.srg as srg_module

    events: list[str] = []
    build = srg_module.guidance_rows

    def recording(problem: Problem, aggregates: bool = False):  # noqa: ANN202
        rows = build(problem, aggregates)
        events.append(f"rows {int((rows.rows == -1).sum())} aggregate" if aggregates else "rows")
        return rows

    monkeypatch.setattr(srg_module, "guidance_rows", recording)
    p = _small(Family.FACILITY_LOCATION)
    result = run_guided(
        p,
        "scip",
        SolveOptions(time_limit=20),
        SrgGuide(tiny_srg_model, srg(sampling={"aggregates": True, "k": 4, "steps": 4})),
        on_incumbent=lambda inc: events.append(f"incumbent {inc.source.value}"),
    )
    _check(p, result)
    assert events[0] == "rows" and events[1] == "incumbent srg"  # the first estimate's
    built = [e for e in events if e.startswith("rows ")]
    assert built == ["rows 1 aggregate"]  # once, after it: total capacity >= total demand
    assert events.index(built[0]) > 1


def test_an_interrupt_during_sampling_ends_it_and_keeps_the_first_incumbent(
    tiny_srg_model: LoadedModel,
) -> None:
    """A cooperative stop asked as the first estimate's incumbent arrives: no sampling step
    runs, the answer is that incumbent, verified, and the termination says interrupted."""
    import threading

    p = _small(Family.SET_COVER)
    stop = threading.Event()
    result = run_guided(
        p,
        "scip",
        SolveOptions(time_limit=60),
        SrgGuide(tiny_srg_model, srg(sampling={"steps": 500})),
        on_incumbent=lambda inc: stop.set(),
        interrupt=stop,
    )
    _check(p, result)
    assert result.extra["srg"]["steps"] == 0
    assert result.incumbents[0].source == IncumbentSource.SRG
    assert result.termination == "interrupted"
    assert result.status == Status.FEASIBLE
