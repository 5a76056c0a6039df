"""Job store: SQLAlchemy 2 over SQLite (WAL, one writer at a time) or PostgreSQL by URL.

Every method is one short transaction and returns frozen records (``mipguide.jobs.records``).
Both backends behave alike: JSON is strict (no NaN/Infinity, which PostgreSQL rejects), free
text is cleaned (``models.FreeText``), and the tag filter is an exact, case-sensitive substring
test (LIKE is case-insensitive on SQLite and treats ``_``/``%`` as wildcards).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from mipguide.jobs.models import (
    Base,
    BatchRow,
    IncumbentRow,
    JobKind,
    JobRow,
    JobState,
    SolutionRow,
    utcnow,
)
from mipguide.jobs.records import (
    ArchivedSolution,
    BatchRecord,
    IncumbentRecord,
    JobRecord,
    JobSpec,
    Outcome,
)

RESTART_REASON = "interrupted twice by a server restart (re-queued once already)"


def _json_dumps(value: Any) -> str:
    # strict JSON on every backend: PostgreSQL refuses NaN/Infinity, SQLite would store them
    return json.dumps(value, allow_nan=False)


def make_engine(url: str) -> Engine:
    """An engine; for SQLite: WAL, NORMAL sync and a busy timeout on every connection.

    Raises:
        ModuleNotFoundError: the database driver is missing (PostgreSQL: extra ``postgres``).
    """
    if not url.startswith("sqlite"):
        try:
            return create_engine(
                url,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=20,
                json_serializer=_json_dumps,
            )
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                f"no driver for {url.split('://')[0]}: {exc} "
                "(for PostgreSQL: pip install 'mipguide[postgres]')"
            ) from exc
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_json_dumps
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def _unstorable(*values: str | None) -> bool:
    """A NUL can match nothing stored, and PostgreSQL fails a query that carries one."""
    return any(v is not None and "\x00" in v for v in values)


def migrate(engine: Engine) -> list[str]:
    """Add the columns that ``create_all`` cannot add to a table made by an older release.

    Returns:
        The columns added (``jobs.kind``: existing rows become ``solve`` jobs; ``jobs.bound``:
        unknown for the jobs that ended before it).
    """
    columns = {c["name"] for c in inspect(engine).get_columns("jobs")}
    added: list[str] = []
    if "kind" not in columns:
        ddl = f"ALTER TABLE jobs ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT '{JobKind.SOLVE}'"
        with engine.begin() as conn:
            conn.execute(text(ddl))
        added.append("jobs.kind")
    if "bound" not in columns:  # the dual bound of a finished solve (the job list's gap)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE jobs ADD COLUMN bound FLOAT"))
        added.append("jobs.bound")
    return added


class JobStore:
    """Persistent jobs, batches and incumbents."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer; serializing writes here avoids busy retries under load.
        # PostgreSQL takes concurrent writers (every transition is a guarded UPDATE).
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._write_lock, self._sessions.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def _contains(self, column: Any, needle: str) -> ColumnElement[bool]:
        """Exact, case-sensitive substring test (no LIKE wildcards) on every backend."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return func.instr(column, needle) > 0
        if dialect == "postgresql":
            return func.strpos(column, needle) > 0
        return column.contains(needle, autoescape=True)  # type: ignore[no-any-return]

    def ping(self) -> bool:
        with self._read() as s:
            s.execute(select(1))
        return True

    # --- jobs ---------------------------------------------------------------------------
    def create_jobs(self, specs: Sequence[JobSpec]) -> list[JobRecord]:
        """Insert queued jobs in one transaction; their ``seq`` follows the given order."""
        rows = [
            JobRow(
                id=s.id,
                owner=s.owner,
                kind=s.kind.value,
                batch_id=s.batch_id,
                state=JobState.QUEUED.value,
                priority=s.priority,
                created_at=utcnow(),
                options=s.options,
                tags=list(s.tags),
                tags_text="," + ",".join(s.tags) + ",",
                filename=s.filename,
                problem_name=s.problem_name,
                num_vars=s.num_vars,
                num_rows=s.num_rows,
                nnz=s.nnz,
                input_path=s.input_path,
            )
            for s in specs
        ]
        with self._write() as session:
            session.add_all(rows)
            session.flush()
            return [JobRecord.from_row(r) for r in rows]

    def get(self, job_id: str) -> JobRecord | None:
        if _unstorable(job_id):
            return None
        with self._read() as s:
            row = s.scalar(select(JobRow).where(JobRow.id == job_id))
            return JobRecord.from_row(row) if row is not None else None

    def list_jobs(
        self,
        *,
        owner: str | None = None,
        state: JobState | None = None,
        tag: str | None = None,
        batch_id: str | None = None,
        kind: JobKind | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[JobRecord], int]:
        """Jobs newest first, and the total count matching the filters."""
        if _unstorable(owner, tag, batch_id):
            return [], 0
        query = select(JobRow)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        if state is not None:
            query = query.where(JobRow.state == state.value)
        if tag is not None:
            query = query.where(self._contains(JobRow.tags_text, f",{tag},"))
        if batch_id is not None:
            query = query.where(JobRow.batch_id == batch_id)
        if kind is not None:
            query = query.where(JobRow.kind == kind.value)
        with self._read() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = s.scalars(query.order_by(JobRow.seq.desc()).limit(limit).offset(offset))
            return [JobRecord.from_row(r) for r in rows], int(total)

    def queued(self) -> list[JobRecord]:
        """Queued jobs in run order: priority high first, FIFO within a priority."""
        query = (
            select(JobRow)
            .where(JobRow.state == JobState.QUEUED.value)
            .order_by(JobRow.priority.desc(), JobRow.seq)
        )
        with self._read() as s:
            return [JobRecord.from_row(r) for r in s.scalars(query)]

    def queue_position(self, job: JobRecord) -> int:
        """0-based position among queued jobs (the number ahead of it)."""
        ahead = (JobRow.priority > job.priority) | (
            (JobRow.priority == job.priority) & (JobRow.seq < job.seq)
        )
        query = select(func.count()).where(JobRow.state == JobState.QUEUED.value, ahead)
        with self._read() as s:
            return int(s.scalar(query) or 0)

    def counts(self, *, owner: str | None = None, batch_id: str | None = None) -> dict[str, int]:
        query = select(JobRow.state, func.count()).group_by(JobRow.state)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        if batch_id is not None:
            query = query.where(JobRow.batch_id == batch_id)
        out = {s.value: 0 for s in JobState}
        with self._read() as s:
            for state, n in s.execute(query):
                out[state] = int(n)
        return out

    def count_active(self, owner: str) -> int:
        query = select(func.count()).where(
            JobRow.owner == owner,
            JobRow.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
        )
        with self._read() as s:
            return int(s.scalar(query) or 0)

    def count_active_in(self, job_ids: Sequence[str]) -> int:
        """How many of these jobs are queued or running."""
        if not job_ids:
            return 0
        query = select(func.count()).where(
            JobRow.id.in_(job_ids),
            JobRow.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
        )
        with self._read() as s:
            return int(s.scalar(query) or 0)

    def mark_running(self, job_id: str) -> bool:
        """queued -> running (counts an attempt); False when the job is no longer queued."""
        with self._write() as s:
            res = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == JobState.QUEUED.value)
                .values(
                    state=JobState.RUNNING.value,
                    started_at=utcnow(),
                    attempts=JobRow.attempts + 1,
                )
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def finish(self, job_id: str, outcome: Outcome) -> bool:
        """Move a non-terminal job to its terminal state; False if it already ended."""
        values: dict[str, Any] = {
            "state": outcome.state.value,
            "finished_at": utcnow(),
            "result_path": outcome.result_path,
            "status": outcome.status,
            "termination": outcome.termination,
            "objective": outcome.objective,
            "bound": outcome.bound,
            "solve_seconds": outcome.solve_seconds,
            "error": outcome.error,
        }
        active = [JobState.QUEUED.value, JobState.RUNNING.value]
        with self._write() as s:
            res = s.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.state.in_(active)).values(values)
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def recover(self) -> tuple[list[str], list[str]]:
        """After a restart: re-queue jobs left running (once), fail the twice-interrupted.

        Returns:
            (re-queued job ids, failed job ids)
        """
        requeued: list[str] = []
        failed: list[str] = []
        with self._write() as s:
            rows = s.scalars(select(JobRow).where(JobRow.state == JobState.RUNNING.value))
            for row in rows:
                if row.requeues < 1:
                    row.state, row.requeues, row.started_at = JobState.QUEUED.value, 1, None
                    requeued.append(row.id)
                else:
                    row.state, row.finished_at = JobState.FAILED.value, utcnow()
                    row.error = RESTART_REASON
                    failed.append(row.id)
            if requeued:  # a re-run reports its incumbents afresh
                s.execute(delete(IncumbentRow).where(IncumbentRow.job_id.in_(requeued)))
        return requeued, failed

    def delete_jobs(self, job_ids: Sequence[str]) -> None:
        if not job_ids:
            return
        with self._write() as s:
            s.execute(delete(IncumbentRow).where(IncumbentRow.job_id.in_(job_ids)))
            s.execute(delete(JobRow).where(JobRow.id.in_(job_ids)))

    def expired(self, before: datetime) -> list[str]:
        """Ids of terminal jobs finished before ``before``."""
        terminal = [s.value for s in JobState if s.terminal]
        query = select(JobRow.id).where(JobRow.state.in_(terminal), JobRow.finished_at < before)
        with self._read() as s:
            return list(s.scalars(query))

    # --- incumbents -----------------------------------------------------------------------
    def add_incumbent(self, job_id: str, inc: IncumbentRecord) -> None:
        with self._write() as s:
            s.add(
                IncumbentRow(
                    job_id=job_id,
                    seq=inc.seq,
                    t=inc.t,
                    objective=inc.objective,
                    bound=inc.bound,
                    source=inc.source,
                )
            )

    def incumbents(self, job_id: str, since: int = 0) -> list[IncumbentRecord]:
        """Incumbents with ``seq > since`` (seq counts from 1), in order."""
        query = (
            select(IncumbentRow)
            .where(IncumbentRow.job_id == job_id, IncumbentRow.seq > since)
            .order_by(IncumbentRow.seq)
        )
        with self._read() as s:
            return [IncumbentRecord.from_row(r) for r in s.scalars(query)]

    def latest_incumbents(self, job_ids: Sequence[str]) -> dict[str, IncumbentRecord]:
        """The newest incumbent of each job that has one (one query: the job list's figures)."""
        if not job_ids:
            return {}
        last = (
            select(IncumbentRow.job_id, func.max(IncumbentRow.seq).label("seq"))
            .where(IncumbentRow.job_id.in_(list(job_ids)))
            .group_by(IncumbentRow.job_id)
            .subquery()
        )
        query = select(IncumbentRow).join(
            last, (IncumbentRow.job_id == last.c.job_id) & (IncumbentRow.seq == last.c.seq)
        )
        with self._read() as s:
            return {r.job_id: IncumbentRecord.from_row(r) for r in s.scalars(query)}

    # --- batches --------------------------------------------------------------------------
    def create_batch(self, batch_id: str, owner: str, options: dict[str, Any]) -> BatchRecord:
        row = BatchRow(id=batch_id, owner=owner, created_at=utcnow(), options=options)
        with self._write() as s:
            s.add(row)
            s.flush()
            return BatchRecord.from_row(row)

    def get_batch(self, batch_id: str) -> BatchRecord | None:
        if _unstorable(batch_id):
            return None
        with self._read() as s:
            row = s.get(BatchRow, batch_id)
            return BatchRecord.from_row(row) if row is not None else None

    def batch_job_ids(self, batch_id: str) -> list[str]:
        query = select(JobRow.id).where(JobRow.batch_id == batch_id).order_by(JobRow.seq)
        with self._read() as s:
            return list(s.scalars(query))

    def delete_batch(self, batch_id: str) -> None:
        with self._write() as s:
            s.execute(delete(BatchRow).where(BatchRow.id == batch_id))

    # --- the solution archive -------------------------------------------------------------
    def add_solution(self, owner: str, solution: ArchivedSolution, keep: int) -> list[str]:
        """``add_solutions`` of one."""
        return self.add_solutions(owner, [solution], keep)

    def add_solutions(
        self, owner: str, solutions: Sequence[ArchivedSolution], keep: int
    ) -> list[str]:
        """Archive a job's solutions (in this order: the last is the newest); trim the owner's
        archive to its newest ``keep``, in the same transaction.

        Returns:
            The problem hashes no archived solution refers to any more (their files can go).
        """
        with self._write() as s:
            now = utcnow()
            s.add_all(
                SolutionRow(
                    owner=owner,
                    job_id=solution.job_id,
                    tags_text="," + ",".join(solution.tags) + ",",
                    problem_hash=solution.problem_hash,
                    objective=solution.objective,
                    num_binaries=solution.num_binaries,
                    x_bits=solution.x_bits,
                    created_at=now,
                )
                for solution in solutions
            )
            s.flush()
            newest = (
                select(SolutionRow.seq)
                .where(SolutionRow.owner == owner)
                .order_by(SolutionRow.seq.desc())
                .limit(keep)
            )
            old = select(SolutionRow.seq).where(
                SolutionRow.owner == owner, SolutionRow.seq.not_in(newest.scalar_subquery())
            )
            return self._drop_solutions(s, list(s.scalars(old)))

    def solutions(self, owner: str, tag: str) -> list[ArchivedSolution]:
        """The owner's archived solutions of jobs that carried ``tag``, oldest first."""
        if _unstorable(tag):
            return []
        query = (
            select(SolutionRow)
            .where(SolutionRow.owner == owner, self._contains(SolutionRow.tags_text, f",{tag},"))
            .order_by(SolutionRow.seq)
        )
        with self._read() as s:
            return [ArchivedSolution.from_row(r) for r in s.scalars(query)]

    def forget_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Delete the archived solutions of these jobs; returns the hashes left unreferenced."""
        if not job_ids:
            return []
        with self._write() as s:
            seqs = s.scalars(select(SolutionRow.seq).where(SolutionRow.job_id.in_(job_ids)))
            return self._drop_solutions(s, list(seqs))

    @staticmethod
    def _drop_solutions(s: Session, seqs: list[int]) -> list[str]:
        if not seqs:
            return []
        hashes = set(s.scalars(select(SolutionRow.problem_hash).where(SolutionRow.seq.in_(seqs))))
        s.execute(delete(SolutionRow).where(SolutionRow.seq.in_(seqs)))
        kept = set(
            s.scalars(select(SolutionRow.problem_hash).where(SolutionRow.problem_hash.in_(hashes)))
        )
        return sorted(hashes - kept)
