"""``mipguide tune MODEL``: choose a registered PaS or SRG model's search settings from the
declared grid (``mipguide.guidance.tuning.PAS_GRID``, ``SRG_GRID``) on validation instances,
and write the choice, the grid and every figure into its card. ``mipguide train --tune-time``
runs the same at its end."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from mipguide.errors import InvalidOptionError

if TYPE_CHECKING:
    from mipguide.guidance.tuning import Tuning
    from mipguide.problem.model import Problem


def tune_command(
    model: str,
    paths: Sequence[str],
    family: str | None,
    size: str,
    seeds: str,
    budget: float,
    solver_seeds: str,
    console: Console,
    horizon: float | None = None,
    jobs: int = 1,
) -> None:
    """Resolve the model's folder, build the instances (files, or generated ``family`` with
    ``size`` and ``seeds``), tune, and print the figures.

    Raises:
        InvalidOptionError: an unknown model, no instances, a bad budget.
    """
    from mipguide.instances.registry import parse_seeds

    directory = model_folder(model)
    if not 0 < budget < float("inf"):
        raise InvalidOptionError("--time-limit", "must be a positive number of seconds")
    if horizon is not None and not 0 < horizon < float("inf"):
        raise InvalidOptionError("--horizon", "must be a positive number of seconds")
    if (family is None) == (not paths):
        raise InvalidOptionError("--family", "give either --family or instance files")
    instances = _instances(paths, family, size, seeds)
    try:
        seeds_list = parse_seeds(solver_seeds)
    except ValueError as exc:
        raise InvalidOptionError("--solver-seeds", str(exc)) from exc
    tuning = run_tuning(directory, instances, budget, seeds_list, console, horizon, jobs)
    auto = tuning.auto
    plain = f"{auto['solver']} alone" if auto["mode"] == "exact" else "the guidance"
    for_auto = f", and {plain} for mode=auto" if auto["mode"] != "srg" else ""
    console.print(
        f"chose {tuning.choice!r} ({tuning.solver}) for {directory.name}{for_auto}; its card "
        "now says so"
    )


def model_folder(model: str) -> Path:
    """A PaS or SRG model's folder from ``DIR/NAME@VERSION`` or a registered ``NAME@VERSION``."""
    from mipguide.commands.solve import local_model
    from mipguide.models.cards import ModelError, find_model, model_path
    from mipguide.settings import get_settings

    folder, ref = local_model(model)  # a folder that is not a model: refused there
    assert ref is not None
    if folder is None:
        try:
            folder = find_model(get_settings().model_dirs, ref).root
        except ModelError as exc:
            raise InvalidOptionError("model", str(exc)) from exc
    return model_path(folder, ref)


def _instances(
    paths: Sequence[str], family: str | None, size: str, seeds: str
) -> list[tuple[str, Problem]]:
    if family is not None:
        from mipguide.commands.args import families
        from mipguide.instances.registry import PARAMS, generate_with, instance_name

        fams, sz, seed_list = families(family, size, seeds)
        return [
            (instance_name(f, sz, s), generate_with(f.value, PARAMS[f][sz], s, ""))
            for f in fams
            for s in seed_list
        ]
    from mipguide.problem.files import model_files
    from mipguide.problem.io import read_problem

    return [(p.name, read_problem(p)) for p in model_files(list(paths))]


def run_tuning(
    directory: Path,
    instances: list[tuple[str, Problem]],
    budget: float,
    seeds: Sequence[int],
    console: Console,
    horizon: float | None = None,
    jobs: int = 1,
) -> Tuning:
    """Tune with a progress bar, write the card, print the figures of every grid point (the
    integrals over ``horizon``: ``tune_pas``)."""
    from rich.progress import Progress

    from mipguide.guidance.tuning import GRIDS, run_count, tune_registered
    from mipguide.jobs.dmmv_job import resolve_device
    from mipguide.models.cards import model_kind
    from mipguide.settings import get_settings

    kind = model_kind(directory)
    total = run_count(len(instances), len(seeds), GRIDS[kind])
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"tuning ({total} runs of {budget:g} s)", total=total)

        def report(run: dict[str, Any]) -> None:
            bar.update(task, completed=run["done"])

        tuning = tune_registered(
            directory,
            instances,
            budget=budget,
            seeds=seeds,
            device=resolve_device(get_settings().device),
            report=report,
            horizon=horizon,
            jobs=jobs,
        )
    over = tuning.record["horizon_seconds"]
    title = f"{directory.name}: {len(instances)} instances x {len(seeds)} seeds"
    table = Table(title=title + (f", integrals over {over:g} s" if over > budget else ""))
    for col in ("point", "primal integral", "final gap", "finals no worse", "chosen"):
        table.add_column(col)
    for point, fig in tuning.record["figures"].items():
        mark = "*" if point == tuning.choice else ""
        held = fig.get("finals_no_worse")
        finals = "-" if held is None else f"{held} of {fig['runs']}"
        row = (f"{fig['primal_integral']:.4f}", f"{fig['final_gap']:.4f}", finals)
        table.add_row(point, *row, mark)
    console.print(table)
    return tuning
