"""Fixtures of the plug-in tests: a real server (uvicorn subprocess, one worker) for the remote
solves, started once per session by the API tests' ``launch``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.serverutil import Server, launch


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with one worker and the API tests' keys (``KEY_A``, ``KEY_B``)."""
    srv = launch(tmp_path_factory.mktemp("plugins-server"), workers=1)
    yield srv
    srv.stop()
