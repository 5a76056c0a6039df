"""A tiny registered PaS model (untrained, fixed seed) for the guided-solve tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.pas import PaSConfig, PaSNet
from models.registry import LoadedModel, load_model, save_model

TINY_REF = "pas-tiny@1"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = PaSNet(PaSConfig(hidden=8, rounds=1))
    save_model(net, root / TINY_REF, {"note": "untrained, for tests"})
    return root


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> LoadedModel:
    return load_model(TINY_REF, tiny_model_dir, "cpu")
