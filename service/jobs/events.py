"""In-memory publish/subscribe of job events (state, incumbent, log) for SSE and ``?wait``.

Publishers are executor threads; subscribers are asyncio consumers on the server's loop.
"""

from __future__ import annotations

import asyncio
import math
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobEvent:
    """One thing that happened to a job.

    Attributes:
        job_id: the job.
        kind: "state", "incumbent" or "log".
        data: JSON-safe payload ({"state": ...}, an incumbent with its seq, {"line": ...}).
    """

    job_id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def _finite(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in data.items()
    }


class Subscription:
    """A queue of one job's events, bound to the loop that created it."""

    def __init__(self, bus: EventBus, job_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.bus = bus
        self.job_id = job_id
        self.loop = loop
        self.queue: asyncio.Queue[JobEvent] = asyncio.Queue()

    async def get(self, timeout: float | None = None) -> JobEvent | None:
        """The next event, or None after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.bus._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fan-out of job events to the subscribers of that job."""

    def __init__(self) -> None:
        self._subs: dict[str, list[Subscription]] = {}
        self._lock = threading.Lock()

    def subscribe(self, job_id: str) -> Subscription:
        """Subscribe from a coroutine (uses the running loop)."""
        sub = Subscription(self, job_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(job_id, []).append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.job_id, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._subs.pop(sub.job_id, None)

    def publish(self, event: JobEvent) -> None:
        """Deliver to every subscriber of the job; safe from any thread."""
        with self._lock:
            subs = list(self._subs.get(event.job_id, ()))
        if not subs:
            return
        event = JobEvent(event.job_id, event.kind, _finite(event.data))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.queue.put_nowait, event)
            except RuntimeError:  # the subscriber's loop is closed
                self._unsubscribe(sub)
