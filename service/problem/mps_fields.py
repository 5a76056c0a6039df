"""Vectorized field conversions shared by the MPS sections: tokens -> floats / indices.

Every function reports a bad token as a ParseError naming the file, the line and the token.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mipguide.errors import ParseError
from mipguide.problem.model import INF_THRESHOLD


def show(token: bytes) -> str:
    """A token as it should appear in an error message."""
    return token.decode("utf-8", errors="replace")


def to_float(tokens: np.ndarray, lineno: np.ndarray, file: str, what: str) -> np.ndarray:
    """Parse numeric tokens; NaN and non-numbers are errors (the first one in the file)."""
    try:
        vals = tokens.astype(np.float64)
    except (ValueError, TypeError):
        bad = [i for i, t in enumerate(tokens.tolist()) if not _is_number(t)]
        i = min(bad, key=lambda k: int(lineno[k]))
        reason = f"{what}: {show(tokens[i])!r} is not a number"
        raise ParseError(file, int(lineno[i]), reason) from None
    nan = np.isnan(vals)
    if nan.any():
        i = int(np.flatnonzero(nan)[np.argmin(lineno[nan])])
        raise ParseError(file, int(lineno[i]), f"{what}: NaN is not a valid value")
    return vals


def to_bound(vals: np.ndarray) -> np.ndarray:
    """Map |v| >= 1e20 to +-inf (the MPS convention for bounds, right-hand sides and ranges)."""
    out = vals.copy()
    out[out >= INF_THRESHOLD] = np.inf
    out[out <= -INF_THRESHOLD] = -np.inf
    return out


def _is_number(tok: object) -> bool:
    try:
        float(tok)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
    return True


def lookup(
    names: np.ndarray, index: Mapping[bytes, int], lineno: np.ndarray, file: str, what: str
) -> np.ndarray:
    """Map name tokens to indices; an unknown name is an error at its (first) line."""
    try:
        return np.fromiter(map(index.__getitem__, names), dtype=np.int64, count=names.shape[0])
    except KeyError:
        order = np.argsort(lineno, kind="stable")
        for i in order.tolist():
            if names[i] not in index:
                raise ParseError(
                    file, int(lineno[i]), f"{what} {show(names[i])!r} is not defined"
                ) from None
        raise  # pragma: no cover - unreachable


def first_duplicate(keys: np.ndarray) -> tuple[int, int] | None:
    """Positions (i < j) of the first repeated key by position of its second occurrence."""
    if keys.shape[0] < 2:
        return None
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    same = np.flatnonzero(sk[1:] == sk[:-1])
    if same.shape[0] == 0:
        return None
    seconds = order[same + 1]
    k = int(np.argmin(seconds))
    return int(order[same[k]]), int(seconds[k])
