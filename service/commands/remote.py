"""``mipguide submit | jobs | cancel``: the service's client commands (over HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # the client (httpx) is imported when a remote command runs, not by the CLI
    from mipguide.client import MipguideClient

ServerOpt = Annotated[str | None, typer.Option("--server", help="server URL")]
KeyOpt = Annotated[str | None, typer.Option("--api-key", help="API key")]


def _client(server: str | None, api_key: str | None) -> MipguideClient:
    from mipguide.client import MipguideClient
    from mipguide.settings import Settings

    settings = Settings()
    return MipguideClient(server or settings.server_url, api_key or settings.api_key or "")


def submit(
    files: Annotated[list[Path], typer.Argument(help="model files (.mps[.gz|.bz2], .lp, .json)")],
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the results")] = False,
    solver: Annotated[str | None, typer.Option(help="backend")] = None,
    time_limit: Annotated[float | None, typer.Option(help="seconds")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="tag (repeatable)")] = None,
) -> None:
    """Submit model files as jobs (several files: one batch); print ids or, with --wait, results."""
    from mipguide.client import ApiError

    options: dict[str, Any] = {"solver": solver, "time_limit": time_limit, "tags": tag or None}
    with _client(server, api_key) as client:
        try:
            if len(files) == 1:
                ids = [client.submit(files[0], **options).id]
            else:
                ids = list(client.submit_batch(files, **options).job_ids)
            for job_id, path in zip(ids, files, strict=True):
                if not wait:
                    typer.echo(f"{job_id}  {path.name}")
                    continue
                job = client.wait(job_id)
                typer.echo(
                    f"{job_id}  {path.name}  {job.state}  {job.status or '-'}  "
                    f"objective={job.objective}" + (f"  error={job.error}" if job.error else "")
                )
        except ApiError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc


def jobs(
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    state: Annotated[str | None, typer.Option(help="filter by state")] = None,
    tag: Annotated[str | None, typer.Option(help="filter by tag")] = None,
    limit: int = 20,
) -> None:
    """List jobs, newest first."""
    from rich.console import Console
    from rich.table import Table

    with _client(server, api_key) as client:
        items, total = client.jobs(state=state, tag=tag, limit=limit)
    table = Table(title=f"{len(items)} of {total} jobs")
    for col in ("id", "state", "problem", "solver", "status", "objective", "created"):
        table.add_column(col)
    for j in items:
        r = j.raw
        table.add_row(
            j.id,
            j.state,
            r["problem"]["name"],
            str(r["options"].get("solver")),
            j.status or "-",
            "-" if j.objective is None else f"{j.objective:.10g}",
            r["created_at"][:19],
        )
    Console().print(table)


def cancel(
    job_id: Annotated[str, typer.Argument(help="job id")],
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    purge: Annotated[bool, typer.Option(help="also delete its data")] = False,
) -> None:
    """Cancel a job."""
    from mipguide.client import ApiError

    with _client(server, api_key) as client:
        try:
            job = client.cancel(job_id, purge=purge)
        except ApiError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"{job_id}  {'purged' if job is None else job.state}")
