"""The ``mipguide`` command: solve, doctor, bench, and (later) serve/submit/train."""

from __future__ import annotations

import typer

from service.api import bench as api_bench
from service.api import commands as api_commands

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="mipguide: MILP solving with ML guidance"
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print tables and write plots.")
app.add_typer(bench_app, name="bench")

# the service: server, client commands, API benchmark (logic lives in service/api/)
app.command("serve")(api_commands.serve)
app.command("submit")(api_commands.submit)
app.command("jobs")(api_commands.jobs)
app.command("cancel")(api_commands.cancel)
bench_app.command("api")(api_bench.bench_api)


@app.command()
def doctor() -> None:
    """Print versions, devices and what is installed."""
    import platform

    typer.echo(f"python {platform.python_version()}")


if __name__ == "__main__":
    app()
