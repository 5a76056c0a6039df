"""CPLEX LP lexing: text -> sections, each a list of tokens with their line numbers.

A section starts with a keyword at the beginning of a line (``Maximize``, ``Subject To``,
``Bounds``, ``General``, ``Binary``, ``End``, ...); comments run from a backslash to the end
of the line; expressions may continue over any number of lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mipguide.errors import ParseError, UnsupportedFeatureError

_KEYWORDS = [
    ("maximize", r"max(?:imi[sz]e|imum)?"),
    ("minimize", r"min(?:imi[sz]e|imum)?"),
    ("subject_to", r"subject\s+to|such\s+that|s\.t\.|st\.?"),
    ("bounds", r"bounds?"),
    ("general", r"gen(?:erals?)?|integers?"),
    ("binary", r"bin(?:ary|aries)?"),
    ("semi", r"semi-continuous|semis?"),
    ("sos", r"sos[12]?"),
    ("lazy", r"lazy\s+constraints|user\s+cuts"),
    ("end", r"end"),
]
_KEYWORD_RE = re.compile(
    r"\s*(?:" + "|".join(f"(?P<{k}>{p})" for k, p in _KEYWORDS) + r")(?=\s|$)(?!\s*:)",
    re.IGNORECASE,
)
_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<arrow><->|->)
    | (?P<op><=|=<|>=|=>|<|>|=)
    | (?P<punct>[:+\-\[\]^*])
    | (?P<name>[A-Za-z_!"#$%&()/,.;?@'`{}|~][A-Za-z0-9_!"#$%&()/,.;?@'`{}|~]*)
    | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_UNSUPPORTED = {
    "semi": "semi-continuous variables are not supported",
    "sos": "SOS constraints are not supported",
    "lazy": "lazy constraints and user cuts are not supported",
}


@dataclass(frozen=True)
class Token:
    """One token: its kind (num, op, punct, name), text and 1-based line."""

    kind: str
    text: str
    line: int


@dataclass
class LpSection:
    """A keyword and the tokens up to the next keyword."""

    keyword: str
    line: int
    tokens: list[Token] = field(default_factory=list)


def lex_lp(text: str, file: str) -> list[LpSection]:
    """Split an LP file into sections of tokens.

    Raises:
        ParseError: text before the objective section, an unexpected character, or no End.
        UnsupportedFeatureError: semi-continuous, SOS, lazy constraints, indicators.
    """
    sections: list[LpSection] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("\\", 1)[0]
        m = _KEYWORD_RE.match(line)
        if m is not None:
            keyword = str(m.lastgroup)
            if keyword in _UNSUPPORTED:
                raise UnsupportedFeatureError(file, lineno, _UNSUPPORTED[keyword])
            sections.append(LpSection(keyword, lineno))
            if keyword == "end":
                return sections
            line = line[m.end() :]
        tokens = _tokens(line, lineno, file)
        if tokens and not sections:
            raise ParseError(file, lineno, "expected Maximize or Minimize before anything else")
        if tokens:
            sections[-1].tokens.extend(tokens)
    if not sections:
        raise ParseError(file, None, "empty LP file (no objective section)")
    raise ParseError(file, len(text.splitlines()), "missing End (truncated file?)")


def _tokens(line: str, lineno: int, file: str) -> list[Token]:
    out = []
    for m in _TOKEN_RE.finditer(line):
        kind = m.lastgroup
        if kind is None:
            continue
        text = m.group(kind)
        if kind == "bad":
            raise ParseError(file, lineno, f"unexpected character {text!r}")
        if kind == "arrow":
            raise UnsupportedFeatureError(file, lineno, "indicator constraints are not supported")
        out.append(Token(kind, text, lineno))
    return out
