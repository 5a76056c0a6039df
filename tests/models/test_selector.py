"""The plain backend selector (``models.selector``): features, the grid fitted by
leave-one-group-out (families and library instances), decision trees, the file round trip, and
``solver=auto`` following it in the dispatcher."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mipguide.guidance.dispatch import ModeRequest, plain_selector, solve_request
from mipguide.models.selector import (
    FEATURES,
    GRID,
    SELECTOR_FILE,
    Labelled,
    Selector,
    family_ratio,
    features,
    fit,
    fit_one,
    leave_one_family_out,
    load_selector,
    score,
    weights,
)
from mipguide.problem.io import read_problem
from mipguide.solvers.types import SolveOptions, Status


def _x(**values: float) -> np.ndarray:
    return np.array([values.get(k, 0.0) for k in FEATURES])


def _sig(x: np.ndarray, types: str) -> dict[str, object]:
    """A signature whose numbers are the features' first six and whose categories are given."""
    numeric = dict(zip(FEATURES[:6], x[:6].tolist(), strict=True))
    return {"sense": 1, "types": types, "rows": "ge", "coefficients": "unit", **numeric}


def _family(
    name: str, x: np.ndarray, highs: float, scip: float, types: str = "binary", n: int = 3
) -> list[Labelled]:
    rng = np.random.default_rng(sum(map(ord, name)))
    out = []
    for i in range(n):
        xi = x + 0.01 * rng.standard_normal(len(x)) * (np.arange(len(x)) < 6)  # numbers only
        out.append(Labelled(f"{name}-{i}", name, _sig(xi, types), xi, highs, scip))
    return out


def _data() -> list[Labelled]:
    """Pure-binary families favour HiGHS, mixed ones SCIP; each family has a size of its own,
    so no family's signature matches another's (a left-out family goes to the fallback)."""
    binary = _x(all_binary=1.0)
    mixed = _x(continuous_fraction=0.9, has_eq=1.0)
    return [
        *_family("b1", binary + _x(log_vars=2.0), highs=0.01, scip=0.10),
        *_family("b2", binary + _x(log_vars=3.0), highs=0.02, scip=0.08),
        *_family("b3", binary + _x(log_vars=4.0), highs=0.01, scip=0.05),
        *_family("m1", mixed + _x(log_vars=2.0), highs=0.20, scip=0.05, types="mixed"),
        *_family("m2", mixed + _x(log_vars=3.0), highs=0.30, scip=0.10, types="mixed"),
        *_family("m3", mixed + _x(log_vars=4.0), highs=0.15, scip=0.06, types="mixed"),
    ]


def test_features_of_a_real_instance_are_finite(miplib_dir: Path) -> None:
    x = features(read_problem(miplib_dir / "p0033.mps.gz"))
    assert x.shape == (len(FEATURES),) and np.all(np.isfinite(x))
    named = dict(zip(FEATURES, x, strict=True))
    assert named["all_binary"] == 1.0 and named["continuous_fraction"] == 0.0
    assert named["log_vars"] == pytest.approx(math.log10(33))


def test_family_ratio_is_one_for_the_best_backend() -> None:
    items = _family("b1", _x(), highs=0.01, scip=0.10)
    assert family_ratio(items, ["highs"] * 3) == pytest.approx(1.0)
    assert family_ratio(items, ["scip"] * 3) == pytest.approx((0.10 + 1e-3) / (0.01 + 1e-3))


@pytest.mark.parametrize("kind,param", [("ridge", 1.0), ("knn", 3), ("tree", 1), ("tree", 2)])
def test_a_learnable_split_is_learned_for_left_out_families(kind: str, param: float) -> None:
    data = _data()
    lofo, matched, picks = leave_one_family_out(data, kind, param)
    assert set(lofo) == {"b1", "b2", "b3", "m1", "m2", "m3"}
    assert all(r == pytest.approx(1.0) for r in lofo.values())  # every family: its best
    assert set(matched.values()) == {0}  # by the fallback, as designed
    assert picks["b1"] == ["highs"] * 3 and picks["m1"] == ["scip"] * 3
    constant, _, _ = leave_one_family_out(data, "constant", -1.0)  # always HiGHS
    assert constant["b1"] == pytest.approx(1.0) and constant["m1"] > 1.0


def test_a_tree_splits_on_the_feature_that_separates_the_backends() -> None:
    sel = fit_one(_data(), "tree", 2)
    tree = sel.fallback.tree
    assert tree is not None and tree["feature"] in ("all_binary", "continuous_fraction", "has_eq")
    assert {tree["le"]["solver"], tree["gt"]["solver"]} == {"highs", "scip"}  # one split does it
    binary, mixed = _x(all_binary=1.0), _x(continuous_fraction=0.9, has_eq=1.0)
    assert sel.fallback.predict(binary) == -1.0 and sel.fallback.predict(mixed) == 1.0


def test_a_tree_neither_splits_off_a_single_group_nor_cuts_through_one() -> None:
    """Three families, one unlike the rest: any split would isolate it or cut a family's
    instances apart (their sizes differ by noise), so the tree is one leaf, the backend of
    the lower weighted cost."""
    data = [
        *_family("b1", _x(log_vars=2.0), highs=0.01, scip=0.10),
        *_family("b2", _x(log_vars=3.0), highs=0.02, scip=0.08),
        *_family("m1", _x(log_vars=4.0, has_eq=1.0), highs=0.20, scip=0.05),
    ]
    assert fit_one(data, "tree", 2).fallback.tree == {"solver": "highs"}


def _library(n: int = 6) -> list[Labelled]:
    """Unrelated instances, each its own group: SCIP ahead on all."""
    return [
        Labelled(f"lib{i}", "lib", _sig(_x(log_vars=5.0 + i), "mixed"), _x(log_vars=5.0 + i),
                 0.04, 0.01, single=True)
        for i in range(n)
    ]  # fmt: skip


def test_library_instances_are_groups_of_their_own_and_never_a_family() -> None:
    data = [*_data(), *_library()]
    sel = fit_one(data, "constant", -1.0)
    assert {f.label for f in sel.families} == {"b1", "b2", "b3", "m1", "m2", "m3"}
    lofo, _, picks = leave_one_family_out(data, "constant", 1.0)
    assert {g for g in lofo if g.startswith("lib/")} == {f"lib/lib{i}" for i in range(6)}
    w = weights(data)
    assert w.sum() == pytest.approx(1.0)
    single = np.array([d.single for d in data])
    assert w[single].sum() == pytest.approx(0.5)  # the library weighs as the families do
    assert w[single] == pytest.approx(np.full(6, 0.5 / 6))
    assert w[~single] == pytest.approx(np.full(18, 0.5 / 18))  # 6 families of 3
    figures = score(data, picks)  # always SCIP: the library at its best
    assert figures["library"] == pytest.approx(1.0)
    assert figures["mean"] == pytest.approx((figures["families"] + 1.0) / 2)
    highs = score(data, {g: ["highs"] * len(p) for g, p in picks.items()})
    assert highs["library"] == pytest.approx((0.04 + 1e-3) / (0.01 + 1e-3))


def test_the_library_moves_the_fallback() -> None:
    """Families alone favour HiGHS for an unmeasured binary family; a library where SCIP wins
    on large mixed instances makes the grid choose a fallback that sends those to SCIP."""
    data = [*_data(), *_library()]
    sel = fit(data)
    assert sel.report["grid"][sel.report["chosen"]]["library"] == pytest.approx(1.0)
    assert sel.fallback.kind != "constant"
    far = _x(log_vars=7.0)
    assert sel.choose_for(_sig(far, "mixed"), far).solver == "scip"
    assert {"families", "library", "mean"} <= set(sel.report["always"]["highs"])


def test_a_measured_family_gets_its_better_backend() -> None:
    data = _data()
    sel = fit_one(data, "constant", -1.0)  # the fallback would say HiGHS
    for d in data:
        choice = sel.choose_for(d.sig, d.x)
        assert choice.family == d.family
        assert choice.solver == ("highs" if d.family.startswith("b") else "scip")
    far = _x(all_binary=1.0, log_vars=9.0)  # 10^9 variables: no family's size
    choice = sel.choose_for(_sig(far, "binary"), far)
    assert choice.family is None and choice.solver == "highs" and choice.predicted == -1.0
    assert choice.to_dict()["by"] == "selector"


def test_fit_chooses_the_fallback_from_the_grid_and_reports_it() -> None:
    sel = fit(_data())
    report = sel.report
    assert len(report["grid"]) == len(GRID) and 0 <= report["chosen"] < len(GRID)
    chosen = report["grid"][report["chosen"]]
    assert (chosen["kind"], chosen["param"]) == (sel.fallback.kind, sel.fallback.param)
    assert chosen["mean"] == min(row["mean"] for row in report["grid"])
    assert chosen["kind"] != "constant"  # a learnable split beats both constants
    always = report["always"]
    assert always["highs"]["ratios"]["m1"] > 1.0 and always["scip"]["ratios"]["b1"] > 1.0
    assert "library" not in chosen and chosen["families"] == chosen["mean"]
    assert len(report["data"]) == 18 and len(sel.families) == 6


def test_one_family_is_not_enough() -> None:
    with pytest.raises(ValueError, match="two families"):
        fit(_family("b1", _x(), 0.01, 0.1))


@pytest.mark.parametrize("kind,param", [("ridge", 10.0), ("knn", 1), ("tree", 2)])
def test_the_file_round_trip_predicts_the_same(kind: str, param: float, tmp_path: Path) -> None:
    data = _data()
    sel = fit_one(data, kind, param)
    path = tmp_path / SELECTOR_FILE
    path.write_text(json.dumps(sel.to_dict()))
    back = load_selector(path)
    assert isinstance(back, Selector)
    for d in data:
        assert back.fallback.predict(d.x) == pytest.approx(sel.fallback.predict(d.x))
        assert back.choose_for(d.sig, d.x) == sel.choose_for(d.sig, d.x)


def test_a_damaged_or_foreign_file_is_no_selector(tmp_path: Path) -> None:
    path = tmp_path / SELECTOR_FILE
    path.write_text("{not json")
    assert load_selector(path) is None
    path.write_text(json.dumps({"features": ["other"], "fallback": {"kind": "ridge"}}))
    assert load_selector(path) is None
    path.write_text(json.dumps({"features": list(FEATURES), "families": [], "fallback": {}}))
    assert load_selector(path) is None
    for tree in (
        {"solver": "gurobi"},
        {"feature": "nope", "threshold": 0},
        {"feature": "log_vars"},
    ):
        body = {"features": list(FEATURES), "families": [], "fallback": {"kind": "tree",
                "param": 1, "tree": tree}}  # fmt: skip
        path.write_text(json.dumps(body))
        assert load_selector(path) is None
    assert load_selector(tmp_path / "absent.json") is None


def _selector_for(tmp_path: Path, solver: str) -> Path:
    """A registry folder whose selector picks ``solver`` for every instance (no family of
    its data matches a real instance; the fallback answers)."""
    highs, scip = (0.01, 0.1) if solver == "highs" else (0.1, 0.01)
    data = [
        *_family("a", _x(log_vars=8.0), highs, scip),
        *_family("b", _x(log_vars=9.0), highs, scip),
    ]
    folder = tmp_path / solver
    folder.mkdir()
    (folder / SELECTOR_FILE).write_text(json.dumps(fit_one(data, "ridge", 1.0).to_dict()))
    return folder


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_solver_auto_without_a_model_runs_the_selectors_backend(
    solver: str, tmp_path: Path, miplib_dir: Path
) -> None:
    folder = _selector_for(tmp_path, solver)
    problem = read_problem(miplib_dir / "p0033.mps.gz")
    for mode in ("exact", "auto"):
        request = ModeRequest(mode=mode, model_dir=folder)
        r = solve_request(problem, "auto", SolveOptions(time_limit=30), request)
        assert r.status is Status.OPTIMAL and r.objective == pytest.approx(3089.0)
        choice = r.extra["solver_choice"]
        assert choice["by"] == "selector" and choice["solver"] == solver == r.solver
        assert (choice["predicted_log_ratio"] < 0) == (solver == "highs")
        assert choice["family"] is None
    probed = solve_request(
        problem, "auto", SolveOptions(time_limit=30), ModeRequest(model_dir=folder, plain="probe")
    )
    assert probed.extra["solver_choice"]["by"] == "settled"  # the probe, when asked for


def test_the_first_selector_on_the_search_path_wins(tmp_path: Path) -> None:
    highs, scip = _selector_for(tmp_path, "highs"), _selector_for(tmp_path, "scip")
    x = _x()
    first = plain_selector((scip, highs))
    assert first is not None and first.choose_for(_sig(x, "binary"), x).solver == "scip"
    assert plain_selector(tmp_path / "nowhere") is None
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / SELECTOR_FILE).write_text("{")
    after = plain_selector((damaged, highs))  # a damaged file is passed over
    assert after is not None and after.choose_for(_sig(x, "binary"), x).solver == "highs"


def test_the_shipped_selector_loads() -> None:
    from mipguide.settings import SHIPPED_MODELS

    sel = load_selector(SHIPPED_MODELS / SELECTOR_FILE)
    assert sel is not None and sel.report["data"]
    body = json.loads((SHIPPED_MODELS / SELECTOR_FILE).read_text())
    assert body["command"].startswith("mipguide tune-plain")
    assert len({d["family"] for d in body["data"]}) >= 5
    # an instance of a measured family gets that family's backend
    from mipguide.instances.registry import Family, Size, generate

    for family in (Family.VERTEX_COVER, Family.LOAD_BALANCE):
        problem = generate(family, Size.HARD, 2100)
        choice = sel.choose(problem)
        want = next(f.solver for f in sel.families if f.label == family.value)
        assert choice.family == family.value and choice.solver == want


def test_an_unknown_plain_choice_is_refused(miplib_dir: Path) -> None:
    from mipguide.errors import InvalidOptionError

    problem = read_problem(miplib_dir / "p0033.mps.gz")
    with pytest.raises(InvalidOptionError) as info:
        solve_request(problem, "auto", SolveOptions(time_limit=5), ModeRequest(plain="guess"))
    assert info.value.option == "plain"


def test_a_backend_that_is_not_installed_falls_back_to_the_probe(
    tmp_path: Path, miplib_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mipguide.guidance.dispatch as dispatch
    from mipguide.errors import BackendUnavailableError

    real = dispatch.solve_problem

    def without_highs(problem, solver, options, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN003, ANN202
        if solver == "highs":
            raise BackendUnavailableError("highs is not installed")
        return real(problem, solver, options, **kwargs)

    monkeypatch.setattr(dispatch, "solve_problem", without_highs)
    folder = _selector_for(tmp_path, "highs")
    problem = read_problem(miplib_dir / "p0033.mps.gz")
    r = solve_request(problem, "auto", SolveOptions(time_limit=30), ModeRequest(model_dir=folder))
    assert r.status is Status.OPTIMAL and r.objective == pytest.approx(3089.0)
    assert r.extra["solver_choice"]["by"] == "settled" and r.solver == "scip"
