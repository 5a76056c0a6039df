"""The ``mipguide`` command: solve, doctor, bench, and the service commands.

Exit codes: 0 solved (any status), 2 bad input (with the message), 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from service.errors import InputError, MipguideError
from service.settings import get_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="mipguide: MILP solving with ML guidance"
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print tables and write plots.")
app.add_typer(bench_app, name="bench")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(exc: Exception) -> typer.Exit:
    """Print an error and choose the exit code: 2 for bad input, 1 otherwise."""
    if isinstance(exc, InputError):
        err_console.print(f"[red]error:[/] {exc}")
        return typer.Exit(2)
    if isinstance(exc, MipguideError):
        err_console.print(f"[red]error:[/] {exc}")
        return typer.Exit(1)
    err_console.print(f"[red]internal error:[/] {type(exc).__name__}: {exc}")
    return typer.Exit(1)


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="MPS (.mps, .mps.gz, .mps.bz2), LP or JSON model")],
    solver: Annotated[
        str, typer.Option(help="scip | cpsat | highs | glop | pdlp | ortools-scip")
    ] = "",
    time_limit: Annotated[float | None, typer.Option(help="seconds")] = None,
    gap: Annotated[float | None, typer.Option(help="relative gap to stop at")] = None,
    abs_gap: Annotated[float | None, typer.Option(help="absolute gap to stop at")] = None,
    threads: Annotated[int, typer.Option(min=1)] = 1,
    seed: Annotated[int, typer.Option()] = 0,
    node_limit: Annotated[int | None, typer.Option(min=1)] = None,
    presolve: Annotated[bool, typer.Option(help="run the solver's presolve")] = True,
    param: Annotated[list[str], typer.Option(help="backend parameter KEY=VALUE (repeat)")] = [],  # noqa: B006
    out: Annotated[Path | None, typer.Option(help="write the JSON result here")] = None,
) -> None:
    """Solve one model with one backend; print a summary and write the verified JSON result."""
    from service.commands.solve import parse_params, run_solve
    from service.solvers.types import SolveOptions

    settings = get_settings()
    try:
        if not file.exists():
            raise InputError(f"{file}: no such file")
        options = SolveOptions(
            time_limit=time_limit,
            rel_gap=gap,
            abs_gap=abs_gap,
            threads=threads,
            seed=seed,
            node_limit=node_limit,
            presolve=presolve,
            params=parse_params(param),
        )
        run_solve(file, solver or settings.default_solver, options, out, console)
    except Exception as exc:
        raise fail(exc) from exc


@app.command()
def doctor() -> None:
    """Print versions, devices and which solver backends work here."""
    from service.commands.doctor import run_doctor

    run_doctor(get_settings(), console)


@app.command()
def dmmv(
    file: Annotated[
        Path, typer.Argument(help="npz: A (dense or CSR parts), l, u, levels, x0?, fixed?")
    ],
    time_limit: Annotated[float, typer.Option(help="seconds")] = 5.0,
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[str, typer.Option(help="cpu | cuda | auto (settings)")] = "cpu",
    out: Annotated[Path | None, typer.Option(help="write the JSON result here")] = None,
) -> None:
    """DMMV: minimize the max row violation over discrete levels; print a summary."""
    from service.commands.dmmv import run_dmmv
    from service.heuristics.dmmv import DmmvConfig

    try:
        dev = get_settings().device if device == "auto" else device
        dev = "cpu" if dev == "auto" else dev
        run_dmmv(file, DmmvConfig(time_limit=time_limit, seed=seed, device=dev), out, console)
    except Exception as exc:
        raise fail(exc) from exc


@bench_app.command("dmmv")
def bench_dmmv(
    budget: Annotated[float, typer.Option(help="wall seconds per method and case")] = 10.0,
    out: Annotated[Path | None, typer.Option(help="folder for CSV and PNG")] = None,
    quick: Annotated[bool, typer.Option(help="small cases, for a smoke run")] = False,
) -> None:
    """DMMV vs round-to-nearest vs the MILP (SCIP/HiGHS/CP-SAT) on FIR, quantization, tomography."""
    from service.commands.bench_dmmv import run_bench_dmmv

    run_bench_dmmv(budget, out, quick, console)


if __name__ == "__main__":
    app()
