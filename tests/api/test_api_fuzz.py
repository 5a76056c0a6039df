"""Schemathesis against our own OpenAPI document on a real server: generated requests to every
operation, and stateful runs along the links (jobs -> result / log / incumbents -> cancel). No
5xx; every error in the documented shape; responses as documented.

A bounded number of examples (FUZZ_EXAMPLES per operation) keeps it in the suite's budget; the
server caps time limits and waits so that generated jobs end quickly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mipguide.api.app import create_app
from mipguide.problem.io import read_problem
from mipguide.problem.jsonmodel import problem_to_json
from mipguide.settings import Settings
from tests.api.serverutil import KEY_A, TINY_MPS, Server, launch

FUZZ_EXAMPLES = 25
STATEFUL_STEPS = 30
AUTH = {"X-API-Key": KEY_A}
# Schema-valid data we refuse on purpose (a file that is no model, an empty batch, a DMMV
# matrix of no rows): the documented error shape is checked below instead.
SKIPPED_CHECKS = [positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = launch(
        tmp_path_factory.mktemp("fuzz"),
        workers=1,
        max_time_limit="2",
        max_wait="1",
        max_batch_jobs="5",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_server: Server) -> Any:
    return load_schema(fuzz_server.url)


def load_schema(url: str) -> Any:
    """Our OpenAPI document, with half of the generated submissions replaced by a valid tiny
    model (generated models almost never parse, and a stateful run needs real jobs)."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", headers=AUTH)
    tiny = problem_to_json(read_problem(TINY_MPS, filename="tiny.mps"))

    def valid(case: Any) -> Any:
        case.media_type = "application/json"
        case.body = {"model": tiny, "options": {"time_limit": 1, "tags": "fuzz"}}
        return case

    @schema.hook("flatmap_case")
    def sometimes_valid(ctx: Any, case: Any) -> Any:
        if case.operation.label != "POST /v1/jobs":
            return st.just(case)
        return st.booleans().map(lambda ok: valid(case) if ok else case)

    return schema


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, from the app's OpenAPI document (nothing started)."""
    doc = create_app(Settings()).openapi()
    return [(m.upper(), p) for p, item in doc["paths"].items() for m in item]


def check_error_shape(response: Any) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["message"], body


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation(api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any) -> None:
        response = case.call(headers=AUTH, timeout=30)
        check_error_shape(response)
        case.validate_response(response, headers=AUTH, excluded_checks=SKIPPED_CHECKS)

    fuzz()


def test_stateful_links(api_schema: Any, tmp_path: Path) -> None:
    machine = api_schema.as_state_machine()
    assert machine.bundles, "the schema links no operations"

    class Run(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": AUTH, "timeout": 30}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            check_error_shape(response)
            case.validate_response(response, headers=AUTH, excluded_checks=SKIPPED_CHECKS)

    Run.run(
        settings=settings(
            max_examples=5,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
