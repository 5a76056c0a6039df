"""Job store tables (SQLAlchemy 2 ORM): jobs, batches, incumbents; and the job states.

The schema is created with ``create_all`` on startup. ``create_all`` never changes an existing
table, so columns added later are added by ``mipguide.jobs.store.migrate`` (``jobs.kind``,
``jobs.bound``, the lease columns); any other change needs a fresh database or a real migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class JobKind(StrEnum):
    """What a job runs: a MILP solve, a DMMV search (discrete min-max violation), or the
    training of a guided model."""

    SOLVE = "solve"
    DMMV = "dmmv"
    TRAIN = "train"


class JobState(StrEnum):
    """queued -> running -> completed | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


TERMINAL_STATES = tuple(s for s in JobState if s.terminal)


def utcnow() -> datetime:
    return datetime.now(UTC)


class FreeText(TypeDecorator[str]):
    """Free text from outside (file names, model names, error messages, solver words).

    PostgreSQL rejects NUL characters and strings longer than a VARCHAR(n), where SQLite
    stores anything; binding drops NULs and cuts to ``length`` so both accept the same values.
    Not for keys (ids): cutting a key could make two differ only past the cut.
    """

    impl = Text
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__()
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(String(self.length) if self.length else Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        value = value.replace("\x00", "")
        return value[: self.length] if self.length else value


class Base(DeclarativeBase):
    pass


class JobRow(Base):
    """One job (a solve or a DMMV search). ``seq`` orders submissions (FIFO within a priority)."""

    __tablename__ = "jobs"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    owner: Mapped[str] = mapped_column(String(64), default="", index=True)
    # added after the first release: ``migrate`` adds it to older databases (rows there: solve)
    kind: Mapped[str] = mapped_column(
        String(16), default=JobKind.SOLVE.value, server_default=JobKind.SOLVE.value
    )
    batch_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ",a,b," so that a tag filter is a portable LIKE '%,a,%' on SQLite and PostgreSQL
    tags_text: Mapped[str] = mapped_column(Text, default=",")
    filename: Mapped[str] = mapped_column(FreeText(512), default="")
    problem_name: Mapped[str] = mapped_column(FreeText(512), default="")
    num_vars: Mapped[int] = mapped_column(Integer, default=0)
    num_rows: Mapped[int] = mapped_column(Integer, default=0)
    nnz: Mapped[int] = mapped_column(Integer, default=0)
    input_path: Mapped[str] = mapped_column(FreeText(), default="")
    result_path: Mapped[str | None] = mapped_column(FreeText(), default=None)
    status: Mapped[str | None] = mapped_column(FreeText(32), default=None)
    termination: Mapped[str | None] = mapped_column(FreeText(32), default=None)
    objective: Mapped[float | None] = mapped_column(Float, default=None)
    bound: Mapped[float | None] = mapped_column(Float, default=None)
    solve_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    error: Mapped[str | None] = mapped_column(FreeText(), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    # the replica running it and until when its lease holds (renewed by that replica's
    # heartbeat); a running job whose lease ran out is re-queued by any replica
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # a cancel asked of a replica that does not run the job: the one that does acts on it
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_jobs_state_priority_seq", "state", "priority", "seq"),)


class BatchRow(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncumbentRow(Base):
    """An improving solution reported during a solve (values live in the result file)."""

    __tablename__ = "incumbents"

    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    t: Mapped[float] = mapped_column(Float)
    objective: Mapped[float] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float, default=None)
    source: Mapped[str] = mapped_column(FreeText(16), default="solver")


class SolutionRow(Base):
    """A verified solution a finished solve job found, kept to train on (the solution archive).

    It outlives its job (retention purges jobs, not these); deleting the job deletes it; each
    key keeps at most ``Settings.archive_per_key`` (the oldest go first). The problem itself is
    one file per ``problem_hash`` under ``<data_dir>/archive``.
    """

    __tablename__ = "solutions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64), default="", index=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    # ",a,b," as in jobs.tags_text
    tags_text: Mapped[str] = mapped_column(Text, default=",")
    problem_hash: Mapped[str] = mapped_column(String(64), index=True)
    objective: Mapped[float] = mapped_column(Float)
    num_binaries: Mapped[int] = mapped_column(Integer)
    x_bits: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
