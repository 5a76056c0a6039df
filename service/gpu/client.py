"""The server's device pool as job workers see it.

The executor starts one pool for the whole server (``start_pool``) when the ``device_pool``
setting says so, and hands every job worker a client: one device context and one copy of each
model for all jobs, and concurrent jobs' requests batched together.

- Local executor: the pool's worker processes belong to the API process; a job worker reaches
  them through a Unix socket in a private folder (mode 0700) that the server made, with a
  random key (``multiprocessing.connection``: each connection proves it holds the key first).
  One connection per request: ``SocketDeviceClient``.
- Ray executor: the pool is Ray actors (``mipguide.gpu.ray_pool``); a job actor calls them
  directly: ``RayDeviceClient``.

``device_pool=auto`` is on when the server (local) or the cluster (Ray) has a GPU: on a CPU-only
machine a job's network runs faster in its own worker than queued behind other jobs' on one
pool worker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from mipguide.errors import MipguideError
from mipguide.gpu.pool import DevicePool, RequestFailedError
from mipguide.settings import Settings


@dataclass(frozen=True)
class SocketDeviceClient:
    """A job worker's end of the local pool (picklable: the socket's path and key)."""

    address: str
    authkey: bytes

    def run(self, kind: str, payload: Any, coalesce_key: str = "") -> Any:
        """Send one request and wait for its answer.

        Raises:
            RequestFailedError: the pool's handler failed (the message says how), or the pool
                is gone.
        """
        try:
            with Client(self.address, family="AF_UNIX", authkey=self.authkey) as conn:
                conn.send((kind, payload, coalesce_key))
                ok, value = conn.recv()
        except (OSError, EOFError) as exc:
            raise RequestFailedError(f"the device pool is not reachable: {exc}") from exc
        if not ok:
            raise RequestFailedError(str(value))
        return value

    def describe(self) -> str:
        return "device pool (local)"


class DeviceServer:
    """Serves a DevicePool to job workers over a Unix socket (see the module docstring)."""

    def __init__(self, pool: DevicePool) -> None:
        self.pool = pool
        self._dir = tempfile.mkdtemp(prefix="mipguide-pool-")  # mode 0700
        address = os.path.join(self._dir, "pool.sock")
        self._client = SocketDeviceClient(address, os.urandom(32))
        self._listener = Listener(address, family="AF_UNIX", authkey=self._client.authkey)
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="device-server", daemon=True).start()

    def client(self) -> SocketDeviceClient:
        return self._client

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._listener.accept()
            except Exception:  # closed, or a peer without the key: neither stops the server
                if self._closed.is_set():
                    return
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        with conn:
            try:
                kind, payload, key = conn.recv()
                answer = (True, self.pool.submit(kind, payload, key).result())
            except (OSError, EOFError):
                return  # the job worker went away (cancelled): nobody to answer
            except MipguideError as exc:
                answer = (False, str(exc))
            with contextlib.suppress(OSError):
                conn.send(answer)


@dataclass
class ServedPool:
    """A started pool, the client job workers get, and how to stop both."""

    pool: Any  # DevicePool | RayDevicePool
    client: Any  # SocketDeviceClient | RayDeviceClient
    close: Callable[[], None]


def pool_wanted(settings: Settings) -> bool:
    """Whether the server runs a device pool for its jobs (the ``device_pool`` setting)."""
    if settings.device_pool != "auto":
        return settings.device_pool == "on"
    if settings.device == "cpu":
        return False
    if settings.executor == "ray":
        import ray

        return float(ray.cluster_resources().get("GPU", 0.0)) > 0
    if not settings.device.startswith("cuda") and not os.path.exists("/dev/nvidiactl"):
        return False  # no NVIDIA driver: no need to import torch to know
    import torch

    return bool(torch.cuda.is_available())


def start_pool(settings: Settings) -> ServedPool | None:
    """The server's device pool, started, or None when ``pool_wanted`` says no.

    Raises:
        MipguideError: a worker did not start (or a CUDA device was asked for and none seen).
    """
    if not pool_wanted(settings):
        return None
    if settings.executor == "ray":
        from mipguide.gpu.ray_pool import RayDevicePool

        ray_pool = RayDevicePool(settings).start()
        return ServedPool(ray_pool, ray_pool.client(), ray_pool.close)
    pool = DevicePool.from_settings(settings).start()
    server = DeviceServer(pool)

    def close() -> None:
        server.close()
        pool.close()

    return ServedPool(pool, server.client(), close)
