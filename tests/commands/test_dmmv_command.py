"""``mipguide dmmv FILE.npz``: reads dense and CSR npz, prints a summary, writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from typer.testing import CliRunner

from mipguide.cli import app


def _write(path: Path, sparse: bool) -> None:
    rng = np.random.default_rng(0)
    A = rng.integers(-2, 3, size=(8, 6)).astype(float)
    x = rng.integers(0, 3, 6).astype(float)
    arrays = {"l": A @ x - 0.5, "u": A @ x + 0.5, "levels": np.arange(3.0)}
    if sparse:
        csr = sp.csr_matrix(A)
        arrays |= {"data": csr.data, "indices": csr.indices, "indptr": csr.indptr}
        arrays["shape"] = np.array(csr.shape)
    else:
        arrays["A"] = A
    np.savez(path, **arrays)


def test_dmmv_command_writes_json(tmp_path: Path) -> None:
    runner = CliRunner()
    for sparse in (False, True):
        src, out = tmp_path / f"inst{sparse}.npz", tmp_path / f"res{sparse}.json"
        _write(src, sparse)
        res = runner.invoke(app, ["dmmv", str(src), "--time-limit", "1", "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert "max violation" in res.output
        doc = json.loads(out.read_text())
        assert doc["rows"] == 8 and len(doc["x"]) == 6 and doc["max_violation"] >= 0


def test_dmmv_command_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, l=np.zeros(2))
    res = CliRunner().invoke(app, ["dmmv", str(bad)])
    assert res.exit_code == 2
