"""The light install: ``pip install .`` without extras into a clean venv gives the client, the
remote CLI and the readers (no torch, no solvers), and they talk to a running server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.serverutil import KEY_A, Server

ROOT = Path(__file__).parents[2]
HEAVY = ("torch", "torch_geometric", "pyscipopt", "ortools", "fastapi", "uvicorn", "sqlalchemy")

pytestmark = pytest.mark.slow

CLIENT_SCRIPT = """
import sys
from mipguide.client import MipguideClient
from mipguide.problem.jsonschema import JsonModel

model = JsonModel.model_validate({
    "maximize": True,
    "csr_constraint_matrix": {"offsets": [0, 3], "indices": [0, 1, 2], "values": [3, 4, 5]},
    "constraint_bounds": {"upper_bounds": [8], "lower_bounds": [None]},
    "objective_data": {"coefficients": [4, 5, 6]},
    "variable_types": ["B", "B", "B"],
    "variable_names": ["a", "b", "c"],
})
with MipguideClient(sys.argv[1], sys.argv[2]) as c:
    job = c.submit_model(model, time_limit=10)
    job = c.wait(job.id, timeout=60)
    print(job.state, c.result(job.id).values)
heavy = [m for m in sys.argv[3:] if m in sys.modules]
print("heavy imported:", heavy)
"""


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv with ``pip install <a copy of the project>`` and nothing else; its bin folder."""
    base = tmp_path_factory.mktemp("light")
    src = base / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("service", "models", "instances"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(src)],
        check=True,
        timeout=900,
        env=env,
    )
    yield venv / "bin"


def _run(argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")


def test_the_light_install_has_no_torch_and_no_solvers(light: Path) -> None:
    probe = "import importlib.util as u, sys; print([m for m in sys.argv[1:] if u.find_spec(m)])"
    out = _run([str(light / "python"), "-c", probe, *HEAVY])
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_light_cli_and_client_talk_to_a_server(
    light: Path, server: Server, miplib_dir: Path
) -> None:
    common = ["--server", server.url, "--api-key", KEY_A]
    path = str(miplib_dir / "p0033.mps.gz")
    out = _run([str(light / "mipguide"), "submit", path, *common, "--wait"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "completed  optimal  objective=3089" in out.stdout
    job_id = out.stdout.split()[0]
    sol = _run([str(light / "mipguide"), "result", job_id, *common, "--format", "csv"])
    assert sol.returncode == 0 and "variable,value" in sol.stdout
    script = _run([str(light / "python"), "-c", CLIENT_SCRIPT, server.url, KEY_A, *HEAVY])
    assert script.returncode == 0, script.stdout + script.stderr
    assert "completed {'a': 1, 'b': 0, 'c': 1}" in script.stdout
    assert "heavy imported: []" in script.stdout


def test_server_commands_say_which_extra_they_need(light: Path, miplib_dir: Path) -> None:
    for argv in (["solve", str(miplib_dir / "p0033.mps.gz")], ["serve", "--port", "1"]):
        out = _run([str(light / "mipguide"), *argv])
        assert out.returncode == 1, out.stdout + out.stderr
        assert "pip install 'mipguide[server]'" in out.stdout + out.stderr
        assert "Traceback" not in out.stdout + out.stderr
