"""The normalized problem as an npz file (arrays + names, no pickles): what a job stores, so any
result can be reproduced from exactly what was solved, and what training reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense


def save_problem(problem: Problem, path: Path) -> None:
    """Write the normalized problem (arrays + names) as an npz file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": problem.name,
        "offset": problem.offset,
        "sense": int(problem.sense),
        "objective_name": problem.objective_name,
        "warnings": list(problem.warnings),
        "shape": list(problem.A.shape),
    }
    arrays: dict[str, Any] = {
        "meta": np.array(json.dumps(meta)),
        "data": problem.A.data,
        "indices": problem.A.indices,
        "indptr": problem.A.indptr,
        "row_lower": problem.row_lower,
        "row_upper": problem.row_upper,
        "c": problem.c,
        "col_lower": problem.col_lower,
        "col_upper": problem.col_upper,
        "integrality": problem.integrality,
        **pack_names("var", problem.var_names),
        **pack_names("row", problem.row_names),
    }
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def pack_names(kind: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Names as one UTF-8 blob and their lengths in characters: the size is proportional to
    their total length (a fixed-width array would give every name the longest one's width)."""
    text = "".join(names)
    return {
        f"{kind}_names_blob": np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8),
        f"{kind}_names_len": np.fromiter(map(len, names), dtype=np.int64, count=len(names)),
    }


def unpack_names(z: Any, kind: str) -> tuple[str, ...]:
    """The names ``pack_names`` stored (or the fixed-width array of older job files)."""
    if f"{kind}_names" in z.files:
        return tuple(str(v) for v in z[f"{kind}_names"].tolist())
    text = z[f"{kind}_names_blob"].tobytes().decode("utf-8", "surrogatepass")
    ends = np.cumsum(z[f"{kind}_names_len"]).tolist()
    starts = [0, *ends][:-1]
    return tuple(text[a:b] for a, b in zip(starts, ends, strict=True))


def load_problem(path: Path) -> Problem:
    """Read a problem written by ``save_problem``."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        shape = tuple(meta["shape"])
        A = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
        return Problem(
            name=meta["name"],
            A=A,
            row_lower=z["row_lower"],
            row_upper=z["row_upper"],
            c=z["c"],
            offset=float(meta["offset"]),
            sense=Sense(meta["sense"]),
            col_lower=z["col_lower"],
            col_upper=z["col_upper"],
            integrality=z["integrality"].astype(bool),
            var_names=unpack_names(z, "var"),
            row_names=unpack_names(z, "row"),
            objective_name=meta["objective_name"],
            warnings=tuple(meta["warnings"]),
        )
