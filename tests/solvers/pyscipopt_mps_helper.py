"""TEST-ONLY stand-in for the MPS reader: read a model file with PySCIPOpt into a Problem.

The service's own reader lands soon; the MIPLIB conformance checks will move onto it and this
helper will be deleted. It lives in tests so that ``service/solvers/scip.py`` stays the only
service module calling PySCIPOpt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pyscipopt import Model

from service.problem.model import Problem, Sense, make_problem

_INF = 1e20


def _val(v: float) -> float:
    return np.inf if v >= _INF else (-np.inf if v <= -_INF else v)


def read_with_pyscipopt(path: Path) -> Problem:
    """Read an MPS/LP file with SCIP's reader and convert it to a Problem (linear rows only)."""
    model = Model()
    model.hideOutput()
    model.readProblem(str(path))
    xs = model.getVars()
    index = {v.name: j for j, v in enumerate(xs)}
    rows, cols, vals, lo, hi, names = [], [], [], [], [], []
    for i, cons in enumerate(model.getConss()):
        if cons.getConshdlrName() != "linear":
            raise ValueError(f"{path.name}: constraint {cons.name} is {cons.getConshdlrName()}")
        for name, coef in model.getValsLinear(cons).items():
            rows.append(i)
            cols.append(index[name])
            vals.append(coef)
        lo.append(_val(model.getLhs(cons)))
        hi.append(_val(model.getRhs(cons)))
        names.append(cons.name)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(names), len(xs)))
    return make_problem(
        A,
        lo,
        hi,
        [v.getObj() for v in xs],
        col_lower=[_val(v.getLbOriginal()) for v in xs],
        col_upper=[_val(v.getUbOriginal()) for v in xs],
        integrality=[v.vtype() in ("BINARY", "INTEGER", "IMPLINT") for v in xs],
        sense=Sense.MAXIMIZE if model.getObjectiveSense() == "maximize" else Sense.MINIMIZE,
        offset=model.getObjoffset(),
        name=path.name.split(".")[0],
        var_names=[v.name for v in xs],
        row_names=names,
    )
