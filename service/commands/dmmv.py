"""``mipguide dmmv FILE.npz`` and ``mipguide bench dmmv``: load, run, print, write.

The npz holds A dense (``A``) or as CSR parts (``data``, ``indices``, ``indptr``, ``shape``, as
written by scipy.sparse.save_npz, or the same names prefixed ``A_``), ``l`` and ``u`` (or
``lower``/``upper``), ``levels`` ((L,) or (n, L), NaN-padded), and optionally ``x0`` and ``fixed``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mipguide.errors import FieldError, InputError
from mipguide.heuristics.dmmv.types import DmmvConfig, DmmvInstance, DmmvResult
from mipguide.pipeline.dmmv_hybrid import DEFAULT_SOLVER


def load_npz(path: Path) -> DmmvInstance:
    """Read a DMMV instance from an npz file.

    Raises:
        InputError: unreadable file, missing arrays or inconsistent shapes (the message names
            the file and the field).
    """
    from mipguide.heuristics.dmmv.io import instance_from_npz

    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        return instance_from_npz(path)
    except FieldError as exc:
        raise InputError(f"{path}: {exc}") from exc


def run_dmmv(
    path: Path,
    config: DmmvConfig,
    out: Path | None,
    console: Console,
    hybrid: bool | None = False,
    milp_solver: str = DEFAULT_SOLVER,
) -> DmmvResult:
    """Solve one npz instance (with ``hybrid``, the MILP beside DMMV; None: when the MILP is
    small enough), print a summary, write the JSON result when asked."""
    from mipguide.heuristics.dmmv.solve import solve
    from mipguide.pipeline.dmmv_hybrid import solve_hybrid, wants_hybrid
    from mipguide.settings import get_settings

    inst = load_npz(path)
    info = None
    if wants_hybrid(hybrid, inst, get_settings().dmmv_hybrid_max_nonzeros):
        res, info = solve_hybrid(inst, config, solver=milp_solver)
    else:
        res = solve(inst, config)
    m, n = inst.A.shape
    doc = {"file": str(path), "rows": m, "vars": n, "config": asdict(config), **res.to_dict()}
    doc["hybrid"] = None if info is None else info.to_dict()
    print_summary(doc, f"DMMV {path.name}  ({m} rows, {n} variables)", console)
    if out is not None:
        out.write_text(json.dumps(doc, indent=2))
        console.print(f"wrote {out}")
    return res


def print_summary(doc: dict[str, Any], title: str, console: Console) -> None:
    """A table of a DMMV result (``DmmvResult.to_dict()`` form, local or from the server)."""
    table = Table(title=title)
    table.add_column("field")
    table.add_column("value", justify="right")
    rows = [
        ("max violation", f"{doc['max_violation']:.6g}"),
        ("round-to-nearest start", f"{doc['start_max_violation']:.6g}"),
        ("arg-max row", str(doc["argmax_row"])),
        ("sum of squares", f"{doc['sum_squares']:.6g}"),
        ("passes", str(doc["iterations"])),
        ("seconds", f"{doc['seconds']:.2f}"),
        ("device", str(doc["device"])),
    ]
    hybrid = doc.get("hybrid")
    if hybrid:
        bound = hybrid.get("bound")
        rows.append((f"MILP ({hybrid['solver']})", str(hybrid["status"])))
        rows.append(("MILP bound", "-" if bound is None else f"{bound:.6g}"))
        rows.append(("answer from", str(hybrid["source"])))
        rows.append(("restarts from MILP points", str(hybrid.get("restarts", 0))))
        switched = hybrid.get("switched")
        if switched is not None:
            other = "SCIP" if hybrid["solver"] == "highs" else "HiGHS"
            rows.append((f"switched to {other} at", f"{switched:g} s"))
    for key, val in rows:
        table.add_row(key, val)
    console.print(table)
    console.print(", ".join(f"{k} {v}" for k, v in doc["counters"].items()))


def run_remote(
    path: Path,
    server: str,
    api_key: str | None,
    config: DmmvConfig,
    wait: bool,
    out: Path | None,
    console: Console,
    hybrid: bool | None = None,
    milp_solver: str = DEFAULT_SOLVER,
) -> dict[str, Any] | None:
    """Submit an npz instance to a server as a DMMV job; with ``wait``, print and return its
    result (and write it to ``out``), else print the job id.

    Raises:
        InputError: no such file. ApiError: the server refused it (its message says why).
    """
    from mipguide.client import MipguideClient

    if not path.exists():
        raise InputError(f"{path}: no such file")
    with MipguideClient(server, api_key or "") as client:
        job = client.submit_dmmv(
            path,
            time_limit=config.time_limit,
            seed=config.seed,
            hybrid=hybrid,
            milp_solver=milp_solver,
        )
        console.print(f"{job.id}  {path.name}  {job.state}")
        if not wait:
            return None
        job = client.wait(job.id)
        if job.state != "completed":
            console.print(f"{job.id}  {job.state}" + (f": {job.error}" if job.error else ""))
            return None
        doc = client.result_json(job.id)
    title = f"DMMV {path.name}  ({doc['rows']} rows, {doc['vars']} variables) on {server}"
    print_summary(doc, title, console)
    if out is not None:
        out.write_text(json.dumps(doc, indent=2))
        console.print(f"wrote {out}")
    return doc


def dmmv_command(
    file: Path,
    time_limit: float,
    seed: int,
    device: str,
    out: Path | None,
    server: str | None,
    api_key: str | None,
    wait: bool,
    console: Console,
    hybrid: bool | None = None,
    milp_solver: str = DEFAULT_SOLVER,
) -> None:
    """``mipguide dmmv``: run here, or with ``server`` as a job there (its device applies)."""
    from mipguide.settings import get_settings

    settings = get_settings()
    dev = settings.device if device == "auto" else device
    config = DmmvConfig(time_limit=time_limit, seed=seed, device="cpu" if dev == "auto" else dev)
    if server is not None:
        key = api_key or settings.api_key
        run_remote(file, server, key, config, wait, out, console, hybrid, milp_solver)
    else:
        run_dmmv(file, config, out, console, hybrid, milp_solver)
