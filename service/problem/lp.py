"""CPLEX LP reader: text (maybe gzip/bzip2/xz) -> Problem.

Supported: Maximize/Minimize with an optional name and a constant term; Subject To with named
or unnamed rows, ``<= >= = =< =>`` and ranged rows ``-2 <= x - y <= 2``; Bounds (``x <= 5``,
``-inf <= y <= 10``, ``x free``, ``x = 3``, ``x >= -inf``, ``3 <= x``); General/Generals/
Integer(s); Binary/Binaries; comments; expressions spanning lines; ``2 y``, ``2y``, ``-x``.
Conventions: a variable repeated in one expression gets the sum of its coefficients;
|v| >= 1e20 is infinite in right-hand sides and bounds, while coefficients and constants must
be finite; unnamed rows are called R<k> (k = row
position, 1-based, made unique); a bound like ``x <= -1`` keeps the default lower bound 0 (LP
format), so such bounds are inconsistent and reported in a warning naming the variable.
Refused: quadratic terms, semi-continuous, SOS, indicators, lazy constraints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mipguide.errors import ParseError, UnsupportedFeatureError
from mipguide.problem.compression import decompress
from mipguide.problem.lp_lex import LpSection, Token, lex_lp
from mipguide.problem.model import INF_THRESHOLD, Problem, Sense, make_problem
from mipguide.problem.names import check_token_lengths

_INF_WORDS = {"inf", "infinity"}
_LE, _GE, _EQ = "<=", ">=", "="
_OPS = {"<=": _LE, "=<": _LE, "<": _LE, ">=": _GE, "=>": _GE, ">": _GE, "=": _EQ}


@dataclass
class _Model:
    """Mutable state while reading; frozen into a Problem at the end."""

    file: str
    index: dict[str, int] = field(default_factory=dict)
    lower: dict[int, float] = field(default_factory=dict)
    upper: dict[int, float] = field(default_factory=dict)
    integer: set[int] = field(default_factory=set)
    binary: set[int] = field(default_factory=set)
    c: dict[int, float] = field(default_factory=dict)
    offset: float = 0.0
    rows: list[tuple[str | None, dict[int, float], float, float, int]] = field(default_factory=list)

    def var(self, name: str) -> int:
        return self.index.setdefault(name, len(self.index))


class _Stream:
    """Tokens of one section with a cursor."""

    def __init__(self, tokens: list[Token], file: str, end_line: int) -> None:
        self.toks, self.pos, self.file, self.end_line = tokens, 0, file, end_line

    def peek(self, k: int = 0) -> Token | None:
        i = self.pos + k
        return self.toks[i] if i < len(self.toks) else None

    def next(self, what: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise ParseError(self.file, self.end_line, f"expected {what}, found end of section")
        self.pos += 1
        return tok

    def error(self, tok: Token | None, reason: str) -> ParseError:
        return ParseError(self.file, tok.line if tok else self.end_line, reason)

    def done(self) -> bool:
        return self.pos >= len(self.toks)


def read_lp(data: bytes, file: str = "<bytes>") -> Problem:
    """Read a CPLEX LP model.

    Raises:
        ParseError: the file is malformed (file, 1-based line, reason).
        UnsupportedFeatureError: quadratic, semi-continuous, SOS, indicator or lazy parts.
    """
    raw = decompress(data, file)
    check_token_lengths(raw, file, b"\\")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParseError(file, line, "the file is not valid UTF-8 text") from None
    sections = lex_lp(text, file)
    model = _Model(file)
    sense = _read_sections(sections, model, file)
    return _problem(model, sense)


def _read_sections(sections: list[LpSection], model: _Model, file: str) -> Sense:
    first = sections[0]
    if first.keyword not in ("maximize", "minimize"):
        raise ParseError(file, first.line, "the file must start with Maximize or Minimize")
    sense = Sense.MAXIMIZE if first.keyword == "maximize" else Sense.MINIMIZE
    seen: set[str] = set()
    for k, sec in enumerate(sections):
        kw = "maximize" if sec.keyword == "minimize" else sec.keyword
        late = kw == "subject_to" and bool(seen - {"maximize"})
        if (k > 0 and kw == "maximize") or late or (kw in seen and kw in ("subject_to", "bounds")):
            raise ParseError(file, sec.line, f"section {sec.keyword!r} is out of order or repeated")
        seen.add(kw)
        end_line = sections[k + 1].line if k + 1 < len(sections) else sec.line
        stream = _Stream(sec.tokens, file, end_line)
        _HANDLERS[kw](stream, model)
    return sense


def _objective(s: _Stream, model: _Model) -> None:
    _maybe_label(s)
    coefs, const = _expression(s, model, stop_at_op=False)
    model.c.update(coefs)
    model.offset = const


def _maybe_label(s: _Stream) -> str | None:
    a, b = s.peek(), s.peek(1)
    if a is not None and b is not None and a.kind == "name" and b.text == ":":
        s.pos += 2
        return a.text
    return None


def _expression(s: _Stream, model: _Model, stop_at_op: bool) -> tuple[dict[int, float], float]:
    """Linear terms and constant, up to an operator (or the end of the section)."""
    coefs: dict[int, float] = {}
    const = 0.0
    first = True
    while True:
        tok = s.peek()
        if tok is None or tok.kind == "op":
            break
        if tok.text == "[":
            raise UnsupportedFeatureError(s.file, tok.line, "quadratic terms are not supported")
        if not first and tok.text not in "+-":
            raise s.error(tok, f"expected + or - before {tok.text!r}")
        sign = _signs(s)
        tok = s.next("a term")
        if tok.text == "[":
            raise UnsupportedFeatureError(s.file, tok.line, "quadratic terms are not supported")
        if tok.kind == "num":
            coef = sign * float(tok.text)
            if not np.isfinite(coef):
                raise s.error(tok, f"coefficient {tok.text!r} must be finite")
            nxt = s.peek()
            if nxt is not None and nxt.text == "*":
                s.pos += 1
                nxt = s.peek()
            if nxt is not None and nxt.kind == "name":
                s.pos += 1
                j = model.var(nxt.text)
                coefs[j] = coefs.get(j, 0.0) + coef
            else:
                const += coef
        elif tok.kind == "name":
            j = model.var(tok.text)
            coefs[j] = coefs.get(j, 0.0) + sign
        else:
            raise s.error(tok, f"expected a term, found {tok.text!r}")
        first = False
    if stop_at_op and s.peek() is None:
        raise s.error(None, "expected <=, >= or = to end the constraint")
    return coefs, const


def _signs(s: _Stream) -> float:
    sign = 1.0
    while (tok := s.peek()) is not None and tok.text in ("+", "-"):
        sign = -sign if tok.text == "-" else sign
        s.pos += 1
    return sign


def _constant(s: _Stream, what: str) -> float:
    """A signed number or infinity; |v| >= 1e20 is infinite."""
    sign = _signs(s)
    tok = s.next(what)
    if tok.kind == "num":
        v = sign * float(tok.text)
    elif tok.kind == "name" and tok.text.lower() in _INF_WORDS:
        v = sign * np.inf
    else:
        raise s.error(tok, f"expected {what}, found {tok.text!r}")
    return float(np.sign(v) * np.inf) if abs(v) >= INF_THRESHOLD else v


def _is_constant_start(s: _Stream) -> bool:
    """Whether the stream starts with ``[sign] number-or-inf operator``."""
    k = 0
    while (tok := s.peek(k)) is not None and tok.text in ("+", "-"):
        k += 1
    tok, nxt = s.peek(k), s.peek(k + 1)
    if tok is None or nxt is None or nxt.kind != "op":
        return False
    return tok.kind == "num" or (tok.kind == "name" and tok.text.lower() in _INF_WORDS)


def _op(s: _Stream) -> str:
    tok = s.next("<=, >= or =")
    if tok.kind != "op":
        raise s.error(tok, f"expected <=, >= or =, found {tok.text!r}")
    return _OPS[tok.text]


def _constraints(s: _Stream, model: _Model) -> None:
    while not s.done():
        line = s.peek().line  # type: ignore[union-attr]
        name = _maybe_label(s)
        left: tuple[str, float] | None = None
        if _is_constant_start(s):
            value = _constant(s, "a number")
            left = (_op(s), value)
        coefs, const = _expression(s, model, stop_at_op=True)
        op = _op(s)
        rhs = _constant(s, "a right-hand side") - const
        lo, hi = {_LE: (-np.inf, rhs), _GE: (rhs, np.inf), _EQ: (rhs, rhs)}[op]
        if left is not None:
            lo, hi = _ranged(s, left, op, lo, hi, const, line)
        model.rows.append((name, coefs, lo, hi, line))


def _ranged(
    s: _Stream, left: tuple[str, float], op: str, lo: float, hi: float, const: float, line: int
) -> tuple[float, float]:
    lop, lval = left
    if lop != op or op == _EQ:
        raise ParseError(s.file, line, "a ranged row needs two <= or two >=")
    if op == _LE:
        return lval - const, hi
    return lo, lval - const


def _bounds(s: _Stream, model: _Model) -> None:
    while not s.done():
        if _is_constant_start(s):
            value = _constant(s, "a bound")
            op = _op(s)
            j = _bound_var(s, model)
            _set_bound(model, j, _flip(op), value)
            nxt = s.peek()
            if nxt is not None and nxt.kind == "op":
                _set_bound(model, j, _op(s), _constant(s, "a bound"))
            continue
        j = _bound_var(s, model)
        nxt = s.peek()
        if nxt is not None and nxt.kind == "name" and nxt.text.lower() == "free":
            s.pos += 1
            model.lower[j], model.upper[j] = -np.inf, np.inf
            continue
        _set_bound(model, j, _op(s), _constant(s, "a bound"))


def _bound_var(s: _Stream, model: _Model) -> int:
    tok = s.next("a variable")
    if tok.kind != "name" or tok.text.lower() in _INF_WORDS:
        raise s.error(tok, f"expected a variable, found {tok.text!r}")
    return model.var(tok.text)


def _flip(op: str) -> str:
    return {_LE: _GE, _GE: _LE, _EQ: _EQ}[op]


def _set_bound(model: _Model, j: int, op: str, value: float) -> None:
    """``x op value``."""
    if op in (_GE, _EQ):
        model.lower[j] = value
    if op in (_LE, _EQ):
        model.upper[j] = value


def _names(kind: str):  # type: ignore[no-untyped-def]
    def handler(s: _Stream, model: _Model) -> None:
        while not s.done():
            tok = s.next("a variable")
            if tok.kind != "name":
                raise s.error(tok, f"expected a variable name, found {tok.text!r}")
            j = model.var(tok.text)
            model.integer.add(j)
            if kind == "binary":
                model.binary.add(j)

    return handler


def _end(s: _Stream, model: _Model) -> None:
    if not s.done():
        raise s.error(s.peek(), "nothing may follow End")


_HANDLERS = {
    "maximize": _objective,
    "subject_to": _constraints,
    "bounds": _bounds,
    "general": _names("general"),
    "binary": _names("binary"),
    "end": _end,
}


def _row_names(rows: list[tuple[str | None, dict[int, float], float, float, int]]) -> list[str]:
    taken = {r[0] for r in rows if r[0] is not None}
    names = []
    for k, (name, *_rest) in enumerate(rows, start=1):
        if name is None:
            name = f"R{k}"
            while name in taken:
                name += "_"
            taken.add(name)
        names.append(name)
    return names


def _problem(model: _Model, sense: Sense) -> Problem:
    n, m = len(model.index), len(model.rows)
    lower, upper = np.zeros(n), np.full(n, np.inf)
    for j, v in model.lower.items():
        lower[j] = v
    for j, v in model.upper.items():
        upper[j] = v
    for j in model.binary:
        lower[j], upper[j] = 0.0, 1.0
    integrality = np.zeros(n, dtype=bool)
    integrality[list(model.integer)] = True
    names = _row_names(model.rows)
    first: dict[str, int] = {}
    for k, nm in enumerate(names):
        if first.setdefault(nm, k) != k:
            line, before = model.rows[k][4], model.rows[first[nm]][4]
            raise ParseError(
                model.file, line, f"row {nm!r} is defined twice (first on line {before})"
            )
    r_idx = [i for i, row in enumerate(model.rows) for _ in row[1]]
    c_idx = [j for row in model.rows for j in row[1]]
    vals = [v for row in model.rows for v in row[1].values()]
    A = _csr(r_idx, c_idx, vals, m, n)
    c = np.zeros(n)
    for j, v in model.c.items():
        c[j] = v
    var_names = list(model.index)
    return make_problem(
        A,
        [r[2] for r in model.rows],
        [r[3] for r in model.rows],
        c,
        col_lower=lower,
        col_upper=upper,
        integrality=integrality,
        sense=sense,
        offset=model.offset,
        name="",
        var_names=var_names,
        row_names=names,
        warnings=_warnings(lower, upper, var_names),
    )


def _csr(rows: list[int], cols: list[int], vals: list[float], m: int, n: int):  # type: ignore[no-untyped-def]
    import scipy.sparse as sp

    ij = (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))
    return sp.csr_matrix((np.asarray(vals, dtype=np.float64), ij), shape=(m, n))


def _warnings(lower: np.ndarray, upper: np.ndarray, names: list[str]) -> tuple[str, ...]:
    return tuple(
        f"bounds of {names[j]} are inconsistent: [{lower[j]:g}, {upper[j]:g}]; "
        "the model is infeasible"
        for j in np.flatnonzero(lower > upper).tolist()
    )
