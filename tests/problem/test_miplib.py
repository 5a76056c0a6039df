"""Every catalogued MIPLIB/Netlib instance reads with the catalogued sizes; a few match SCIP.

The catalog's ``rows`` counts constraint rows only: neither the objective nor the extra free
(N) rows, which we drop (dsbmip has 672 of them), are counted.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mipguide.problem.io import read_problem

CATALOG = Path(__file__).parents[1] / "data" / "miplib" / "catalog.csv"
with open(CATALOG) as _f:
    ENTRIES = list(csv.DictReader(_f))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_catalog_sizes(miplib_dir: Path, entry: dict[str, str]) -> None:
    p = read_problem(miplib_dir / entry["file"])
    assert p.num_rows == int(entry["rows"])
    assert p.num_vars == int(entry["cols"])
    assert p.num_integers == int(entry["ints"])
    assert np.isfinite(p.A.data).all() and np.isfinite(p.c).all()
    assert all("inconsistent" not in w for w in p.warnings)


@pytest.mark.parametrize(
    "name", ["p0033", "lseu", "afiro", "flugpl", "egout", "stein27", "misc03", "bell5", "gt2"]
)
def test_same_as_scip(miplib_dir: Path, name: str) -> None:
    pyscipopt = pytest.importorskip("pyscipopt")
    entry = next(e for e in ENTRIES if e["name"] == name)
    path = miplib_dir / entry["file"]
    p = read_problem(path)
    model = pyscipopt.Model()
    model.hideOutput()
    model.readProblem(str(path))
    assert model.getNVars() == p.num_vars
    assert model.getNConss() == p.num_rows
    scip_vars = {v.name: v for v in model.getVars()}
    inf = model.infinity()
    for j, vname in enumerate(p.var_names):
        v = scip_vars[vname]
        assert v.getObj() == p.c[j]
        assert (v.vtype() in ("BINARY", "INTEGER")) == bool(p.integrality[j])
        lb, ub = v.getLbOriginal(), v.getUbOriginal()
        assert (-np.inf if lb <= -inf else lb) == p.col_lower[j]
        assert (np.inf if ub >= inf else ub) == p.col_upper[j]
