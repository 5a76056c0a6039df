"""``mipguide bench summarize``: one reference per instance over every run, per-seed and pooled
integrals and finals against plain SCIP, and the table and plot it writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipguide.bench.summary import load_run, summarize
from mipguide.cli import app


def write_run(
    folder: Path,
    seed: int,
    traces: dict[tuple[str, str], list[tuple[float, float]]],
    calibration: list[float] | None = None,
) -> Path:
    folder.mkdir(parents=True)
    with (folder / "traces.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["instance", "method", "t", "objective", "source"])
        for (inst, method), trace in traces.items():
            for t, obj in trace:
                w.writerow([inst, method, t, obj, "solver"])
    senses = {inst: 1 for inst, _ in traces}
    meta = {"budget": 10.0, "seed": seed, "methods": ["scip", "pas"], "senses": senses}
    if calibration is not None:
        meta["calibration"] = calibration
    (folder / "run.json").write_text(json.dumps({**meta, "runs": [list(k) for k in traces]}))
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    # minimize; the best anyone finds of setcover-hard-1 is 8 (pas, seed 1): the reference
    a = write_run(
        tmp_path / "seed0",
        0,
        {
            ("setcover-hard-1", "scip"): [(0.0, 10.0)],
            ("setcover-hard-1", "pas"): [(0.0, 10.0), (5.0, 9.0)],
            ("setcover-hard-2", "scip"): [(0.0, 4.0)],
            ("setcover-hard-2", "pas"): [],  # no incumbent: worse than SCIP's 4
        },
    )
    b = write_run(
        tmp_path / "seed1",
        1,
        {
            ("setcover-hard-1", "scip"): [(0.0, 10.0)],
            ("setcover-hard-1", "pas"): [(0.0, 8.0)],
            ("setcover-hard-2", "scip"): [(0.0, 4.0)],
            ("setcover-hard-2", "pas"): [(0.0, 4.0)],
        },
    )
    return [a, b]


def test_per_seed_and_pooled_lines(runs: list[Path]) -> None:
    lines = {(ln.method, ln.seed): ln for ln in summarize([load_run(r) for r in runs])}
    # seed 0: scip gaps 0.2 (10 vs 8) and 0 -> mean 0.1; pas: 0.2 for 5 s then 0.1111 (9 vs 8)
    # and 1 (no incumbent) -> (0.15556 + 1) / 2
    assert lines["scip", 0].integral == pytest.approx(0.1)
    assert lines["pas", 0].integral == pytest.approx((0.5 * 0.2 + 0.5 * 1 / 9 + 1) / 2)
    assert lines["pas", 0].finals == (1, 0, 1)
    assert lines["pas", 1].finals == (1, 1, 0) and lines["pas", 1].integral == 0.0
    pooled = lines["pas", None]
    assert pooled.finals == (2, 1, 1) and pooled.instances == 4
    assert pooled.integral == pytest.approx((lines["pas", 0].integral + 0.0) / 2)
    assert pooled.ratio == pytest.approx(pooled.integral / 0.1)


def test_finals_count_only_the_instances_scip_ran(tmp_path: Path) -> None:
    # a folder of PaS runs alone (another model's, scored with the runs beside it) is compared
    # with SCIP's run of the same instance and solver seed in the other folder; where SCIP ran
    # under no folder, or under another seed, there is no SCIP final to compare with, and that
    # is not "better than SCIP's"
    alone = write_run(
        tmp_path / "alone",
        0,
        {("setcover-hard-1", "pas"): [(0.0, 9.0)], ("setcover-hard-3", "pas"): [(0.0, 3.0)]},
    )
    other_seed = write_run(tmp_path / "seed1", 1, {("setcover-hard-3", "scip"): [(0.0, 2.0)]})
    both = write_run(
        tmp_path / "both",
        0,
        {
            ("setcover-hard-1", "scip"): [(0.0, 10.0)],
            ("setcover-hard-1", "pas"): [(0.0, 8.0)],
            ("setcover-hard-2", "pas"): [(0.0, 4.0)],  # SCIP did not run this one
        },
    )
    lines = summarize([load_run(r) for r in (alone, both, other_seed)])
    pas = [ln for ln in lines if ln.method == "pas" and ln.seed == 0]
    # alone: 9 against the other folder's SCIP 10 on hard-1 (better), hard-3 not compared;
    # both: 8 against 10 (better), hard-2 not compared
    assert [ln.finals for ln in pas] == [(1, 0, 0), (1, 0, 0)]
    # the ratio is to SCIP's integral on the same instance: 0.2 (10 against the reference 8)
    assert all(ln.baseline == pytest.approx(0.2) for ln in pas)
    # a borrowed SCIP run is a baseline, not another SCIP line
    assert [ln.instances for ln in lines if ln.method == "scip" and ln.seed == 0] == [1]


def test_the_command_writes_the_table_and_plot(runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "summary"
    res = CliRunner().invoke(app, ["bench", "summarize", *map(str, runs), "--out", str(out)])
    assert res.exit_code == 0, res.output
    written = (out / "summary.md").read_text()
    assert "| setcover | pas | pooled | 4 |" in written
    assert "Where the integral accumulates" in written
    assert (out / "gap.png").stat().st_size > 1000


def test_the_pooled_integral_split_where_it_accumulates(runs: list[Path]) -> None:
    """Budget 10 s: parts over [0, 1), [1, 5) and [5, 10]; each family's and method's runs
    pooled over the seeds, and the parts add up to the pooled mean integral."""
    from mipguide.bench.summary import parts, parts_markdown

    loaded = [load_run(r) for r in runs]
    rows = {r.method: r for r in parts(loaded)}
    assert rows["pas"].edges == (0.0, 1.0, 5.0, 10.0) and rows["pas"].runs == 4
    # pas: seed 0 instance 1 gap 0.2 for 5 s then 1/9; instance 2 no incumbent (gap 1);
    # seed 1 both at the reference from t = 0
    first = (0.2 * 1 + 1.0 * 1) / 10 / 4
    middle = (0.2 * 4 + 1.0 * 4) / 10 / 4
    last = (1 / 9 * 5 + 1.0 * 5) / 10 / 4
    assert rows["pas"].parts == pytest.approx((first, middle, last))
    pooled = {(ln.method, ln.seed): ln for ln in summarize(loaded)}["pas", None]
    assert sum(rows["pas"].parts) == pytest.approx(pooled.integral)
    table = parts_markdown(list(rows.values()))
    assert "| 0-1 s | 1-5 s | 5-10 s |" in table and "| setcover | scip | 4 | 0.1000 |" in table
    # runs of different budgets do not line up: no split
    longer = load_run(runs[0])
    assert parts([loaded[0], type(longer)(**{**longer.__dict__, "budget": 20.0})]) == []


def test_a_folder_that_is_no_run_is_an_input_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "summarize", str(tmp_path)])
    assert res.exit_code == 2 and "not a bench guided output" in res.output


def test_guided_methods_against_pas_and_the_best_plain_solver(tmp_path: Path) -> None:
    """The targets table: the best plain method is the plain one of the lowest pooled
    integral (HiGHS here), and finals compare run by run with that method's."""
    from mipguide.bench.summary import versus, versus_markdown

    folders = [
        write_run(
            tmp_path / f"seed{seed}",
            seed,
            {
                ("setcover-hard-1", "scip"): [(0.0, 10.0)],
                ("setcover-hard-1", "highs"): [(0.0, 9.0)],
                ("setcover-hard-1", "pas"): [(0.0, 10.0)],
                ("setcover-hard-1", "srg"): [(0.0, 9.0), (5.0, 8.0)],
            },
        )
        for seed in (0, 1)
    ]
    rows = {r.method: r for r in versus([load_run(f) for f in folders])}
    assert set(rows) == {"pas", "srg"}  # plain methods are what the others are measured against
    srg, pas = rows["srg"], rows["pas"]
    # reference 8: highs 1/9 throughout, pas 2/10, srg 1/9 for 5 s then 0
    assert srg.plain == "highs" and srg.plain_integral == pytest.approx(1 / 9)
    assert srg.integral == pytest.approx(0.5 / 9) and srg.to_pas == pytest.approx(0.5 / 9 / 0.2)
    assert srg.to_plain == pytest.approx(0.5) and srg.finals == (2, 0, 0) and srg.runs == 2
    assert pas.to_pas is None and pas.finals == (0, 0, 2)
    table = versus_markdown(list(rows.values()))
    assert "| setcover | srg | 2 | 0.0556 | 0.28 | highs (0.1111) | 0.50 | 2/0/0 |" in table
    res = CliRunner().invoke(app, ["bench", "summarize", *map(str, folders)])
    assert res.exit_code == 0 and "| setcover | srg | 2 |" in res.output


def test_the_targets_table_compares_on_shared_runs_and_skips_plain_methods(tmp_path: Path) -> None:
    """A seed PaS lacks does not enter the ratio to PaS; a plain method outside ``PLAIN``
    (``select``) is no guided row; a family without a plain method has no row."""
    from mipguide.bench.summary import versus

    seed0 = {
        ("setcover-hard-1", "highs"): [(0.0, 10.0)],
        ("setcover-hard-1", "pas"): [(0.0, 10.0)],
        ("setcover-hard-1", "srg"): [(0.0, 10.0)],
        ("setcover-hard-1", "select"): [(0.0, 10.0)],
        ("indset-hard-1", "srg"): [(0.0, -5.0)],
    }
    seed1 = {
        ("setcover-hard-1", "highs"): [(0.0, 10.0)],
        ("setcover-hard-1", "srg"): [(0.0, 5.0)],  # the reference; PaS has no seed-1 run
    }
    folders = [write_run(tmp_path / "a", 0, seed0), write_run(tmp_path / "b", 1, seed1)]
    rows = {(r.family, r.method): r for r in versus([load_run(f) for f in folders])}
    assert set(rows) == {("setcover", "pas"), ("setcover", "srg")}
    srg = rows["setcover", "srg"]
    # seed 0: everyone at gap 0.5 against the reference 5; seed 1: srg 0, highs 0.5
    assert srg.to_pas == pytest.approx(1.0)  # seed 0 only, where both ran
    assert srg.integral == pytest.approx(0.25) and srg.to_plain == pytest.approx(0.5)
    assert srg.finals == (1, 1, 0)


def test_a_method_run_in_two_folders_under_one_seed_counts_both_runs(tmp_path: Path) -> None:
    """Two folders with PaS on the same instance and solver seed (a model run again, or another
    model's runs beside the same plain ones): both runs enter the targets table's integral,
    ratios and finals; the later folder does not replace the earlier one."""
    from mipguide.bench.summary import versus

    first = {
        ("setcover-hard-1", "highs"): [(0.0, 10.0)],
        ("setcover-hard-1", "pas"): [(0.0, 8.0)],  # the reference
    }
    again = {("setcover-hard-1", "pas"): [(0.0, 12.0)]}  # worse than HiGHS's 10
    folders = [write_run(tmp_path / "a", 0, first), write_run(tmp_path / "b", 0, again)]
    pas = next(r for r in versus([load_run(f) for f in folders]) if r.method == "pas")
    # gaps against 8: 0 and 1/3 (12 - 8 over 12); HiGHS 1/5
    assert pas.runs == 2 and pas.integral == pytest.approx(1 / 6)
    assert pas.plain == "highs" and pas.to_plain == pytest.approx((1 / 6) / (1 / 5))
    assert pas.finals == (1, 0, 1)


def test_runs_made_at_different_speeds_are_flagged(tmp_path: Path) -> None:
    """Each run's machine calibration (``pipeline.machine``): runs more than ``SPREAD`` apart are
    not comparable and the table says so; runs that recorded none are counted."""
    from mipguide.bench.summary import machine_note

    traces = {("setcover-hard-1", "scip"): [(0.0, 10.0)], ("setcover-hard-1", "pas"): [(0.0, 9.0)]}
    fast = write_run(tmp_path / "fast", 0, traces, calibration=[0.10, 0.11])
    slow = write_run(tmp_path / "slow", 1, traces, calibration=[0.18, 0.19])
    near = write_run(tmp_path / "near", 1, traces, calibration=[0.105, 0.12])
    old = write_run(tmp_path / "old", 2, traces)  # made before runs recorded it
    res = CliRunner().invoke(app, ["bench", "summarize", str(fast), str(slow)])
    assert res.exit_code == 0, res.output
    assert "0.100-0.190 s over 4 runs: **not comparable**, 1.90x apart" in res.output
    out = tmp_path / "summary"
    res = CliRunner().invoke(app, ["bench", "summarize", str(fast), str(near), "--out", str(out)])
    assert res.exit_code == 0 and "not comparable" not in res.output
    assert (
        (out / "summary.md")
        .read_text()
        .startswith("Machine calibration: 0.100-0.120 s over 4 runs (1.20x apart).")
    )
    note = machine_note([load_run(fast), load_run(old)])
    assert "not comparable" not in note and "; 2 runs recorded none" in note
    assert machine_note([load_run(old)]).startswith("Machine calibration: not recorded")
    broken = write_run(tmp_path / "broken", 3, traces, calibration=["fast"])  # type: ignore[list-item]
    res = CliRunner().invoke(app, ["bench", "summarize", str(broken)])
    assert res.exit_code == 2 and "'calibration' is not a list of seconds" in res.output


def test_the_calibration_times_a_fixed_workload() -> None:
    from mipguide.pipeline.machine import calibrate, spread

    assert 0.0 < calibrate(repeats=1) < 60.0
    assert spread([0.1, 0.2, 0.15]) == pytest.approx(2.0)
    assert spread([0.1]) == 1.0 and spread([]) == 1.0
