"""``mipguide submit | jobs | cancel | status | result | log | watch``: the service's client
commands (over HTTP)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:  # the client (httpx) is imported when a remote command runs, not by the CLI
    from rich.console import Console

    from mipguide.client import Job, MipguideClient
    from mipguide.commands.progress import ProgressLine

ServerOpt = Annotated[str | None, typer.Option("--server", help="server URL")]
KeyOpt = Annotated[str | None, typer.Option("--api-key", help="API key")]
JobId = Annotated[str, typer.Argument(help="job id")]


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
    mode: Annotated[str | None, typer.Option(help="exact | pas | auto | srg")] = None,
    model: Annotated[str | None, typer.Option(help="NAME@VERSION for pas/auto/srg")] = None,
    gap: Annotated[float | None, typer.Option(help="relative gap to stop at")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    threads: Annotated[int | None, typer.Option()] = None,
    priority: Annotated[int | None, typer.Option(help="-100..100, higher runs first")] = None,
    param: Annotated[list[str] | None, typer.Option(help="backend KEY=VALUE (repeat)")] = None,
    pas: Annotated[list[str] | None, typer.Option(help="PaS PATH=VALUE (repeat)")] = None,
    srg: Annotated[list[str] | None, typer.Option(help="SRG PATH=VALUE (repeat)")] = None,
) -> None:
    """Submit model files as jobs (several files: one batch); print ids or, with --wait, results.

    The options are the API's (docs/api.md); the server validates them."""
    from mipguide.commands.args import key_values, pas_overrides, srg_overrides
    from mipguide.errors import InputError

    try:
        guided = {"pas": pas_overrides(pas) if pas else None}
        guided["srg"] = srg_overrides(srg) if srg else None
        backend = key_values(param) if param else None
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    options: dict[str, Any] = {"solver": solver, "time_limit": time_limit, "tags": tag or None}
    options |= {"mode": mode, "model": model, "gap": gap, "seed": seed, "threads": threads}
    options |= {"priority": priority, "params": backend, **guided}
    with _client(server, api_key) as client:
        if len(files) == 1:
            ids = [call(lambda: client.submit(files[0], **options)).id]
        else:
            ids = list(call(lambda: client.submit_batch(files, **options)).job_ids)
        for job_id, path in zip(ids, files, strict=True):
            if not wait:
                typer.echo(f"{job_id}  {path.name}")
                continue
            job = follow(client, job_id, _console(), label=path.name, echo=False)
            typer.echo(
                f"{job_id}  {path.name}  {job.state}  {job.status or '-'}  "
                f"objective={job.objective}" + (f"  error={job.error}" if job.error else "")
            )


def watch(
    job_id: JobId,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Follow a job until it ends: each incumbent as a line (time, objective, bound, gap,
    source) and, on a terminal, a live line; exit code 0 when it completed, 1 otherwise."""
    with _client(server, api_key) as client:
        job = follow(client, job_id, _console())
    typer.echo(
        f"{job_id}  {job.state}  {job.status or '-'}  objective={job.objective}"
        + (f"  error={job.error}" if job.error else "")
    )
    if job.state != "completed":
        raise typer.Exit(1)


def follow(
    client: MipguideClient, job_id: str, console: Console, *, label: str = "", echo: bool = True
) -> Job:
    """Follow a job's event stream to its end, with a live line on a terminal.

    Args:
        label: shown in the live line (default: the job id).
        echo: print each incumbent as a line (else only the live line shows them).

    Returns:
        the job as it ended.
    """
    import time

    from mipguide.commands.progress import ProgressLine

    job = call(lambda: client.job(job_id))
    started = time.monotonic() - _running_for(job)
    with ProgressLine(console, label or job_id, started) as line:
        call(lambda: _stream(client, job_id, line, console, echo))
    return call(lambda: client.job(job_id))


def _stream(
    client: MipguideClient, job_id: str, line: ProgressLine, console: Console, echo: bool
) -> None:
    """Apply the job's events to the live line (and print incumbents) as they come."""
    from mipguide.commands.progress import incumbent_line

    for event in client.events(job_id):
        d = event.data
        if event.kind == "incumbent":
            line.incumbent(d["objective"], d["bound"], d["source"])
            if echo:
                console.print(incumbent_line(d["t"], d["objective"], d["bound"], d["source"]))
        elif event.kind == "state":
            line.state = d["state"]


def _running_for(job: Job) -> float:
    """Seconds since the server started the job (0 while queued)."""
    from datetime import UTC, datetime

    started = job.raw.get("started_at")
    if not started:
        return 0.0
    at = datetime.fromisoformat(started)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - at).total_seconds())


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def jobs(
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    state: Annotated[str | None, typer.Option(help="filter by state")] = None,
    tag: Annotated[str | None, typer.Option(help="filter by tag")] = None,
    limit: int = 20,
    as_json: Annotated[bool, typer.Option("--json", help="the jobs as JSON (whole ids)")] = False,
) -> None:
    """List jobs, newest first."""
    from rich.console import Console
    from rich.table import Table

    with _client(server, api_key) as client:
        items, total = client.jobs(state=state, tag=tag, limit=limit)
    if as_json:
        typer.echo(json.dumps({"items": [j.raw for j in items], "total": total}, indent=1))
        return
    table = Table(title=f"{len(items)} of {total} jobs")
    for col in ("id", "state", "problem", "solver", "status", "objective", "created"):
        table.add_column(col, no_wrap=col == "id", overflow="fold")
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
    job_id: JobId,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    purge: Annotated[bool, typer.Option(help="also delete its data")] = False,
) -> None:
    """Cancel a job."""
    with _client(server, api_key) as client:
        job = call(lambda: client.cancel(job_id, purge=purge))
    typer.echo(f"{job_id}  {'purged' if job is None else job.state}")


def status(
    job_id: JobId,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """A job as JSON: state, options, outcome, queue position."""
    with _client(server, api_key) as client:
        typer.echo(json.dumps(call(lambda: client.job(job_id)).raw, indent=1))


def result(
    job_id: JobId,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    format: Annotated[str, typer.Option(help="json | sol | csv")] = "json",
    out: Annotated[Path | None, typer.Option(help="write it here instead")] = None,
) -> None:
    """A finished job's verified result (JSON, sol or csv)."""
    with _client(server, api_key) as client:
        text = call(lambda: client.result_text(job_id, format))
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        out.write_text(text)


def log(
    job_id: JobId,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """A job's log so far."""
    with _client(server, api_key) as client:
        text, _ = call(lambda: client.log(job_id))
    typer.echo(text, nl=False)


T = TypeVar("T")


def call(request: Callable[[], T]) -> T:
    """The server's answer; its error as a message and exit code 2."""
    from mipguide.client import ApiError

    try:
        return request()
    except ApiError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
