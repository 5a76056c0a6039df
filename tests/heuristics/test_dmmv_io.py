"""DMMV input: JSON fields and npz files -> validated instances; errors name the field."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from mipguide.errors import FieldError
from mipguide.heuristics.dmmv.io import (
    instance_from_json,
    instance_from_npz,
    instance_to_json,
    npz_unpacked_bytes,
    save_instance,
)
from mipguide.heuristics.dmmv.types import DmmvInstance


def body(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "A": [[1, 2, 0], [0, 1, -1]],
        "lower": [0, None],
        "upper": ["inf", 3],
        "levels": [0, 1, 2],
        "x0": [0.2, 1.7, 1.0],
        "fixed": [False, True, False],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not ...}


def _same(a: DmmvInstance, b: DmmvInstance) -> None:
    dense = [x.toarray() if sp.issparse(x) else x for x in (a.A, b.A)]
    np.testing.assert_array_equal(dense[0], dense[1])
    for f in ("lower", "upper", "levels", "x0", "fixed"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_json_fields_become_an_instance() -> None:
    inst = instance_from_json(body())
    assert inst.A.shape == (2, 3)
    np.testing.assert_array_equal(inst.lower, [0, -np.inf])
    np.testing.assert_array_equal(inst.upper, [np.inf, 3])
    assert inst.fixed is not None and inst.fixed.tolist() == [False, True, False]


def test_csr_and_per_variable_levels() -> None:
    csr = {"indptr": [0, 2, 4], "indices": [0, 1, 1, 2], "values": [1, 2, 1, -1], "shape": [2, 3]}
    inst = instance_from_json(body(A={"csr": csr}, levels=[[0, 1], [0, 1, 2], [-1]]))
    assert sp.issparse(inst.A)
    np.testing.assert_array_equal(inst.A.toarray(), [[1, 2, 0], [0, 1, -1]])
    assert np.isnan(inst.levels[2, 1:]).all() and inst.levels[1].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"A": ...}, "A"),
        ({"A": [[1, 2], [3]]}, "A"),
        ({"A": [[1, float("nan"), 0], [0, 1, 1]]}, "A"),
        (
            {"A": {"csr": {"indptr": [0, 1], "indices": [0], "values": [1], "shape": [2, 3]}}},
            "A.csr.indptr",
        ),
        (
            {"A": {"csr": {"indptr": [0, 1, 1], "indices": [7], "values": [1], "shape": [2, 3]}}},
            "A.csr.indices",
        ),
        ({"lower": [0]}, "lower"),
        ({"upper": [1, "lots"]}, "upper"),
        ({"lower": [5, None], "upper": [4, 3]}, "lower"),
        ({"levels": [2, 1, 0]}, "levels"),
        ({"levels": [[0, 1], [1, 1], [0]]}, "levels[1]"),
        ({"levels": [[0, 1], [0, 1]]}, "levels"),
        ({"levels": []}, "levels"),
        ({"x0": [1, 2]}, "x0"),
        ({"fixed": [0, 2, 1]}, "fixed"),
        ({"x0": ...}, "fixed"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as info:
        instance_from_json(body(**changes))
    assert info.value.field == field


@pytest.mark.parametrize("sparse", [False, True])
def test_npz_round_trip_and_json_round_trip(tmp_path: Path, sparse: bool) -> None:
    inst = instance_from_json(body())
    if sparse:
        inst = DmmvInstance(sp.csr_matrix(inst.A), inst.lower, inst.upper, inst.levels, inst.x0)
    path = tmp_path / "i.npz"
    save_instance(inst, path)
    _same(instance_from_npz(path), inst)
    data = path.read_bytes()
    assert npz_unpacked_bytes(data) > 0
    _same(instance_from_npz(data), inst)
    _same(instance_from_json(instance_to_json(inst)), inst)


def test_npz_with_the_cli_names_and_bad_files() -> None:
    buf = io.BytesIO()
    np.savez(buf, A=np.eye(2), l=np.zeros(2), u=np.ones(2), levels=np.array([0.0, 1.0]))
    inst = instance_from_npz(buf.getvalue())
    assert inst.A.shape == (2, 2)
    with pytest.raises(FieldError) as info:
        instance_from_npz(b"not a zip")
    assert info.value.field == "file"
    buf = io.BytesIO()
    np.savez(buf, A=np.eye(2), l=np.zeros(2), u=np.ones(2))
    with pytest.raises(FieldError) as info:
        instance_from_npz(buf.getvalue())
    assert info.value.field == "levels"
