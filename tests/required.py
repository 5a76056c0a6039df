"""Tests that need something from outside Python (PostgreSQL, Chromium, nginx, Ray's CLI):
skipped with the reason on a machine without it, failed where CI says it must be there
(``MIPGUIDE_TEST_<THING>=required``, set by ``.ci/run``)."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str, env: str) -> None:
    """Skip with the reason, or fail when ``env`` is ``required``."""
    if os.environ.get(env, "").lower() == "required":
        pytest.fail(f"{reason} (and {env}=required)", pytrace=False)
    pytest.skip(f"{reason}; set {env}=required to make this an error")


def need(found: str | None, reason: str, env: str) -> str:
    """``found`` (a path), or skip / fail with the reason."""
    if found is None:
        unavailable(reason, env)
    assert found is not None
    return found
