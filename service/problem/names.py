"""Name limits shared by the readers: text -> ParseError at the first over-long token.

Names are at most ``MAX_NAME`` characters, what MPS and LP writers produce; a longer name is
refused with the line it is on, so no caller can make the stored problem large with a few
long names.
"""

from __future__ import annotations

import re

import numpy as np

from mipguide.errors import ParseError

MAX_NAME = 255
_LONG_TOKEN = re.compile(rb"[^\s]{%d,}" % (MAX_NAME + 1))
_BLANK = np.zeros(256, dtype=bool)
_BLANK[[9, 10, 11, 12, 13, 32]] = True  # what bytes.split() splits on
_SLICE = 8 << 20


def check_token_lengths(payload: bytes, file: str, comment: bytes) -> None:
    """Refuse the first token (a run of non-blank bytes) longer than ``MAX_NAME`` outside a
    comment. ``comment`` starts a comment: at the start of a line for MPS (``*``), anywhere
    in a line for LP (``\\``).

    Raises:
        ParseError: at the line of the first such token.
    """
    pos = 0
    while (hit := _long_run(payload, pos)) is not None:
        start = payload.rfind(b"\n", 0, hit) + 1
        end = payload.find(b"\n", hit)
        end = len(payload) if end < 0 else end
        line = payload[start:end]
        code = b"" if comment == b"*" and line.startswith(comment) else line.split(comment)[0]
        long = _LONG_TOKEN.search(code)
        if long is not None:
            raise ParseError(
                file,
                payload.count(b"\n", 0, start) + 1,
                f"a name or token of {len(long.group())} characters; names may have at most "
                f"{MAX_NAME}",
            )
        pos = end + 1


def _long_run(payload: bytes, pos: int) -> int | None:
    """Where the first run of more than ``MAX_NAME`` non-blank bytes at or after ``pos``
    starts (vectorized, in slices of ``_SLICE`` bytes)."""
    data = np.frombuffer(payload, dtype=np.uint8)
    width = MAX_NAME + 1
    for off in range(pos, data.shape[0], _SLICE):
        run = ~_BLANK[data[off : off + _SLICE + width]]
        # after the pass with step k, run[i] says bytes i .. i + 2k - 1 are all non-blank
        k = 1
        while k < width and run.shape[0]:
            step = min(k, width - k)
            run = run[:-step] & run[step:]
            k += step
        hits = np.flatnonzero(run)
        if hits.shape[0]:
            return off + int(hits[0])
    return None


def check_name(name: str, file: str, line: int | None, what: str) -> None:
    """Refuse one name (a problem name, a JSON name) longer than ``MAX_NAME``.

    Raises:
        ParseError: naming ``what`` and ``line``.
    """
    if len(name) > MAX_NAME:
        raise ParseError(
            file, line, f"{what} has {len(name)} characters; names may have at most {MAX_NAME}"
        )
