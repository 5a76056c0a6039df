"""MPS BOUNDS section: token lines -> variable bounds and types, vectorized.

Defaults: continuous [0, +inf); an INTORG column that no bound line mentions is binary [0, 1];
an integer column with bound lines starts from [0, +inf) (so only UP gives [0, UP]). Later lines
override earlier ones per bound. UP < 0 on a column whose lower bound is never set gives
LO = -inf (the CPLEX/SAS convention), with a warning. SC (semi-continuous) is refused.
"""

from __future__ import annotations

import numpy as np

from service.errors import ParseError, UnsupportedFeatureError
from service.problem.mps_fields import lookup, show, to_bound, to_float
from service.problem.mps_lex import Lines
from service.problem.mps_sections import Bounds, ignored_vectors, need_counts, subset

# type -> (needs a value, sets lower to, sets upper to, makes integer); "v" is the line's value.
_TYPES: dict[bytes, tuple[bool, object, object, bool]] = {
    b"UP": (True, None, "v", False),
    b"LO": (True, "v", None, False),
    b"FX": (True, "v", "v", False),
    b"LI": (True, "v", None, True),
    b"UI": (True, None, "v", True),
    b"FR": (False, -np.inf, np.inf, False),
    b"MI": (False, -np.inf, None, False),
    b"PL": (False, None, np.inf, False),
    b"BV": (False, 0.0, 1.0, True),
    b"SC": (True, None, None, False),
}


def parse_bounds(
    lines: Lines, col_index: dict[bytes, int], marker_int: np.ndarray, file: str
) -> Bounds:
    """Apply BOUNDS lines ``type [set] column [value]`` over the defaults."""
    n = marker_int.shape[0]
    types = np.array([t.upper() for t in lines.field(0).tolist()], dtype=object)
    known = np.isin(types, list(_TYPES))
    if not known.all():
        k = int(np.argmin(known))
        raise ParseError(file, int(lines.lineno[k]), f"unknown bound type {show(types[k])!r}")
    sc = types == b"SC"
    if sc.any():
        k = int(np.argmax(sc))
        raise UnsupportedFeatureError(
            file, int(lines.lineno[k]), "semi-continuous variables are not supported"
        )
    needs = np.array([_TYPES[t][0] for t in types.tolist()], dtype=bool)
    cnt = lines.count
    ok = np.where(needs, (cnt == 3) | (cnt == 4), (cnt >= 2) & (cnt <= 4))
    need_counts(lines, ok, file, "BOUNDS line needs: type [set] column [value]")
    has_set = np.where(needs, cnt == 4, cnt >= 3)
    warnings: list[str] = []
    if has_set.any():
        sets = lines.field(1, has_set)
        other = np.zeros(len(lines), dtype=bool)
        other[has_set] = sets != sets[0]
        if other.any():
            warnings.append(ignored_vectors("BOUNDS", sets))
            lines, types, needs, has_set = (
                subset(lines, ~other),
                types[~other],
                needs[~other],
                has_set[~other],
            )
    col_pos = lines.start + 1 + has_set
    cols = lookup(lines.tokens[col_pos], col_index, lines.lineno, file, "BOUNDS: column")
    vals = np.full(len(lines), np.nan)
    vals[needs] = to_bound(
        to_float(lines.tokens[col_pos[needs] + 1], lines.lineno[needs], file, "bound")
    )
    return _apply(types, cols, vals, marker_int, n, warnings)


def _apply(
    types: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    marker_int: np.ndarray,
    n: int,
    warnings: list[str],
) -> Bounds:
    mentioned = np.zeros(n, dtype=bool)
    mentioned[cols] = True
    lower = np.zeros(n)
    upper = np.where(marker_int & ~mentioned, 1.0, np.inf)
    integer = marker_int.copy()
    sets_lower = np.zeros(n, dtype=bool)
    for slot, target in ((1, lower), (2, upper)):
        spec = [_TYPES[t][slot] for t in types.tolist()]
        mask = np.array([s is not None for s in spec], dtype=bool)
        value = np.array([0.0 if s is None or s == "v" else s for s in spec], dtype=np.float64)
        value = np.where(np.array([s == "v" for s in spec], dtype=bool), vals, value)
        _last_wins(target, cols[mask], value[mask])
        if slot == 1:
            sets_lower[cols[mask]] = True
    integer[cols[np.array([_TYPES[t][3] for t in types.tolist()], dtype=bool)]] = True
    neg_up = np.zeros(n, dtype=bool)
    up_lines = types == b"UP"
    neg_up[cols[up_lines & (vals < 0)]] = True
    neg_up &= ~sets_lower
    lower[neg_up] = -np.inf
    return Bounds(
        lower=lower,
        upper=upper,
        integer=integer,
        negative_up=np.flatnonzero(neg_up),
        warnings=tuple(warnings),
    )


def _last_wins(target: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
    """target[cols] = values where the last line for a column wins."""
    if cols.shape[0] == 0:
        return
    rev_cols = cols[::-1]
    uniq, first = np.unique(rev_cols, return_index=True)
    target[uniq] = values[::-1][first]
