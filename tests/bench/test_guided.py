"""`mipguide bench guided`: outputs, reference, hard kill of a run that overruns."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipguide.bench import guided as bench_guided
from mipguide.bench.guided import parse_methods
from mipguide.bench.guided_run import METHODS, RunOutcome, RunSpec, run_one
from mipguide.cli import app
from mipguide.guidance.params import PasParams, SamplingParams, SrgParams
from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.problem.io import write_problem


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "sc-small.mps"
    p = generate_with(Family.SET_COVER, SetCoverParams(n_rows=60, n_cols=50, density=0.1), 1)
    write_problem(p, path)
    return path


def test_bench_writes_csv_markdown_png(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ref = tmp_path / "ref.csv"
    ref.write_text("instance,reference\nsc-small,1\n")  # far below: nobody reaches it
    args = ["bench", "guided", str(small_file), "--methods", "scip,highs"]
    args += ["--time-limit", "5", "--out", str(out), "--reference", str(ref)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["method"] for r in rows] == ["scip", "highs"]
    for r in rows:
        assert r["instance"] == "sc-small" and float(r["reference"]) == 1.0
        assert 0 < float(r["primal_gap"]) <= 1 and r["proven_optimal"] == "True"
        assert float(r["time_to_first"]) <= 5 and r["time_to_1pct"] == ""
    assert (out / "gap.png").stat().st_size > 1000
    assert "| scip | 1 |" in (out / "results.md").read_text()
    assert (out / "traces.csv").read_text().count("sc-small") >= 2


def test_unknown_method_is_bad_input(small_file: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "guided", str(small_file), "--methods", "gurobi"])
    assert res.exit_code == 2 and "unknown method" in res.output


def test_a_run_that_overruns_is_killed(tmp_path: Path) -> None:
    fifo = tmp_path / "stuck.mps"
    os.mkfifo(fifo)  # reading blocks forever: nobody writes
    out = run_one(RunSpec(fifo, "scip", budget=0.5), grace=0.3)
    assert out.status == "killed" and out.trace == [] and 0.5 <= out.wall < 5


def test_pas_method_uses_the_model_and_parameters(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = Path(__file__).parents[2] / "models" / "weights"
    monkeypatch.setenv("MIPGUIDE_MODEL_DIR", str(weights))
    out = tmp_path / "out"
    args = ["bench", "guided", str(small_file), "--methods", "pas", "--time-limit", "5"]
    args += ["--model", "pas-setcover@1", "--pas", "region.delta=0", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["detail"] == "pas-setcover@1" and row["status"] in ("optimal", "feasible")
    assert float(row["primal_gap"]) == 0.0  # the only method is its own reference
    sources = (out / "traces.csv").read_text()
    assert ",gnn" in sources  # the repaired rounding came first


def test_resume_reuses_saved_runs_and_adds_new_methods(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = ["bench", "guided", str(small_file), "--time-limit", "3", "--out", str(out)]
    res = CliRunner().invoke(app, [*base, "--methods", "scip"])
    assert res.exit_code == 0, res.output
    (saved,) = (out / "runs").glob("sc-small__scip__*.json")
    # every run records the machine's calibration, measured before the bench ran
    first = json.loads((out / "run.json").read_text())["calibration"]
    assert len(first) == 1 and first[0] > 0
    assert json.loads(saved.read_text())["calibration"] == first[0]
    # Mark the saved run so that reuse (not a fresh run) is visible in the results.
    text = saved.read_text().replace('"status": "optimal"', '"status": "from-cache"')
    saved.write_text(text)
    args = [*base, "--methods", "scip,highs", "--resume", "--jobs", "2"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open(newline="") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert list(rows) == ["scip", "highs"]
    assert rows["scip"]["status"] == "from-cache" and rows["highs"]["status"] == "optimal"
    assert len(list((out / "runs").glob("*.json"))) == 2
    # the reused run keeps its own calibration, the new run has this bench's
    again = json.loads((out / "run.json").read_text())["calibration"]
    assert again[0] == first[0] and len(again) == 2 and again[1] > 0
    # Without --resume the saved run is run again.
    res = CliRunner().invoke(app, [*base, "--methods", "scip"])
    with (out / "results.csv").open(newline="") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["optimal"]


def test_srg_methods_and_ablations(tmp_path: Path) -> None:
    names = ["srg", "srg-noguide", "srg-k1", "srg-topk", "srg-indep"]
    assert parse_methods(",".join(names)) == names
    assert all(METHODS[m][0] == "srg" for m in names)
    path = tmp_path / "x.mps"
    base = {"sampling": {"steps": 5, "k": 8}}

    def spec(method: str) -> RunSpec:
        return RunSpec(path, method, 1.0, model="pas-x@1", srg=base, srg_model="srg-y@1")

    def sampling(**changed: object) -> dict:
        return {"sampling": {**base["sampling"], **changed}}

    assert spec("srg").guidance() == ("srg-y@1", {}, base)
    assert spec("srg-noguide").guidance() == ("srg-y@1", {}, sampling(guidance=False))
    assert spec("srg-k1").guidance() == ("srg-y@1", {}, sampling(k=1))
    topk = {**base, "region": {"kind": "topk"}}
    assert spec("srg-topk").guidance() == ("srg-y@1", {}, topk)
    assert spec("srg-indep").guidance() == ("srg-indep-mix@1", {}, base)
    pas = RunSpec(path, "pas", 1.0, model="pas-x@1", pas={"region": {"k0": 0.5}}, srg=base)
    assert pas.guidance() == ("pas-x@1", {"region": {"k0": 0.5}}, {})


def test_plain_methods_ignore_the_model_and_settings(tmp_path: Path) -> None:
    """``--model`` (and ``--pas``) apply to the guided methods only: a plain run neither passes
    them to its solve (which would refuse them) nor counts them in its saved run's key."""
    path = tmp_path / "x.mps"
    for method in ("scip", "highs", "select", "probe"):
        given = RunSpec(path, method, 60.0, model="pas-x@1", pas={"region": {"k0": 0.5}})
        assert given.guidance() == (None, {}, {})
        assert bench_guided._spec_key(given) == bench_guided._spec_key(RunSpec(path, method, 60.0))
    pas = RunSpec(path, "pas", 60.0, model="pas-x@1")
    assert bench_guided._spec_key(pas) != bench_guided._spec_key(RunSpec(path, "pas", 60.0))


def test_select_and_probe_run_solver_auto_each_its_own_way(
    small_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["bench", "guided", str(small_file), "--methods", "select,probe", "--time-limit", "10"]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open(newline="") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"select", "probe"}
    assert rows["select"]["status"] == rows["probe"]["status"] == "optimal"
    assert float(rows["select"]["objective"]) == pytest.approx(float(rows["probe"]["objective"]))


def test_srg_methods_run_with_the_shipped_models(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = Path(__file__).parents[2] / "models" / "weights"
    monkeypatch.setenv("MIPGUIDE_MODEL_DIR", str(weights))
    out = tmp_path / "out"
    args = ["bench", "guided", str(small_file), "--methods", "srg,srg-indep", "--time-limit", "5"]
    args += ["--srg", "sampling.steps=5", "--srg-model", "srg-setcover@1", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open(newline="") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert rows["srg"]["detail"] == "srg-setcover@1"
    assert rows["srg-indep"]["detail"] == "srg-indep-mix@1"
    assert all(r["status"] in ("optimal", "feasible") for r in rows.values())
    assert ",srg" in (out / "traces.csv").read_text()  # a candidate was the first incumbent


def test_bad_srg_option_is_bad_input(small_file: Path) -> None:
    args = ["bench", "guided", str(small_file), "--methods", "srg", "--srg", "sampling.k=-3"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "sampling.k" in res.output


@pytest.mark.parametrize("method", ["pas", "srg"])
def test_a_changed_default_parameter_makes_a_new_run_key(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = RunSpec(tmp_path / "x.mps", method, 60.0)
    before = bench_guided._spec_key(spec)
    assert bench_guided._spec_key(RunSpec(tmp_path / "x.mps", method, 60.0)) == before

    class PasChanged(PasParams):
        start_seconds: float = 5.0

    class SrgChanged(SrgParams):
        sampling: SamplingParams = SamplingParams(first_estimate=False)

    monkeypatch.setattr(bench_guided, "PasParams", PasChanged)
    monkeypatch.setattr(bench_guided, "SrgParams", SrgChanged)
    assert bench_guided._spec_key(spec) != before


def test_a_retuned_card_or_a_refitted_selector_makes_a_new_run_key(tmp_path: Path) -> None:
    """--resume must not reuse a guided run made with the card's earlier settings (a re-tuned
    or retrained model) nor a solver=auto run made with another plain selector."""
    import shutil

    from mipguide.models.selector import SELECTOR_FILE

    weights = Path(__file__).parents[2] / "models" / "weights"
    registry = tmp_path / "registry"
    shutil.copytree(weights / "srg-setcover@1", registry / "srg-setcover@1")
    shutil.copy(weights / SELECTOR_FILE, registry / SELECTOR_FILE)
    methods = ("scip", "select", "probe", "srg", "pas")  # probe: the selector is off

    def keys() -> dict[str, str]:
        return {
            m: bench_guided._spec_key(RunSpec(tmp_path / "x.mps", m, 60.0, model_dir=registry))
            for m in methods
        }

    before = keys()
    assert keys() == before
    card = registry / "srg-setcover@1" / "card.json"
    body = json.loads(card.read_text())
    card.write_text(json.dumps({**body, "solver": "scip" if body["solver"] != "scip" else "highs"}))
    after_card = keys()
    changed = {m for m in methods if after_card[m] != before[m]}
    assert changed == {"srg"}  # no PaS model here; plain runs ignore cards
    selector = registry / SELECTOR_FILE
    selector.write_text(selector.read_text().replace('"highs"', '"HIGHS"', 1))
    after_selector = keys()
    assert {m for m in methods if after_selector[m] != after_card[m]} == {"select", "srg", "pas"}


def test_a_reference_that_a_run_beats_gives_way_to_the_best_found() -> None:
    """A reference file older than the runs: the gap is to the best known objective, never to a
    worse one (a run better than the reference must not show a positive gap)."""
    runs = {
        ("a", "scip"): RunOutcome(trace=[(1.0, 10.0, "solver")], sense=1, status="feasible"),
        ("a", "pas"): RunOutcome(trace=[(2.0, 8.0, "solver")], sense=1, status="feasible"),
        ("b", "scip"): RunOutcome(trace=[(1.0, 5.0, "solver")], sense=-1, status="feasible"),
    }
    rows = {(r.instance, r.method): r for r in bench_guided.score(runs, 10.0, {"a": 9, "b": 4})}
    assert rows["a", "pas"].reference == 8.0 and rows["a", "pas"].primal_gap == 0.0
    assert rows["a", "scip"].primal_gap == pytest.approx(0.2)
    assert rows["b", "scip"].reference == 5.0 and rows["b", "scip"].primal_gap == 0.0
    rows = {(r.instance, r.method): r for r in bench_guided.score(runs, 10.0, {"a": 7})}
    assert rows["a", "pas"].reference == 7.0  # a better given reference stands
    assert rows["a", "pas"].primal_gap == pytest.approx(1 / 8)


def test_solver_seed_reaches_the_runs_and_makes_its_own(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds: list[int] = []
    real = bench_guided.run_one

    def recording(spec: RunSpec, grace: float) -> RunOutcome:
        seeds.append(spec.seed)
        return real(spec, grace)

    monkeypatch.setattr(bench_guided, "run_one", recording)
    out = tmp_path / "out"
    base = ["bench", "guided", str(small_file), "--methods", "scip", "--time-limit", "3"]
    base += ["--out", str(out), "--resume"]
    for extra in ([], ["--solver-seed", "3"], ["--solver-seed", "3"]):
        res = CliRunner().invoke(app, [*base, *extra])
        assert res.exit_code == 0, res.output
    # seed 3 is a run of its own (saved under another key), reused the second time
    assert seeds == [0, 3]
    assert len(list((out / "runs").glob("sc-small__scip__*.json"))) == 2
    assert "solver seed 3)" in (out / "results.md").read_text()
    res = CliRunner().invoke(app, [*base, "--solver-seed", "-1"])
    assert res.exit_code == 2 and "solver-seed" in res.output


def test_a_card_the_run_does_not_use_leaves_its_key(tmp_path: Path) -> None:
    """Re-tuning one family's model must not invalidate the saved runs of another family: the
    key holds the card of the model that matches the instance (or that is named), not all."""
    import shutil

    from mipguide.instances.registry import PARAMS

    weights = Path(__file__).parents[2] / "models" / "weights"
    registry = tmp_path / "registry"
    for ref in ("srg-setcover@1", "srg-indset@1"):
        shutil.copytree(weights / ref, registry / ref)
    path = tmp_path / "sc.mps"
    write_problem(generate_with(Family.SET_COVER, PARAMS[Family.SET_COVER]["medium"], 3), path)

    def key(**named: str) -> str:
        return bench_guided._spec_key(RunSpec(path, "srg", 60.0, model_dir=registry, **named))

    def retune(ref: str) -> None:
        card = registry / ref / "card.json"
        body = json.loads(card.read_text())
        card.write_text(json.dumps({**body, "solver": "x" + body.get("solver", "")}))

    matched, named = key(), key(srg_model="srg-indset@1")
    retune("srg-indset@1")  # not the set cover instance's match
    assert key() == matched and key(srg_model="srg-indset@1") != named
    retune("srg-setcover@1")  # its match
    assert key() != matched
    # an instance that cannot be read: every card counts, as before
    missing = RunSpec(tmp_path / "none.mps", "srg", 60.0, model_dir=registry)
    before = bench_guided._spec_key(missing)
    retune("srg-indset@1")
    assert bench_guided._spec_key(missing) != before


def test_a_model_named_by_its_folder_keys_on_its_card(tmp_path: Path) -> None:
    import shutil

    weights = Path(__file__).parents[2] / "models" / "weights"
    folder = tmp_path / "mine" / "srg-indset@1"
    shutil.copytree(weights / "srg-indset@1", folder)
    spec = RunSpec(tmp_path / "x.mps", "srg", 60.0, srg_model=str(folder))
    before = bench_guided._spec_key(spec)
    card = folder / "card.json"
    card.write_text(json.dumps({**json.loads(card.read_text()), "solver": "scip"}))
    assert bench_guided._spec_key(spec) != before
