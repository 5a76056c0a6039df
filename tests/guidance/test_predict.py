"""Predict stage: a registered model predicts the binaries of a graph, on CPU and (where present)
on CUDA with the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mipguide.features import build_graph
from mipguide.guidance.predict import predict
from mipguide.instances.registry import Family, Size, generate
from mipguide.models.pas import PaSNet
from mipguide.models.registry import load_model, save_model


@pytest.fixture
def registered(tmp_path):  # noqa: ANN001, ANN201
    torch.manual_seed(0)
    save_model(PaSNet(), tmp_path / "pas-test@1", {"note": "untrained"})
    return tmp_path


def test_predict_on_cpu(registered) -> None:  # noqa: ANN001
    p = generate(Family.FACILITY_LOCATION, Size.EASY, 0)
    pred = predict(build_graph(p), load_model("pas-test@1", registered, device="cpu"))
    assert pred.probs.shape == (p.num_binaries,) and pred.model == "pas-test@1"
    np.testing.assert_array_equal(pred.binary_index, np.flatnonzero(p.binary_mask))
    assert ((pred.probs > 0) & (pred.probs < 1)).all() and pred.device == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_predict_on_cuda_matches_cpu(registered) -> None:  # noqa: ANN001
    g = build_graph(generate(Family.SET_COVER, Size.EASY, 0))
    cpu = predict(g, load_model("pas-test@1", registered, device="cpu"))
    gpu = predict(g, load_model("pas-test@1", registered, device="cuda"))
    assert gpu.device.startswith("cuda")
    np.testing.assert_allclose(gpu.probs, cpu.probs, atol=1e-4)
