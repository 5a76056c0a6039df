"""Hypothesis over every reader (MPS, LP, JSON, and the DMMV npz): random and mutated inputs,
plain or compressed, give an InputError or a sound model, never another exception, and parse
in memory bounded by the input's size.

Seeds are real files (parser edge cases, small MIPLIB instances, their JSON and LP forms);
mutations work on lines and tokens (delete, duplicate, swap, replace by hostile values) and on
bytes. FUZZ_EXAMPLES bounds the examples per test so the suite's budget holds."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipguide.errors import FieldError, InputError
from mipguide.heuristics.dmmv.io import instance_from_npz, npz_unpacked_bytes
from mipguide.problem.io import read_problem
from mipguide.problem.jsonmodel import problem_to_json
from mipguide.problem.model import Problem
from mipguide.problem.names import MAX_NAME

FUZZ_EXAMPLES = 150
DATA = Path(__file__).parents[1] / "data"
HOSTILE = [
    b"inf",
    b"-inf",
    b"1e400",
    b"-1e30",
    b"nan",
    b"NaN",
    b"1e20",
    b"0x10",
    b"99999999999999999999999999",
    b"-0",
    b"",
    b"\xff\xfe",
    "é".encode(),
    b"x" * (MAX_NAME + 1),
    b"MARKER",
    b"'MARKER'",
    b"ENDATA",
    b"ROWS",
    b"*",
    b"\\",
    b":",
    b"<=",
    b">=",
    b"=",
    b"[",
    b"{",
    b"null",
    b"true",
    b"[1e308, -1e308]",
]
MIB = 1 << 20


def _small_miplib() -> list[bytes]:
    with open(DATA / "miplib" / "catalog.csv") as fh:
        names = [r["file"] for r in csv.DictReader(fh)]
    out = []
    for name in names:
        path = DATA / "miplib" / name
        if path.stat().st_size < 6000:
            raw = path.read_bytes()
            out.append(gzip.decompress(raw) if name.endswith(".gz") else raw)
    return out


MPS_SEEDS = [p.read_bytes() for p in sorted((DATA / "parser-cases").glob("*.mps"))]
MPS_SEEDS += _small_miplib()
LP_SEEDS = [p.read_bytes() for p in sorted((DATA / "parser-cases").glob("*.lp"))]


def _json_seeds() -> list[bytes]:
    out = []
    for seed in MPS_SEEDS:
        try:
            problem = read_problem(seed, filename="seed.mps")
        except InputError:  # the parser cases include refused features
            continue
        out.append(json.dumps(problem_to_json(problem)).encode())
    return out[:8]


JSON_SEEDS = _json_seeds()
COMPRESS = {
    "": lambda d: d,
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
}


def check_sound(problem: Problem) -> None:
    """What every model a reader returns satisfies."""
    m, n = problem.A.shape
    assert problem.A.format == "csr" and np.isfinite(problem.A.data).all()
    assert np.isfinite(problem.c).all() and np.isfinite(problem.offset)
    for v in (problem.row_lower, problem.row_upper, problem.col_lower, problem.col_upper):
        assert not np.isnan(v).any()
    assert problem.integrality.dtype == bool and problem.integrality.shape == (n,)
    for names, size in ((problem.var_names, n), (problem.row_names, m)):
        assert len(names) == size == len(set(names))
        assert all(isinstance(x, str) and len(x) <= MAX_NAME for x in names)
    assert len(problem.name) <= MAX_NAME


def read_bounded(data: bytes, filename: str) -> None:
    """Read ``data``: an InputError or a sound model, in memory bounded by its size."""
    tracemalloc.start()
    try:
        problem = read_problem(data, filename=filename)
    except InputError:
        problem = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    if problem is not None:
        check_sound(problem)
    assert peak < 32 * MIB + 400 * len(data), f"peak {peak / MIB:.1f} MiB for {len(data)} bytes"


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few line, token or byte mutations."""
    lines = draw(st.sampled_from(seeds)).split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "bytes", "insert"]))
        if op == "delete" and len(lines) > 1:
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        elif op == "token":
            tokens = lines[k].split()
            if tokens:
                tokens[draw(st.integers(0, len(tokens) - 1))] = draw(st.sampled_from(HOSTILE))
                lines[k] = b" " + b" ".join(tokens)
        elif op == "bytes":
            pos = draw(st.integers(0, len(lines[k])))
            lines[k] = lines[k][:pos] + draw(st.binary(max_size=4)) + lines[k][pos + 1 :]
        else:
            lines.insert(k, b" ".join(draw(st.lists(st.sampled_from(HOSTILE), max_size=5))))
    return b"\n".join(lines)


FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(data=mutated(MPS_SEEDS), ext=st.sampled_from(list(COMPRESS)))
def test_mutated_mps(data: bytes, ext: str) -> None:
    read_bounded(COMPRESS[ext](data), f"f.mps{ext}")


@FUZZ
@given(data=mutated(LP_SEEDS), ext=st.sampled_from(list(COMPRESS)))
def test_mutated_lp(data: bytes, ext: str) -> None:
    read_bounded(COMPRESS[ext](data), f"f.lp{ext}")


def _json_values() -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(["inf", "-inf", "x", "B", "I", "C", "1e400", ""]),
    )
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner)
    )


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    """A real JSON model with some fields replaced by hostile values."""
    doc = json.loads(draw(st.sampled_from(JSON_SEEDS)))
    paths = [
        ("csr_constraint_matrix", "offsets"),
        ("csr_constraint_matrix", "indices"),
        ("csr_constraint_matrix", "values"),
        ("constraint_bounds", "lower_bounds"),
        ("constraint_bounds", "upper_bounds"),
        ("objective_data", "coefficients"),
        ("objective_data", "offset"),
        ("objective_data", "scalability_factor"),
        ("variable_bounds", "lower_bounds"),
        ("variable_bounds", "upper_bounds"),
        ("variable_types",),
        ("variable_names",),
        ("row_names",),
        ("maximize",),
        ("name",),
    ]
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3)):
        target = doc
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            old = target.get(path[-1])
            if isinstance(old, list) and old and draw(st.booleans()):
                old[draw(st.integers(0, len(old) - 1))] = draw(_json_values())
            else:
                target[path[-1]] = draw(_json_values())
    return json.dumps(doc, allow_nan=True).encode()


@FUZZ
@given(data=mutated_json())
def test_mutated_json(data: bytes) -> None:
    read_bounded(data, "f.json")


@FUZZ
@given(data=st.binary(max_size=2000), name=st.sampled_from(["f.mps", "f.lp", "f.json", "f"]))
def test_random_bytes(data: bytes, name: str) -> None:
    read_bounded(data, name)


@FUZZ
@given(data=st.binary(min_size=1, max_size=200), ext=st.sampled_from([".gz", ".bz2", ".xz"]))
def test_corrupt_compressed_streams(data: bytes, ext: str) -> None:
    packed = COMPRESS[ext](MPS_SEEDS[0])
    cut = len(packed) // 2
    read_bounded(packed[:cut] + data + packed[cut + len(data) :], f"f.mps{ext}")


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


NPZ_SEED = _npz(
    A=np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]]),
    lower=np.array([1.0, -np.inf]),
    upper=np.array([np.inf, 3.0]),
    levels=np.array([0.0, 1.0, 2.0, 3.0]),
    x0=np.array([0.4, 1.2, 2.6]),
)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(NPZ_SEED) - 1), st.binary(max_size=4))))
def test_mutated_dmmv_npz(edits: list[tuple[int, bytes]]) -> None:
    """The API's path for an npz upload: size check from the headers, then the reader."""
    data = NPZ_SEED
    for pos, repl in edits:
        data = data[:pos] + repl + data[pos + len(repl) :]
    tracemalloc.start()
    try:
        if npz_unpacked_bytes(data) <= 64 * MIB:
            instance_from_npz(data)
    except (FieldError, InputError):
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 96 * MIB


@pytest.mark.parametrize("seed", range(len(MPS_SEEDS)))
def test_seeds_are_sound(seed: int) -> None:
    read_bounded(MPS_SEEDS[seed], "seed.mps")
