"""The ``mipguide`` command: solve, doctor, bench, and (later) serve/submit/train."""

from __future__ import annotations

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


if __name__ == "__main__":
    app()
