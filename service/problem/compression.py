"""Transparent, bounded decompression: bytes (maybe gzip/bzip2/xz) -> bytes, recognised by
magic bytes.

Decompression runs as a stream in slices of ``CHUNK`` bytes and stops as soon as the output
passes a limit (``DecompressionLimits``): a total size, and an expansion ratio once the output
is past ``ratio_floor``. A "bomb" (a few hundred bytes that expand to gigabytes) is refused
after a bounded amount of work, and of its output no more than ``ratio_floor`` bytes are ever
held in memory.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from mipguide.errors import ParseError, PayloadTooLargeError

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
CHUNK = 1 << 20
MIB = 1 << 20


@dataclass(frozen=True)
class DecompressionLimits:
    """How far a compressed input may expand.

    Attributes:
        max_bytes: the largest decompressed size.
        max_ratio: the largest decompressed / compressed size, checked once the output is past
            ``ratio_floor`` (real MPS/LP/JSON files compress 3-20x).
        ratio_floor: output size below which the ratio is not checked (small files of few
            distinct lines can compress very well).
    """

    max_bytes: int = 512 * MIB
    max_ratio: float = 100.0
    ratio_floor: int = 16 * MIB


DEFAULT_LIMITS = DecompressionLimits()


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


def compression_of(data: bytes) -> str | None:
    """The compression recognised from the magic bytes: 'gzip', 'bzip2', 'xz' or None."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(BZIP2_MAGIC):
        return "bzip2"
    if data.startswith(XZ_MAGIC):
        return "xz"
    return None


def _new(kind: str) -> _Decompressor:
    if kind == "gzip":
        return _Gzip()
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


class _Gzip:
    """zlib's gzip stream decoder behind the interface of BZ2Decompressor / LZMADecompressor."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    @property
    def eof(self) -> bool:
        return self._z.eof

    @property
    def unused_data(self) -> bytes:
        return self._z.unused_data

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        return self._z.decompress(self._z.unconsumed_tail + data, max_length)


def decompress(data: bytes, file: str, limits: DecompressionLimits = DEFAULT_LIMITS) -> bytes:
    """Return the payload of ``data``: decompressed when it carries a known magic, else unchanged.

    Concatenated members (``cat a.gz b.gz``) are read as one stream, as gzip does. When the
    limits would let the output grow past ``ratio_floor``, a first pass only counts the output
    (memory of one ``CHUNK``), so nothing is kept of an input that is then refused.

    Raises:
        ParseError: the compressed stream is corrupt or truncated (line None).
        PayloadTooLargeError: the output would pass ``limits`` (what was exceeded is named).
    """
    kind = compression_of(data)
    if kind is None:
        return data
    if len(data) * limits.max_ratio > limits.ratio_floor:
        for _ in _pieces(data, kind, file, limits):
            pass
    return b"".join(_pieces(data, kind, file, limits))


def _pieces(data: bytes, kind: str, file: str, limits: DecompressionLimits) -> Iterator[bytes]:
    """The output in pieces of at most ``CHUNK`` bytes, checked against ``limits``."""
    size = 0
    rest = data
    try:
        while rest:
            dec = _new(kind)
            feed = rest
            while not dec.eof:
                piece = dec.decompress(feed, CHUNK)
                feed = b""
                size += len(piece)
                _check(size, len(data), limits, kind, file)
                yield piece
                if not piece and _starved(dec):
                    raise EOFError("the stream ends before its end marker")
            rest = dec.unused_data
            if rest and compression_of(rest) != kind:
                if rest.strip(b"\x00"):
                    raise ValueError(f"{len(rest)} bytes of trailing data after the stream")
                break
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise ParseError(file, None, f"corrupt or truncated {kind} data: {exc}") from exc


def _starved(dec: _Decompressor) -> bool:
    """True when the decoder produced nothing, has no input left and is not at its end."""
    if isinstance(dec, _Gzip):
        return not dec._z.unconsumed_tail
    needs = getattr(dec, "needs_input", True)
    return bool(needs)


def _check(size: int, compressed: int, limits: DecompressionLimits, kind: str, file: str) -> None:
    if size > limits.max_bytes:
        raise PayloadTooLargeError(
            f"{file}: {kind} data expands past {limits.max_bytes} bytes, the decompressed "
            "size limit (setting max_decompressed_bytes)"
        )
    if size > limits.ratio_floor and size > limits.max_ratio * compressed:
        raise PayloadTooLargeError(
            f"{file}: {kind} data of {compressed} bytes expands more than "
            f"{limits.max_ratio:g} times, the ratio limit (setting max_decompression_ratio)"
        )
