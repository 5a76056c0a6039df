"""Frozen records that leave the job store: ``JobRecord``, ``BatchRecord``, ``IncumbentRecord``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mipguide.jobs.models import BatchRow, IncumbentRow, JobKind, JobRow, JobState, SolutionRow


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class JobSpec:
    """What a submission stores: the parsed problem is already written to ``input_path``."""

    id: str
    owner: str
    options: dict[str, Any]
    priority: int
    tags: tuple[str, ...]
    filename: str
    problem_name: str
    num_vars: int
    num_rows: int
    nnz: int
    input_path: str
    batch_id: str | None = None
    kind: JobKind = JobKind.SOLVE


@dataclass(frozen=True)
class JobRecord:
    id: str
    seq: int
    owner: str
    batch_id: str | None
    state: JobState
    priority: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    options: dict[str, Any]
    tags: tuple[str, ...]
    filename: str
    problem_name: str
    num_vars: int
    num_rows: int
    nnz: int
    input_path: str
    result_path: str | None
    status: str | None
    termination: str | None
    objective: float | None
    solve_seconds: float | None
    error: str | None
    attempts: int
    requeues: int
    kind: JobKind = JobKind.SOLVE
    bound: float | None = None  # the dual bound the result proved (None: none, or not ended)

    @classmethod
    def from_row(cls, row: JobRow) -> JobRecord:
        return cls(
            id=row.id,
            seq=row.seq,
            owner=row.owner,
            batch_id=row.batch_id,
            state=JobState(row.state),
            priority=row.priority,
            created_at=_utc(row.created_at) or row.created_at,
            started_at=_utc(row.started_at),
            finished_at=_utc(row.finished_at),
            options=dict(row.options or {}),
            tags=tuple(row.tags or ()),
            filename=row.filename,
            problem_name=row.problem_name,
            num_vars=row.num_vars,
            num_rows=row.num_rows,
            nnz=row.nnz,
            input_path=row.input_path,
            result_path=row.result_path,
            status=row.status,
            termination=row.termination,
            objective=row.objective,
            solve_seconds=row.solve_seconds,
            error=row.error,
            attempts=row.attempts,
            requeues=row.requeues,
            kind=JobKind(row.kind or JobKind.SOLVE.value),
            bound=row.bound,
        )


@dataclass(frozen=True)
class BatchRecord:
    id: str
    owner: str
    created_at: datetime
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: BatchRow) -> BatchRecord:
        return cls(
            row.id, row.owner, _utc(row.created_at) or row.created_at, dict(row.options or {})
        )


@dataclass(frozen=True)
class IncumbentRecord:
    seq: int
    t: float
    objective: float
    bound: float | None
    source: str

    @classmethod
    def from_row(cls, row: IncumbentRow) -> IncumbentRecord:
        return cls(row.seq, row.t, row.objective, row.bound, row.source)


@dataclass(frozen=True)
class ArchivedSolution:
    """A verified solution of a finished job, as the archive keeps it: the binaries (in
    ``Problem.binary_mask`` order) packed to bits, and the objective in the problem's sense."""

    job_id: str
    tags: tuple[str, ...]
    problem_hash: str
    objective: float
    num_binaries: int
    x_bits: bytes

    @classmethod
    def from_row(cls, row: SolutionRow) -> ArchivedSolution:
        tags = tuple(t for t in row.tags_text.split(",") if t)
        return cls(row.job_id, tags, row.problem_hash, row.objective, row.num_binaries, row.x_bits)


@dataclass(frozen=True)
class Outcome:
    """How a job ended, as the executor reports it to the store."""

    state: JobState
    result_path: str | None = None
    status: str | None = None
    termination: str | None = None
    objective: float | None = None
    solve_seconds: float | None = None
    error: str | None = None
    bound: float | None = None
