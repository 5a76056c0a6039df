"""Shared fixtures: paths to the shipped test instances; a throwaway PostgreSQL cluster."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import PgCluster, start_cluster
from tests.required import need

DATA = Path(__file__).parent / "data"
MIPLIB = DATA / "miplib"
PARSER_CASES = DATA / "parser-cases"


@pytest.fixture(scope="session")
def miplib_dir() -> Path:
    return MIPLIB


@pytest.fixture(scope="session")
def parser_cases_dir() -> Path:
    return PARSER_CASES


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster for the whole session (see tests/pg.py)."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database."""
    return pg_cluster.new_database()


def _ray_cli() -> str:
    exe = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    found = exe if Path(exe).exists() else None
    return need(found, "the ray package is not installed (extra ray)", "MIPGUIDE_TEST_RAY")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A one-node Ray cluster on 127.0.0.1 with 4 logical CPUs (``ray start --head``), for one
    test module (``ray stop`` stops every Ray process here); its address."""
    from mipguide.bench.api import free_port

    ray = _ray_cli()
    port = free_port()
    cmd = [ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    cmd += ["--num-cpus", "4", "--include-dashboard", "false", "--disable-usage-stats"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    yield f"127.0.0.1:{port}"
    subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)
