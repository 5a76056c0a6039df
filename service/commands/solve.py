"""`mipguide solve`: read a model file, solve it with one backend, print a summary, write JSON."""

from __future__ import annotations

import math
import time
from pathlib import Path

from rich.console import Console

from mipguide.commands.args import key_values, pas_overrides, srg_overrides
from mipguide.commands.progress import ProgressLine, incumbent_line
from mipguide.errors import InputError, InvalidOptionError
from mipguide.guidance.dispatch import ModeRequest
from mipguide.pipeline.result import SolveResult
from mipguide.solvers.base import AUTO_SOLVER, check_solver
from mipguide.solvers.types import Incumbent, SolveOptions


def solve_command(
    file: Path,
    solver: str,
    options: SolveOptions,
    params: list[str],
    out: Path | None,
    console: Console,
    *,
    mode: str,
    model: str | None,
    pas: list[str],
    srg: list[str],
    dmmv_seconds: float | None,
) -> SolveResult:
    """``mipguide solve``: the CLI's arguments -> ``run_solve`` (registry and device from the
    settings, backend defaults from the settings)."""
    from dataclasses import replace

    from mipguide.settings import get_settings

    settings = get_settings()
    guided = mode != "exact" and not params  # backend parameters keep the default backend
    solver = solver or (AUTO_SOLVER if guided else settings.default_solver)
    if solver == AUTO_SOLVER and (params or dmmv_seconds is not None):
        what = "--param" if params else "--dmmv"
        raise InvalidOptionError(what, "needs a named --solver, not auto")
    check_cli_options(options, solver, settings.allow_fake_solver)
    if not file.exists():
        raise InputError(f"{file}: no such file")
    folder, model = local_model(model)
    request = ModeRequest(
        mode=mode,
        model=model,
        pas=pas_overrides(pas),
        srg=srg_overrides(srg),
        dmmv_seconds=dmmv_seconds,
        model_dir=settings.model_dirs if folder is None else (folder, *settings.model_dirs),
        device=settings.device,
    )
    options = replace(options, params=key_values(params))
    return run_solve(file, solver, options, out, console, request)


def local_model(model: str | None) -> tuple[Path | None, str | None]:
    """``--model`` as a registered ``NAME@VERSION`` or a model folder ``DIR/NAME@VERSION``
    (searched first): (DIR or None, ``NAME@VERSION``).

    Raises:
        InvalidOptionError: a folder that is not a model.
    """
    from mipguide.models.cards import CONFIG, split_path_ref

    if model is None:
        return None, None
    folder, ref = split_path_ref(model)
    if folder is not None and not (folder / ref / CONFIG).is_file():
        raise InvalidOptionError("--model", f"{model}: not a model folder (no {CONFIG})")
    return folder, ref


def check_cli_options(options: SolveOptions, solver: str, fake: bool = False) -> None:
    """What the API refuses, the CLI refuses too, before reading the model.

    Raises:
        InvalidOptionError: the option, with the valid solvers for ``--solver``.
    """
    limit = options.time_limit
    if limit is not None and not 0 < limit < math.inf:
        raise InvalidOptionError(
            "--time-limit", f"must be a positive number of seconds, not {limit}"
        )
    for name, value in (("--gap", options.rel_gap), ("--abs-gap", options.abs_gap)):
        if value is not None and not 0 <= value < math.inf:
            raise InvalidOptionError(name, f"must be a number >= 0, not {value}")
    check_solver(solver, "--solver", fake)


def run_solve(
    path: Path,
    solver: str,
    options: SolveOptions,
    out: Path | None,
    console: Console,
    request: ModeRequest | None = None,
) -> SolveResult:
    """Read, solve (in the request's mode), verify; print incumbents as they come and a
    summary; write the JSON result.

    Raises:
        InvalidOptionError: a bad request (e.g. DMMV together with a guided mode).
    """
    from mipguide.guidance.dispatch import check_request, solve_request
    from mipguide.problem.io import read_problem

    request = request or ModeRequest()
    check_request(request)
    t0 = time.perf_counter()
    problem = read_problem(path)
    read_seconds = time.perf_counter() - t0
    console.print(
        f"[bold]{problem.name}[/]: {problem.num_rows} rows, {problem.num_vars} columns "
        f"({problem.num_integers} integer), {problem.nnz} nonzeros; read in {read_seconds:.3f} s"
    )
    for w in problem.warnings:
        console.print(f"[yellow]warning:[/] {w}")

    progress = ProgressLine(console, problem.name or path.name)

    def show(inc: Incumbent) -> None:
        progress.incumbent(inc.objective, inc.bound, inc.source.value)
        console.print(incumbent_line(inc.t, inc.objective, inc.bound, inc.source.value))

    def note(line: str) -> None:
        if line.startswith("warning: "):
            console.print(f"[yellow]warning:[/] {line.removeprefix('warning: ')}")
        else:
            console.print(line)

    with progress:
        result = solve_request(
            problem,
            solver,
            options,
            request,
            on_incumbent=show,
            read_seconds=read_seconds,
            note=note,
        )
    print_summary(result, console)
    if out is not None:
        out.write_text(result.to_json())
        console.print(f"result written to {out}")
    return result


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.10g}"


def print_summary(result: SolveResult, console: Console) -> None:
    """A short, readable account of a result."""
    console.print(
        f"[bold]{result.status.value}[/] ({result.termination.value}"
        + (f": {result.termination_detail}" if result.termination_detail else "")
        + f") with {result.solver} {result.solver_version}, mode {result.mode}"
    )
    if "pas" in result.extra:
        info = result.extra["pas"]
        console.print(
            f"model {info['model']}: |S| {info['region_size']} of {info['binaries']} binaries, "
            f"Delta {info['delta']} (widened {info['widened']}x), subproblem "
            f"{info['subproblem_status']}, completion {'ran' if info['completed'] else 'skipped'}"
        )
    if "srg" in result.extra:
        info = result.extra["srg"]
        console.print(
            f"model {info['model']}: {info['k']} candidates, {info['raw_feasible']} raw feasible, "
            f"{info['feasible']} after repair ({info['repair']}); |S| {info['region_size']} of "
            f"{info['binaries']} binaries ({info['region']}), Delta {info['delta']} (widened "
            f"{info['widened']}x), subproblem {info['subproblem_status']}, completion "
            f"{'ran' if info['completed'] else 'skipped'}"
        )
    if "auto" in result.extra and result.extra["auto"].get("model") is None:
        console.print(f"auto: {result.extra['auto'].get('reason')}; solved exactly")
    console.print(
        f"objective {_fmt(result.objective)}  bound {_fmt(result.bound)}  "
        f"gap {_fmt(result.gap)}  max violation {_fmt(result.max_violation)}"
    )
    stages = "  ".join(f"{k} {v:.3f}" for k, v in result.seconds.items())
    console.print(f"seconds: {stages}")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}")
