"""``mipguide models [REF]``: the guided models that can be used, here or on a server."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from mipguide.errors import InvalidOptionError


def models_command(
    ref: str | None,
    kind: str | None,
    server: str | None,
    api_key: str | None,
    as_json: bool,
    console: Console,
) -> None:
    """List the models (or show one model's card) of this machine's registry search path
    (the user's models, then the shipped ones), or of a server's with ``server``.

    Raises:
        InvalidOptionError: an unknown kind, or no such model here.
    """
    if kind is not None and kind not in ("pas", "srg"):
        raise InvalidOptionError("--kind", f"unknown kind {kind!r}", ["pas", "srg"])
    rows = _local(ref, kind) if server is None else _remote(ref, kind, server, api_key)
    if ref is not None:
        console.print_json(json.dumps(rows[0]))
    elif as_json:
        console.print_json(json.dumps({"items": rows}))
    else:
        console.print(_table(rows))


def delete_command(
    ref: str | None, server: str | None, api_key: str | None, console: Console
) -> None:
    """Delete one of your models: from DATA_DIR/models here, or your key's on ``server``.

    Raises:
        InvalidOptionError: no REF, or it is not one of yours.
    """
    if ref is None:
        raise InvalidOptionError("--delete", "name the model: mipguide models REF --delete")
    if server is not None:
        from mipguide.client import MipguideClient
        from mipguide.commands.remote import call

        with MipguideClient(server, api_key or "") as client:
            call(lambda: client.delete_model(ref))
    else:
        from mipguide.models.cards import ModelError, delete_model
        from mipguide.settings import get_settings

        settings = get_settings()
        try:
            delete_model(settings.model_dirs[0], settings.model_dirs, ref)
        except ModelError as exc:
            raise InvalidOptionError("model", str(exc)) from exc
    console.print(f"deleted {ref}")


def _local(ref: str | None, kind: str | None) -> list[dict[str, Any]]:
    from mipguide.models.cards import ModelError, find_model, models, summary
    from mipguide.settings import get_settings

    settings = get_settings()
    if ref is None:
        return [summary(m, settings.model_dir) for m in models(settings.model_dirs, kind)]
    try:
        return [summary(find_model(settings.model_dirs, ref), settings.model_dir, full=True)]
    except ModelError as exc:
        refs = [m.ref for m in models(settings.model_dirs)]
        raise InvalidOptionError("model", f"{exc} here", refs) from exc


def _remote(ref: str | None, kind: str | None, server: str, api_key: str | None) -> list[Any]:
    from mipguide.client import MipguideClient
    from mipguide.commands.remote import call

    with MipguideClient(server, api_key or "") as client:
        if ref is not None:
            return [call(lambda: client.model(ref))]
        return call(lambda: client.models(kind))


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} models")
    for col in ("model", "kind", "registry", "trained on", "instances", "val", "matches"):
        table.add_column(col, overflow="fold")
    for r in rows:
        metrics = r.get("metrics", {})
        val = metrics.get("val_accuracy", metrics.get("best_val_loss"))
        table.add_row(
            r["ref"],
            r["kind"],
            r["registry"],
            f"{r.get('family') or '-'} ({r['source']})",
            str(r["train_instances"]),
            "-" if val is None else f"{val:.4g}",
            ", ".join(r["signature"]),
        )
    return table
