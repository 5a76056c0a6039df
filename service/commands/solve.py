"""`mipguide solve`: read a model file, solve it with one backend, print a summary, write JSON."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from service.errors import InvalidOptionError
from service.pipeline.result import SolveResult
from service.settings import SHIPPED_MODELS
from service.solvers.types import Incumbent, SolveOptions


@dataclass(frozen=True)
class Guidance:
    """How ML guidance is used: mode (exact | pas | auto | srg), model, PaS and SRG parameters,
    registry."""

    mode: str = "exact"
    model: str | None = None
    pas: dict[str, Any] = field(default_factory=dict)
    srg: dict[str, Any] = field(default_factory=dict)
    model_dir: Path = SHIPPED_MODELS
    device: str = "cpu"


def parse_params(pairs: list[str], option: str = "--param") -> dict[str, Any]:
    """Turn ``key=value`` strings into a dict; values are JSON-decoded when possible.

    Raises:
        InvalidOptionError: a pair without ``=``.
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidOptionError(option, f"expected KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def run_solve(
    path: Path,
    solver: str,
    options: SolveOptions,
    out: Path | None,
    console: Console,
    guidance: Guidance | None = None,
    *,
    dmmv_seconds: float | None = None,
) -> SolveResult:
    """Read, solve (in the guidance's mode), verify; print incumbents as they come and a summary;
    write the JSON result.

    Args:
        guidance: exact (default), pas, auto or srg, with the model and PaS/SRG parameters.
        dmmv_seconds: exact mode only: run the DMMV feasibility search first for up to this many
            seconds and hand its point to the solver as a start (pure-integer problems; others
            get a warning and a plain solve). None: no DMMV.

    Raises:
        InvalidOptionError: DMMV asked for together with a guided mode.
    """
    from service.pipeline.guided import solve_guided
    from service.problem.io import read_problem

    guidance = guidance or Guidance()
    t0 = time.perf_counter()
    problem = read_problem(path)
    read_seconds = time.perf_counter() - t0
    console.print(
        f"[bold]{problem.name}[/]: {problem.num_rows} rows, {problem.num_vars} columns "
        f"({problem.num_integers} integer), {problem.nnz} nonzeros; read in {read_seconds:.3f} s"
    )
    for w in problem.warnings:
        console.print(f"[yellow]warning:[/] {w}")

    def show(inc: Incumbent) -> None:
        bound = "" if inc.bound is None else f"  bound {inc.bound:.10g}"
        console.print(f"  {inc.t:8.3f} s  incumbent {inc.objective:.10g}{bound}  ({inc.source})")

    if dmmv_seconds is not None and guidance.mode != "exact":
        raise InvalidOptionError("--dmmv", f"works with --mode exact only, not {guidance.mode}")
    if dmmv_seconds is not None:
        # imported here: the DMMV search brings torch, which a plain solve does not need
        from service.heuristics.dmmv_start import dmmv_unsuitable

        reason = dmmv_unsuitable(problem)
        if reason is not None:
            console.print(f"[yellow]warning:[/] --dmmv ignored: {reason}; solving without DMMV")
            dmmv_seconds = None
    if dmmv_seconds is not None:
        from service.pipeline.dmmv_start import solve_with_dmmv_start

        result = solve_with_dmmv_start(
            problem,
            solver,
            options,
            dmmv_seconds,
            on_incumbent=show,
            read_seconds=read_seconds,
        )
    else:
        if guidance.mode != "exact":
            import torch

            torch.set_num_threads(options.threads)  # the network on the solve's threads
        result = solve_guided(
            problem,
            solver,
            options,
            guidance.mode,
            model=guidance.model,
            model_dir=guidance.model_dir,
            device=guidance.device,
            pas=guidance.pas,
            srg=guidance.srg,
            on_incumbent=show,
            read_seconds=read_seconds,
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
            f"Delta {info['delta']} (widened {info['widened']}x, grown {info['grown']}x to "
            f"|S| {info['last_region_size']}), subproblem "
            f"{info['subproblem_status']}, completion {'ran' if info['completed'] else 'skipped'}"
        )
    if "srg" in result.extra:
        info = result.extra["srg"]
        console.print(
            f"model {info['model']}: {info['k']} candidates, {info['raw_feasible']} raw feasible, "
            f"{info['feasible']} after repair ({info['repair']}); |S| {info['region_size']} of "
            f"{info['binaries']} binaries ({info['region']}), Delta {info['delta']} (widened "
            f"{info['widened']}x, grown {info['grown']}x to |S| {info['last_region_size']}), "
            f"subproblem {info['subproblem_status']}, completion "
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
