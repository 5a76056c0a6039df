"""API test helpers: a real server (uvicorn subprocess, SQLite, spawn workers) on loopback, and
the same app in the test process behind the ASGI transport (for what needs no server process)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mipguide.bench.api import TINY_MPS as TINY_MPS_TEXT
from mipguide.bench.api import free_port, start_server, stop_process
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
        stop_process(self.proc, 30.0, sig)

    def restart(self) -> None:
        self.stop()
        port = int(self.url.rsplit(":", 1)[1])
        self.proc = start_server(self.data_dir, self.workers, port, self.env)


def launch(data_dir: Path, workers: int, ready_seconds: float = 60.0, **settings: str) -> Server:
    """A server with the test keys and caps and ``settings`` (``MIPGUIDE_*``); up to
    ``ready_seconds`` to get ready (a server that is not is stopped and reaped)."""
    env = {
        "MIPGUIDE_API_KEYS": f"{KEY_A},{KEY_B}",
        "MIPGUIDE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "MIPGUIDE_CANCEL_GRACE": "0.5",
        "MIPGUIDE_KILL_GRACE": "0.5",
        **{f"MIPGUIDE_{k.upper()}": v for k, v in settings.items()},
    }
    port = free_port()
    proc = start_server(data_dir, workers, port, env, ready_seconds)
    return Server(f"http://127.0.0.1:{port}", data_dir, proc, workers, env)


@dataclass
class InProcess:
    """The app in this process, reached through the ASGI transport that the client accepts; no
    server process, no port. Its job store (SQLite under ``data_dir``) and its worker processes
    are the real ones. Tests of what only a server process shows (cancel and kill of workers,
    restart, SSE streaming, concurrent connections, the CLI) use ``Server``."""

    url: str
    data_dir: Path
    transport: httpx.BaseTransport

    def client(self, key: str = KEY_A) -> MipguideClient:
        return MipguideClient(self.url, key, timeout=60, transport=self.transport)

    def http(self, key: str | None = KEY_A) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(
            base_url=self.url, headers=headers, timeout=60, transport=self.transport
        )


class SyncASGITransport(httpx.BaseTransport):
    """httpx's ``ASGITransport`` for a sync client: each request runs on ``loop`` (a thread's
    event loop, the one that holds the app's lifespan). The response is read whole, as
    ``ASGITransport`` does anyway, so endless streams (SSE) are for ``Server``."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> tuple[int, httpx.Headers, bytes]:
            body = request.read()
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            resp = await self._asgi.handle_async_request(inner)
            return resp.status_code, resp.headers, await resp.aread()

        status, headers, content = asyncio.run_coroutine_threadsafe(send(), self._loop).result()
        return httpx.Response(status, headers=headers, content=content, request=request)


@contextmanager
def in_process(data_dir: Path, workers: int, **settings: object) -> Iterator[InProcess]:
    """``create_app`` with the test keys and caps; its lifespan (job manager, worker processes)
    runs on an event loop in a thread, which also serves every request of the yield."""
    from mipguide.api.app import create_app
    from mipguide.settings import Settings

    config = Settings(
        api_keys=f"{KEY_A},{KEY_B}",
        max_upload_bytes=MAX_UPLOAD,
        cancel_grace=0.5,
        kill_grace=0.5,
        data_dir=data_dir,
        workers=workers,
        **settings,  # type: ignore[arg-type]
    )
    app = create_app(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="asgi-app", daemon=True)
    thread.start()
    lifespan = app.router.lifespan_context(app)
    asyncio.run_coroutine_threadsafe(lifespan.__aenter__(), loop).result()
    try:
        proc = InProcess("http://app.test", data_dir, SyncASGITransport(app, loop))
        ready_workers(proc, workers, 60.0)  # a test's first request finds its workers up
        yield proc
    finally:
        asyncio.run_coroutine_threadsafe(lifespan.__aexit__(None, None, None), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


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


def ready_workers(srv: Server | InProcess, workers: int, timeout: float = 90.0) -> None:
    """Wait until the server reports ``workers`` ready workers (Ray actors start in seconds)."""
    deadline = time.monotonic() + timeout
    with srv.http(key=None) as http:
        while http.get("/readyz").json()["workers"] < workers:
            assert time.monotonic() < deadline, f"{srv.url}: {workers} workers not ready"
            time.sleep(0.2)
