"""Bounded decompression: bombs are refused early with what was exceeded; real files, several
members, truncation and trailing garbage are handled as gzip/bzip2/xz do."""

from __future__ import annotations

import bz2
import gzip
import lzma
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mipguide.errors import ParseError, PayloadTooLargeError
from mipguide.problem.compression import DecompressionLimits, decompress
from mipguide.problem.io import read_problem

MIB = 1 << 20
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda d: zlib.compress(d, 9, wbits=16 + zlib.MAX_WBITS),
    "bzip2": bz2.compress,
    "xz": lambda d: lzma.compress(d, preset=0),
}


def bomb(kind: str, member_mib: int = 64, members: int = 16) -> bytes:
    """``members`` concatenated streams of ``member_mib`` MiB of zeros each (1 GiB by default):
    one compression of 64 MiB, repeated, which every gzip/bzip2/xz reader accepts."""
    return COMPRESSORS[kind](bytes(member_mib * MIB)) * members


@pytest.fixture(scope="module")
def p0033(miplib_dir: Path) -> bytes:
    return gzip.decompress((miplib_dir / "p0033.mps.gz").read_bytes())


@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_round_trip_and_several_members(kind: str, p0033: bytes) -> None:
    packed = COMPRESSORS[kind](p0033)
    assert decompress(packed, "p.mps") == p0033
    assert decompress(packed + packed, "p.mps") == p0033 + p0033


@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_truncated_and_trailing_garbage_are_parse_errors(kind: str, p0033: bytes) -> None:
    packed = COMPRESSORS[kind](p0033)
    with pytest.raises(ParseError, match=f"corrupt or truncated {kind}"):
        decompress(packed[: len(packed) // 2], "p.mps")
    with pytest.raises(ParseError, match="trailing"):
        decompress(packed + b"garbage", "p.mps")
    assert decompress(packed + bytes(8), "p.mps") == p0033  # zero padding, as tar leaves


@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_a_gigabyte_bomb_is_refused_early_in_bounded_memory(kind: str) -> None:
    data = bomb(kind)
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(PayloadTooLargeError, match="ratio limit") as err:
        decompress(data, "bomb.mps")
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "max_decompression_ratio" in str(err.value)
    assert peak < 64 * MIB, f"peak {peak / MIB:.0f} MiB"
    assert seconds < 2.0


def test_the_size_limit_applies_to_well_compressing_text(p0033: bytes) -> None:
    data = gzip.compress(p0033 * 200)  # about 1 MiB of real MPS text, ratio about 10
    limits = DecompressionLimits(max_bytes=MIB // 2, max_ratio=100.0, ratio_floor=MIB)
    with pytest.raises(PayloadTooLargeError, match="max_decompressed_bytes"):
        decompress(data, "big.mps", limits)
    assert len(decompress(data, "big.mps")) == len(p0033) * 200


def test_compressed_twice_is_refused(p0033: bytes) -> None:
    with pytest.raises(ParseError, match="compressed twice"):
        read_problem(gzip.compress(gzip.compress(p0033)), filename="p.mps.gz")


def test_read_problem_applies_its_limits(p0033: bytes) -> None:
    limits = DecompressionLimits(max_bytes=1000)
    with pytest.raises(PayloadTooLargeError):
        read_problem(gzip.compress(p0033), filename="p.mps.gz", limits=limits)
    assert read_problem(gzip.compress(p0033), filename="p.mps.gz").num_vars == 33
