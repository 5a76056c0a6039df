"""``mipguide tune-plain DIR...``: learn which plain backend ``solver=auto`` runs on an instance no
model fits (``mipguide.models.selector``) from ``mipguide bench guided`` runs of ``scip`` and
``highs`` (one folder per family: its ``results.csv`` and ``instances/``; a ``--library`` folder
holds unrelated instances, each its own group), and write the selector with the grid's figures
and its data."""

from __future__ import annotations

import csv
import glob
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from mipguide.errors import InvalidOptionError

if TYPE_CHECKING:
    from mipguide.models.selector import Labelled

_METHODS = ("scip", "highs")


def tune_plain_command(
    dirs: Sequence[Path],
    out: Path | None,
    console: Console,
    library: Sequence[Path] = (),
) -> None:
    """Read the labelled instances, fit over the declared grid, write ``out`` (default: the
    user's model folder, which comes before the shipped one on the search path).

    Raises:
        InvalidOptionError: a folder without results of both backends, a missing instance file,
            fewer than two families.
    """
    from mipguide.models.selector import SELECTOR_FILE, fit
    from mipguide.settings import get_settings

    data = [item for d in dirs for item in labelled(Path(d))]
    families = {d.family for d in data}
    if len(families) < 2:
        raise InvalidOptionError("dirs", "give bench folders of two families at least")
    singles = [item for d in library for item in labelled(Path(d), single=True)]
    data += singles
    selector = fit(data)
    target = out if out is not None else get_settings().model_dirs[0] / SELECTOR_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    body = selector.to_dict()
    body["command"] = "mipguide tune-plain " + " ".join(
        [Path(d).name for d in dirs] + [f"--library {Path(d).name}" for d in library]
    )
    target.write_text(json.dumps(body, indent=1) + "\n")
    _print(console, body)
    fallback = selector.fallback
    console.print(
        f"fallback {fallback.kind} ({fallback.param:g}), chosen by leave-one-group-out over "
        f"{len(data) - len(singles)} instances of {len(families)} families and "
        f"{len(singles)} library instances; wrote {target.name}"
    )


def labelled(folder: Path, single: bool = False) -> list[Labelled]:
    """The instances of one bench folder with both backends' primal integrals (the folder's
    name is the family; ``single``: library instances, each its own group).

    Raises:
        InvalidOptionError: no results.csv, no instance with both backends, a missing file.
    """
    from mipguide.models.selector import Labelled, features
    from mipguide.models.signature import signature
    from mipguide.problem.io import read_problem

    results = folder / "results.csv"
    if not results.is_file():
        raise InvalidOptionError("dirs", f"{folder.name}: no results.csv (run bench guided)")
    integrals: dict[str, dict[str, float]] = {}
    with results.open(newline="") as fh:
        for row in csv.DictReader(fh):
            value = _number(row.get("primal_integral"))
            if row.get("method") in _METHODS and value is not None:
                integrals.setdefault(row["instance"], {})[row["method"]] = value
    out = []
    for name, got in sorted(integrals.items()):
        if set(got) != set(_METHODS):
            continue
        path = _instance_file(folder / "instances", Path(name).name) or _recorded(folder, name)
        if path is None:
            raise InvalidOptionError("dirs", f"{folder.name}: instance file {name} not found")
        problem = read_problem(path)
        sig = signature(problem)
        out.append(
            Labelled(
                name, folder.name, sig, features(problem, sig), got["highs"], got["scip"], single
            )
        )
    if not out:
        raise InvalidOptionError("dirs", f"{folder.name}: no instance has runs of scip and highs")
    return out


def _number(cell: str | None) -> float | None:
    """A results.csv number, or None for an empty or malformed cell (such a run is left out)."""
    try:
        value = float(cell or "")
    except ValueError:
        return None
    return value if value == value else None  # NaN: no figure


def _recorded(folder: Path, name: str) -> Path | None:
    """The file ``bench guided`` recorded for ``name`` in run.json (runs on files it did not
    generate), when it is still there."""
    try:
        recorded = json.loads((folder / "run.json").read_text())["files"][name]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    path = Path(str(recorded))
    return path if path.is_file() else None


def _instance_file(instances: Path, name: str) -> Path | None:
    """The file of a results.csv instance: named so, or so with its extension (generated
    instances are named without it)."""
    exact = instances / name
    if exact.is_file():
        return exact
    found = sorted(instances.glob(f"{glob.escape(name)}.*")) if instances.is_dir() else []
    return found[0] if found else None


def _print(console: Console, body: dict[str, Any]) -> None:
    singles = {f"{d['family']}/{d['instance']}" for d in body["data"] if d.get("single")}
    families = sorted(g for g in body["always"]["highs"]["ratios"] if g not in singles)
    table = Table(title="group mean integral / better backend's, the group left out")
    table.add_column("fallback")
    for f in families:
        table.add_column(f[:8])
    if singles:
        table.add_column(f"library ({len(singles)})")
    table.add_column("mean")
    for i, row in enumerate(body["grid"]):
        mark = " *" if i == body["chosen"] else ""
        name = f"{row['kind']} {row['param']:g}{mark}"
        table.add_row(name, *_cells(row["lofo"], row, families, bool(singles)))
    for solver, row in body["always"].items():
        table.add_row(f"always {solver}", *_cells(row["ratios"], row, families, bool(singles)))
    console.print(table)
    measured = ", ".join(f"{f['label']}: {f['solver']}" for f in body["families"])
    console.print(f"measured families: {measured}")


def _cells(
    ratios: dict[str, float], row: dict[str, Any], families: list[str], library: bool
) -> list[str]:
    values = [ratios.get(f, float("nan")) for f in families]
    if library:
        values.append(row["library"])
    return [f"{v:.2f}" for v in [*values, row["mean"]]]
