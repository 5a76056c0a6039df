"""``mipguide serve``: the REST API with local solver workers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from mipguide.commands.extra import needs_server_extra
from mipguide.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int | None, typer.Option(help="solver worker processes")] = None,
    db: Annotated[str | None, typer.Option(help="database URL or SQLite file")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="inputs, results, logs")] = None,
) -> None:
    """Run the REST API with local solver workers (SQLite under ./var by default)."""
    try:
        import uvicorn

        from mipguide.api.app import create_app
    except ModuleNotFoundError as exc:
        typer.echo(f"error: {needs_server_extra(exc.name or 'the server')}", err=True)
        raise typer.Exit(1) from exc

    overrides: dict[str, Any] = {"host": host, "port": port, "workers": workers}
    overrides |= {"db_url": db, "data_dir": data_dir}
    settings = replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})
    typer.echo(
        f"mipguide serving on http://{settings.host}:{settings.port} "
        f"({settings.workers} workers, data in {settings.data_dir})"
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
