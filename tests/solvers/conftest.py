"""Fixtures of the solver suites: every real backend, and every backend with the fake."""

from __future__ import annotations

import pytest

from mipguide.solvers.base import SolverBackend, get_backend
from tests.solvers.cases import ALL_BACKENDS, REAL_BACKENDS


@pytest.fixture(params=REAL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> SolverBackend:
    return get_backend(request.param)


@pytest.fixture(params=ALL_BACKENDS)
def any_backend(request: pytest.FixtureRequest) -> SolverBackend:
    return get_backend(request.param)
