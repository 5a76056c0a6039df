"""Prometheus metrics of one server: jobs by state, queue depth, busy workers, solve times."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mipguide.jobs.models import JobState
from mipguide.jobs.records import JobRecord, Outcome

if TYPE_CHECKING:
    from mipguide.jobs.manager import JobManager

SOLVE_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600)


class _Live(Collector):
    """Gauges read from the store and the executor at scrape time."""

    def __init__(self) -> None:
        self.manager: JobManager | None = None

    def collect(self) -> Iterator[Metric]:
        if self.manager is None:
            return
        jobs = GaugeMetricFamily("mipguide_jobs", "Jobs in the store by state", labels=["state"])
        for state, n in self.manager.store.counts().items():
            jobs.add_metric([state], n)
        yield jobs
        ex = self.manager.executor
        yield GaugeMetricFamily("mipguide_queue_depth", "Jobs waiting", value=ex.queue_depth())
        yield GaugeMetricFamily(
            "mipguide_workers_busy", "Workers running a job", value=ex.busy_workers()
        )
        yield GaugeMetricFamily(
            "mipguide_workers_alive", "Worker processes ready", value=ex.alive_workers()
        )


class Metrics:
    """The registry of one app (separate registries let tests run several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.submitted = Counter(
            "mipguide_jobs_submitted", "Jobs accepted, by kind", ["kind"], registry=self.registry
        )
        self.finished = Counter(
            "mipguide_jobs_finished",
            "Jobs ended, by kind and state",
            ["kind", "state"],
            registry=self.registry,
        )
        self.solve_seconds = Histogram(
            "mipguide_solve_seconds",
            "Wall seconds of completed jobs (in the worker), by kind",
            ["kind"],
            buckets=SOLVE_BUCKETS,
            registry=self.registry,
        )
        self._live = _Live()
        self.registry.register(self._live)

    def bind(self, manager: JobManager) -> None:
        self._live.manager = manager

    def on_finish(self, job: JobRecord, outcome: Outcome) -> None:
        self.finished.labels(job.kind.value, outcome.state.value).inc()
        if outcome.state == JobState.COMPLETED and outcome.solve_seconds is not None:
            self.solve_seconds.labels(job.kind.value).observe(outcome.solve_seconds)
