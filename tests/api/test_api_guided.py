"""The API runs guided modes: mode=pas with a shipped model, mode=auto (worker dispatch),
mode=srg with a shipped score model and SRG parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.conftest import MODEL_DIR
from tests.api.serverutil import InProcess, in_process

SHIPPED = "pas-setcover@1"
SHIPPED_SRG = "srg-setcover@1"


def submit(asgi: InProcess, path: Path, data: dict[str, str]) -> dict:  # type: ignore[type-arg]
    with asgi.http() as http:
        resp = http.post(
            "/v1/jobs",
            params={"wait": 60},
            files={"file": (path.name, path.read_bytes())},
            data={"solver": "scip", "time_limit": "60", **data},
        )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "completed", body
    return body


def test_mode_pas_with_a_shipped_model(
    asgi: InProcess, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    assert (MODEL_DIR / SHIPPED / "weights.safetensors").is_file()
    body = submit(asgi, miplib_dir / "p0033.mps.gz", {"mode": "pas", "model": SHIPPED})
    assert body["options"]["mode"] == "pas" and body["status"] == "optimal"
    result = body["result"]
    assert result["mode"] == "pas" and result["extra"]["pas"]["model"] == SHIPPED
    assert result["objective"] == pytest.approx(optimum("p0033"), rel=1e-6)
    assert result["max_violation"] <= 1e-6


def test_mode_auto_solves_an_unmatched_instance_exactly(
    asgi: InProcess, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    data = {"mode": "auto", "pas": '{"region": {"k0": 0.5}}', "solver": "auto"}
    body = submit(asgi, miplib_dir / "stein27.mps.gz", data)
    result = body["result"]
    assert result["mode"] == "exact" and result["extra"]["auto"]["model"] is None
    assert result["objective"] == pytest.approx(optimum("stein27"), rel=1e-6)
    # solver=auto: the plain backend chosen by probing, and the result says which
    assert body["options"]["solver"] == "auto"
    assert result["extra"]["solver_choice"]["solver"] == result["solver"]


def test_mode_srg_with_a_shipped_model_and_parameters(
    asgi: InProcess, miplib_dir: Path, optimum: Callable[[str], float]
) -> None:
    assert (MODEL_DIR / SHIPPED_SRG / "weights.safetensors").is_file()
    data = {"mode": "srg", "model": SHIPPED_SRG, "srg": '{"sampling": {"k": 4, "steps": 8}}'}
    body = submit(asgi, miplib_dir / "p0033.mps.gz", data)
    assert body["options"]["mode"] == "srg" and body["options"]["srg"] == {
        "sampling": {"k": 4, "steps": 8}
    }
    result = body["result"]
    assert result["mode"] == "srg" and result["extra"]["srg"]["model"] == SHIPPED_SRG
    assert result["extra"]["srg"]["k"] == 4
    assert result["objective"] == pytest.approx(optimum("p0033"), rel=1e-6)
    assert result["status"] == "optimal" and result["max_violation"] <= 1e-6


@pytest.mark.parametrize(
    ("srg", "mode", "option", "named"),
    [
        ('{"sampling": {"k": 0}}', "srg", "srg.sampling.k", "greater than"),
        ('{"sampling": {"eta": "strong"}}', "srg", "srg.sampling.eta", "number"),
        ('{"warp": 9}', "srg", "srg.warp", "sampling"),
        ('{"sampling": {"k": 4}}', "pas", "srg", "need mode srg"),
    ],
)
def test_bad_srg_parameters_are_422_naming_the_parameter(
    asgi: InProcess, miplib_dir: Path, srg: str, mode: str, option: str, named: str
) -> None:
    path = miplib_dir / "p0033.mps.gz"
    with asgi.http() as http:
        resp = http.post(
            "/v1/jobs",
            files={"file": (path.name, path.read_bytes())},
            data={"mode": mode, "srg": srg},
        )
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "invalid_option" and err["option"] == option
    assert named in err["message"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "pas"}, "no registered model matches; name a pas model"),
        ({"mode": "srg"}, "no registered model matches; name an srg model"),
        ({"mode": "pas", "model": "pas-nosuch@9"}, "no pas model 'pas-nosuch@9'"),
        ({"mode": "srg", "model": SHIPPED}, f"no srg model '{SHIPPED}'"),  # a PaS model
    ],
)
def test_a_guided_job_without_a_usable_model_is_422_at_submit(
    asgi: InProcess, miplib_dir: Path, data: dict[str, str], message: str
) -> None:
    path = miplib_dir / "stein27.mps.gz"  # no shipped model matches it
    tag = f"nomodel{abs(hash(message)) % 10**8}"
    with asgi.http() as http:
        resp = http.post(
            "/v1/jobs", files={"file": (path.name, path.read_bytes())}, data={**data, "tags": tag}
        )
        assert resp.status_code == 422, resp.text
        err = resp.json()["error"]
        assert err["code"] == "invalid_option" and err["option"] == "model"
        assert message in err["message"]
        kind = data["mode"]
        assert err["valid"] and all(ref.startswith(f"{kind}-") for ref in err["valid"])
        assert http.get("/v1/jobs", params={"tag": tag}).json()["total"] == 0  # nothing stored


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """The app with the server's device pool on (a CPU pool worker here)."""
    data_dir = tmp_path_factory.mktemp("pooled")
    with in_process(data_dir, workers=2, model_dir=MODEL_DIR, device_pool="on") as served:
        yield served


def _worker_pid(asgi: InProcess, job_id: str) -> int:
    with asgi.client() as client:
        text, _ = client.log(job_id)
    return int(text.split("[worker ")[1].split("]")[0])


@pytest.mark.parametrize(("mode", "model"), [("pas", SHIPPED), ("srg", SHIPPED_SRG)])
def test_guided_jobs_run_their_network_on_the_servers_device_pool(
    pooled: InProcess, miplib_dir: Path, optimum: Callable[[str], float], mode: str, model: str
) -> None:
    data = {"mode": mode, "model": model}
    if mode == "srg":
        data["srg"] = '{"sampling": {"k": 4, "steps": 4}}'
    body = submit(pooled, miplib_dir / "p0033.mps.gz", data)
    result = body["result"]
    assert result["objective"] == pytest.approx(optimum("p0033"), rel=1e-6)
    inference = result["extra"][mode]["inference"]
    assert inference["where"] == "device pool (local)" and inference["device"] == "cpu"
    # the network ran in the pool's worker process, not in the job's worker
    assert inference["worker_pid"] != _worker_pid(pooled, body["id"])
    assert inference["seconds"] > 0
    with pooled.http() as http:
        assert http.get("/readyz").json()["device_pool"] == "device pool (local)"
