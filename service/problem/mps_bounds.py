"""MPS BOUNDS section: token lines -> variable bounds and types, vectorized.

Defaults: continuous [0, +inf); an INTORG column that no bound line mentions is binary [0, 1];
an integer column with bound lines starts from [0, +inf) (so only UP gives [0, UP]). Later lines
override earlier ones per bound. UP < 0 on a column whose lower bound is never set gives
LO = -inf (the CPLEX/SAS convention), with a warning. SC (semi-continuous) is refused.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np

from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.mps_fields import lookup, show, to_bound, to_float
from mipguide.problem.mps_lex import Lines
from mipguide.problem.mps_sections import Bounds, ignored_vectors, need_counts, subset

_NAMES = (b"UP", b"LO", b"FX", b"LI", b"UI", b"FR", b"MI", b"PL", b"BV", b"SC")
UP, SC = 0, 9
# Per type code: needs a value; what it does to the lower and to the upper bound (NaN: nothing,
# VALUE with _USES_VALUE_*: the line's value, else that constant); whether it makes it integer.
_NEEDS = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 1], dtype=bool)
VALUE = 0.0  # placeholder where the line's value is used (see _USES_VALUE_*)
_NOTHING = np.nan
_LOWER = np.array(
    [_NOTHING, VALUE, VALUE, VALUE, _NOTHING, -np.inf, -np.inf, _NOTHING, 0.0, _NOTHING]
)
_UPPER = np.array(
    [VALUE, _NOTHING, VALUE, _NOTHING, VALUE, np.inf, _NOTHING, np.inf, 1.0, _NOTHING]
)
_USES_VALUE_LO = np.array([0, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
_USES_VALUE_UP = np.array([1, 0, 1, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
_INTEGER = np.array([0, 0, 0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
_CODES = {  # every case variant of every type name
    first + second: k
    for k, name in enumerate(_NAMES)
    for first in (name[:1], name[:1].lower())
    for second in (name[1:], name[1:].lower())
}


def parse_bounds(
    lines: Lines, col_index: dict[bytes, int], marker_int: np.ndarray, file: str
) -> Bounds:
    """Apply BOUNDS lines ``type [set] column [value]`` over the defaults."""
    n = marker_int.shape[0]
    code = np.fromiter(
        map(_CODES.get, lines.field(0), repeat(-1)), dtype=np.int64, count=len(lines)
    )
    if (code < 0).any():
        k = int(np.argmax(code < 0))
        raise ParseError(
            file, int(lines.lineno[k]), f"unknown bound type {show(lines.field(0)[k])!r}"
        )
    if (code == SC).any():
        k = int(np.argmax(code == SC))
        raise UnsupportedFeatureError(
            file, int(lines.lineno[k]), "semi-continuous variables are not supported"
        )
    needs = _NEEDS[code]
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
            keep = ~other
            lines, code, needs, has_set = (
                subset(lines, keep),
                code[keep],
                needs[keep],
                has_set[keep],
            )
    col_pos = lines.start + 1 + has_set
    cols = lookup(lines.tokens[col_pos], col_index, lines.lineno, file, "BOUNDS: column")
    vals = np.full(len(lines), np.nan)
    vals[needs] = to_bound(
        to_float(lines.tokens[col_pos[needs] + 1], lines.lineno[needs], file, "bound")
    )
    return _apply(code, cols, vals, marker_int, n, warnings)


def _apply(
    code: np.ndarray,
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
    lo_val = np.where(_USES_VALUE_LO[code], vals, _LOWER[code])
    up_val = np.where(_USES_VALUE_UP[code], vals, _UPPER[code])
    sets_lower = ~np.isnan(_LOWER[code])
    sets_upper = ~np.isnan(_UPPER[code])
    _last_wins(lower, cols[sets_lower], lo_val[sets_lower])
    _last_wins(upper, cols[sets_upper], up_val[sets_upper])
    integer = marker_int.copy()
    integer[cols[_INTEGER[code]]] = True
    has_lower = np.zeros(n, dtype=bool)
    has_lower[cols[sets_lower]] = True
    neg_up = np.zeros(n, dtype=bool)
    neg_up[cols[(code == UP) & (vals < 0)]] = True
    neg_up &= ~has_lower
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
