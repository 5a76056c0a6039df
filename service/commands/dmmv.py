"""``mipguide dmmv FILE.npz`` and ``mipguide bench dmmv``: load, run, print, write.

The npz holds A dense (``A``) or as CSR parts (``data``, ``indices``, ``indptr``, ``shape``, as
written by scipy.sparse.save_npz, or the same names prefixed ``A_``), ``l`` and ``u`` (or
``lower``/``upper``), ``levels`` ((L,) or (n, L), NaN-padded), and optionally ``x0`` and ``fixed``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from rich.console import Console
from rich.table import Table

from service.errors import InputError
from service.heuristics.dmmv.types import DmmvConfig, DmmvInstance, DmmvResult


def _pick(z: np.lib.npyio.NpzFile, *names: str) -> np.ndarray | None:
    for n in names:
        if n in z.files:
            return np.asarray(z[n])
    return None


def load_npz(path: Path) -> DmmvInstance:
    """Read a DMMV instance from an npz file.

    Raises:
        InputError: missing arrays or inconsistent shapes (the message names them).
    """
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable npz file ({exc})") from exc
    with z:
        A: np.ndarray | sp.csr_matrix | None = _pick(z, "A")
        if A is None:
            parts = [_pick(z, k, f"A_{k}") for k in ("data", "indices", "indptr", "shape")]
            data, indices, indptr, shape = parts
            if data is None or indices is None or indptr is None or shape is None:
                raise InputError(f"{path}: needs A (dense) or CSR parts data/indices/indptr/shape")
            A = sp.csr_matrix((data, indices, indptr), shape=tuple(int(s) for s in shape))
        lower, upper = _pick(z, "l", "lower"), _pick(z, "u", "upper")
        levels = _pick(z, "levels")
        if lower is None or upper is None or levels is None:
            raise InputError(f"{path}: needs l, u and levels")
        x0, fixed = _pick(z, "x0"), _pick(z, "fixed")
    inst = DmmvInstance(
        A,
        lower.astype(np.float64),
        upper.astype(np.float64),
        levels.astype(np.float64),
        None if x0 is None else x0.astype(np.float64),
        None if fixed is None else fixed.astype(bool),
    )
    try:
        inst.as_batch()
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc
    return inst


def run_dmmv(path: Path, config: DmmvConfig, out: Path | None, console: Console) -> DmmvResult:
    """Solve one npz instance, print a summary, write the JSON result when asked."""
    from service.heuristics.dmmv.solve import solve

    inst = load_npz(path)
    res = solve(inst, config)
    m, n = inst.A.shape
    table = Table(title=f"DMMV {path.name}  ({m} rows, {n} variables)")
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, val in (
        ("max violation", f"{res.max_violation:.6g}"),
        ("round-to-nearest start", f"{res.start_max_violation:.6g}"),
        ("arg-max row", str(res.argmax_row)),
        ("sum of squares", f"{res.sum_squares:.6g}"),
        ("passes", str(res.iterations)),
        ("seconds", f"{res.seconds:.2f}"),
        ("device", res.device),
    ):
        table.add_row(key, val)
    console.print(table)
    console.print(", ".join(f"{k} {v}" for k, v in res.counters.items()))
    if out is not None:
        doc = {"file": str(path), "rows": m, "vars": n, "config": asdict(config), **res.to_dict()}
        out.write_text(json.dumps(doc, indent=2))
        console.print(f"wrote {out}")
    return res
