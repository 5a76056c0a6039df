"""Dockerfile and docker-compose.yml, checked without a Docker engine: the compose file against
the compose schema, its MIPGUIDE_* names against Settings, the pins against pyproject and the
Makefile, and the image's CMD and HEALTHCHECK run here with the compose api environment against
a throwaway PostgreSQL (tests/pg.py) - i.e. what the container would run, minus the container."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
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
from tests.required import need

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
    services = spec["services"]
    assert set(services) == {"api", "proxy", "ray-head", "ray-worker", "postgres"}
    api, pg, proxy = services["api"], services["postgres"], services["proxy"]
    assert api["build"] == "." and api["deploy"]["replicas"] == 2
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["ray-head"]["condition"] == "service_healthy"
    assert f"{IMAGE_PORT}:{IMAGE_PORT}" in proxy["ports"] and "ports" not in api
    assert "pg_isready" in str(pg["healthcheck"])
    assert all("healthcheck" in services[n] for n in ("proxy", "ray-head", "ray-worker"))
    env = api["environment"]
    assert interpolate(env["MIPGUIDE_DB_URL"]).endswith("@postgres:5432/mipguide")
    assert env["MIPGUIDE_EXECUTOR"] == "ray" and env["MIPGUIDE_RAY_ADDRESS"] == "ray-head:6379"
    # the API replicas and the Ray workers share the data folder (inputs and results)
    for name in ("api", "ray-worker"):
        assert any(v.endswith(":" + env["MIPGUIDE_DATA_DIR"]) for v in services[name]["volumes"])
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
    assert {"server", "postgres", "ray"} <= image_extras  # the base install is only the client
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


@dataclass
class Stack:
    """The compose services' commands running here: their URLs and health checks."""

    proxy: str
    apis: list[str]
    health: list[list[str]]
    db_url: str


def _nginx() -> str:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    reason = "nginx is not installed (the compose proxy's command; apt-get install nginx)"
    return need(exe, reason, "MIPGUIDE_TEST_NGINX")


def _wait(check: Callable[[], bool], what: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 120
    while not check():
        for proc in procs:
            assert proc.poll() is None, f"{what}: {proc.args!r} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{what} not ready after 120 s"
        time.sleep(0.3)


def _ok(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0


@pytest.fixture
def stack(pg_cluster: PgCluster, tmp_path: Path) -> Iterator[Stack]:
    """Every compose service but PostgreSQL (a throwaway cluster here) run from its own
    command: the Ray head and a worker, the two API replicas (the image's CMD with the compose
    environment and the Dockerfile ENV), nginx with the compose configuration in front of
    them. Ports are free ones; service names are 127.0.0.1."""
    nginx = _nginx()
    services = compose()["services"]
    head_port, proxy_port = free_port(), free_port()
    here = f"127.0.0.1:{head_port}"

    def ray_cmd(name: str) -> list[str]:
        argv = [interpolate(a) for a in services[name]["command"]]
        argv = [here if a == "ray-head:6379" else a.replace("6379", str(head_port)) for a in argv]
        return [*local(argv, head_port), "--node-ip-address", "127.0.0.1"]

    def health(name: str) -> list[str]:
        test = services[name]["healthcheck"]["test"][1:]
        return local([here if a in ("ray-head:6379", "127.0.0.1:6379") else a for a in test], 0)

    procs: list[subprocess.Popen[bytes]] = []
    path = os.pathsep.join(p for p in sys.path if p)
    base_env = {**os.environ, "PYTHONPATH": path}
    try:
        procs.append(subprocess.Popen(ray_cmd("ray-head"), env=base_env, stdout=subprocess.DEVNULL))
        _wait(lambda: _ok(health("ray-head")), "ray head", procs)
        procs.append(
            subprocess.Popen(ray_cmd("ray-worker"), env=base_env, stdout=subprocess.DEVNULL)
        )
        _wait(lambda: _ok(health("ray-worker")), "ray worker", procs)
        env_spec = services["api"]["environment"]
        env = {**dockerfile_env(), **{k: interpolate(v) for k, v in env_spec.items()}}
        env["MIPGUIDE_DB_URL"] = db_url = pg_cluster.new_database()
        env["MIPGUIDE_DATA_DIR"] = str(tmp_path / "data")
        env["MIPGUIDE_RAY_ADDRESS"] = here
        env["MIPGUIDE_RAY_WORKER_CPUS"] = "0.5"  # 2 replicas x 2 actors on the worker's 2 CPUs
        api_ports = [free_port(), free_port()]
        checks = [local(exec_form(last("HEALTHCHECK")), port) for port in api_ports]
        assert not _ok(checks[0])  # not up yet: the check can fail
        for port in api_ports:
            argv = local(exec_form(last("CMD")), port)
            procs.append(
                subprocess.Popen(argv, env={**base_env, **env}, cwd=ROOT, stdout=subprocess.DEVNULL)
            )
        apis = [f"http://127.0.0.1:{port}" for port in api_ports]
        for url in apis:
            _wait(lambda url=url: _ready(url), url, procs)  # type: ignore[misc]
        conf = compose()["configs"]["nginx"]["content"]
        upstream = "".join(f"server 127.0.0.1:{port}; " for port in api_ports)
        conf = conf.replace("server api:8000;", upstream).replace(
            f"listen {IMAGE_PORT};", f"listen 127.0.0.1:{proxy_port};"
        )
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        temps = " ".join(
            f"{k}_temp_path {prefix / k};"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"pid {prefix / 'nginx.pid'}; error_log stderr; events {{}}\n"
            f"http {{ access_log off; {temps}\n{conf}\n}}\n"
        )
        procs.append(
            subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
            )
        )
        proxy = f"http://127.0.0.1:{proxy_port}"
        _wait(lambda: _ready(proxy), "nginx", procs)
        proxy_check = services["proxy"]["healthcheck"]["test"][1:]
        checks.append(
            [a.replace(f"127.0.0.1:{IMAGE_PORT}", f"127.0.0.1:{proxy_port}") for a in proxy_check]
        )
        checks += [health("ray-head"), health("ray-worker")]
        yield Stack(proxy, apis, checks, db_url)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run([*local(["ray"], 0), "stop", "--force"], capture_output=True, timeout=120)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_compose_stack_runs_here_and_solves_through_the_proxy(
    stack: Stack, miplib_dir: Path, tmp_path: Path
) -> None:
    for check in stack.health:
        done = subprocess.run(check, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (check, done.stderr)
    path = miplib_dir / "p0033.mps.gz"
    with httpx.Client(base_url=stack.proxy, timeout=90) as http:
        assert http.get("/readyz").json()["store"] is True
        ids = []
        for _ in range(4):  # round robin: both replicas take submissions
            resp = http.post(
                "/v1/jobs", params={"wait": 60}, files={"file": (path.name, path.read_bytes())}
            )
            assert resp.status_code == 200, resp.text
            assert resp.json()["objective"] == pytest.approx(3089)
            assert resp.json()["state"] == "completed"
            ids.append(resp.json()["id"])
        # the event stream through the proxy, unbuffered, to its end
        with http.stream("GET", f"/v1/jobs/{ids[0]}/events") as events:
            lines = [line for line in events.iter_lines() if line.startswith("event:")]
        assert lines[0] == "event: state" and lines[-1] == "event: end"
        log = http.get(f"/v1/jobs/{ids[0]}/log").text
    # the solve ran on a Ray worker actor, not in an API process
    pid = int(log.split("[worker ")[1].split("]")[0])
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert "ray::" in cmdline or "_SolverActor" in cmdline
    # every job is in PostgreSQL, none in a SQLite file in the data dir; each replica sees all
    store = JobStore(stack.db_url)
    try:
        assert all(store.get(i) is not None for i in ids)
    finally:
        store.close()
    for url in stack.apis:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/v1/jobs").json()["total"] == 4
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
