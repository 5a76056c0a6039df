"""``mipguide tune-plain``: bench folders (results.csv as ``bench guided`` writes it, and the
instance files) in, a selector file with its grid, figures and data out."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from mipguide.bench.guided import Row
from mipguide.cli import app
from mipguide.models.selector import load_selector
from mipguide.problem.io import read_problem

# family -> (instances, HiGHS's integral, SCIP's): pure-binary ones favour HiGHS here
FAMILIES = {
    "pure": (("p0033.mps.gz", "p0201.mps.gz", "lseu.mps.gz"), 0.01, 0.20),
    "mixed": (("egout.mps.gz", "bell5.mps.gz", "flugpl.mps.gz"), 0.30, 0.02),
}


def _bench_folder(root: Path, family: str, miplib_dir: Path) -> Path:
    folder = root / family
    (folder / "instances").mkdir(parents=True)
    names, highs, scip = FAMILIES[family]
    with (folder / "results.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(Row.__dataclass_fields__)
        for name in names:
            shutil.copy(miplib_dir / name, folder / "instances" / name)
            if name == "lseu.mps.gz":  # as generated instances are listed: no extension
                name = "lseu"
            for method, integral in (("scip", scip), ("highs", highs), ("pas", 0.5)):
                row = Row(name, method, 1.0, 1.0, 0.0, integral, 0.1, None, False, "x", 1.0, "")
                w.writerow([getattr(row, f) for f in Row.__dataclass_fields__])
        # a run with no figure (an empty cell, as csv_cell writes NaN) is left out
        w.writerow(["ghost", "scip", "", 1.0, "", "", "", "", False, "error", 1.0, ""])
        w.writerow(["ghost", "highs", "", 1.0, "", "nan", "", "", False, "error", 1.0, ""])
    return folder


def test_tune_plain_writes_a_selector_that_separates_the_families(
    tmp_path: Path, miplib_dir: Path
) -> None:
    dirs = [_bench_folder(tmp_path, f, miplib_dir) for f in FAMILIES]
    out = tmp_path / "sel.json"
    res = CliRunner().invoke(app, ["tune-plain", *map(str, dirs), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "chose" in res.output and "always highs" in res.output
    body = json.loads(out.read_text())
    assert body["command"] == "mipguide tune-plain pure mixed"
    assert {d["family"] for d in body["data"]} == {"pure", "mixed"} and len(body["data"]) == 6
    sel = load_selector(out)
    assert sel is not None
    for family, (names, _, _) in FAMILIES.items():
        for name in names:
            want = "highs" if family == "pure" else "scip"
            assert sel.choose(read_problem(miplib_dir / name)).solver == want


def test_tune_plain_needs_both_backends_and_two_families(tmp_path: Path, miplib_dir: Path) -> None:
    pure = _bench_folder(tmp_path, "pure", miplib_dir)
    res = CliRunner().invoke(app, ["tune-plain", str(pure), "--out", str(tmp_path / "s.json")])
    assert res.exit_code != 0 and "two families" in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(app, ["tune-plain", str(pure), str(empty)])
    assert res.exit_code != 0 and "no results.csv" in res.output
    assert str(tmp_path) not in res.output  # no server paths in errors


def test_tune_plain_takes_a_library_whose_files_bench_recorded(
    tmp_path: Path, miplib_dir: Path
) -> None:
    """A --library folder as ``bench guided`` leaves it after a run on files it did not
    generate (no instances/ folder; run.json records the files): each instance its own group,
    none a measured family."""
    dirs = [_bench_folder(tmp_path, f, miplib_dir) for f in FAMILIES]
    lib = tmp_path / "lib"
    lib.mkdir()
    names = ("stein27.mps.gz", "gt2.mps.gz", "misc03.mps.gz")
    with (lib / "results.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(Row.__dataclass_fields__)
        for name in names:
            for method, integral in (("scip", 0.01), ("highs", 0.05)):
                row = Row(Path(name).name.split(".")[0], method, 1.0, 1.0, 0.0, integral, 0.1,
                          None, False, "optimal", 1.0, "")  # fmt: skip
                w.writerow([getattr(row, f) for f in Row.__dataclass_fields__])
    files = {n.split(".")[0]: str((miplib_dir / n).resolve()) for n in names}
    (lib / "run.json").write_text(json.dumps({"files": files}))
    out = tmp_path / "sel.json"
    args = ["tune-plain", *map(str, dirs), "--library", str(lib), "--out", str(out)]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "library (3)" in res.output and "3 library instances" in res.output
    body = json.loads(out.read_text())
    assert body["command"] == "mipguide tune-plain pure mixed --library lib"
    singles = [d for d in body["data"] if d.get("single")]
    assert {d["instance"] for d in singles} == {"stein27", "gt2", "misc03"}
    assert {"families", "library", "mean"} <= set(body["grid"][body["chosen"]])
    sel = load_selector(out)
    assert sel is not None and {f.label for f in sel.families} == {"pure", "mixed"}
    # a recorded file that is gone is a clear error, as a missing instance is
    (lib / "run.json").write_text(json.dumps({"files": {**files, "gt2": str(tmp_path / "x")}}))
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0 and "instance file gt2 not found" in res.output
