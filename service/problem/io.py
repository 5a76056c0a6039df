"""Model I/O dispatch: bytes or a path -> Problem (MPS, LP, JSON), and Problem -> file.

The format comes from ``fmt``, else from the file name (``.mps``, ``.lp``, ``.json``, each
optionally followed by ``.gz``, ``.bz2`` or ``.xz``), else, for bytes without a usable name, from
the content. Compression is always recognised by its magic bytes.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from mipguide.errors import ParseError, UnsupportedFormatError
from mipguide.problem.compression import (
    COMPRESSED_SUFFIXES,
    DEFAULT_LIMITS,
    DecompressionLimits,
    compression_of,
    decompress,
)
from mipguide.problem.model import Problem

# format -> (module, function): a reader is imported when its format is read (a cold CLI call
# reading MPS does not pay for the LP and JSON readers)
_READERS = {
    "mps": ("mipguide.problem.mps", "read_mps"),
    "lp": ("mipguide.problem.lp", "read_lp"),
    "json": ("mipguide.problem.jsonmodel", "read_json"),
}
SUPPORTED = ".mps, .lp, .json (each optionally .gz, .bz2 or .xz); formats: " + ", ".join(
    sorted(_READERS)
)


def reader(kind: str) -> Callable[[bytes, str], Problem]:
    """The reader of a format ("mps", "lp" or "json")."""
    module, name = _READERS[kind]
    read: Callable[[bytes, str], Problem] = getattr(importlib.import_module(module), name)
    return read


_ALIASES = {"mps": "mps", "free-mps": "mps", "fixed-mps": "mps", "lp": "lp", "json": "json"}


def format_of(filename: str) -> str | None:
    """'mps', 'lp' or 'json' from a file name, or None when the name does not say."""
    name = filename.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    for ext, fmt in ((".mps", "mps"), (".lp", "lp"), (".json", "json")):
        if name.endswith(ext):
            return fmt
    return None


def sniff_format(payload: bytes) -> str | None:
    """Guess the format from the decompressed content; None when unclear."""
    head = payload[:4096].lstrip()
    if head.startswith((b"{", b"[")):
        return "json"
    lines = [ln.strip().upper() for ln in head.splitlines() if ln.strip()]
    words = {ln.split()[0] for ln in lines if not ln.startswith((b"*", b"\\"))}
    if words & {b"ROWS", b"NAME", b"COLUMNS"}:
        return "mps"
    if words & {b"MAXIMIZE", b"MINIMIZE", b"MAX", b"MIN", b"MAXIMUM", b"MINIMUM"}:
        return "lp"
    return None


def read_problem(
    source: bytes | str | os.PathLike[str],
    filename: str | None = None,
    fmt: str | None = None,
    limits: DecompressionLimits = DEFAULT_LIMITS,
) -> Problem:
    """Read a model from bytes or from a path.

    Args:
        source: the file content (bytes) or a path (str or PathLike).
        filename: the name reported in errors and used to pick the format; defaults to the path
            (or ``<bytes>``).
        fmt: force the format: "mps", "lp" or "json".
        limits: how far compressed content may expand.

    Raises:
        UnsupportedFormatError: the format is unknown (the message lists the supported ones).
        ParseError: the file is malformed (file, line, reason), or compressed twice.
        PayloadTooLargeError: the content expands past ``limits``.
        UnsupportedFeatureError: the file uses a feature we refuse.
        OSError: the path cannot be read.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = filename or "<bytes>"
    else:
        data = Path(source).read_bytes()
        name = filename or os.fspath(source)
    payload = decompress(data, name, limits)
    if payload is not data and compression_of(payload) is not None:
        raise ParseError(name, None, "the content is compressed twice; compress it once")
    kind = _resolve(fmt, filename if filename is not None else name, payload)
    return reader(kind)(payload, name)


def _resolve(fmt: str | None, name: str, payload: bytes) -> str:
    if fmt is not None:
        kind = _ALIASES.get(fmt.lower())
        if kind is None:
            raise UnsupportedFormatError(f"unknown format {fmt!r}; supported: {SUPPORTED}")
        return kind
    kind = format_of(name)
    if kind is None and name.startswith("<"):
        kind = sniff_format(payload)
    if kind is None:
        raise UnsupportedFormatError(f"cannot tell the format of {name!r}; supported: {SUPPORTED}")
    return kind


def write_problem(problem: Problem, path: str | os.PathLike[str]) -> None:
    """Write ``problem`` as free MPS (.mps, .mps.gz, .mps.bz2) or JSON (.json).

    Raises:
        UnsupportedFormatError: another extension.
        ValueError: a name cannot be written in free MPS.
    """
    kind = format_of(os.fspath(path))
    if kind == "mps":
        from mipguide.problem.mps_writer import write_mps

        write_mps(problem, path)
    elif kind == "json" and not os.fspath(path).lower().endswith(COMPRESSED_SUFFIXES):
        from mipguide.problem.jsonmodel import problem_to_json

        Path(path).write_text(json.dumps(problem_to_json(problem)), encoding="utf-8")
    else:
        raise UnsupportedFormatError(
            f"cannot write {os.fspath(path)!r}; supported: .mps, .mps.gz, .mps.bz2, .json"
        )
