"""DMMV input: a JSON document or npz bytes/file -> a validated ``DmmvInstance``; and back to npz.

Every check names the field it is about (``FieldError``): ``A``, ``A.csr.indptr``, ``lower``,
``upper``, ``levels`` (``levels[j]`` for one variable's list), ``x0``, ``fixed``.

JSON: ``A`` is a dense list of rows or ``{"csr": {"indptr", "indices", "values", "shape"}}``;
``lower``/``upper`` hold numbers, ``null`` (no bound) or the strings ``"-inf"``/``"inf"``;
``levels`` is one ascending list shared by every variable or one list per variable.
npz: the format of ``mipguide dmmv FILE.npz`` (see ``mipguide.commands.dmmv``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from mipguide.errors import FieldError
from mipguide.heuristics.dmmv.types import DmmvInstance, Matrix

INSTANCE_FIELDS = ("A", "lower", "upper", "levels", "x0", "fixed")


def _floats(value: Any, field: str, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FieldError(field, f"expected numbers ({exc})") from exc
    if arr.ndim != ndim:
        shape = "a list" if ndim == 1 else "a list of equally long lists"
        raise FieldError(field, f"expected {shape} of numbers")
    bad = np.flatnonzero(~np.isfinite(arr.ravel()))
    if bad.size:
        where = np.unravel_index(int(bad[0]), arr.shape)
        raise FieldError(field, f"entry {list(map(int, where))} is not a finite number")
    return arr


def _csr(doc: Any) -> sp.csr_matrix:
    if not isinstance(doc, Mapping):
        raise FieldError("A.csr", "expected an object with indptr, indices, values, shape")
    for key in ("indptr", "indices", "shape"):
        if key not in doc:
            raise FieldError(f"A.csr.{key}", "missing")
    values = doc.get("values", doc.get("data"))
    if values is None:
        raise FieldError("A.csr.values", "missing")
    shape = _floats(doc["shape"], "A.csr.shape", 1)
    if shape.size != 2 or (shape < 0).any() or (shape != np.round(shape)).any():
        raise FieldError("A.csr.shape", "expected [rows, columns], two non-negative integers")
    return _csr_parts(doc["indptr"], doc["indices"], values, shape, "A.csr.")


def _csr_parts(indptr: Any, indices: Any, values: Any, shape: Any, prefix: str) -> sp.csr_matrix:
    m, n = (int(s) for s in np.asarray(shape).ravel()[:2])
    ptr = _floats(indptr, f"{prefix}indptr", 1)
    idx = _floats(indices, f"{prefix}indices", 1)
    val = _floats(values, f"{prefix}values", 1)
    if ptr.size != m + 1 or ptr[0] != 0 or (np.diff(ptr) < 0).any() or ptr[-1] != val.size:
        raise FieldError(
            f"{prefix}indptr", f"expected {m + 1} non-decreasing offsets from 0 to {val.size}"
        )
    if idx.size != val.size:
        raise FieldError(f"{prefix}indices", f"{idx.size} indices for {val.size} values")
    if idx.size and (idx.min() < 0 or idx.max() >= n or (idx != np.round(idx)).any()):
        raise FieldError(f"{prefix}indices", f"column indices must be integers in [0, {n})")
    return sp.csr_matrix((val, idx.astype(np.int64), ptr.astype(np.int64)), shape=(m, n))


def _matrix(value: Any) -> Matrix:
    if isinstance(value, Mapping):
        if set(value) != {"csr"}:
            raise FieldError("A", "expected a list of rows or {'csr': {...}}")
        return _csr(value["csr"])
    if isinstance(value, sp.spmatrix | sp.sparray):
        return sp.csr_matrix(value)
    A = _floats(value, "A", 2)
    if A.shape[1] == 0:
        raise FieldError("A", "needs at least one column")
    return A


def _bound(value: Any, field: str, m: int, missing: float) -> np.ndarray:
    if value is None:
        raise FieldError(field, "missing")
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.shape == (m,):
        out = value.astype(np.float64)
        nan = np.flatnonzero(np.isnan(out))
        if nan.size:
            raise FieldError(field, f"entry {int(nan[0])} is NaN")
        return out
    items = value.tolist() if isinstance(value, np.ndarray) else value
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise FieldError(field, f"expected a list of {m} bounds")
    if len(items) != m:
        raise FieldError(field, f"expected {m} entries (one per row of A), got {len(items)}")
    out = np.empty(m)
    for i, item in enumerate(items):
        try:
            out[i] = missing if item is None else float(item)
        except (TypeError, ValueError) as exc:
            raise FieldError(field, f"entry {i}: {item!r} is not a number, null or 'inf'") from exc
        if np.isnan(out[i]):
            raise FieldError(field, f"entry {i} is NaN")
    return out


def _check_level_rows(lv: np.ndarray, field: str) -> None:
    """lv: (k, L) rows of levels, NaN-padded at the end."""
    finite = np.isfinite(lv)
    with np.errstate(invalid="ignore"):
        step = np.diff(lv, axis=1)
    checks = (
        (np.isinf(lv).any(1), "levels must be finite"),
        (~finite[:, 0], "needs at least one level"),
        ((finite[:, 1:] & ~finite[:, :-1]).any(1), "NaN padding must come after the levels"),
        (((step <= 0) & finite[:, 1:]).any(1), "levels must be sorted strictly ascending"),
    )
    for bad, reason in checks:
        rows = np.flatnonzero(bad)
        if rows.size:
            raise FieldError(field if lv.shape[0] == 1 else f"{field}[{int(rows[0])}]", reason)


def _levels(value: Any, n: int) -> np.ndarray:
    if value is None:
        raise FieldError("levels", "missing")
    if isinstance(value, np.ndarray):
        lv = np.asarray(value, dtype=np.float64)
    elif isinstance(value, Sequence) and value and all(isinstance(v, Sequence) for v in value):
        rows = [
            _floats(v, f"levels[{j}]", 1) if len(v) else np.empty(0) for j, v in enumerate(value)
        ]
        lv = np.full((len(rows), max(len(r) for r in rows)), np.nan)
        for j, r in enumerate(rows):
            lv[j, : len(r)] = r
    else:
        lv = _floats(value, "levels", 1) if isinstance(value, Sequence) else np.empty(0)
    if lv.ndim == 1:
        if lv.size == 0:
            raise FieldError("levels", "expected a non-empty list of levels")
        _check_level_rows(lv[None, :], "levels")
        return lv
    if lv.ndim != 2 or lv.shape[0] != n or lv.shape[1] == 0:
        raise FieldError("levels", f"expected one list shared by all or {n} lists (one per column)")
    _check_level_rows(lv, "levels")
    return lv


def _vector(value: Any, field: str, n: int) -> np.ndarray:
    arr = _floats(value, field, 1)
    if arr.size != n:
        raise FieldError(field, f"expected {n} entries (one per column of A), got {arr.size}")
    return arr


def instance_from_arrays(
    A: Any,
    lower: Any,
    upper: Any,
    levels: Any,
    x0: Any = None,
    fixed: Any = None,
) -> DmmvInstance:
    """A validated instance from array-likes (lists or ndarrays).

    Raises:
        FieldError: naming the first field that is missing, malformed or inconsistent.
    """
    if A is None:
        raise FieldError("A", "missing")
    mat = _matrix(A)
    m, n = mat.shape
    lo = _bound(lower, "lower", m, -np.inf)
    hi = _bound(upper, "upper", m, np.inf)
    crossed = np.flatnonzero(lo > hi)
    if crossed.size:
        raise FieldError("lower", f"row {int(crossed[0])}: lower > upper")
    lv = _levels(levels, n)
    x = None if x0 is None else _vector(x0, "x0", n)
    fix = None
    if fixed is not None:
        fix = _vector(fixed, "fixed", n)
        if not np.isin(fix, (0.0, 1.0)).all():
            raise FieldError("fixed", "expected booleans")
        fix = fix.astype(bool)
        if fix.any() and x is None:
            raise FieldError("fixed", "fixed variables need x0 (they keep round(x0))")
    inst = DmmvInstance(mat, lo, hi, lv, x, fix)
    try:
        inst.as_batch()
    except ValueError as exc:  # a backstop: the checks above should have named the field
        raise FieldError("instance", str(exc)) from exc
    return inst


def instance_from_json(doc: Mapping[str, Any]) -> DmmvInstance:
    """An instance from a decoded JSON object (other keys are the caller's to check)."""
    return instance_from_arrays(*(doc.get(f) for f in INSTANCE_FIELDS))


def _pick(z: Any, *names: str) -> np.ndarray | None:
    for name in names:
        if name in z.files:
            return np.asarray(z[name])
    return None


# What a broken or hostile zip archive raises from zipfile or numpy's npy reader.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    ValueError,
    EOFError,
    KeyError,
    NotImplementedError,  # an unsupported zip version or compression method
    RuntimeError,  # an encrypted member
)


def npz_unpacked_bytes(data: bytes) -> int:
    """The bytes the arrays of npz ``data`` take once loaded, checked before loading them: per
    member the larger of its declared unpacked size and its array header's shape x itemsize
    (numpy allocates what the header declares before reading any data).

    Raises:
        FieldError: not a readable npz archive (field ``file``).
    """
    try:
        total = 0
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                with zf.open(info) as fh:
                    total += max(info.file_size, _header_bytes(fh))
        return total
    except _ZIP_ERRORS as exc:
        raise FieldError("file", f"not an npz file ({type(exc).__name__}: {exc})") from exc


def _header_bytes(fh: Any) -> int:
    """The array size an .npy member's header declares (0 for anything else)."""
    try:
        version = np.lib.format.read_magic(fh)
    except ValueError:
        return 0
    read = np.lib.format.read_array_header_1_0
    if version != (1, 0):
        read = np.lib.format.read_array_header_2_0
    shape, _, dtype = read(fh)  # reads the header only, no data
    return int(np.prod(shape, dtype=object)) * int(dtype.itemsize)


def instance_from_npz(source: Path | bytes) -> DmmvInstance:
    """An instance from an npz file or its bytes: ``A`` dense or CSR parts (``data``,
    ``indices``, ``indptr``, ``shape``, optionally prefixed ``A_``), ``l``/``lower``,
    ``u``/``upper``, ``levels`` ((L,) or (n, L), NaN-padded), optionally ``x0`` and ``fixed``.

    Raises:
        FieldError: unreadable file (field ``file``), or a missing or bad array.
    """
    try:
        z = np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False)
    except _ZIP_ERRORS as exc:
        raise FieldError("file", f"not a readable npz file ({exc})") from exc
    if not hasattr(z, "files"):
        raise FieldError("file", "expected an npz archive, got a single array")
    try:
        with z:
            A: Any = _pick(z, "A")
            if A is None:
                names = ("data", "indices", "indptr", "shape")
                parts = [_pick(z, k, f"A_{k}") for k in names]
                for name, part in zip(names, parts, strict=True):
                    if part is None:
                        raise FieldError("A", f"needs A (dense) or CSR parts ({name} missing)")
                data, indices, indptr, shape = parts
                A = _csr_parts(indptr, indices, data, shape, "A_")
            arrays = [_pick(z, "l", "lower"), _pick(z, "u", "upper"), _pick(z, "levels")]
            arrays += [_pick(z, "x0"), _pick(z, "fixed")]
    except _ZIP_ERRORS as exc:
        raise FieldError("file", f"cannot read the arrays ({type(exc).__name__}: {exc})") from exc
    return instance_from_arrays(A, *arrays)


def instance_to_json(inst: DmmvInstance) -> dict[str, Any]:
    """The JSON fields of an instance (infinite bounds become null, NaN padding is dropped)."""
    if sp.issparse(inst.A):
        csr = sp.csr_matrix(inst.A)
        A: Any = {
            "csr": {
                "indptr": csr.indptr.tolist(),
                "indices": csr.indices.tolist(),
                "values": csr.data.tolist(),
                "shape": list(csr.shape),
            }
        }
    else:
        A = np.asarray(inst.A, dtype=np.float64).tolist()
    lv = np.asarray(inst.levels, dtype=np.float64)
    levels = lv.tolist() if lv.ndim == 1 else [r[np.isfinite(r)].tolist() for r in lv]
    doc: dict[str, Any] = {
        "A": A,
        "lower": [float(v) if np.isfinite(v) else None for v in inst.lower],
        "upper": [float(v) if np.isfinite(v) else None for v in inst.upper],
        "levels": levels,
    }
    if inst.x0 is not None:
        doc["x0"] = np.asarray(inst.x0, dtype=np.float64).tolist()
    if inst.fixed is not None:
        doc["fixed"] = np.asarray(inst.fixed, dtype=bool).tolist()
    return doc


def save_instance(inst: DmmvInstance, path: Path) -> None:
    """Write an instance in the npz format that ``instance_from_npz`` reads (no pickles)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "lower": np.asarray(inst.lower, dtype=np.float64),
        "upper": np.asarray(inst.upper, dtype=np.float64),
        "levels": np.asarray(inst.levels, dtype=np.float64),
    }
    if sp.issparse(inst.A):
        csr = sp.csr_matrix(inst.A)
        arrays |= {"data": csr.data, "indices": csr.indices, "indptr": csr.indptr}
        arrays["shape"] = np.asarray(csr.shape, dtype=np.int64)
    else:
        arrays["A"] = np.asarray(inst.A, dtype=np.float64)
    if inst.x0 is not None:
        arrays["x0"] = np.asarray(inst.x0, dtype=np.float64)
    if inst.fixed is not None:
        arrays["fixed"] = np.asarray(inst.fixed, dtype=bool)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
