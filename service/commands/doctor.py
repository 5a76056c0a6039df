"""`mipguide doctor`: versions, devices, and which solver backends work here."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import json
import platform
import subprocess
import sys
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from mipguide.settings import Settings, settings_json
from mipguide.solvers.base import backend_names, get_backend

PACKAGES = (
    "numpy",
    "scipy",
    "torch",
    "pyscipopt",
    "ortools",
    "highspy",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "pydantic",
    "typer",
    "httpx",
)


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def torch_devices() -> Callable[[], str]:
    """Start describing torch's devices in a child process (the CLI stays light, and the
    child's torch import runs while the backends are checked); the result waits for it."""
    if importlib.util.find_spec("torch") is None:
        return lambda: "torch not installed (the server extra: pip install 'mipguide[server]')"
    code = (
        "import torch;"
        "n = torch.cuda.device_count();"
        "print(', '.join(['cpu'] + [torch.cuda.get_device_name(i) for i in range(n)]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def result() -> str:
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return "torch import timed out"
        last = err.strip().splitlines()[-1:] or ["no output"]
        return out.strip() or f"error: {last[0][:200]}"

    return result


def backend_status() -> dict[str, str]:
    out = {}
    for name in backend_names(fake=False):
        try:
            out[name] = get_backend(name).version()
        except Exception as exc:  # doctor reports every failure instead of stopping
            out[name] = f"unavailable: {exc}"
    return out


def run_doctor(settings: Settings, console: Console) -> None:
    devices = torch_devices()
    console.print(
        f"mipguide {md.version('mipguide')} on Python {platform.python_version()} "
        f"({platform.system()} {platform.machine()})"
    )
    table = Table("package", "version")
    for name, ver in package_versions().items():
        table.add_row(name, ver)
    console.print(table)
    backends = Table("solver backend", "version / status")
    for name, ver in backend_status().items():
        backends.add_row(name, ver)
    console.print(backends)
    console.print(f"torch devices: {devices()}")
    console.print(f"settings: {json.dumps(public_settings(settings))}")


# settings that hold secrets: doctor says whether they are set, never their values
SECRETS = ("api_keys", "metrics_token", "api_key")


def public_settings(settings: Settings) -> dict[str, object]:
    """The settings as JSON values with secrets masked (a database URL keeps all but its
    password)."""
    out: dict[str, object] = settings_json(settings)
    for name in SECRETS:
        out[name] = "***" if out.get(name) else out.get(name)
    if settings.db_url:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            out["db_url"] = make_url(settings.db_url).render_as_string(hide_password=True)
        except ArgumentError:
            out["db_url"] = "***"
    return out
