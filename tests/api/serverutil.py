"""API test helpers: a real server (uvicorn subprocess, SQLite, spawn workers) on loopback."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from mipguide.bench.api import TINY_MPS as TINY_MPS_TEXT
from mipguide.bench.api import free_port, start_server
from mipguide.client import MipguideClient

KEY_A, KEY_B = "key-alpha-123", "key-beta-456"
MAX_UPLOAD = 2 * 1024 * 1024


@dataclass
class Server:
    """A running server subprocess and how to reach it."""

    url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    workers: int
    env: dict[str, str]

    def client(self, key: str = KEY_A) -> MipguideClient:
        return MipguideClient(self.url, key, timeout=60)

    def http(self, key: str | None = KEY_A) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        port = int(self.url.rsplit(":", 1)[1])
        self.proc = start_server(self.data_dir, self.workers, port, self.env)


def launch(data_dir: Path, workers: int, **settings: str) -> Server:
    env = {
        "MIPGUIDE_API_KEYS": f"{KEY_A},{KEY_B}",
        "MIPGUIDE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "MIPGUIDE_CANCEL_GRACE": "0.5",
        "MIPGUIDE_KILL_GRACE": "0.5",
        **{f"MIPGUIDE_{k.upper()}": v for k, v in settings.items()},
    }
    port = free_port()
    proc = start_server(data_dir, workers, port, env)
    return Server(f"http://127.0.0.1:{port}", data_dir, proc, workers, env)


TINY_MPS = TINY_MPS_TEXT.encode()


def submit_concurrently(url: str, key: str, tag: str, n: int) -> list[httpx.Response]:
    """Upload n tiny models at once (one asyncio client, 50 connections); the responses."""

    async def submit_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(
            base_url=url, headers={"X-API-Key": key}, timeout=120, limits=limits
        ) as http:
            sends = [
                http.post(
                    "/v1/jobs",
                    files={"file": (f"tiny{i}.mps", TINY_MPS)},
                    data={"tags": tag, "time_limit": "10"},
                )
                for i in range(n)
            ]
            return await asyncio.gather(*sends)

    return asyncio.run(submit_all())
