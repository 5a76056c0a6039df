"""The trust probe's cases, in process and against real servers: no file is written or read
through backend parameters, bombs and long names are refused in bounded memory, rows that can
never hold stay infeasible, and every error keeps the documented shape without server paths or
tracebacks."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import threading
import time
import zlib
from pathlib import Path

import httpx
import pytest

from tests.api.serverutil import KEY_A, TINY_MPS, InProcess, Server, in_process, launch
from tests.api.test_api_resilience import wait_running

MIB = 1 << 20
BOMBS = {
    "gz": lambda d: zlib.compress(d, 9, wbits=16 + zlib.MAX_WBITS),
    "bz2": bz2.compress,
    "xz": lambda d: lzma.compress(d, preset=0),
}


def rss_peak_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM) in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM")))


def post(asgi: InProcess, files: dict, data: dict | None = None) -> httpx.Response:  # type: ignore[type-arg]
    with asgi.http() as http:
        return http.post("/v1/jobs", files=files, data=data or {}, params={"wait": 30})


def test_file_naming_parameters_are_refused_and_write_nothing(
    asgi: InProcess, tmp_path: Path
) -> None:
    target = tmp_path / "owned.vbc"
    for params in (
        {"visual/vbcfilename": str(target)},
        {"visual/bakfilename": "../../owned"},
        {"heuristics/repair/filename": "/etc/hostname", "heuristics/repair/freq": 0},
        {"limits/time": 1e9},
    ):
        resp = post(asgi, {"file": ("tiny.mps", TINY_MPS)}, {"params": json.dumps(params)})
        assert resp.status_code == 422, resp.text
        err = resp.json()["error"]
        assert err["code"] == "invalid_option" and "not accepted from a caller" in err["message"]
        assert err["option"] == f"params.{next(iter(params))}"
    assert not target.exists()


def test_bombs_are_413_fast_in_bounded_memory_and_health_stays_quick(tmp_path: Path) -> None:
    """1 GiB of zeros in gz, bz2 and xz (16 concatenated 64 MiB members each)."""
    srv = launch(tmp_path, workers=1)
    try:
        bombs = {k: f(bytes(64 * MIB)) * 16 for k, f in BOMBS.items()}
        before = rss_peak_kib(srv.proc.pid)
        health: list[float] = []
        done = threading.Event()

        def poll() -> None:
            with srv.http(key=None) as http:
                while not done.is_set():
                    t0 = time.perf_counter()
                    http.get("/healthz").raise_for_status()
                    health.append(time.perf_counter() - t0)
                    time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            for ext, data in bombs.items():
                t0 = time.perf_counter()
                resp = post(srv, {"file": (f"bomb.mps.{ext}", data)})
                seconds = time.perf_counter() - t0
                assert resp.status_code == 413, resp.text
                assert "ratio limit" in resp.json()["error"]["message"]
                assert seconds < 2.0, f"{ext}: {seconds:.2f} s"
        finally:
            done.set()
            poller.join()
        growth_mib = (rss_peak_kib(srv.proc.pid) - before) / 1024
        assert growth_mib < 100, f"peak RSS grew by {growth_mib:.0f} MiB"
        assert health and max(health) < 1.0, f"slowest /healthz {max(health):.2f} s"
    finally:
        srv.stop()


def test_a_long_name_is_refused_with_its_line(asgi: InProcess) -> None:
    text = f"NAME t\nROWS\n N obj\n L c\nCOLUMNS\n {'x' * 100_000} obj 1 c 1\nRHS\nENDATA\n"
    resp = post(asgi, {"file": ("long.mps.gz", gzip.compress(text.encode()))})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "parse_error" and err["line"] == 6 and "at most 255" in err["message"]


def test_impossible_rows_and_pulp_maximize_files_solve_right(asgi: InProcess) -> None:
    resp = post(asgi, {"file": ("inf.lp", b"min\n obj: x + y\nst\n c1: x + y >= inf\nend\n")})
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["status"] == "infeasible"
    pulp_mps = (
        b"*SENSE:Maximize\nNAME          knap\nROWS\n N  OBJ\n L  cap\nCOLUMNS\n"
        b"    MARK      'MARKER'                 'INTORG'\n"
        b"    x         cap        3\n    x         OBJ        10\n"
        b"    y         cap        5\n    y         OBJ        20\n"
        b"    MARK      'MARKER'                 'INTEND'\n"
        b"RHS\n    RHS       cap        20\nBOUNDS\n UP BND       x          4\n"
        b" UP BND       y          3\nENDATA\n"
    )
    resp = post(asgi, {"file": ("knap.mps", pulp_mps)})
    result = resp.json()["result"]
    assert result["objective"] == pytest.approx(70.0)  # CBC's optimum; minimize would give 0
    assert any("*SENSE" in w for w in result["warnings"])


def test_infinite_lp_coefficient_is_422_with_the_line(asgi: InProcess) -> None:
    resp = post(asgi, {"file": ("c.lp", b"max\n obj: 1e400 x\nst\n c: x <= 1\nend\n")})
    assert resp.status_code == 422
    assert resp.json()["error"]["line"] == 2


def test_non_ascii_api_key_is_401(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for raw in ("clé".encode(), b"\xff\xfe", "ключ".encode()):
            resp = http.get("/v1/jobs", headers=[(b"x-api-key", raw)])
            assert resp.status_code == 401
            assert resp.json()["error"]["code"] == "unauthorized"
        assert http.get("/healthz").status_code == 200  # the connection survived


def test_missing_or_corrupt_result_is_a_documented_500(asgi: InProcess) -> None:
    with asgi.client() as client:
        job = client.submit(("tiny.mps", TINY_MPS), wait=30)
        assert job.state == "completed"
        path = asgi.data_dir / "jobs" / job.id / "result.json"
        path.write_text("{not json")
        with asgi.http() as http:
            resp = http.get(f"/v1/jobs/{job.id}/result")
            assert resp.status_code == 500
            err = resp.json()["error"]
            assert err["code"] == "result_unavailable" and str(asgi.data_dir) not in err["message"]
            path.unlink()
            resp = http.get(f"/v1/jobs/{job.id}/result")
            assert resp.status_code == 500 and resp.json()["error"]["code"] == "result_unavailable"
            resp = http.get(f"/v1/jobs/{job.id}?wait=0")
            assert resp.status_code == 200  # the job itself still reads


def test_a_job_whose_input_vanished_fails_without_paths_or_tracebacks(
    one_worker_server: Server, miplib_dir: Path
) -> None:
    srv = one_worker_server
    with srv.client() as client:
        long = client.submit(miplib_dir / "markshare1.mps.gz", time_limit=600)
        wait_running(client, long.id)
        queued = client.submit(("tiny.mps", TINY_MPS))
        (srv.data_dir / "jobs" / queued.id / "problem.npz").unlink()
        client.cancel(long.id)
        failed = client.wait(queued.id, timeout=30)
        assert failed.state == "failed"
        assert failed.error is not None and "input cannot be read" in failed.error
        log, _ = client.log(queued.id)
        for text in (failed.error, log):
            assert str(srv.data_dir) not in text and "/jobs/" not in text
            assert "Traceback" not in text


def test_metrics_need_a_key_when_keys_are_set(asgi: InProcess) -> None:
    with asgi.http(None) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"X-API-Key": "wrong"}).status_code == 401
        ok = http.get("/metrics", headers={"Authorization": f"Bearer {KEY_A}"})
        assert ok.status_code == 200 and "mipguide_jobs" in ok.text
        assert http.get("/openapi.json").status_code == 200  # open unless closed by a setting


def test_metrics_token_and_closed_docs(tmp_path: Path) -> None:
    with (
        in_process(tmp_path, workers=1, metrics_token="scrape-token", api_docs=False) as srv,
        srv.http(None) as http,
    ):
        assert http.get("/metrics").status_code == 401
        token = {"Authorization": "Bearer scrape-token"}
        assert http.get("/metrics", headers=token).status_code == 200
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert http.get(path).status_code == 404
        # the metrics token is not an API key
        assert http.get("/v1/jobs", headers=token).status_code == 401


def test_long_filenames_say_what_is_wrong(asgi: InProcess) -> None:
    resp = post(asgi, {"file": ("a" * 8000 + ".mps", TINY_MPS)})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "malformed_request" and "header" in err["message"]
    assert "file name" in err["message"]
    resp = post(asgi, {"file": ("b" * 300 + ".mps", TINY_MPS)})
    assert resp.status_code == 422 and "at most 255" in resp.json()["error"]["message"]


def test_client_error_bodies_name_a_location_for_duplicates(asgi: InProcess) -> None:
    doc = {
        "objective_data": {"coefficients": [1, 2]},
        "variable_names": ["a", "a"],
    }
    with asgi.http() as http:
        resp = http.post("/v1/jobs", json={"model": doc, "options": {}})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["path"] == "variable_names[1]"
    resp = post(asgi, {"file": ("d.lp", b"min\n obj: x\nst\n c: x >= 1\n c: x <= 3\nend\n")})
    assert resp.json()["error"]["line"] == 5


def test_the_cli_refuses_file_parameters_unless_unsafe(tmp_path: Path, miplib_dir: Path) -> None:
    from typer.testing import CliRunner

    from mipguide.cli import app

    target = tmp_path / "tree.vbc"
    args = ["solve", str(miplib_dir / "p0033.mps.gz"), "--param", f"visual/vbcfilename={target}"]
    runner = CliRunner()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "not accepted" in refused.output
    assert not target.exists()
    allowed = runner.invoke(app, [*args, "--unsafe-params"])
    assert allowed.exit_code == 0, allowed.output
    assert target.exists()


def test_client_sees_errors_in_the_documented_shape(asgi: InProcess) -> None:
    with asgi.client(KEY_A) as client, pytest.raises(Exception) as err:
        client.submit(("tiny.mps", TINY_MPS), params={"display/verblevel": 5})
    assert "not accepted from a caller" in str(err.value)
