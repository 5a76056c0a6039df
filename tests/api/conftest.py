"""Fixtures of the API tests: the app in process (ASGI transport), a shared server process, a
fresh one-worker server, catalogued optima."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.serverutil import InProcess, Server, in_process, launch

# The shipped models (mode=pas/auto), whatever directory the tests run from.
MODEL_DIR = Path(__file__).parents[2] / "models" / "weights"


@pytest.fixture(scope="session")
def asgi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """The app in this process with 2 workers and two API keys (no server process)."""
    with in_process(tmp_path_factory.mktemp("app"), workers=2, model_dir=MODEL_DIR) as served:
        yield served


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Shared server with 2 workers and two API keys."""
    srv = launch(tmp_path_factory.mktemp("server"), workers=2, model_dir=str(MODEL_DIR))
    yield srv
    srv.stop()


@pytest.fixture
def one_worker_server(tmp_path: Path) -> Iterator[Server]:
    """A fresh server with a single worker (cancel, crash and restart tests)."""
    srv = launch(tmp_path, workers=1)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def optimum(miplib_dir: Path) -> Callable[[str], float]:
    """Catalogued optimal objective by instance name."""
    with open(miplib_dir / "catalog.csv", newline="") as fh:
        table = {r["name"]: r for r in csv.DictReader(fh)}

    def get(name: str) -> float:
        return float(table[name]["optimal_objective"])

    return get
