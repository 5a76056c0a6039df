"""Fixtures of the heuristic tests."""

from __future__ import annotations

import pytest

from mipguide.heuristics.dmmv import DmmvInstance
from tests.heuristics.dmmv_cases import random_instance


@pytest.fixture
def small_instance() -> DmmvInstance:
    return random_instance(0)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The search is latency-bound; on a shared 2-core machine one thread is much faster."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
