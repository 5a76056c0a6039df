"""The ``mipguide`` command: solve, doctor, bench, and (later) serve/submit/train."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="mipguide: MILP solving with ML guidance"
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print tables and write plots.")
app.add_typer(bench_app, name="bench")


@app.command()
def doctor() -> None:
    """Print versions, devices and what is installed."""
    import platform

    typer.echo(f"python {platform.python_version()}")


@bench_app.command("read")
def bench_read_cmd(
    sizes: str = typer.Option("10000,100000,1000000", help="Nonzero counts, comma-separated."),
    repeat: int = typer.Option(3, min=1, help="Repetitions per reader (median is shown)."),
    out: Path | None = typer.Option(None, help="Directory for read.csv."),
) -> None:
    """Time our MPS reader against SCIP and HiGHS on generated files."""
    from service.bench.read import bench_read, print_table, write_csv

    results = bench_read(tuple(int(s) for s in sizes.split(",") if s.strip()), repeat=repeat)
    print_table(results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(results, out / "read.csv")


if __name__ == "__main__":
    app()
