"""Shared fixtures: paths to the shipped test instances; a throwaway PostgreSQL cluster."""

from __future__ import annotations

import shutil
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
    from mipguide.bench.api import RayHead

    with RayHead(None, num_cpus=4, ray=_ray_cli()) as address:
        yield address
