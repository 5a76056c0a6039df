"""Every bad input gets its status code and a body that says what and where; keys isolate jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.serverutil import KEY_A, KEY_B, MAX_UPLOAD, TINY_MPS, InProcess

BROKEN_MPS = b"NAME broken\nROWS\n N obj\nGARBAGE section\n L c1\nCOLUMNS\n x obj 1\nENDATA\n"


def post(asgi: InProcess, files: dict, data: dict | None = None, key: str | None = KEY_A):  # type: ignore[no-untyped-def]
    with asgi.http(key) as http:
        return http.post("/v1/jobs", files=files, data=data or {})


def test_oversized_upload_is_413(asgi: InProcess) -> None:
    blob = b"*" * (MAX_UPLOAD + 1024)
    resp = post(asgi, {"file": ("big.mps", blob)})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_unsupported_file_type_is_415(asgi: InProcess, miplib_dir: Path) -> None:
    resp = post(asgi, {"file": ("catalog.csv", (miplib_dir / "catalog.csv").read_bytes())})
    assert resp.status_code == 415
    with asgi.http() as http:
        resp = http.post("/v1/jobs", content=b"NAME x", headers={"content-type": "text/plain"})
    assert resp.status_code == 415


@pytest.mark.parametrize(
    ("data", "option", "valid"),
    [
        ({"colour": "blue"}, "colour", "time_limit"),
        ({"solver": "gurobi"}, "solver", "scip"),
        ({"mode": "magic"}, "mode", "exact"),
        ({"mode": "pas", "pas": '{"k0": 7}'}, "pas.k0", "region"),
        ({"mode": "pas", "model": "v1"}, "model", None),
        ({"time_limit": "-1"}, "time_limit", None),
        ({"threads": "many"}, "threads", None),
        ({"params": "{not json"}, "params", None),
        ({"params": '{"no/such/param": 1}'}, "params.no/such/param", ""),
    ],
)
def test_invalid_options_are_422_listing_the_valid_ones(
    asgi: InProcess, data: dict[str, str], option: str, valid: str | None
) -> None:
    resp = post(asgi, {"file": ("tiny.mps", TINY_MPS)}, data)
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "invalid_option"
    assert err["option"] == option
    if valid:
        assert valid in err["valid"]
    elif valid == "":
        assert err["valid"]  # the backend's parameter names


def test_parse_error_is_422_with_file_and_line(asgi: InProcess) -> None:
    resp = post(asgi, {"file": ("broken.mps", BROKEN_MPS)})
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "parse_error"
    assert err["file"] == "broken.mps"
    assert err["line"] == 4


def test_missing_file_unknown_job_and_result_not_ready(asgi: InProcess) -> None:
    resp = post(asgi, {}, {"solver": "scip"})
    assert resp.status_code in (415, 422)
    with asgi.http() as http:
        assert http.get("/v1/jobs/nope").status_code == 404
        assert http.get("/v1/jobs/nope/result").status_code == 404
        assert http.get("/v1/batches/nope").status_code == 404
        assert http.get("/v1/jobs", params={"state": "sleeping"}).status_code == 422
        assert http.get("/v1/jobs/x/result", params={"format": "xml"}).status_code in (404, 422)


def test_second_key_cannot_see_or_cancel_first_keys_jobs(asgi: InProcess) -> None:
    with asgi.client(KEY_A) as a:
        job = a.submit(("tiny.mps", TINY_MPS), tags=["private"])
        batch = a.submit_batch([("t1.mps", TINY_MPS), ("t2.mps", TINY_MPS)])
    with asgi.http(KEY_B) as b:
        for path in (
            f"/v1/jobs/{job.id}",
            f"/v1/jobs/{job.id}/result",
            f"/v1/jobs/{job.id}/incumbents",
            f"/v1/jobs/{job.id}/log",
            f"/v1/jobs/{job.id}/events",
            f"/v1/batches/{batch.id}",
        ):
            assert b.get(path).status_code == 404, path
        assert b.delete(f"/v1/jobs/{job.id}").status_code == 404
        assert b.delete(f"/v1/batches/{batch.id}").status_code == 404
        listed = b.get("/v1/jobs", params={"limit": 1000}).json()
        assert job.id not in {j["id"] for j in listed["items"]}
    with asgi.http(None) as anonymous:
        assert anonymous.get("/v1/jobs").status_code == 401
        assert anonymous.get(f"/v1/jobs/{job.id}").status_code == 401
    with asgi.http("wrong-key") as wrong:
        assert wrong.get("/v1/jobs").status_code == 401
    with asgi.client(KEY_A) as a:
        assert a.wait(job.id, timeout=30).state == "completed"


def test_batch_cancel_and_purge(asgi: InProcess) -> None:
    with asgi.client() as client:
        batch = client.submit_batch([(f"t{i}.mps", TINY_MPS) for i in range(3)])
        cancelled = client.cancel_batch(batch.id)
        assert cancelled is not None and cancelled.done
        assert client.cancel_batch(batch.id, purge=True) is None
        with pytest.raises(Exception, match="404"):
            client.batch(batch.id)
        with pytest.raises(Exception, match="404"):
            client.job(batch.job_ids[0])


def test_batch_with_one_bad_file_is_rejected_whole(asgi: InProcess) -> None:
    with asgi.http() as http:
        files = [("file", ("ok.mps", TINY_MPS)), ("file", ("bad.mps", BROKEN_MPS))]
        before = http.get("/v1/jobs").json()["total"]
        resp = http.post("/v1/batches", files=files)
        assert resp.status_code == 422
        assert resp.json()["error"]["file"] == "bad.mps"
        assert http.get("/v1/jobs").json()["total"] == before
