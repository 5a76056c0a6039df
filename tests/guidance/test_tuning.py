"""Automatic configuration (``guidance.tuning``): every point of a declared grid is measured by
real guided solves, the lowest mean primal integral wins, and the card records it all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mipguide.guidance.params import PasParams, SrgParams
from mipguide.guidance.tuning import (
    PAS_GRID,
    SERVE_HORIZON,
    SRG_GRID,
    backend_order,
    choose_point,
    full_params,
    holds_finals,
    point_figures,
    run_count,
    tune_pas,
    tune_registered,
)
from mipguide.instances.registry import Family, Size, generate
from mipguide.models.pools import Stopped
from tests.guidance.conftest import TINY_REF, TINY_SRG_REF

GRID = {"default": {}, "fix": PAS_GRID["fix"]}


def _selector(folder: Path, solver: str) -> None:
    """A plain selector in ``folder`` that picks ``solver`` for every instance."""
    import numpy as np

    from mipguide.models.selector import SELECTOR_FILE, SOLVERS, Fallback, Selector

    constant = -1.0 if solver == SOLVERS[0] else 1.0
    always = Selector([], Fallback("constant", constant, np.zeros(0), np.zeros(0)))
    (folder / SELECTOR_FILE).write_text(json.dumps(always.to_dict()))


def test_the_grid_runs_first_on_the_backend_the_plain_selector_picks(tmp_path: Path) -> None:
    problems = [generate(Family.INDEPENDENT_SET, Size.EASY, s) for s in (7, 8)]
    for solver, order in (("highs", ("highs", "scip")), ("scip", ("scip", "highs"))):
        _selector(tmp_path, solver)
        assert backend_order(tmp_path, problems) == order
        assert backend_order([tmp_path], problems, ("cpsat", solver)) == (solver, "cpsat")
    assert backend_order(tmp_path, []) == ("scip", "highs")  # nothing to vote: as declared


def test_every_grid_point_is_a_valid_complete_parameter_set() -> None:
    for point in PAS_GRID.values():
        params = full_params(point)
        assert PasParams.model_validate(params) == PasParams.model_validate(params)
        # complete: a card's own parameters cannot fill a gap while a point is measured
        assert set(params) == set(PasParams.model_fields)
        assert set(params["search"]["lns"]) == set(params["search"]["lns"]) | {"share", "relax"}
    assert full_params({})["region"] == {"k0": 0.6, "k1": 0.02, "delta": 0.02}
    for point in SRG_GRID.values():
        params = full_params(point, "srg")
        assert SrgParams.model_validate(params) == SrgParams.model_validate(params)
        assert set(params) == set(SrgParams.model_fields)


def test_an_srg_model_is_tuned_by_the_same_procedure_with_no_mode_auto(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """The SRG grid on the backend the plain selector picks (HiGHS here), each backend alone
    (for the finals rule; SRG has no mode=auto), the grid's best point on SCIP; the card gets
    the point as its ``srg`` parameters and the backend as its ``solver``, and a person's note
    on the earlier parameters goes."""
    from typer.testing import CliRunner

    from mipguide.cli import app

    shutil.copytree(tiny_model_dir / TINY_SRG_REF, tmp_path / TINY_SRG_REF)
    _selector(tmp_path, "highs")
    card_path = tmp_path / TINY_SRG_REF / "card.json"
    card_path.write_text(json.dumps({"srg": {"sampling": {"k": 2}}, "srg_note": "by hand"}))
    args = ["tune", str(tmp_path / TINY_SRG_REF), "--family", "indset", "--size", "easy"]
    res = CliRunner().invoke(app, [*args, "--seeds", "3", "--time-limit", "0.5"])
    assert res.exit_code == 0, res.output
    card = json.loads(card_path.read_text())
    record = card["tuning"]
    assert record["grid"] == SRG_GRID and "srg_note" not in card and "auto" not in card
    figures = record["figures"]
    assert len(figures) == len(SRG_GRID) + 3 and all(f["runs"] == 1 for f in figures.values())
    assert record["backends"] == ["highs", "scip"] and "grid on highs" in record["procedure"]
    stage_two = f"{record['choice'].split('@')[0]}@scip"
    assert set(figures) == {*SRG_GRID, stage_two, "plain@highs", "plain@scip"}
    assert not record["choice"].startswith("plain@")
    shape = record["choice"].removesuffix("@scip")
    assert card["srg"] == SRG_GRID[shape] and card["solver"] == record["solver"]
    assert card["solver"] == ("scip" if record["choice"].endswith("@scip") else "highs")
    assert f"chose {record['choice']!r}" in res.output and "mode=auto" not in res.output


def test_tuning_measures_each_point_and_records_the_choice(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(tiny_model_dir / TINY_REF, tmp_path / TINY_REF)
    (tmp_path / TINY_REF / "card.json").write_text(
        json.dumps({"pas": {"region": {"k0": 0.1}}, "pas_note": "chosen by hand"})
    )
    _selector(tmp_path, "scip")  # the registry's selector orders the backends
    instances = [(f"indset-{s}", generate(Family.INDEPENDENT_SET, Size.EASY, s)) for s in (7, 8)]
    runs: list[dict] = []  # type: ignore[type-arg]
    tuning = tune_pas(
        TINY_REF, tmp_path, instances, budget=1.0, seeds=[0, 1], grid=GRID, report=runs.append
    )
    # the grid on SCIP (2 points x 2 instances x 2 seeds), each backend alone, then the grid's
    # best point on HiGHS
    assert [r["done"] for r in runs] == list(range(1, 21)) and runs[-1]["total"] == 20
    assert run_count(2, 2, GRID) == 20 and run_count(2, 2, GRID, plain=False) == 12
    assert all(r["objective"] is not None for r in runs)  # every run found a solution
    figures = tuning.record["figures"]
    assert {"plain@scip", "plain@highs"} <= set(figures)
    stage_two = [p for p in figures if p not in GRID and not p.startswith("plain@")]
    assert len(stage_two) == 1 and stage_two[0].endswith("@highs")
    shape = stage_two[0].removesuffix("@highs")
    # the HiGHS point is the SCIP stage's best (by the references the SCIP and plain runs gave)
    assert shape in GRID and [r["point"] for r in runs[8:]].count(stage_two[0]) == 4
    assert {r["point"] for r in runs[8:16]} == {"plain@scip", "plain@highs"}
    assert {r["point"] for r in runs[16:]} == {stage_two[0]}
    assert not tuning.choice.startswith("plain@")  # mode=pas's settings are a guided point
    best_plain = min(figures[p]["primal_integral"] for p in ("plain@scip", "plain@highs"))
    if best_plain < figures[tuning.choice]["primal_integral"]:
        assert tuning.auto["mode"] == "exact" and tuning.auto["solver"] in ("scip", "highs")
        assert figures[f"plain@{tuning.auto['solver']}"]["primal_integral"] == best_plain
    else:
        assert tuning.auto == {"mode": "pas"}
    assert tuning.record["auto"] == tuning.auto
    assert all(f["runs"] == 4 for f in figures.values())
    assert tuning.record["backends"] == ["scip", "highs"]
    assert tuning.solver == ("highs" if tuning.choice == stage_two[0] else "scip")
    assert tuning.record["solver"] == tuning.solver
    assert all(0 <= f["primal_integral"] <= 1 for f in figures.values())
    assert tuning.params == GRID[tuning.choice.removesuffix("@highs")]
    guided = [p for p in figures if not p.startswith("plain@")]
    assert all(0 <= figures[p]["finals_no_worse"] <= 4 for p in figures)
    # on each run one backend alone is the better one
    assert sum(figures[p]["finals_no_worse"] for p in ("plain@scip", "plain@highs")) >= 4
    held = [p for p in guided if holds_finals(figures[p])] or guided
    assert figures[tuning.choice]["primal_integral"] == min(
        figures[p]["primal_integral"] for p in held
    )
    rule = "no worse than the better backend alone's on at least 90%"
    assert rule in tuning.record["procedure"]
    refs = tuning.record["references"]
    for r in runs:  # the reference is the best any run found (maximization here)
        assert r["objective"] <= refs[r["instance"]] + 1e-9

    written = tune_registered(tmp_path / TINY_REF, instances[:1], budget=0.5, seeds=[0])
    card = json.loads((tmp_path / TINY_REF / "card.json").read_text())
    assert card["pas"] == PAS_GRID[written.choice.removesuffix("@highs")]
    assert card["solver"] == written.solver and card["auto"] == written.auto
    assert "pas_note" not in card
    assert card["tuning"]["grid"] == PAS_GRID and card["tuning"]["budget_seconds"] == 0.5
    assert card["tuning"]["horizon_seconds"] == 0.5  # no horizon given: the budget
    assert card["tuning"]["instances"] == ["indset-7"]
    assert card["tuning"]["calibration"] > 0  # the machine's speed when it was tuned
    assert card["tuning"]["runs_at_once"] == 1
    # the choice is what the recorded figures rank first under the finals rule
    recorded = card["tuning"]["figures"]
    guided = [p for p in recorded if not p.startswith("plain@")]
    assert choose_point(recorded, guided) == card["tuning"]["choice"]


def test_tuning_with_two_jobs_runs_two_at_once_and_measures_every_run_once(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """``jobs=2``: worker processes run two solves at once (the second starts before the first
    ends), every (point, instance, seed) is measured once, and the choice follows the figures
    as with one job."""
    shutil.copytree(tiny_model_dir / TINY_REF, tmp_path / TINY_REF)
    _selector(tmp_path, "scip")
    instances = [(f"indset-{s}", generate(Family.INDEPENDENT_SET, Size.EASY, s)) for s in (7, 8)]
    runs: list[dict] = []  # type: ignore[type-arg]
    ended_at_start: list[int] = []  # how many runs had ended when each run started

    def stop() -> bool:  # polled before each run starts
        ended_at_start.append(len(runs))
        return False

    tuning = tune_pas(
        TINY_REF,
        tmp_path,
        instances,
        budget=1.0,
        grid=GRID,
        report=runs.append,
        stop=stop,
        jobs=2,
    )
    # the grid (2 points) and each backend alone on SCIP's stage, the best point on HiGHS
    assert len(runs) == run_count(2, 1, GRID) == 10
    assert [r["done"] for r in runs] == list(range(1, 11))
    assert len({(r["point"], r["instance"], r["seed"]) for r in runs}) == 10
    assert all(r["objective"] is not None for r in runs)
    assert ended_at_start[:2] == [0, 0]  # two under way before either ended
    assert tuning.record["runs_at_once"] == 2  # the card says how its runs were measured
    figures = tuning.record["figures"]
    assert all(f["runs"] == 2 for f in figures.values())
    guided = [p for p in figures if not p.startswith("plain@")]
    assert choose_point(figures, guided) == tuning.choice
    with pytest.raises(ValueError, match="jobs"):
        tune_pas(TINY_REF, tmp_path, instances, budget=1.0, grid=GRID, jobs=0)


def test_a_point_that_ends_worse_than_a_backend_alone_is_not_chosen_when_another_holds() -> None:
    """The finals rule: the lowest integral among the points whose final objective is no worse
    than the better backend alone's on at least 90 % of the runs; all points when none is."""
    problem = generate(Family.INDEPENDENT_SET, Size.EASY, 7)  # maximization
    instances = [("a", problem), ("b", problem)]
    seeds = [0, 1, 2, 3, 4]  # 10 runs: one worse final is allowed, two are not
    runs = {}
    for name, _ in instances:
        for seed in seeds:
            runs[("plain@scip", name, seed)] = ([(5.0, 10.0)], 10.0)
            runs[("plain@highs", name, seed)] = ([(1.0, 9.0), (9.0, 11.0)], 11.0)
            # fast early, ends one below HiGHS alone on two runs
            late = name == "a" and seed < 2
            runs[("fast", name, seed)] = ([(0.1, 10.0 if late else 11.0)], 10.0 if late else 11.0)
            runs[("steady", name, seed)] = ([(2.0, 11.0)], 11.0)
            runs[("once", name, seed)] = ([(0.5, 10.0 if late and seed == 0 else 11.0)], None)
            # (a run whose final is None found nothing: it ends worse)
    plains = ["plain@scip", "plain@highs"]
    points = ["fast", "steady", *plains]
    figures = point_figures(runs, points, instances, seeds, 10.0, plains)[0]
    assert figures["fast"]["primal_integral"] < figures["steady"]["primal_integral"]
    assert (figures["fast"]["finals_no_worse"], figures["steady"]["finals_no_worse"]) == (8, 10)
    chosen = choose_point(figures, ["fast", "steady"])
    assert chosen == "steady"  # "fast" has the lower integral but two worse finals of ten
    # none holds: the lowest integral, as without the rule
    assert choose_point(figures, ["fast"]) == "fast"
    # no backend alone ran (an SRG tuning): the lowest integral
    alone = point_figures(runs, ["fast", "steady"], instances, seeds, 10.0)[0]
    assert "finals_no_worse" not in alone["fast"]
    assert choose_point(alone, ["fast", "steady"]) == "fast"
    assert holds_finals({"runs": 10, "finals_no_worse": 9})
    assert not holds_finals({"runs": 10, "finals_no_worse": 8})
    assert holds_finals({"runs": 3, "primal_integral": 0.1})  # no plain points: no rule
    assert not holds_finals({"runs": 3, "finals_no_worse": 2})


def test_when_no_point_holds_the_finals_the_mean_final_gap_decides() -> None:
    """No point's final objective is no worse than the better backend alone's on 90 % of the runs
    (SCIP alone fails it too, by ties within a hundredth of a percent): the points whose mean
    final gap is no larger than the better backend alone's are chosen from; when none is, all."""
    from mipguide.guidance.tuning import holds_mean_final

    def fig(integral: float, gap: float, no_worse: int) -> dict[str, float]:
        return {
            "primal_integral": integral,
            "final_gap": gap,
            "runs": 3,
            "finals_no_worse": no_worse,
        }

    figures = {
        "early": fig(0.0540, 0.0077, 1),  # fast, then stalls short of the backends' finals
        "stall": fig(0.0546, 0.0014, 1),  # its LNS ends when it stalls: the completion closes
        "plain@scip": fig(0.1081, 0.0015, 2),
        "plain@highs": fig(0.1369, 0.0058, 1),
    }
    assert not any(holds_finals(f) for f in figures.values())
    assert holds_mean_final(figures["stall"], figures)
    assert not holds_mean_final(figures["early"], figures)
    assert choose_point(figures, ["early", "stall"]) == "stall"
    # no point ends as close as the better backend alone: the lowest integral
    worse = {**figures, "stall": fig(0.0546, 0.0020, 1)}
    assert choose_point(worse, ["early", "stall"]) == "early"
    # a point that holds the count is chosen first, whatever its mean
    counted = {**figures, "held": fig(0.0600, 0.0030, 3)}
    assert choose_point(counted, ["early", "stall", "held"]) == "held"
    # no backend alone ran: no rule
    assert holds_mean_final(figures["early"], {"early": figures["early"]})


def test_the_horizon_holds_each_runs_last_gap_past_the_budget() -> None:
    """Tuned at 10 s for a 60 s horizon: a point that is fast early and then stalls leads over
    the budget, but loses over the horizon to one that closed its gap later; an incumbent found
    after the budget is not credited."""
    problem = generate(Family.INDEPENDENT_SET, Size.EASY, 7)  # maximization
    instances = [("a", problem)]
    runs = {
        ("quick", "a", 0): ([(1.0, 10.5), (12.0, 11.0)], 10.5),  # the 12 s one overran its run
        ("steady", "a", 0): ([(1.0, 9.0), (8.0, 11.0)], 11.0),
    }
    points = ["quick", "steady"]
    at_budget = point_figures(runs, points, instances, [0], 10.0)[0]
    over = point_figures(runs, points, instances, [0], 10.0, horizon=60.0)[0]
    gap_quick, gap_steady = 0.5 / 11.0, 2.0 / 11.0  # reference 11, the best any run found
    assert at_budget["quick"]["primal_integral"] == pytest.approx((1 + 9 * gap_quick) / 10)
    assert at_budget["steady"]["primal_integral"] == pytest.approx((1 + 7 * gap_steady) / 10)
    assert over["quick"]["primal_integral"] == pytest.approx((1 + 59 * gap_quick) / 60)
    assert over["steady"]["primal_integral"] == pytest.approx((1 + 7 * gap_steady) / 60)
    assert choose_point(at_budget, points) == "quick"
    assert choose_point(over, points) == "steady"
    # a horizon shorter than the budget is the budget
    short = point_figures(runs, points, instances, [0], 10.0, horizon=5.0)[0]
    assert short == at_budget
    # the default horizon is what a solve runs unless told, and what training tunes for
    from mipguide.jobs.options import JobOptions, TrainOptions

    assert JobOptions.model_fields["time_limit"].default == SERVE_HORIZON
    assert TrainOptions.model_fields["tune_horizon"].default == SERVE_HORIZON


def test_tuning_stops_when_asked(tiny_model_dir: Path) -> None:
    problem = generate(Family.INDEPENDENT_SET, Size.EASY, 7)
    with pytest.raises(Stopped):
        tune_pas(TINY_REF, tiny_model_dir, [("a", problem)], budget=1.0, stop=lambda: True)
    with pytest.raises(ValueError, match="instances"):
        tune_pas(TINY_REF, tiny_model_dir, [], budget=1.0)


def test_tune_command_rewrites_a_models_card(tiny_model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mipguide.cli import app

    shutil.copytree(tiny_model_dir / TINY_REF, tmp_path / TINY_REF)
    runner = CliRunner()
    args = ["tune", str(tmp_path / TINY_REF), "--family", "indset", "--size", "easy"]
    res = runner.invoke(app, [*args, "--seeds", "3", "--time-limit", "0.3", "--jobs", "2"])
    assert res.exit_code == 0, res.output
    card = json.loads((tmp_path / TINY_REF / "card.json").read_text())
    assert f"chose {card['tuning']['choice']!r}" in res.output
    assert card["tuning"]["instances"] == ["indset-easy-3"]
    # each point's finals against the better backend alone (1 run here), plain points included
    assert "finals no worse" in res.output and "plain@scip" in res.output
    assert all("finals_no_worse" in f for f in card["tuning"]["figures"].values())
    # scored over a solve's default time limit, each run's last gap held past its 0.3 s
    assert card["tuning"]["horizon_seconds"] == 60.0 and "integrals over 60 s" in res.output
    assert "over 60 s (each run's last gap held from its 0.3 s on)" in card["tuning"]["procedure"]
    for bad, where in (
        ([str(tmp_path / "none@1"), "--family", "indset"], "not a model folder"),
        ([str(tmp_path / TINY_REF)], "--family"),
        ([str(tmp_path / TINY_REF), "--family", "indset", "--time-limit", "0"], "--time-limit"),
        ([str(tmp_path / TINY_REF), "--family", "indset", "--horizon", "0"], "--horizon"),
    ):
        out = runner.invoke(app, ["tune", *bad])
        assert out.exit_code == 2 and where in out.output, out.output
