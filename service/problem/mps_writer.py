"""MPS writer: Problem -> free-format MPS text that ``read_mps`` reads back exactly.

Choices: OBJSENSE in section form; ranged rows as G rows with a RANGES entry (or L rows when
that reproduces the bounds exactly); every integer column gets explicit bounds (so the INTORG
default [0, 1] never applies); a continuous column with LO = 0 and UP < 0 gets an explicit LO
(so the negative-UP rule never applies); infinities are written as +-1e+30; floats are written
with ``repr`` (shortest exact round trip). Free MPS cannot carry names with whitespace, empty
names or names starting with '*': such names raise ValueError (there is no escape). Rows with
lower > upper (or an infinite bound on the wrong side) cannot be expressed and raise ValueError.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from mipguide.problem.model import Problem, Sense

INF_TEXT = "1e+30"


def _num(v: float) -> str:
    if v == np.inf:
        return INF_TEXT
    if v == -np.inf:
        return "-" + INF_TEXT
    return repr(float(v))


def _check_names(kind: str, names: tuple[str, ...] | list[str]) -> None:
    for name in names:
        if not name or name[0] == "*" or any(ch.isspace() for ch in name):
            raise ValueError(f"{kind} name {name!r} cannot be written in free MPS")


def range_form(lo: float, hi: float) -> tuple[str, float, float]:
    """(row type, rhs, range) with type G: [rhs, rhs+r] or L: [rhs-r, rhs], exact if possible.

    MPS can only say ``rhs +- |R|`` (a floating-point sum), so some ranged rows whose bounds
    lie in different binades (e.g. [-3.67e11, 7.32e11] with fractional bits) have no exact
    form; then the upper bound comes back within one or two ulps.
    """
    r0 = hi - lo
    candidates = [r0]
    up = down = r0
    for _ in range(8):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, 0.0)
        candidates += [float(up), float(down)]
    for r in candidates:
        if lo + r == hi:
            return "G", lo, r
        if hi - r == lo:
            return "L", hi, r
    return "G", lo, r0


def _row_forms(problem: Problem) -> list[tuple[str, float, float | None]]:
    forms: list[tuple[str, float, float | None]] = []
    for lo, hi in zip(problem.row_lower.tolist(), problem.row_upper.tolist(), strict=True):
        if lo > hi or lo == np.inf or hi == -np.inf:
            raise ValueError(f"row bounds [{lo}, {hi}] cannot be written in MPS")
        if lo == hi:
            forms.append(("E", lo, None))
        elif lo == -np.inf:
            forms.append(("L", hi, None))
        elif hi == np.inf:
            forms.append(("G", lo, None))
        else:
            forms.append(range_form(lo, hi))
    return forms


def _bounds(problem: Problem) -> Iterator[str]:
    names = problem.var_names
    for j, (lo, hi, integer) in enumerate(
        zip(
            problem.col_lower.tolist(),
            problem.col_upper.tolist(),
            problem.integrality.tolist(),
            strict=True,
        )
    ):
        name = names[j]
        if lo == hi:
            yield f" FX BND {name} {_num(lo)}"
            continue
        if lo == -np.inf:
            yield f" {'MI' if hi != np.inf or integer else 'FR'} BND {name}"
        elif lo != 0.0 or integer or hi < 0.0:
            yield f" LO BND {name} {_num(lo)}"
        if hi != np.inf:
            yield f" UP BND {name} {_num(hi)}"
        elif integer:
            yield f" PL BND {name}"


def _columns(problem: Problem) -> Iterator[str]:
    obj = problem.objective_name
    csc = problem.A.tocsc()
    row_names = problem.row_names
    in_int = False
    for j, name in enumerate(problem.var_names):
        if bool(problem.integrality[j]) != in_int:
            in_int = not in_int
            yield f"    MARKER 'MARKER' '{'INTORG' if in_int else 'INTEND'}'"
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        cj = float(problem.c[j])
        if cj != 0.0 or lo == hi:
            yield f"    {name} {obj} {_num(cj)}"
        for i, v in zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist(), strict=True):
            yield f"    {name} {row_names[i]} {_num(v)}"
    if in_int:
        yield "    MARKER 'MARKER' 'INTEND'"


def mps_lines(problem: Problem) -> Iterator[str]:
    """The lines of the free-MPS text of ``problem`` (without newlines)."""
    _check_names("variable", problem.var_names)
    _check_names("row", problem.row_names)
    _check_names("objective", [problem.objective_name])
    if problem.objective_name in set(problem.row_names):
        raise ValueError(f"objective name {problem.objective_name!r} is also a row name")
    forms = _row_forms(problem)
    yield f"NAME {problem.name}".rstrip()
    yield "OBJSENSE"
    yield "    MAX" if problem.sense == Sense.MAXIMIZE else "    MIN"
    yield "ROWS"
    yield f" N  {problem.objective_name}"
    for (kind, _, _), name in zip(forms, problem.row_names, strict=True):
        yield f" {kind}  {name}"
    yield "COLUMNS"
    yield from _columns(problem)
    yield "RHS"
    if problem.offset != 0.0:
        yield f"    RHS {problem.objective_name} {_num(-problem.offset)}"
    for (_, rhs, _), name in zip(forms, problem.row_names, strict=True):
        if rhs != 0.0:
            yield f"    RHS {name} {_num(rhs)}"
    if any(r is not None for _, _, r in forms):
        yield "RANGES"
        for (_, _, r), name in zip(forms, problem.row_names, strict=True):
            if r is not None:
                yield f"    RNG {name} {_num(r)}"
    yield "BOUNDS"
    yield from _bounds(problem)
    yield "ENDATA"


def mps_text(problem: Problem) -> str:
    """The whole free-MPS text."""
    return "\n".join(mps_lines(problem)) + "\n"


def write_mps(problem: Problem, path: str | os.PathLike[str]) -> None:
    """Write ``problem`` as free MPS to ``path`` (gzip-compressed when it ends in .gz).

    Raises:
        ValueError: a name cannot be written in free MPS (whitespace, empty, leading '*').
    """
    text = mps_text(problem).encode("utf-8")
    if os.fspath(path).endswith(".gz"):
        import gzip

        text = gzip.compress(text)
    elif os.fspath(path).endswith(".bz2"):
        import bz2

        text = bz2.compress(text)
    with open(path, "wb") as f:
        f.write(text)
