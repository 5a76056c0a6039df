"""Job events across API replicas: the in-memory bus, bridged through PostgreSQL LISTEN/NOTIFY.

Every event published on a replica (a job's state, incumbents, log lines, progress) reaches its
own subscribers at once and is sent as a notification on the ``mipguide_events`` channel; each
replica listens on its own connection and hands the other replicas' events to its subscribers.
So an SSE stream or a ``?wait`` on any replica follows a job that runs on another.

Notifications are sent by one thread in batches (every ``FLUSH_SECONDS`` or ``BATCH`` events,
one transaction each): a solver's closing statistics are hundreds of log lines. A payload is at
most PostgreSQL's 8000 bytes: a longer log line is cut (the log file keeps it whole). The
listener reconnects when its connection drops; events in that gap are not replayed, and the
SSE route re-reads the job's state from the store when its stream goes quiet.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from typing import Any

from sqlalchemy import Engine, text

from mipguide.jobs.events import EventBus, JobEvent

CHANNEL = "mipguide_events"
FLUSH_SECONDS = 0.02
BATCH = 200
MAX_PAYLOAD = 7900  # bytes; PostgreSQL refuses a payload of 8000 or more
MAX_LINE = 2000  # characters of a log line carried by a notification


def encode(replica: str, event: JobEvent) -> str:
    """The notification payload of an event (a log line cut to fit)."""
    data = event.data
    if event.kind == "log" and isinstance(data.get("line"), str):
        data = {**data, "line": data["line"][:MAX_LINE]}
    payload = json.dumps({"r": replica, "j": event.job_id, "k": event.kind, "d": data})
    if len(payload.encode()) > MAX_PAYLOAD:  # an odd event: its kind and job still go out
        payload = json.dumps({"r": replica, "j": event.job_id, "k": event.kind, "d": {}})
    return payload


def decode(payload: str) -> tuple[str, JobEvent] | None:
    try:
        doc = json.loads(payload)
        return str(doc["r"]), JobEvent(str(doc["j"]), str(doc["k"]), dict(doc["d"]))
    except (ValueError, KeyError, TypeError):
        return None


class ClusterBus(EventBus):
    """An ``EventBus`` whose events also reach the other replicas on the same PostgreSQL."""

    def __init__(self, engine: Engine, replica: str) -> None:
        super().__init__()
        self.engine, self.replica = engine, replica
        self._out: queue.Queue[JobEvent] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listening = threading.Event()  # set while the listener is subscribed

    def start(self) -> None:
        for target, name in ((self._send_loop, "bus-send"), (self._listen_loop, "bus-listen")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5.0)

    def publish(self, event: JobEvent) -> None:
        super().publish(event)
        self._out.put(event)

    # --- sending ----------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._out.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + FLUSH_SECONDS
            while len(batch) < BATCH and (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(self._out.get(timeout=left))
                except queue.Empty:
                    break
            payloads = [{"c": CHANNEL, "p": encode(self.replica, e)} for e in batch]
            # the store away: these events are lost to the other replicas (not to this one's)
            with contextlib.suppress(Exception), self.engine.begin() as conn:
                conn.execute(text("SELECT pg_notify(:c, :p)"), payloads)

    # --- listening --------------------------------------------------------------------------
    def _listen_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                self.listening.clear()
                self._stop.wait(1.0)  # reconnect

    def _listen(self) -> None:
        import psycopg

        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            while not self._stop.is_set():
                for note in conn.notifies(timeout=0.5):
                    self._deliver(note.payload)

    def _deliver(self, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None:
            return
        origin, event = decoded
        if origin != self.replica:  # our own events reached our subscribers already
            EventBus.publish(self, event)


def make_bus(engine: Engine, replica: str) -> EventBus:
    """The bus of a job manager: bridged over PostgreSQL, in-memory on SQLite."""
    if engine.dialect.name == "postgresql":
        bus = ClusterBus(engine, replica)
        bus.start()
        return bus
    return EventBus()


def stop_bus(bus: Any) -> None:
    if isinstance(bus, ClusterBus):
        bus.stop()
