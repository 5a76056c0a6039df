"""Tiny pure-binary instances whose pools can be enumerated exactly."""

from __future__ import annotations

import pytest
import torch

from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.models.pools import InstanceSpec

TINY_SET_COVER = SetCoverParams(n_rows=14, n_cols=12, density=0.3)


def tiny_spec(seed: int) -> InstanceSpec:
    return InstanceSpec(Family.SET_COVER.value, TINY_SET_COVER, seed, f"tiny-setcover-{seed}")


@pytest.fixture
def tiny_problem():  # noqa: ANN201
    return generate_with(Family.SET_COVER, TINY_SET_COVER, 0, "tiny")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():  # noqa: ANN202
    """Small networks are latency-bound: one torch thread is faster on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
