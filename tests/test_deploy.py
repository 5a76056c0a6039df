"""Dockerfile and docker-compose.yml, checked without a Docker engine: the compose file against
the compose schema, its MIPGUIDE_* names against Settings, the pins against pyproject and the
Makefile, and the image's CMD and HEALTHCHECK run here with the compose api environment against
a throwaway PostgreSQL (tests/pg.py) - i.e. what the container would run, minus the container."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mipguide.bench.api import free_port
from mipguide.jobs.store import JobStore
from mipguide.settings import Settings
from tests import pg
from tests.pg import PgCluster

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
IMAGE_PORT = "8000"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    return out


def last(keyword: str) -> str:
    found = [args for kw, args in dockerfile_instructions() if kw == keyword]
    assert found, f"Dockerfile has no {keyword}"
    return found[-1]


def exec_form(args: str) -> list[str]:
    """The JSON (exec) form of CMD; HEALTHCHECK's options before its CMD are skipped."""
    if not args.startswith("["):
        args = args.split(" CMD ", 1)[1].strip()
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for kw, args in dockerfile_instructions():
        if kw == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def interpolate(value: Any) -> str:
    """Compose's ``${VAR:-default}`` with the variables unset, as in a plain ``up``."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))


def test_compose_file_matches_the_compose_schema(tmp_path: Path) -> None:
    tool = Path(sys.executable).with_name("check-jsonschema")
    assert tool.exists(), "check-jsonschema is a dev dependency (make install)"
    cmd = [str(tool), "--builtin-schema", "vendor.compose-spec"]
    ok = subprocess.run([*cmd, str(COMPOSE)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "docker-compose.yml"  # the check can fail
    broken.write_text("services:\n  api:\n    depends_on: 5\n")
    assert subprocess.run([*cmd, str(broken)], capture_output=True, timeout=120).returncode != 0


def test_compose_services_and_settings_names() -> None:
    spec = compose()
    assert set(spec["services"]) == {"api", "postgres"}  # no ray services until an executor
    api, pg = spec["services"]["api"], spec["services"]["postgres"]
    assert api["build"] == "." and api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert f"{IMAGE_PORT}:{IMAGE_PORT}" in api["ports"] and "pg_isready" in str(pg["healthcheck"])
    env = api["environment"]
    assert interpolate(env["MIPGUIDE_DB_URL"]).endswith("@postgres:5432/mipguide")
    assert any(v.endswith(":" + env["MIPGUIDE_DATA_DIR"]) for v in api["volumes"])
    text = COMPOSE.read_text() + DOCKERFILE.read_text()
    names = set(re.findall(r"MIPGUIDE_([A-Z0-9_]+)", text))
    assert names and {n.lower() for n in names} <= {f.name for f in fields(Settings)}


def test_pins_match_pyproject_and_makefile() -> None:
    pin = re.search(r'"(torch==[^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None
    assert f'"{pin.group(1)}"' in (ROOT / "Makefile").read_text()
    runs = " ".join(args for kw, args in dockerfile_instructions() if kw == "RUN")
    assert f'"{pin.group(1)}"' in runs and "download.pytorch.org/whl/cpu" in runs
    image_extras = set(re.findall(r"\.\[([\w,]+)\]", runs)[0].split(","))
    assert {"server", "postgres"} <= image_extras  # the base install is only the client
    make = re.search(r'-e "\.\[([\w,]+)\]"', (ROOT / "Makefile").read_text())
    assert make is not None and {"server", "postgres"} <= set(make[1].split(","))
    assert last("USER") not in ("root", "0") and IMAGE_PORT in last("EXPOSE").split()


def local(argv: list[str], port: int) -> list[str]:
    """An image command as run here: our interpreter and scripts, a free port for 8000."""
    head = argv[0]
    if head == "python":
        head = sys.executable
    elif (script := Path(sys.executable).with_name(head)).exists():
        head = str(script)
    return [head, *(a.replace(IMAGE_PORT, str(port)) for a in argv[1:])]


@pytest.fixture
def image_server(pg_cluster: PgCluster, tmp_path: Path) -> Iterator[tuple[str, list[str], str]]:
    """The Dockerfile's CMD with the Dockerfile ENV and the compose api environment, the DB
    URL pointing at a fresh PostgreSQL database and the data dir in tmp; yields (url,
    healthcheck command, database URL)."""
    env_names = compose()["services"]["api"]["environment"]
    env = {**dockerfile_env(), **{k: interpolate(v) for k, v in env_names.items()}}
    env["MIPGUIDE_DB_URL"] = pg_cluster.new_database()
    env["MIPGUIDE_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    health = local(exec_form(last("HEALTHCHECK")), port)
    assert subprocess.run(health, capture_output=True, timeout=30).returncode != 0  # not up yet
    path = os.pathsep.join(p for p in sys.path if p)
    full_env = {**os.environ, "PYTHONPATH": path, **env}
    proc = subprocess.Popen(
        local(exec_form(last("CMD")), port), env=full_env, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(url):
            assert proc.poll() is None, f"server exited with {proc.returncode}"
            assert time.monotonic() < deadline, "server not ready after 60 s"
            time.sleep(0.2)
        yield url, health, env["MIPGUIDE_DB_URL"]
    finally:
        proc.terminate()
        proc.wait(30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_image_command_serves_and_solves_on_postgres(
    image_server: tuple[str, list[str], str], miplib_dir: Path, tmp_path: Path
) -> None:
    url, health, db_url = image_server
    check = subprocess.run(health, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    path = miplib_dir / "p0033.mps.gz"
    with httpx.Client(base_url=url, timeout=90) as http:
        assert http.get("/readyz").json()["store"] is True
        resp = http.post(
            "/v1/jobs", params={"wait": 60}, files={"file": (path.name, path.read_bytes())}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["objective"] == pytest.approx(3089)
        assert resp.json()["state"] == "completed"
    # the job is in PostgreSQL, not in a SQLite file in the data dir
    store = JobStore(db_url)
    try:
        job = store.get(resp.json()["id"])
        assert job is not None and job.objective == pytest.approx(3089)
    finally:
        store.close()
    assert not list(tmp_path.rglob("*.db"))


def test_missing_postgres_skips_locally_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "pg_bin_dir", lambda: None)
    monkeypatch.delenv(pg.REQUIRED_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="initdb"):
        pg.start_cluster()
    monkeypatch.setenv(pg.REQUIRED_ENV, "required")
    with pytest.raises(pytest.fail.Exception, match="initdb"):
        pg.start_cluster()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"export {pg.REQUIRED_ENV}=required" in ci and ci.rstrip().endswith("make test")
