"""DMMV jobs over HTTP against a real server: submit (JSON and npz), result, events, cancel,
errors naming the field, key isolation, metrics; solve jobs with the ``dmmv`` option."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from mipguide.cli import app
from mipguide.heuristics.dmmv.evaluate import row_violations
from mipguide.heuristics.dmmv.types import DmmvInstance
from mipguide.instances.dmmv.planted import planted_batch
from mipguide.instances.dmmv.tomography import tomography_case
from tests.api.serverutil import KEY_A, KEY_B, MAX_UPLOAD, InProcess, Server

pytestmark = pytest.mark.timeout(180)


def planted_body(**changes: Any) -> dict[str, Any]:
    """A planted instance with a known zero-violation point (20 rows, 15 variables, 6 levels)."""
    b = planted_batch(1, m=20, n=15, n_levels=6, seed=1)
    assert b.x0 is not None
    body: dict[str, Any] = {
        "A": b.A.tolist(),
        "lower": b.lower[0].tolist(),
        "upper": [None if i == 3 else v for i, v in enumerate(b.upper[0].tolist())],
        "levels": list(range(6)),
        "x0": b.x0[0].tolist(),
        "time_limit": 20,
        "seed": 1,
        "tags": ["dmmv-json"],
        "name": "planted-20x15",
    }
    body.update(changes)
    return body


def hard_body(m: int, n: int, time_limit: float) -> dict[str, Any]:
    """Equality rows with real-valued targets: no point reaches zero, the search runs on."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(m, n))
    target = A @ rng.integers(0, 8, n) + rng.normal(0, 0.37, m)
    return {
        "A": A.tolist(),
        "lower": target.tolist(),
        "upper": target.tolist(),
        "levels": list(range(8)),
        "time_limit": time_limit,
    }


def check_result(result: dict[str, Any], A: Any, lower: Any, upper: Any, levels: Any) -> None:
    """Values in their domains; the reported max violation is the one recomputed here."""
    x = np.asarray(result["x"])
    lv = np.broadcast_to(np.asarray(levels, dtype=float), (len(x), np.shape(levels)[-1]))
    np.testing.assert_array_equal(lv[np.arange(len(x)), result["level_index"]], x)
    lo = np.array([-np.inf if v is None else v for v in lower], dtype=float)
    hi = np.array([np.inf if v is None else v for v in upper], dtype=float)
    v = row_violations(A, x, lo, hi)
    assert result["max_violation"] == pytest.approx(float(v.max()), abs=1e-9)
    assert v[result["argmax_row"]] == pytest.approx(result["max_violation"], abs=1e-9)
    assert result["iterations"] >= 0 and result["device"] in ("cpu", "cuda")
    assert result["fallback"] is False and "moves" in result["counters"]


def test_json_submission_solves_a_planted_instance(asgi: InProcess) -> None:
    body = planted_body()
    with asgi.http() as http:
        resp = http.post("/v1/dmmv", params={"wait": 60}, json=body)
        assert resp.status_code == 200, resp.text
        job = resp.json()
        assert job["kind"] == "dmmv" and job["state"] == "completed"
        assert job["problem"] == {
            "name": "planted-20x15",
            "filename": "instance.json",
            "num_vars": 15,
            "num_rows": 20,
            "nnz": int(np.count_nonzero(body["A"])),
        }
        assert job["status"] == "feasible" and job["termination"] == "zero_violation"
        assert job["objective"] == 0.0 and job["tags"] == ["dmmv-json"]
        result = http.get(f"/v1/jobs/{job['id']}/result").json()
        assert result == job["result"]
        check_result(result, np.asarray(body["A"]), body["lower"], body["upper"], body["levels"])
        assert result["max_violation"] == 0.0 and result["kind"] == "dmmv"
        assert http.get(f"/v1/jobs/{job['id']}").json()["kind"] == "dmmv"
        listed = http.get("/v1/jobs", params={"kind": "dmmv", "tag": "dmmv-json"}).json()
        assert [j["id"] for j in listed["items"]] == [job["id"]]
        incs = http.get(f"/v1/jobs/{job['id']}/incumbents").json()["items"]
        values = [i["objective"] for i in incs]
        assert {i["source"] for i in incs} == {"dmmv"}
        assert values == sorted(values, reverse=True) and values[-1] == 0.0
        assert values[0] == pytest.approx(result["start_max_violation"])
        log = http.get(f"/v1/jobs/{job['id']}/log").text
        assert "best max violation 0" in log and "[mipguide] completed" in log
        csv = http.get(f"/v1/jobs/{job['id']}/result", params={"format": "csv"})
        assert csv.status_code == 422 and csv.json()["error"]["option"] == "format"


def test_npz_upload_of_a_tomography_case_via_client_and_cli(server: Server, tmp_path: Path) -> None:
    case = tomography_case(size=10, n_levels=2, n_angles=4, noise=0.5, seed=3)
    b = case.batch
    assert b.x0 is not None
    csr = b.A.tocsr()  # type: ignore[union-attr]
    path = tmp_path / "tomo.npz"
    np.savez(
        path,
        data=csr.data,
        indices=csr.indices,
        indptr=csr.indptr,
        shape=np.array(csr.shape),
        l=b.lower[0],
        u=b.upper[0],
        levels=np.array([0.0, 1.0]),
        x0=b.x0[0],
    )
    with server.client() as client:
        job = client.submit_dmmv(path, time_limit=2, seed=0, tags=["tomo"], wait=60)
        assert job.state == "completed", job.raw
        assert job.raw["problem"]["name"] == "tomo" and job.raw["problem"]["nnz"] == csr.nnz
        result = client.result_json(job.id)
    check_result(result, csr, b.lower[0], b.upper[0], [0.0, 1.0])
    assert result["max_violation"] <= result["start_max_violation"]
    out = tmp_path / "remote.json"
    common = ["--server", server.url, "--api-key", KEY_A, "--time-limit", "1", "--out", str(out)]
    cli = CliRunner().invoke(app, ["dmmv", str(path), *common])
    assert cli.exit_code == 0, cli.output
    assert "max violation" in cli.output and out.exists()


def test_client_sends_an_instance_as_json(asgi: InProcess) -> None:
    b = planted_batch(1, m=12, n=10, n_levels=4, seed=2)
    inst = DmmvInstance(b.A, b.lower[0], b.upper[0], np.arange(4.0))
    with asgi.client() as client:
        job = client.submit_dmmv(inst, time_limit=10, wait=60)
        assert job.state == "completed" and job.raw["kind"] == "dmmv"
        check_result(client.result_json(job.id), b.A, b.lower[0], b.upper[0], np.arange(4.0))


def test_events_show_progress_and_the_end(server: Server) -> None:
    with server.client() as client:
        job = client.submit_dmmv(hard_body(60, 40, time_limit=1.0))
        kinds = [(e.kind, e.data) for e in client.events(job.id)]
    names = [k for k, _ in kinds]
    assert names[-1] == "end" and kinds[-1][1]["state"] == "completed"
    incs = [d for k, d in kinds if k == "incumbent"]
    assert incs and {d["source"] for d in incs} == {"dmmv"}
    assert names.index("incumbent") < names.index("end")
    assert any(k == "log" and "best max violation" in d["line"] for k, d in kinds)


def test_cancel_stops_a_long_search_within_two_seconds(server: Server) -> None:
    with server.http() as http:
        inst = hard_body(400, 300, time_limit=600)
        buf = io.BytesIO()
        arrays = {k: np.asarray(inst[k], dtype=float) for k in ("A", "lower", "upper", "levels")}
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        resp = http.post(
            "/v1/dmmv", files={"file": ("hard.npz", buf.getvalue())}, data={"time_limit": "600"}
        )
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["id"]
        deadline = time.monotonic() + 60
        while not http.get(f"/v1/jobs/{job_id}/incumbents").json()["items"]:
            assert time.monotonic() < deadline, "the search did not start"
            time.sleep(0.1)
        t0 = time.monotonic()
        resp = http.delete(f"/v1/jobs/{job_id}")
        elapsed = time.monotonic() - t0
        assert resp.status_code == 200, resp.text
        assert resp.json()["state"] == "cancelled" and elapsed < 2.0
        result = http.get(f"/v1/jobs/{job_id}/result").json()  # the interrupted search's best
        assert result["interrupted"] is True and result["termination"] == "interrupted"
        assert result["max_violation"] <= result["start_max_violation"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"levels": [0, 2, 1, 3]}, "levels"),
        ({"levels": [[0, 1]] * 14 + [[1, 0]]}, "levels[14]"),
        ({"levels": [[0, 1]] * 3}, "levels"),
        ({"x0": [0.5, 1.5]}, "x0"),
        ({"lower": [0.0] * 19}, "lower"),
        ({"upper": [1.0] * 19 + ["lots"]}, "upper"),
        ({"A": [[1.0, 2.0], [3.0]]}, "A"),
        ({"A": [[float("nan")] * 15] * 20}, "A"),
        (
            {"A": {"csr": {"indptr": [0], "indices": [], "values": [], "shape": [20, 15]}}},
            "A.csr.indptr",
        ),
        ({"fixed": [True] * 15, "x0": None}, "fixed"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    asgi: InProcess, changes: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in planted_body(**changes).items() if v is not None}
    with asgi.http() as http:  # json.dumps writes NaN as the (non-standard) literal NaN
        headers = {"content-type": "application/json"}
        resp = http.post("/v1/dmmv", content=json.dumps(body), headers=headers)
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "invalid_field" and err["field"] == field, err


def test_bad_options_files_and_sizes(asgi: InProcess) -> None:
    with asgi.http() as http:
        resp = http.post("/v1/dmmv", json=planted_body(time_limit=-1))
        assert resp.status_code == 422 and resp.json()["error"]["option"] == "time_limit"
        resp = http.post("/v1/dmmv", files={"file": ("x.npz", b"not a zip")})
        assert resp.status_code == 422 and resp.json()["error"]["field"] == "file"
        buf = io.BytesIO()
        np.savez(buf, A=np.eye(2), l=np.zeros(2), u=np.ones(2))
        resp = http.post("/v1/dmmv", files={"file": ("x.npz", buf.getvalue())})
        assert resp.status_code == 422 and resp.json()["error"]["field"] == "levels"
        resp = http.post("/v1/dmmv", files={"file": ("big.npz", b"*" * (MAX_UPLOAD + 1024))})
        assert resp.status_code == 413
        huge = {
            "csr": {
                "indptr": [0] * 100_001,
                "indices": [],
                "values": [],
                "shape": [100_000, 100_000],
            }
        }
        resp = http.post("/v1/dmmv", json=planted_body(A=huge, lower=None, upper=None, x0=None))
        assert resp.status_code == 422  # bounds missing for 100000 rows: named first
        resp = http.post(
            "/v1/dmmv",
            json={"A": huge, "lower": [0] * 100_000, "upper": [1] * 100_000, "levels": [0, 1]},
        )
        assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload_too_large"
        resp = http.post("/v1/dmmv", content=b"{}", headers={"content-type": "text/plain"})
        assert resp.status_code == 415


def test_the_hybrid_proves_the_optimum_and_says_so(asgi: InProcess) -> None:
    """Equality rows off the lattice (no zero) on a model small enough for the MILP to prove:
    on by default, the answer proven optimal; off when asked; the backend is an option."""
    body = hard_body(8, 6, time_limit=60.0)
    with asgi.http() as http:
        for solver in ("scip", "highs", "both"):
            t0 = time.perf_counter()
            resp = http.post("/v1/dmmv", params={"wait": 60}, json={**body, "milp_solver": solver})
            job = resp.json()
            assert job["state"] == "completed", job
            assert time.perf_counter() - t0 < 30.0  # the proof ended the 60 s search
            result = http.get(f"/v1/jobs/{job['id']}/result").json()
            check_result(result, np.array(body["A"]), body["lower"], body["upper"], range(8))
            hybrid = result["hybrid"]
            assert hybrid["solver"] == solver and hybrid["status"] == "optimal"
            assert "switched" in hybrid and (solver != "both" or hybrid["switched"] is None)
            assert result["termination"] == "optimal" and result["proven_optimal"] is True
            assert 0.0 <= hybrid["bound"] <= result["max_violation"] + 1e-6
            assert result["max_violation"] <= hybrid["dmmv_max_violation"]
            log = http.get(f"/v1/jobs/{job['id']}/log").text
            assert f"the MILP ({solver}) beside it" in log and f"[solver] {solver}: optimal" in log
        off = http.post(
            "/v1/dmmv", params={"wait": 60}, json={**body, "hybrid": False, "time_limit": 1}
        ).json()
        result = http.get(f"/v1/jobs/{off['id']}/result").json()
        assert result["hybrid"] is None and result["termination"] == "time_limit"
        assert result["proven_optimal"] is False
        resp = http.post("/v1/dmmv", json={**body, "milp_solver": "cplex"})
        assert resp.status_code == 422 and resp.json()["error"]["option"] == "milp_solver"


def test_another_key_cannot_see_or_cancel_it(asgi: InProcess) -> None:
    with asgi.http(KEY_A) as http:
        job_id = http.post("/v1/dmmv", json=planted_body(), params={"wait": 60}).json()["id"]
    with asgi.http(KEY_B) as http:
        for resp in (
            http.get(f"/v1/jobs/{job_id}"),
            http.get(f"/v1/jobs/{job_id}/result"),
            http.delete(f"/v1/jobs/{job_id}"),
        ):
            assert resp.status_code == 404
        listed = http.get("/v1/jobs", params={"kind": "dmmv"}).json()
        assert job_id not in {j["id"] for j in listed["items"]}
        text = http.get("/metrics").text
    assert 'mipguide_jobs_submitted_total{kind="dmmv"}' in text
    assert 'mipguide_jobs_finished_total{kind="dmmv",state="completed"}' in text


def test_solve_jobs_take_the_dmmv_option(asgi: InProcess, miplib_dir: Path) -> None:
    with asgi.http() as http:
        path = miplib_dir / "p0033.mps.gz"
        resp = http.post(
            "/v1/jobs",
            params={"wait": 60},
            files={"file": (path.name, path.read_bytes())},
            data={"dmmv": "true", "dmmv_seconds": "2", "time_limit": "30"},
        )
        assert resp.status_code == 200, resp.text
        job = resp.json()
        assert job["kind"] == "solve" and job["options"]["dmmv"] is True
        result = job["result"]
        assert result["objective"] == pytest.approx(3089.0)
        sources = [i["source"] for i in result["incumbents"]]
        assert ("dmmv" in sources) == result["extra"]["dmmv"]["found"]
        assert "DMMV feasibility search first" in http.get(f"/v1/jobs/{job['id']}/log").text
        mixed = miplib_dir / "egout.mps.gz"
        resp = http.post(
            "/v1/jobs",
            params={"wait": 60},
            files={"file": (mixed.name, mixed.read_bytes())},
            data={"dmmv": "true", "time_limit": "30"},
        )
        job = resp.json()
        assert job["state"] == "completed" and job["result"]["objective"] == pytest.approx(568.1007)
        log = http.get(f"/v1/jobs/{job['id']}/log").text
        assert "warning: dmmv skipped: the problem is not pure-integer" in log
        resp = http.post(
            "/v1/jobs", files={"file": (path.name, path.read_bytes())}, data={"dmmv": "maybe"}
        )
        assert resp.status_code == 422 and resp.json()["error"]["option"] == "dmmv"


def test_openapi_documents_the_dmmv_body(asgi: InProcess) -> None:
    with asgi.http(key=None) as http:
        spec = http.get("/openapi.json").json()
    body = spec["paths"]["/v1/dmmv"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    schemas = spec["components"]["schemas"]
    assert {"DmmvCreate", "JobCreate", "BatchCreate"} <= set(schemas)
    assert {"A", "lower", "upper", "levels"} <= set(schemas["DmmvCreate"]["required"])
    refs = set(re.findall(r"#/components/schemas/(\w+)", json.dumps(spec)))
    assert refs <= set(schemas)  # every $ref resolves
