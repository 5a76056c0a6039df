"""``mipguide train FILES``: a model from the user's own instances (files, folders, globs), used
by ``--model DIR/NAME@VERSION`` and found by ``mode=auto`` in the user's registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipguide.cli import app
from mipguide.errors import InputError
from mipguide.problem.files import model_files

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"

pytestmark = pytest.mark.slow


@pytest.fixture
def instances(tmp_path: Path) -> Path:
    """Six easy independent-set instances written as MPS files (two in a subfolder)."""
    folder = tmp_path / "instances"
    res = CliRunner().invoke(
        app, ["generate", "indset", "--size", "easy", "--seeds", "0-5", "--out", str(folder)]
    )
    assert res.exit_code == 0, res.output
    (folder / "more").mkdir()
    for f in sorted(folder.glob("*.mps"))[4:]:
        f.rename(folder / "more" / f.name)
    return folder


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder and an empty shipped registry: only the user's models exist."""
    monkeypatch.setenv("MIPGUIDE_DEVICE", "cpu")
    monkeypatch.setenv("MIPGUIDE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MIPGUIDE_MODEL_DIR", str(tmp_path / "shipped"))
    (tmp_path / "shipped").mkdir()
    return tmp_path / "data"


def test_model_files_takes_files_folders_and_globs(instances: Path) -> None:
    every = model_files([instances])
    assert len(every) == 6 and every == sorted(every)  # the subfolder too, sorted
    first = sorted(instances.glob("*.mps"))[0]
    assert model_files([first, str(instances / "more" / "*.mps"), first]) == [
        first.resolve(),
        *sorted(p.resolve() for p in (instances / "more").glob("*.mps")),
    ]
    for bad, message in (
        ([instances / "nothing.mps"], "no such file or folder"),
        ([str(instances / "*.lp")], "matches no model file"),
        ([MIPLIB / "catalog.csv"], "not a model file"),
    ):
        with pytest.raises(InputError, match=message):
            model_files(bad)


def test_train_on_files_then_solve_with_the_folder_and_with_auto(
    instances: Path, env: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    args = ["train", str(instances), "--out", "mine@1", "--epochs", "2", "--pool-time", "1"]
    args += ["--pool-k", "4", "--workers", "1", "--seed", "3", "--tune-time", "0"]
    res = runner.invoke(app, [*args[:-1], "0.3"])  # training ends by choosing the settings
    assert res.exit_code == 0, res.output
    assert "search settings:" in res.output and "primal integral" in res.output
    model = env / "models" / "mine@1"  # NAME@VERSION alone: the user's registry
    card = json.loads((model / "card.json").read_text())
    tuning = card["tuning"]  # the choice: a grid point, or one run again on another backend
    shape, _, backend = tuning["choice"].partition("@")
    assert card["pas"] == tuning["grid"][shape] and card["solver"] == tuning["solver"]
    assert card["solver"] == (backend or tuning["backends"][0])
    assert card["tuning"]["budget_seconds"] == 0.3 and len(card["tuning"]["instances"]) == 1
    data = card["training_data"]
    assert data["source"] == "files" and len(data["files"]) == 6
    # --pool-solver auto: the plain selector's backend (it measured HiGHS better on indset)
    assert data["pool"]["method"] == "highs" and "solution pools: highs" in res.output
    assert len(data["train_instances"]) == 5 and len(data["val_instances"]) == 1
    assert card["family"] == "mine" and card["signature"][0]["label"] == "mine"
    pools = sorted((env / "pools" / "files-mine").glob("*.pool.npz"))
    assert len(pools) == 6
    stamps = [p.stat().st_mtime_ns for p in pools]
    again = runner.invoke(app, [*args[:3], "mine@2", *args[4:]])
    assert again.exit_code == 0, again.output
    assert [p.stat().st_mtime_ns for p in pools] == stamps  # resumed: no pool rebuilt

    listed = runner.invoke(app, ["models", "--json"])
    assert listed.exit_code == 0, listed.output
    mine = {m["ref"]: m for m in json.loads(listed.output)["items"]}["mine@1"]
    assert mine["registry"] == "user" and mine["source"] == "files"
    assert mine["train_instances"] == 5 and mine["signature"] == ["mine"]
    shown = runner.invoke(app, ["models", "mine@1"])
    assert shown.exit_code == 0, shown.output
    files = json.loads(shown.output)["card"]["training_data"]["files"]
    assert len(files) == 6 and all("/" not in f for f in files)  # names, no paths

    instance = sorted(instances.glob("*.mps"))[0]
    out = tmp_path / "auto.json"
    solved = runner.invoke(app, ["solve", str(instance), "--mode", "auto", "--out", str(out)])
    assert solved.exit_code == 0, solved.output
    result = json.loads(out.read_text())
    assert result["extra"]["auto"]["model"] in ("mine@1", "mine@2")
    assert result["status"] in ("optimal", "feasible") and result["max_violation"] <= 1e-6

    copy = tmp_path / "elsewhere" / "theirs@7"
    shutil.copytree(model, copy)
    by_folder = runner.invoke(
        app, ["solve", str(instance), "--mode", "pas", "--model", str(copy), "--out", str(out)]
    )
    assert by_folder.exit_code == 0, by_folder.output
    assert json.loads(out.read_text())["extra"]["pas"]["model"] == "theirs@7"
    missing = runner.invoke(app, ["solve", str(instance), "--mode", "pas", "--model", "x/no@1"])
    assert missing.exit_code == 2 and "not a model folder" in missing.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([str(MIPLIB / "afiro.mps.gz"), str(MIPLIB / "p0033.mps.gz")], "no binary variables"),
        ([str(MIPLIB / "p0033.mps.gz")], "training needs at least 2"),
        ([str(MIPLIB / "p0033.mps.gz"), "--family", "indset"], "either --family or"),
        ([], "either --family or"),
        (["--instances", str(MIPLIB / "nope.mps")], "no such file or folder"),
        (
            [str(MIPLIB / "p0033.mps.gz"), str(MIPLIB / "lseu.mps.gz"), "--pool-solver", "cplex"],
            "--pool-solver: unknown pool solver 'cplex'",
        ),
    ],
)
def test_train_refuses_what_it_cannot_use(env: Path, extra: list[str], message: str) -> None:
    res = CliRunner().invoke(app, ["train", "--out", "bad@1", *extra])
    assert res.exit_code == 2 and message in res.output, res.output


def test_instances_without_a_solution_are_skipped_with_the_reason(
    env: Path, instances: Path, tmp_path: Path
) -> None:
    """An infeasible instance (its pool run finds nothing) is left out of training and named
    in the card; when nothing has a solution, the refusal says why."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for k in range(3):
        shutil.copy(MIPLIB / "infeasible-mip1.mps", bad / f"infeasible-{k}.mps")
    runner = CliRunner()
    args = ["--epochs", "1", "--pool-time", "1", "--tune-time", "0", "--val-share", "0.3"]
    res = runner.invoke(app, ["train", str(instances), str(bad), "--out", "mixed@1", *args])
    assert res.exit_code == 0, res.output
    card = json.loads((env / "models" / "mixed@1" / "card.json").read_text())
    skipped = card["training_data"]["no_solution"]
    assert sorted(skipped) and all("infeasible" in name for name in skipped)
    used = card["training_data"]["train_instances"] + card["training_data"]["val_instances"]
    assert not set(skipped) & set(used) and len(used) == 6
    res = runner.invoke(app, ["train", str(bad), "--out", "none@1", *args])
    assert res.exit_code == 2 and "no feasible solution in 1 s" in res.output, res.output
