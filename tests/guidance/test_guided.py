"""Mode dispatch (``dispatch.solve_request``): auto picks the model trained on the instance's
family, or solves exactly; pas and srg use theirs; bad requests are input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mipguide.errors import InvalidOptionError
from mipguide.guidance.dispatch import ModeRequest, solve_request
from mipguide.guidance.selection import pas_params, select_model, srg_params
from mipguide.instances.registry import PROTOCOL_FAMILIES, Family, Size, generate
from mipguide.models.pas import PaSConfig, PaSNet
from mipguide.models.registry import ModelError, save_model
from mipguide.models.signature import cluster_of, signature
from mipguide.models.srg import SrgConfig, SrgNet
from mipguide.problem.io import read_problem
from mipguide.problem.verify import verify
from mipguide.solvers.types import SolveOptions, Status

FAMILIES = list(PROTOCOL_FAMILIES)


def solve_guided(problem, solver, options, mode, **request):  # noqa: ANN001, ANN003, ANN201
    """``solve_request`` with a ``ModeRequest`` of ``mode`` and the keyword arguments."""
    return solve_request(problem, solver, options, ModeRequest(mode=mode, **request))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One untrained model per family (signature of 3 medium instances) and one on the mix."""
    root = tmp_path_factory.mktemp("registry")
    clusters = {
        f: cluster_of(f.value, [generate(f, Size.MEDIUM, s) for s in (0, 1, 2)]) for f in FAMILIES
    }
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = PaSNet(PaSConfig(hidden=8, rounds=1))
    for f in FAMILIES:
        save_model(net, root / f"pas-{f.value}@1", {"signature": [clusters[f].to_dict()]})
    mix = [clusters[f].to_dict() for f in FAMILIES]
    save_model(net, root / "pas-mix@1", {"signature": mix, "pas": {"region": {"k0": 0.5}}})
    save_model(net, root / "pas-nocard@1", {})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        srg = SrgNet(SrgConfig(hidden=8))
    for f in FAMILIES:  # score models with the same signatures: never picked for pas/auto
        card = {"signature": [clusters[f].to_dict()], "srg": {"sampling": {"k": 4, "steps": 5}}}
        save_model(srg, root / f"srg-{f.value}@1", card)
    return root


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("size", [Size.MEDIUM, Size.HARD])
def test_auto_prefers_the_family_model(registry: Path, family: Family, size: Size) -> None:
    match = select_model(generate(family, size, 1234), registry)
    assert match is not None and match.ref == f"pas-{family.value}@1"


def test_the_mix_is_chosen_when_no_specialist_is_registered(registry: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(registry / "pas-mix@1", tmp_path / "pas-mix@1")
    match = select_model(generate(Family.INDEPENDENT_SET, Size.MEDIUM, 5), tmp_path)
    assert match is not None and match.ref == "pas-mix@1"


@pytest.mark.parametrize("name", ["p0033", "stein27", "10teams", "air03", "egout"])
def test_no_model_matches_miplib(registry: Path, miplib_dir: Path, name: str) -> None:
    path = next(miplib_dir.glob(f"{name}.mps*"))
    assert select_model(read_problem(path), registry) is None


def test_auto_without_a_match_solves_exactly(registry: Path, miplib_dir: Path) -> None:
    p = read_problem(miplib_dir / "p0033.mps.gz")
    r = solve_guided(p, "scip", SolveOptions(time_limit=30), "auto", model_dir=registry)
    assert r.mode == "exact" and r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(3089.0)
    assert r.extra["auto"]["model"] is None and "no registered model" in r.extra["auto"]["reason"]


def test_auto_solver_without_a_match_probes_the_plain_backends(
    registry: Path, miplib_dir: Path
) -> None:
    p = read_problem(miplib_dir / "p0033.mps.gz")
    r = solve_guided(p, "auto", SolveOptions(time_limit=30), "auto", model_dir=registry)
    assert r.mode == "exact" and r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(3089.0)
    assert r.extra["solver_choice"]["by"] == "settled" and r.extra["auto"]["model"] is None
    exact = solve_guided(p, "auto", SolveOptions(time_limit=30), "exact")
    assert exact.extra["solver_choice"]["solver"] == exact.solver
    with pytest.raises(InvalidOptionError) as info:
        solve_guided(p, "auto", SolveOptions(time_limit=5), "exact", dmmv_seconds=1.0)
    assert info.value.option == "solver"


def test_auto_solver_follows_the_model_card(registry: Path, tmp_path: Path) -> None:
    import json
    import shutil

    ref = "pas-cauction@1"
    shutil.copytree(registry / ref, tmp_path / ref)
    card_path = tmp_path / ref / "card.json"
    card = json.loads(card_path.read_text())
    p = generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 1)
    for named, expected in ((None, "scip"), ("highs", "highs")):
        if named is not None:
            card_path.write_text(json.dumps(dict(card, solver=named)))
        r = solve_guided(p, "auto", SolveOptions(time_limit=3), "pas", model_dir=tmp_path)
        assert r.mode == "pas" and r.solver == expected
        assert r.extra["solver_choice"] == {"solver": expected, "by": "card", "model": ref}
        assert r.status in (Status.OPTIMAL, Status.FEASIBLE) and r.max_violation is not None
    named = solve_guided(p, "scip", SolveOptions(time_limit=3), "pas", model_dir=tmp_path)
    assert named.solver == "scip" and "solver_choice" not in named.extra  # the caller's


def test_a_model_named_outside_its_signature_runs_the_selectors_backend(
    registry: Path, tmp_path: Path, miplib_dir: Path
) -> None:
    """The card's backend was chosen on its own family; a model named for an instance outside
    its signature (zero-shot) runs on the backend the plain selector picks for the instance."""
    import json
    import shutil

    import numpy as np

    from mipguide.models.selector import SELECTOR_FILE, Fallback, Selector

    ref = "pas-cauction@1"
    shutil.copytree(registry / ref, tmp_path / ref)
    card_path = tmp_path / ref / "card.json"
    card_path.write_text(json.dumps(dict(json.loads(card_path.read_text()), solver="scip")))
    always_highs = Selector([], Fallback("constant", -1.0, np.zeros(0), np.zeros(0)))
    (tmp_path / SELECTOR_FILE).write_text(json.dumps(always_highs.to_dict()))
    options = SolveOptions(time_limit=5)
    outside = read_problem(miplib_dir / "p0033.mps.gz")
    r = solve_guided(outside, "auto", options, "pas", model=ref, model_dir=tmp_path)
    assert r.mode == "pas" and r.solver == "highs" and r.max_violation is not None
    assert r.status in (Status.OPTIMAL, Status.FEASIBLE) and r.objective >= 3089.0 - 1e-6
    choice = r.extra["solver_choice"]
    assert choice["by"] == "selector" and choice["outside_model"] is True
    assert choice["model"] == ref and choice["family"] is None
    inside = generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 1)
    for model in (ref, None):  # named or matched: the card's backend
        r = solve_guided(inside, "auto", options, "pas", model=model, model_dir=tmp_path)
        assert r.solver == "scip"
        assert r.extra["solver_choice"] == {"solver": "scip", "by": "card", "model": ref}
    (tmp_path / SELECTOR_FILE).unlink()  # no selector: the card's backend everywhere
    r = solve_guided(outside, "auto", options, "pas", model=ref, model_dir=tmp_path)
    assert r.solver == "scip" and r.extra["solver_choice"]["by"] == "card"


def test_auto_solves_plainly_where_the_card_says_guidance_loses(
    registry: Path, tmp_path: Path
) -> None:
    import json
    import shutil

    ref = "pas-cauction@1"
    shutil.copytree(registry / ref, tmp_path / ref)
    card_path = tmp_path / ref / "card.json"
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps(dict(card, auto={"mode": "exact", "solver": "highs"})))
    p = generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 1)
    r = solve_guided(p, "auto", SolveOptions(time_limit=5), "auto", model_dir=tmp_path)
    assert r.mode == "exact" and r.solver == "highs" and r.extra["auto"]["model"] == ref
    assert "alone better" in r.extra["auto"]["reason"]
    assert r.extra["solver_choice"] == {"solver": "highs", "by": "card", "model": ref}
    named = solve_guided(p, "scip", SolveOptions(time_limit=5), "auto", model_dir=tmp_path)
    assert named.mode == "exact" and named.solver == "scip"  # the caller's backend, plainly
    guided = solve_guided(p, "auto", SolveOptions(time_limit=3), "pas", model_dir=tmp_path)
    assert guided.mode == "pas"  # mode=pas still guides: the caller asked for it


def test_auto_with_a_match_runs_pas(registry: Path) -> None:
    p = generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 1)
    r = solve_guided(p, "scip", SolveOptions(time_limit=3), "auto", model_dir=registry)
    assert r.mode == "pas" and r.extra["auto"]["model"] == "pas-cauction@1"
    assert r.status in (Status.OPTIMAL, Status.FEASIBLE) and r.max_violation is not None
    assert r.seconds["select"] >= 0


def test_pas_without_a_matching_model_is_an_input_error(registry: Path, miplib_dir: Path) -> None:
    p = read_problem(miplib_dir / "p0033.mps.gz")
    with pytest.raises(InvalidOptionError) as info:
        solve_guided(p, "scip", SolveOptions(time_limit=5), "pas", model_dir=registry)
    assert info.value.option == "model" and "pas-mix@1" in info.value.valid


def test_pas_with_a_named_model_runs_on_any_problem(registry: Path, miplib_dir: Path) -> None:
    p = read_problem(miplib_dir / "p0033.mps.gz")
    r = solve_guided(
        p, "scip", SolveOptions(time_limit=30), "pas", model="pas-mix@1", model_dir=registry
    )
    assert r.mode == "pas" and r.status == Status.OPTIMAL
    assert r.objective == pytest.approx(3089.0)
    assert r.extra["pas"]["params"]["region"]["k0"] == 0.5  # the card's recommendation


def test_parameters_card_then_user() -> None:
    card = {"pas": {"region": {"k0": 0.4, "delta": 0.1}}}
    assert pas_params(card, {"region": {"delta": 0.0}}).region.k0 == 0.4
    assert pas_params(card, {"region": {"delta": 0.0}}).region.delta == 0.0
    with pytest.raises(InvalidOptionError):
        pas_params({}, {"speed": 1})


def test_unknown_mode(registry: Path) -> None:
    p = generate(Family.SET_COVER, Size.EASY, 0)
    with pytest.raises(InvalidOptionError):
        solve_guided(p, "scip", SolveOptions(), "srg-ish", model_dir=registry)


@pytest.mark.parametrize("family", FAMILIES)
def test_srg_picks_the_family_score_model(registry: Path, family: Family) -> None:
    match = select_model(generate(family, Size.HARD, 1234), registry, "srg")
    assert match is not None and match.ref == f"srg-{family.value}@1"


def test_mode_srg_runs_with_the_card_parameters(registry: Path) -> None:
    p = generate(Family.INDEPENDENT_SET, Size.EASY, 1)
    srg = {"sampling": {"k": 6}}
    r = solve_guided(p, "scip", SolveOptions(time_limit=5), "srg", model_dir=registry, srg=srg)
    assert r.mode == "srg" and r.extra["srg"]["model"] == "srg-indset@1"
    assert r.extra["srg"]["k"] == 6  # the user's
    assert r.extra["srg"]["params"]["sampling"]["steps"] == 5  # the card's
    assert r.status in (Status.OPTIMAL, Status.FEASIBLE) and r.max_violation <= 1e-6
    assert r.seconds["select"] >= 0 and r.seconds["sample"] >= 0


def test_srg_without_a_matching_model_names_the_score_models(
    registry: Path, miplib_dir: Path
) -> None:
    p = read_problem(miplib_dir / "p0033.mps.gz")
    with pytest.raises(InvalidOptionError) as info:
        solve_guided(p, "scip", SolveOptions(time_limit=5), "srg", model_dir=registry)
    assert info.value.option == "model"
    assert "srg-indset@1" in info.value.valid and "pas-mix@1" not in info.value.valid


def test_pas_and_auto_never_pick_a_score_model(registry: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(registry / "srg-indset@1", tmp_path / "srg-indset@1")
    p = generate(Family.INDEPENDENT_SET, Size.MEDIUM, 5)
    assert select_model(p, tmp_path) is None
    assert select_model(p, tmp_path, "srg") is not None
    r = solve_guided(p, "scip", SolveOptions(time_limit=2), "auto", model_dir=tmp_path)
    assert r.mode == "exact"


def test_a_model_of_the_other_kind_is_refused(registry: Path) -> None:
    p = generate(Family.SET_COVER, Size.EASY, 0)
    with pytest.raises(ModelError, match="needs an srg model"):
        solve_guided(p, "scip", SolveOptions(time_limit=5), "srg", model="pas-mix@1",
                     model_dir=registry)  # fmt: skip
    with pytest.raises(ModelError, match="needs a pas model"):
        solve_guided(p, "scip", SolveOptions(time_limit=5), "pas", model="srg-indset@1",
                     model_dir=registry)  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "kwargs", "option"),
    [
        ("srg", {"srg": {"sampling": {"k": 0}}}, "srg.sampling.k"),
        ("srg", {"srg": {"warp": 1}}, "srg.warp"),
        ("pas", {"srg": {"sampling": {"k": 4}}}, "srg"),
        ("srg", {"pas": {"region": {"k0": 0.5}}}, "pas"),
        ("exact", {"dmmv_seconds": 1.0, "model": "x@1"}, "mode"),
        ("pas", {"dmmv_seconds": 1.0}, "dmmv"),
    ],
)
def test_bad_srg_options_are_input_errors(
    registry: Path, mode: str, kwargs: dict, option: str
) -> None:
    p = generate(Family.SET_COVER, Size.EASY, 0)
    with pytest.raises(InvalidOptionError) as info:
        solve_guided(p, "scip", SolveOptions(time_limit=5), mode, model_dir=registry, **kwargs)
    assert info.value.option == option


def test_srg_parameters_card_then_user() -> None:
    card = {"srg": {"sampling": {"k": 4, "eta": 2.0}}}
    assert srg_params(card, {"sampling": {"eta": 0.5}}).sampling.k == 4
    assert srg_params(card, {"sampling": {"eta": 0.5}}).sampling.eta == 0.5
    with pytest.raises(InvalidOptionError, match="warp"):
        srg_params({}, {"warp": 1})


def test_signature_is_cheap_and_scale_free() -> None:
    a = signature(generate(Family.SET_COVER, Size.EASY, 0))
    b = signature(generate(Family.SET_COVER, Size.EASY, 1))
    assert a["rows"] == "ge" and a["coefficients"] == "unit" and a["types"] == "binary"
    assert a["log_row_degree"] == pytest.approx(b["log_row_degree"], abs=0.05)


def test_a_guided_solve_keeps_the_solutions_it_improved_on(registry: Path) -> None:
    # an untrained network's region is poor, so the search improves on its first solutions:
    # the ones it replaced come back (for the archive), verified, best first, none better
    p = generate(Family.SET_COVER, Size.MEDIUM, 3)
    options = SolveOptions(time_limit=10, keep_solutions=4)
    r = solve_guided(p, "scip", options, "pas", model="pas-mix@1", model_dir=registry)
    assert r.mode == "pas" and r.objective is not None and len(r.incumbents) >= 2
    assert 1 <= len(r.solutions) <= 4
    objectives = [obj for obj, _ in r.solutions]
    assert objectives == sorted(objectives)  # minimization: best first
    assert objectives[0] >= r.objective - 1e-9
    answer = np.array([r.values[name] for name in p.var_names])
    for obj, x in r.solutions:
        assert verify(p, x).feasible and obj == pytest.approx(p.objective_value(x))
        assert not np.array_equal(x, answer)
    plain = solve_guided(p, "scip", SolveOptions(time_limit=5), "pas", model="pas-mix@1",
                         model_dir=registry)  # fmt: skip
    assert plain.solutions == ()  # not asked for: none kept
