"""The event bus across replicas: two buses on one real PostgreSQL (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import create_engine

from mipguide.jobs.cluster_bus import MAX_LINE, MAX_PAYLOAD, ClusterBus, decode, encode
from mipguide.jobs.events import JobEvent


def _ready(*buses: ClusterBus) -> None:
    deadline = time.monotonic() + 20
    while not all(b.listening.is_set() for b in buses):
        assert time.monotonic() < deadline, "listener not subscribed"
        time.sleep(0.05)


def test_events_of_one_replica_reach_the_subscribers_of_another(pg_url: str) -> None:
    a = ClusterBus(create_engine(pg_url), "replica-a")
    b = ClusterBus(create_engine(pg_url), "replica-b")
    a.start()
    b.start()
    try:
        _ready(a, b)

        async def follow() -> tuple[list[JobEvent], list[JobEvent], float]:
            on_b, on_a = b.subscribe("j1"), a.subscribe("j1")
            t0 = time.monotonic()
            a.publish(JobEvent("j1", "incumbent", {"seq": 1, "objective": 3.5}))
            for k in range(300):  # a solver's closing statistics: one batch of lines
                a.publish(JobEvent("j1", "log", {"line": f"line {k}"}))
            a.publish(JobEvent("j1", "state", {"state": "completed"}))
            got_b: list[JobEvent] = []
            first = None
            while len(got_b) < 302:
                event = await on_b.get(10.0)
                assert event is not None, f"only {len(got_b)} events reached replica b"
                first = first or time.monotonic() - t0
                got_b.append(event)
            got_a = []
            while (event := await on_a.get(0.5)) is not None:
                got_a.append(event)
            on_a.close()
            on_b.close()
            return got_b, got_a, first or 0.0

        got_b, got_a, latency = asyncio.run(follow())
        assert [e.kind for e in got_b][:2] == ["incumbent", "log"]
        assert got_b[0].data == {"seq": 1, "objective": 3.5}
        assert [e.data["line"] for e in got_b[1:301]] == [f"line {k}" for k in range(300)]
        assert got_b[-1].data == {"state": "completed"}
        assert len(got_a) == 302  # its own, once each: not echoed back from the database
        assert latency < 2.0
    finally:
        for bus in (a, b):
            bus.stop()
            bus.engine.dispose()


def test_payloads_fit_the_notification_limit() -> None:
    long = JobEvent("j", "log", {"line": "x" * 50_000})
    payload = encode("r", long)
    assert len(payload.encode()) <= MAX_PAYLOAD
    decoded = decode(payload)
    assert decoded is not None and decoded[0] == "r"
    assert decoded[1].data["line"] == "x" * MAX_LINE
    odd = JobEvent("j", "progress", {"blob": "é" * 10_000})
    assert json.loads(encode("r", odd))["d"] == {}
    assert decode("not json") is None and decode('{"r": 1}') is None
