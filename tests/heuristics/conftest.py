"""Fixtures of the heuristic tests."""

from __future__ import annotations

import pytest

from service.heuristics.dmmv import DmmvInstance
from tests.heuristics.dmmv_cases import random_instance


@pytest.fixture
def small_instance() -> DmmvInstance:
    return random_instance(0)
