"""Submitting real instances over HTTP and getting verified optima back: in process (ASGI
transport) and, for SSE, 200 concurrent connections and the client's settings, to a real server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from mipguide.client import MipguideClient
from tests.api.serverutil import KEY_A, TINY_MPS, InProcess, Server, submit_concurrently


@pytest.mark.parametrize("name", ["p0033", "stein27"])
def test_submit_with_wait_returns_catalogued_optimum(
    asgi: InProcess, miplib_dir: Path, optimum: Callable[[str], float], name: str
) -> None:
    path = miplib_dir / f"{name}.mps.gz"
    with asgi.http() as http:
        resp = http.post(
            "/v1/jobs",
            params={"wait": 60},
            files={"file": (path.name, path.read_bytes())},
            data={"solver": "scip", "time_limit": "60", "tags": "e2e,optimum"},
        )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "completed"
    assert body["status"] == "optimal"
    assert body["objective"] == pytest.approx(optimum(name), rel=1e-6)
    assert body["result"]["objective"] == pytest.approx(optimum(name), rel=1e-6)
    assert body["result"]["max_violation"] <= 1e-6
    assert body["problem"]["name"].lower() == name
    assert body["tags"] == ["e2e", "optimum"]


def test_submit_without_wait_is_202_then_result_in_every_format(
    asgi: InProcess, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    with asgi.client() as client:
        job = client.submit(miplib_dir / "p0033.mps.gz", time_limit=30, seed=3)
        assert job.state in ("queued", "running", "completed")
        done = client.wait(job.id, timeout=60)
        assert done.state == "completed"
        result = client.result(job.id)
        assert result.objective == pytest.approx(optimum("p0033"))
        assert result.seed == 3
        sol = client.result_text(job.id, "sol")
        assert "objective value: 3089" in sol
        assert all(line.split()[1] in ("0", "1") for line in sol.splitlines()[2:])  # binaries
        csv_text = client.result_text(job.id, "csv")
        assert csv_text.splitlines()[0] == "variable,value"
        assert len(csv_text.splitlines()) == 1 + 33
        with asgi.http() as http:
            resp = http.get(f"/v1/jobs/{job.id}/result", params={"format": "csv"})
        assert resp.headers["content-disposition"] == f'attachment; filename="{job.id}.csv"'
        assert resp.headers["content-type"].startswith("text/csv")
        assert all(type(v) is int for v in result.values.values())  # p0033 is all binary
        incs = client.incumbents(job.id)
        assert incs and incs[-1].objective == pytest.approx(optimum("p0033"))
        assert client.incumbents(job.id, since=len(incs)) == []
        log, nxt = client.log(job.id)
        assert "completed" in log and nxt == len(log.encode())
        tail, nxt2 = client.log(job.id, offset=nxt)
        assert tail == "" and nxt2 == nxt


def test_wait_expires_with_202_and_the_job_keeps_running(asgi: InProcess, miplib_dir: Path) -> None:
    path = miplib_dir / "pk1.mps.gz"
    with asgi.http() as http:
        resp = http.post(
            "/v1/jobs",
            params={"wait": 0.3},
            files={"file": (path.name, path.read_bytes())},
            data={"time_limit": "2"},
        )
        assert resp.status_code == 202
        job_id = resp.json()["id"]
        assert resp.headers["location"] == f"/v1/jobs/{job_id}"
        resp = http.get(f"/v1/jobs/{job_id}", params={"wait": 30})
    body = resp.json()
    assert body["state"] == "completed"
    assert body["termination"] == "time_limit"


def test_batch_of_20(asgi: InProcess, miplib_dir: Path, optimum: Callable[[str], float]) -> None:
    names = ["p0033", "stein27", "flugpl", "egout", "gt2", "vpm1", "lseu", "sc50a", "afiro", "kb2"]
    files = [miplib_dir / f"{n}.mps.gz" for n in names] * 2
    with asgi.client() as client:
        batch = client.submit_batch(files, time_limit=60, tags=["batch20"])
        assert len(batch.job_ids) == 20
        done = client.wait_batch(batch.id, timeout=240)
        assert done.counts["completed"] == 20
        for job_id, path in zip(batch.job_ids, files, strict=True):
            job = client.job(job_id)
            name = path.name.split(".")[0]
            assert job.batch_id == batch.id
            assert job.objective == pytest.approx(optimum(name), rel=1e-6), name
        jobs, total = client.jobs(tag="batch20", limit=100)
        assert total == 20 and {j.id for j in jobs} == set(batch.job_ids)


def test_sse_shows_an_incumbent_before_completion(server: Server, miplib_dir: Path) -> None:
    with server.client() as client:
        job = client.submit(miplib_dir / "pk1.mps.gz", time_limit=3)
        kinds = []
        for event in client.events(job.id):
            kinds.append((event.kind, event.data.get("state")))
        assert kinds[-1][0] == "end"
        first_inc = next(i for i, k in enumerate(kinds) if k[0] == "incumbent")
        ended = kinds.index(("state", "completed"))
        assert first_inc < ended
        assert any(k[0] == "log" for k in kinds)
        # a late subscriber gets the recorded incumbents and the end at once
        late = list(client.stream_incumbents(job.id))
        assert len(late) == len(client.incumbents(job.id)) >= 1


def test_json_model_submission(asgi: InProcess) -> None:
    from mipguide.problem.jsonmodel import problem_to_json
    from mipguide.problem.model import make_problem

    problem = make_problem(
        [[1.0, 1.0]], [-float("inf")], [1.0], [-1.0, -2.0], col_upper=[1, 1], integrality=[1, 1]
    )
    model = json.loads(json.dumps(problem_to_json(problem)))
    with asgi.http() as http:
        body = {"model": model, "options": {"time_limit": 10}}
        resp = http.post("/v1/jobs", params={"wait": 30}, json=body)
        assert resp.status_code == 200, resp.text
        assert resp.json()["objective"] == pytest.approx(-2.0)
        upload = {"file": ("model.json", json.dumps(model).encode())}
        resp = http.post("/v1/jobs", params={"wait": 30}, files=upload)
        assert resp.status_code == 200, resp.text
        bad = http.post("/v1/jobs", json={"options": {}})
        assert bad.status_code == 422 and "model" in bad.json()["error"]["message"]


def test_the_client_submits_a_json_model_as_a_dict_or_typed(asgi: InProcess) -> None:
    from pydantic import ValidationError

    from mipguide.problem.jsonschema import JsonModel

    doc = {
        "maximize": True,
        "csr_constraint_matrix": {"offsets": [0, 2], "indices": [0, 1], "values": [1, 1]},
        "constraint_bounds": {"upper_bounds": [1]},
        "objective_data": {"coefficients": [2, 3]},
        "variable_types": ["B", "B"],
    }
    with asgi.client() as client:
        for model in (doc, JsonModel.model_validate(doc)):
            job = client.submit(model, wait=30, time_limit=10)
            assert job.done and job.result is not None
            assert job.result.objective == 3 and job.result.values == {"x0": 0, "x1": 1}
        with pytest.raises(ValidationError):  # checked here, against the same schema
            client.submit({**doc, "variable_type": ["B", "B"]})


def test_the_json_model_is_typed_in_openapi_and_errors_name_the_field(asgi: InProcess) -> None:
    model = {"objective_data": {"coefficients": [1, 2]}, "variable_types": ["B", "C"]}
    with asgi.http() as http:
        schemas = http.get("/openapi.json").json()["components"]["schemas"]
        assert schemas["JobCreate"]["properties"]["model"]["$ref"].endswith("/JsonModel")
        typed = schemas["JsonModel"]
        assert typed["required"] == ["objective_data"]
        assert typed["additionalProperties"] is False
        assert set(typed["properties"]) >= {"csr_constraint_matrix", "variable_types", "maximize"}
        for change, where in (
            ({"variable_type": ["B"]}, "body.model.variable_type"),
            ({"objective_data": {"coefficients": [1, "one"]}}, "body.model.objective_data.coeff"),
            ({"variable_types": ["B", "Z"]}, "body.model.variable_types[1]"),
        ):
            resp = http.post("/v1/jobs", json={"model": {**model, **change}})
            assert resp.status_code == 422, resp.text
            assert resp.json()["error"]["message"].startswith(where)


def test_models_are_listed_with_their_cards(asgi: InProcess) -> None:
    with asgi.http() as http:
        listed = http.get("/v1/models").json()["items"]
        refs = {m["ref"]: m for m in listed}
        assert {"pas-setcover@1", "srg-indset@1"} <= set(refs)
        pas = refs["pas-setcover@1"]
        assert pas["kind"] == "pas" and pas["registry"] == "shipped" and pas["card"] is None
        assert pas["signature"] == ["setcover"] and pas["train_instances"] > 0
        only = http.get("/v1/models", params={"kind": "srg"}).json()["items"]
        assert only and all(m["kind"] == "srg" for m in only)
        one = http.get("/v1/models/pas-setcover@1").json()
        assert one["card"]["family"] == "setcover" and "metrics" in one["card"]
        missing = http.get("/v1/models/nope@1")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert http.get("/v1/models/not-a-ref").status_code == 422
    with asgi.http(key=None) as http:
        assert http.get("/v1/models").status_code == 401


def test_200_concurrent_submissions_none_lost(server: Server) -> None:
    tag = "c" + uuid.uuid4().hex[:8]

    responses = submit_concurrently(server.url, "key-alpha-123", tag, 200)
    assert [r.status_code for r in responses] == [202] * 200
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 200
    with server.client() as client:
        for job_id in ids:
            assert client.wait(job_id, timeout=120).objective == pytest.approx(-2.0)
        jobs, total = client.jobs(tag=tag, limit=1000)
        assert total == 200 and {j.id for j in jobs} == ids


def test_priority_and_queue_position_are_reported(asgi: InProcess) -> None:
    with asgi.http() as http:
        resp = http.post(
            "/v1/jobs",
            files={"file": ("tiny.mps", TINY_MPS)},
            data={"priority": "5", "tags": "prio"},
        )
        body = resp.json()
    assert body["priority"] == 5
    assert body["queue_position"] is None or body["queue_position"] >= 0


def test_health_ready_metrics_and_docs(asgi: InProcess) -> None:
    with asgi.client() as client:  # one solve of its own: the solve metrics exist, alone too
        job = client.submit(("tiny.mps", TINY_MPS), wait=30)
        assert job.done and job.result is not None
    with asgi.http(key=None) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["workers"] == 2
        assert http.get("/metrics").status_code == 401  # keys are configured
        text = http.get("/metrics", headers={"X-API-Key": KEY_A}).text
        for name in (
            'mipguide_jobs{state="completed"}',
            "mipguide_queue_depth",
            "mipguide_workers_busy",
            "mipguide_solve_seconds_bucket",
        ):
            assert name in text
        spec = http.get("/openapi.json").json()
        for path in ("/v1/jobs", "/v1/jobs/{job_id}/events", "/v1/batches/{batch_id}"):
            assert path in spec["paths"]
        assert http.get("/docs").status_code == 200


def test_client_is_typed_and_reads_settings(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPGUIDE_SERVER_URL", server.url)
    monkeypatch.setenv("MIPGUIDE_API_KEY", "key-alpha-123")
    with MipguideClient() as client:
        job = client.submit(("tiny.mps", TINY_MPS), wait=30)
        assert job.done and job.result is not None
        assert job.result.objective == pytest.approx(-2.0)


def test_the_json_example_of_the_docs_solves_to_its_stated_optimum(asgi: InProcess) -> None:
    text = (Path(__file__).parents[2] / "docs/api.md").read_text()
    body = text.split('"http://127.0.0.1:8000/v1/jobs?wait=30" -d \'\n', 1)[1].split("'\n```", 1)[0]
    with asgi.http() as http:
        resp = http.post("/v1/jobs", params={"wait": 30}, json=json.loads(body))
    assert resp.status_code == 200, resp.text
    result = resp.json()["result"]
    assert result["status"] == "optimal" and result["objective"] == 10
    assert result["values"] == {"a": 1, "b": 0, "c": 1}
