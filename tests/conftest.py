"""Shared fixtures: paths to the shipped test instances."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
MIPLIB = DATA / "miplib"
PARSER_CASES = DATA / "parser-cases"


@pytest.fixture(scope="session")
def miplib_dir() -> Path:
    return MIPLIB


@pytest.fixture(scope="session")
def parser_cases_dir() -> Path:
    return PARSER_CASES
