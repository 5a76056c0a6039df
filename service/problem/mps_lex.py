"""MPS lexing: bytes -> sections of token tables (free or fixed format), vectorized.

A section is a header line (first byte not blank) and the data lines up to the next header.
Data lines become a ``Lines`` table: one flat object array of byte tokens plus, per non-empty
line, the index of its first token, its token count and its 1-based line number. Free format
splits on whitespace (numpy finds the line structure; ``bytes.split`` makes the tokens, so
there is no Python loop per line). Fixed format keeps the type field (columns 2-3) and splits
the rest on runs of two or more blanks, so names may contain single spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mipguide.errors import ParseError

_WHITESPACE = (9, 10, 11, 12, 13, 32)  # exactly what bytes.split() splits on
_NONBLANK = np.ones(256, dtype=bool)
_NONBLANK[list(_WHITESPACE)] = False
_FIXED_SEP = re.compile(rb"[ \t]{2,}|\t")


@dataclass(frozen=True)
class Lines:
    """The non-empty data lines of one section, tokenized.

    Attributes:
        tokens: flat object array of ``bytes`` tokens.
        start: per line, index in ``tokens`` of its first token.
        count: per line, number of tokens (always >= 1).
        lineno: per line, its 1-based line number in the file.
    """

    tokens: np.ndarray
    start: np.ndarray
    count: np.ndarray
    lineno: np.ndarray

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def field(self, k: int | np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Token ``k`` (scalar or per-line array) of the selected lines."""
        return self.tokens[self.start[rows] + k]


@dataclass(frozen=True)
class Section:
    """One MPS section: header keyword and arguments, and its raw body.

    The body is ``payload[body_start:body_end]`` (sliced on demand: the payload is the whole
    file, with comment lines blanked).
    """

    keyword: str
    args: tuple[bytes, ...]
    header: bytes
    lineno: int
    payload: bytes
    body_start: int
    body_end: int
    first_line: int

    @property
    def body(self) -> bytes:
        return self.payload[self.body_start : self.body_end]


def split_sections(data: bytes, file: str, newlines: np.ndarray | None = None) -> list[Section]:
    """Cut an MPS payload into sections; comment lines ('*' in column 1) are blanked.

    Args:
        data: the payload.
        file: the name reported in errors.
        newlines: the offsets of the newlines of ``data``, if already known.

    Raises:
        ParseError: there is no ENDATA (a truncated file) or no section at all.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    if newlines is None:
        newlines = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [arr.shape[0]]))
    first = np.full(starts.shape[0], 32, dtype=np.uint8)
    nonempty = starts < ends
    first[nonempty] = arr[starts[nonempty]]
    comment = first == ord("*")
    if comment.any():
        buf = bytearray(data)
        for s, e in zip(starts[comment].tolist(), ends[comment].tolist(), strict=True):
            buf[s:e] = b" " * (e - s)
        data = bytes(buf)
    heads = np.flatnonzero(_NONBLANK[first] & ~comment).tolist()
    sections: list[Section] = []
    for k, h in enumerate(heads):
        body_end = int(starts[heads[k + 1]]) if k + 1 < len(heads) else len(data)
        header = data[int(starts[h]) : int(ends[h])].rstrip()
        words = header.split()
        sections.append(
            Section(
                keyword=words[0].decode("latin-1").upper(),
                args=tuple(words[1:]),
                header=header,
                lineno=h + 1,
                payload=data,
                body_start=int(ends[h]) + 1 if h + 1 < starts.shape[0] else body_end,
                body_end=body_end,
                first_line=h + 2,
            )
        )
    if not sections or sections[-1].keyword != "ENDATA":
        if any(s.keyword == "ENDATA" for s in sections):
            last = next(s for s in sections if s.keyword == "ENDATA")
            sections = sections[: sections.index(last) + 1]
        else:
            raise ParseError(file, int(starts.shape[0]), "missing ENDATA (truncated file?)")
    return sections


def tokenize_free(body: bytes, first_line: int) -> Lines:
    """Whitespace-separated fields, vectorized (no Python loop per line)."""
    arr = np.frombuffer(body, dtype=np.uint8)
    tokens = np.array(body.split(), dtype=object)
    if arr.shape[0] == 0 or tokens.shape[0] == 0:
        return _empty()
    tok_pos = _token_starts(arr > 32)  # fast; exact unless odd control bytes are present
    if tok_pos.shape[0] != tokens.shape[0]:
        tok_pos = _token_starts(_NONBLANK[arr])
    newlines = np.flatnonzero(arr == 10)
    bounds = np.concatenate(([0], newlines + 1, [arr.shape[0]]))
    cum = np.searchsorted(tok_pos, bounds)
    count = np.diff(cum)
    keep = count > 0
    return Lines(
        tokens=tokens,
        start=cum[:-1][keep],
        count=count[keep],
        lineno=np.flatnonzero(keep) + first_line,
    )


def _token_starts(nonblank: np.ndarray) -> np.ndarray:
    starts = np.flatnonzero(nonblank[1:] & ~nonblank[:-1]) + 1
    return np.concatenate(([0], starts)) if nonblank[0] else starts


def tokenize_fixed(body: bytes, first_line: int) -> Lines:
    """Fixed-format fields: type in columns 2-3, then fields separated by two or more blanks."""
    toks: list[bytes] = []
    start: list[int] = []
    count: list[int] = []
    lineno: list[int] = []
    for i, raw in enumerate(body.split(b"\n")):
        line = raw.rstrip()
        if not line.strip():
            continue
        if line[3:4] in (b" ", b"\t", b""):
            head, rest = line[1:3].strip(), line[4:].strip()
            fields = ([head] if head else []) + [f for f in _FIXED_SEP.split(rest) if f]
        else:
            fields = [f for f in _FIXED_SEP.split(line.strip()) if f]
        start.append(len(toks))
        count.append(len(fields))
        lineno.append(first_line + i)
        toks.extend(fields)
    if not toks:
        return _empty()
    tokens = np.empty(len(toks), dtype=object)
    tokens[:] = toks
    return Lines(tokens, np.array(start), np.array(count), np.array(lineno))


def _empty() -> Lines:
    z = np.zeros(0, dtype=np.int64)
    return Lines(np.zeros(0, dtype=object), z, z, z)
