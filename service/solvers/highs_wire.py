"""The pipe protocol between the HiGHS adapter and its child process: frames <-> messages.

Imported by both sides, so it imports nothing but the standard library and numpy (never
OR-Tools, never highspy).

Parent -> child (the child's stdin):
    one request frame (8-byte little-endian length, then an ``np.savez`` archive holding the
    model arrays and ``request``: a JSON document as uint8), then zero or more ``stop`` lines.

Child -> parent (a private copy of the child's stdout; the real fd 1 is sent to /dev/null so
that HiGHS's own printing cannot corrupt the stream):
    one JSON object per line; ``type`` is one of the ``Msg`` values. Vectors travel as base64 of
    their float64 bytes.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from collections.abc import Mapping
from enum import StrEnum
from typing import IO, Any

import numpy as np

STOP = b"stop\n"
_LENGTH = struct.Struct("<Q")
REQUEST_KEY = "request"


class Msg(StrEnum):
    """Message types the child sends."""

    VERSION = "version"  # version: str
    STARTED = "started"  # build_seconds: the model is loaded, the solve begins
    INCUMBENT = "incumbent"  # objective, bound (or None), x (base64)
    LOG = "log"  # line
    OPTION_ERROR = "option_error"  # name, detail: HiGHS rejected an option
    ERROR = "error"  # detail: anything else went wrong
    RESULT = "result"  # model_status, x, objective, bound, nodes, build/solve seconds


def write_request(
    stream: IO[bytes], arrays: Mapping[str, np.ndarray], request: Mapping[str, Any]
) -> None:
    """Write the one request frame: the model arrays and the JSON request."""
    buf = io.BytesIO()
    named: dict[str, Any] = {
        **arrays,
        REQUEST_KEY: np.frombuffer(json.dumps(request).encode(), dtype=np.uint8),
    }
    np.savez(buf, **named)
    payload = buf.getbuffer()
    stream.write(_LENGTH.pack(payload.nbytes))
    stream.write(payload)
    stream.flush()


def read_request(stream: IO[bytes]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read the request frame; return the arrays and the JSON request.

    Raises:
        EOFError: the stream ended before a whole frame arrived.
    """
    (size,) = _LENGTH.unpack(_read_exact(stream, _LENGTH.size))
    with np.load(io.BytesIO(_read_exact(stream, size))) as archive:
        arrays = {k: archive[k] for k in archive.files}
    request = json.loads(arrays.pop(REQUEST_KEY).tobytes().decode())
    return arrays, request


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError(f"expected {size} bytes, got {0 if data is None else len(data)}")
    return data


def encode_message(kind: Msg, **fields: Any) -> bytes:
    """One message as a JSON line."""
    return (json.dumps({"type": kind.value, **fields}) + "\n").encode()


def decode_message(line: bytes) -> dict[str, Any]:
    """A message from its JSON line (``type`` becomes a ``Msg``)."""
    msg: dict[str, Any] = json.loads(line)
    msg["type"] = Msg(msg["type"])
    return msg


def encode_vector(x: np.ndarray) -> str:
    """float64 vector -> base64 text."""
    return base64.b64encode(np.ascontiguousarray(x, dtype="<f8").tobytes()).decode()


def decode_vector(text: str) -> np.ndarray:
    """base64 text -> float64 vector (a writable copy)."""
    return np.frombuffer(base64.b64decode(text), dtype="<f8").astype(np.float64)
