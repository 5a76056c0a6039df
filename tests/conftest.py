"""Shared fixtures: paths to the shipped test instances; a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import PgCluster, start_cluster

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
