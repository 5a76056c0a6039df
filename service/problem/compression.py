"""Transparent decompression: bytes (maybe gzip/bzip2/xz) -> bytes, recognised by magic bytes."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib

from service.errors import ParseError

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


def compression_of(data: bytes) -> str | None:
    """The compression recognised from the magic bytes: 'gzip', 'bzip2', 'xz' or None."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(BZIP2_MAGIC):
        return "bzip2"
    if data.startswith(XZ_MAGIC):
        return "xz"
    return None


def decompress(data: bytes, file: str) -> bytes:
    """Return the payload of ``data``: decompressed when it carries a known magic, else unchanged.

    Raises:
        ParseError: the compressed stream is corrupt or truncated (line None).
    """
    kind = compression_of(data)
    if kind is None:
        return data
    try:
        if kind == "gzip":
            return gzip.decompress(data)
        if kind == "bzip2":
            return bz2.decompress(data)
        return lzma.decompress(data)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise ParseError(file, None, f"corrupt or truncated {kind} data: {exc}") from exc
