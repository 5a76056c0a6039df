"""Hypothesis strategies: small random Problems covering every bound and row kind."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mipguide.problem.model import Problem, Sense, make_problem

inf = np.inf
finite = st.floats(-1e12, 1e12, allow_nan=False, allow_subnormal=False)
nonzero = finite.filter(lambda v: v != 0.0)


@st.composite
def interval(draw: st.DrawFn, negup: bool = True) -> tuple[float, float]:
    """(lo, hi) of one kind: fixed, upper only, lower only, both, free, default [0, inf), and
    (for variables) [0, u < 0], which MPS can carry and a row cannot."""
    a, b = sorted((draw(finite), draw(finite)))
    kinds = ["fixed", "le", "ge", "range", "free", "default"] + (["negup"] if negup else [])
    kind = draw(st.sampled_from(kinds))
    return {
        "fixed": (a, a),
        "le": (-inf, b),
        "ge": (a, inf),
        "range": (a, b),
        "free": (-inf, inf),
        "default": (0.0, inf),
        "negup": (0.0, -abs(b) - 1.0),
    }[kind]


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(0, 6))
    m = draw(st.integers(0, 5))
    dense = np.zeros((m, n))
    for i in range(m):
        for j in range(n):
            if draw(st.booleans()):
                dense[i, j] = draw(nonzero)
    rows = [draw(interval(negup=False)) for _ in range(m)]
    cols = [draw(interval()) for _ in range(n)]
    return make_problem(
        dense,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [draw(finite) for _ in range(n)],
        col_lower=[c[0] for c in cols],
        col_upper=[c[1] for c in cols],
        integrality=[draw(st.booleans()) for _ in range(n)],
        sense=draw(st.sampled_from(list(Sense))),
        offset=draw(finite),
        name=draw(st.sampled_from(["", "p", "model one"])),
        var_names=[f"x{j}" if j % 2 else f"v[{j}].{j}" for j in range(n)],
        row_names=[f"r{i}" if i % 2 else f"cap({i})" for i in range(m)],
    )
