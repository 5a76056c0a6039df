"""Device tensors of a DMMV batch: (DmmvBatch, device, dtype) -> DeviceMatrix + DeviceBatch.

The matrix is kept dense on the device in both layouts (rows of A for screening on the most
violated rows, rows of A^T for the exact re-scoring of a candidate's column). ``matrix_key``
hashes A so that the worker pool can keep it on the device between requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from mipguide.heuristics.dmmv.evaluate import level_counts
from mipguide.heuristics.dmmv.types import DmmvBatch, Matrix, dense


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """float64 on CPU, float32 on CUDA for "auto"; else the named dtype."""
    if dtype == "auto":
        return torch.float64 if device.type == "cpu" else torch.float32
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be auto, float32 or float64, got {dtype!r}")
    return torch.float64 if dtype == "float64" else torch.float32


def matrix_key(A: Matrix) -> str:
    """A content hash of A (shape, format and values)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(A.shape).encode())
    if sp.issparse(A):
        csr = sp.csr_matrix(A)
        for part in (csr.indptr, csr.indices, csr.data):
            h.update(np.ascontiguousarray(part).tobytes())
    else:
        h.update(np.ascontiguousarray(A, dtype=np.float64).tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class DeviceMatrix:
    """A (m, n) and A^T (n, m), dense, on one device."""

    A: torch.Tensor
    At: torch.Tensor

    @property
    def nbytes(self) -> int:
        return 2 * self.A.numel() * self.A.element_size()


def to_device_matrix(A: Matrix, device: torch.device, dtype: torch.dtype) -> DeviceMatrix:
    t = torch.as_tensor(dense(A), dtype=dtype, device=device)
    return DeviceMatrix(A=t.contiguous(), At=t.T.contiguous())


@dataclass(frozen=True, eq=False)
class DeviceBatch:
    """Per-instance tensors of a batch on the device.

    Attributes:
        lower, upper: (B, m) row bounds.
        levels: (B, n, L) levels, the NaN padding replaced by each variable's top level.
        nlev: (B, n) number of levels per variable.
        fixed: (B, n) bool.
    """

    lower: torch.Tensor
    upper: torch.Tensor
    levels: torch.Tensor
    nlev: torch.Tensor
    fixed: torch.Tensor


def to_device_batch(batch: DmmvBatch, device: torch.device, dtype: torch.dtype) -> DeviceBatch:
    b, n = batch.size, batch.shape[1]
    lv = batch.levels
    counts = level_counts(lv)
    top = np.take_along_axis(lv, (counts - 1)[..., None], axis=-1)
    padded = np.where(np.isfinite(lv), lv, top)
    levels = torch.as_tensor(padded, dtype=dtype, device=device)
    nlev = torch.as_tensor(counts, dtype=torch.long, device=device)
    if lv.ndim == 2:
        levels = levels.unsqueeze(0).expand(b, -1, -1)
        nlev = nlev.unsqueeze(0).expand(b, -1)
    fixed = np.zeros((b, n), bool) if batch.fixed is None else batch.fixed
    return DeviceBatch(
        lower=torch.as_tensor(batch.lower, dtype=dtype, device=device),
        upper=torch.as_tensor(batch.upper, dtype=dtype, device=device),
        levels=levels,
        nlev=nlev,
        fixed=torch.as_tensor(fixed, dtype=torch.bool, device=device),
    )
