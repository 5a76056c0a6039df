"""Fast path for the free-format COLUMNS section: raw bytes -> Columns, no Python object per token.

The careful reader (``mps_lex.tokenize_free`` + ``mps_sections.parse_columns``) makes a ``bytes``
object per token and looks every row name up in a dict. Here the payload stays one numpy byte
array, scanned once (``Scan``, also the source of the newlines ``split_sections`` needs):

* tokens are the runs of bytes > 32, found from the blank/non-blank transitions chunk by chunk;
  per newline we keep how many tokens start before it, so a section's lines and their token
  counts are slices and differences;
* a field of many lines becomes a zero-padded ``(lines, k)`` matrix of 64-bit words (unaligned
  loads from the payload, masked to the token length): column names compare word-wise with the
  previous line's, row names are found in a vectorized open-addressing hash table of the ROWS
  names (the key is the word, or a mix of the words), and every hit is verified, so a lookup is
  exact;
* numbers are one ``astype(float64)`` of the value fields viewed as an ``S`` array (numpy parses
  each with Python's ``float``, exactly as the careful path does);
* the matrix is built column-wise (entries arrive grouped by column) and converted to CSR;
  a (column, row) pair given twice shows up as two equal adjacent column indices in a CSR row.

It only accepts what the careful path accepts, and builds the same ``Columns``: whenever it sees
anything unusual (a bad field count, an unknown row, an odd MARKER, a non-number, NaN/inf, a
duplicate entry, a repeated column, a control byte, a very long name) it returns None and the
caller runs the careful path, which produces the exact ``ParseError`` with its line number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.mps_sections import Columns, Rows

MAX_WIDTH = 256  # longer tokens -> careful path
_CHUNK = 1 << 20  # bytes per scan step
_MARKER = np.frombuffer(b"'MARKER'", dtype=np.uint64)
_INTORG = np.frombuffer(b"'INTORG'", dtype=np.uint64)
_INTEND = np.frombuffer(b"'INTEND'", dtype=np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_LOW_BYTES = np.array([(1 << (8 * i)) - 1 for i in range(9)], dtype=np.uint64)  # i low bytes set
MAX_PROBES = 64  # a hash table with longer probe sequences -> careful path
# Bytes that bytes.split() does not treat as whitespace although they are <= 32.
_ODD_CONTROL = np.ones(33, dtype=bool)
_ODD_CONTROL[[9, 10, 11, 12, 13, 32]] = False


@dataclass(frozen=True)
class Scan:
    """Where the tokens and newlines of a whole MPS payload are (free-format splitting).

    Attributes:
        start, length: per token (a maximal run of bytes > 32), its offset and length.
        newlines: offsets of the newline bytes.
        before: per newline, the number of tokens that start before it.
        plain: no byte < 32 other than whitespace, so the tokens are exactly ``bytes.split()``'s.
        words64: every offset of the payload as the start of an unaligned little-endian uint64.
        data: the payload.
    """

    start: np.ndarray
    length: np.ndarray
    newlines: np.ndarray
    before: np.ndarray
    plain: bool
    words64: np.ndarray
    data: bytes

    @classmethod
    def of(cls, data: bytes) -> Scan:
        """Scan in chunks (the temporaries stay small and in cache)."""
        arr = np.frombuffer(data, dtype=np.uint8)
        size = arr.shape[0]
        starts, ends, newlines, before = [], [], [], []
        plain, prev, count = True, False, 0
        for a in range(0, size, _CHUNK):
            seg = arr[a : a + _CHUNK]
            nonblank = seg > 32
            edge = np.flatnonzero(nonblank[1:] != nonblank[:-1]) + 1
            if bool(nonblank[0]) != prev:
                edge = np.concatenate(([0], edge))
            prev = bool(nonblank[-1])
            # Edges alternate: start, end, start, ...; ``begins``: the first one is an end.
            begins = int(edge.shape[0] > 0 and not nonblank[edge[0]])
            local = edge[begins::2]
            low = np.flatnonzero(seg < 32)
            code = seg[low]
            is_newline = code == 10
            if not is_newline.all():
                plain = plain and not _ODD_CONTROL[code].any()
                low = low[is_newline]
            before.append(np.searchsorted(local, low) + count)
            count += local.shape[0]
            starts.append(local + a)
            ends.append(edge[1 - begins :: 2] + a)
            newlines.append(low + a)
        if prev:
            ends.append(np.array([size]))
        start = _cat(starts)
        words64 = np.ndarray(
            shape=(max(size - 7, 0),), dtype=np.uint64, buffer=arr.data, strides=(1,)
        )
        return cls(
            start=start,
            length=_cat(ends) - start,
            newlines=_cat(newlines),
            before=_cat(before),
            plain=plain,
            words64=words64,
            data=data,
        )

    def words(self, tok: np.ndarray) -> np.ndarray | None:
        """Tokens ``tok`` as a zero-padded (len(tok), k) uint64 matrix; None if one is too long."""
        if tok.shape[0] == 0:
            return np.zeros((0, 1), dtype=np.uint64)
        length = self.length[tok]
        width = int(length.max())
        k = (width + 7) // 8
        start = self.start[tok]
        if width > MAX_WIDTH or int(start.max()) + 8 * (k - 1) >= self.words64.shape[0]:
            return None
        out = np.empty((tok.shape[0], k), dtype=np.uint64)
        for j in range(k):
            word = self.words64[start + 8 * j]
            word &= _LOW_BYTES[np.clip(length - 8 * j, 0, 8)]
            out[:, j] = word
        return out


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def fast_columns(scan: Scan, lo: int, hi: int, rows: Rows) -> Columns | None:
    """COLUMNS (the payload bytes lo:hi) of a well-formed free-format file, or None when the
    careful path must decide."""
    if not scan.plain:
        return None
    # The body follows its header's newline and ends with a newline (a section follows).
    j0, j1 = np.searchsorted(scan.newlines, (lo, hi)).tolist()
    if j1 == j0 or int(scan.newlines[j1 - 1]) != hi - 1:
        return None
    i0 = int(np.searchsorted(scan.start, lo))
    cum = np.concatenate(([i0], scan.before[j0:j1]))
    count = np.diff(cum)
    nonempty = count > 0
    first, count = cum[:-1][nonempty], count[nonempty]
    five = count == 5
    if not (five | (count == 3)).all():
        return None
    markers = _integer_lines(scan, first, count)
    if markers is None:
        return None
    marker, integer_line = markers
    data = ~marker
    first, five, integer_line = first[data], five[data], integer_line[data]
    if first.shape[0] == 0:
        return None
    col_words = scan.words(first)
    if col_words is None:
        return None
    new = np.ones(first.shape[0], dtype=bool)
    new[1:] = _differ(col_words[1:], col_words[:-1])
    names = col_words[new].view(f"S{col_words.shape[1] * 8}").ravel().tolist()
    index = dict(zip(names, range(len(names)), strict=False))
    if len(index) != len(names):
        return None
    col_of_line = np.cumsum(new) - 1
    integer = integer_line[new]
    if (integer_line != integer[col_of_line]).any():
        return None
    # Entries (row token, value token) in file order: first + 1, and first + 3 on 5-field lines.
    pair = np.empty((first.shape[0], 2), dtype=np.int64)
    pair[:, 0] = first + 1
    pair[:, 1] = first + 3
    has = np.ones_like(pair, dtype=bool)
    has[:, 1] = five
    row_tok = pair[has]
    e_row = _row_numbers(scan, row_tok, rows)
    if e_row is None:
        return None
    vals = _numbers(scan, row_tok + 1)
    if vals is None:
        return None
    per_line = five.astype(np.int64) + 1
    starts = np.concatenate(([0], np.cumsum(per_line)))
    indptr = starts[np.concatenate((np.flatnonzero(new), [first.shape[0]]))]
    return _matrix(e_row, vals, indptr, names, index, integer, rows)


def _integer_lines(
    scan: Scan, first: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per line: is it a MARKER line, is it inside INTORG ... INTEND (plain markers only)."""
    three = np.flatnonzero(count == 3)
    second = first[three] + 1
    cand = three[scan.length[second] == 8]
    marker = np.zeros(first.shape[0], dtype=bool)
    if cand.shape[0]:
        words = scan.words(first[cand] + 1)
        assert words is not None  # 8 bytes
        marker[cand[words[:, 0] == _MARKER[0]]] = True
    pos = np.flatnonzero(marker)
    if pos.shape[0] == 0:
        return marker, marker.copy()
    kinds = scan.words(first[pos] + 2)
    if kinds is None or kinds.shape[1] != 1:
        return None
    org = kinds[:, 0] == _INTORG[0]
    end = kinds[:, 0] == _INTEND[0]
    if not (org[0::2].all() and end[1::2].all()):
        return None
    state = np.zeros(pos.shape[0] + 1, dtype=bool)
    state[1:] = org
    return marker, state[np.cumsum(marker)]


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row: do the word rows of ``a`` and ``b`` differ (a loop over the few columns)?"""
    out = np.zeros(a.shape[0], dtype=bool)
    for k in range(a.shape[1]):
        out |= a[:, k] != b[:, k]
    return out


def _key(words: np.ndarray) -> np.ndarray:
    """64-bit key per word row: the word itself, or w0 * MIX ^ w1, then * MIX ^ w2, ..."""
    key = words[:, 0].copy()
    for k in range(1, words.shape[1]):
        key *= _MIX
        key ^= words[:, k]
    return key


def _row_numbers(scan: Scan, tok: np.ndarray, rows: Rows) -> np.ndarray | None:
    """Matrix row of each row-name token: constraint i -> i, objective -> m, dropped k -> m+1+k."""
    names = list(rows.index)
    if not names or b"\x00" in b"".join(names):
        return None  # a NUL would vanish in the zero padding
    k = (max(map(len, names)) + 7) // 8
    if int(scan.length[tok].max()) > 8 * k:
        return None  # longer than every row name
    table = np.array(names, dtype=f"S{8 * k}").view(np.uint64).reshape(len(names), k)
    words = scan.words(tok)
    if words is None:
        return None
    if words.shape[1] < k:
        words = np.pad(words, ((0, 0), (0, k - words.shape[1])))
    hit = _HashIndex(_key(table)).find(_key(words))
    # The keys match; given all words but the last, the key determines the last one.
    if hit is None or _differ(table[hit, :-1], words[:, :-1]).any():
        return None  # an undefined row
    ids = np.fromiter(rows.index.values(), dtype=np.int64, count=len(names))
    m = len(rows.names)
    return np.where(ids >= 0, ids, m - 1 - ids)[hit]


class _HashIndex:
    """Open addressing (linear probing) over distinct 64-bit keys, built and probed vectorized."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        self.bits = max(4, int(keys.shape[0] * 4 - 1).bit_length())
        self.slots = np.full(1 << self.bits, -1, dtype=np.int64)
        self.full = False
        home = self._home(keys)
        pending = np.arange(keys.shape[0])
        self.probes = 0
        while pending.shape[0]:
            if self.probes > MAX_PROBES:
                self.full = True  # clustered (or repeated) keys: give up
                return
            at = (home[pending] + self.probes) & (self.slots.shape[0] - 1)
            free = self.slots[at] < 0
            self.slots[at[free]] = pending[free]  # one of several claimants per slot wins
            won = self.slots[at] == pending
            pending = pending[~won]
            self.probes += 1

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return (keys * _MIX) >> np.uint64(64 - self.bits)

    def find(self, keys: np.ndarray) -> np.ndarray | None:
        """Position of each key in the table keys, or None if one is missing."""
        if self.full:
            return None
        at = self._home(keys)
        hit = self.slots[at]
        todo = np.flatnonzero(self.keys[hit] != keys)
        for probe in range(1, self.probes + 1):
            if not todo.shape[0]:
                break
            got = self.slots[(at[todo] + probe) & (self.slots.shape[0] - 1)]
            hit[todo] = got
            todo = todo[self.keys[got] != keys[todo]]
        if todo.shape[0]:
            return None
        return hit


def _numbers(scan: Scan, tok: np.ndarray) -> np.ndarray | None:
    """The tokens as finite floats (Python's float syntax), or None."""
    words = scan.words(tok)
    if words is None:
        return None
    try:
        vals = words.view(f"S{words.shape[1] * 8}").ravel().astype(np.float64)
    except ValueError:
        return None
    if not np.isfinite(vals).all():
        return None
    return vals


def _matrix(
    e_row: np.ndarray,
    vals: np.ndarray,
    indptr: np.ndarray,
    names: list[bytes],
    index: dict[bytes, int],
    integer: np.ndarray,
    rows: Rows,
) -> Columns | None:
    n, m = len(names), len(rows.names)
    height = m + 1 + len(rows.dropped)
    csc = sp.csc_matrix((vals, e_row, indptr), shape=(height, n))
    csr = csc.tocsr()
    ind, ptr = csr.indices, csr.indptr
    same = ind[1:] == ind[:-1]
    bound = ptr[1:-1]
    same[bound[(bound > 0) & (bound < ind.shape[0])] - 1] = False  # row r's first vs r-1's last
    if same.any():
        return None  # a (column, row) pair given twice
    lo, hi = int(ptr[m]), int(ptr[m + 1])
    c = np.zeros(n)
    c[ind[lo:hi]] = csr.data[lo:hi]
    A = sp.csr_matrix((csr.data[:lo], ind[:lo], ptr[: m + 1]), shape=(m, n))
    A.eliminate_zeros()
    return Columns(names=names, index=index, integer=integer, c=c, A=A)
