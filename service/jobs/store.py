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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
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
LEASE_REASON = "its server replica stopped twice while running it (lease expired; re-queued once)"


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


# a PostgreSQL advisory lock key ("mipguide" in ASCII): one process at a time creates or
# migrates the tables (two replicas starting on a fresh database raced on CREATE TABLE)
SCHEMA_LOCK = 0x6D69706775696465


def create_schema(engine: Engine) -> list[str]:
    """Create the tables and add the later columns (``migrate``), one process at a time on
    PostgreSQL; the columns added."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # held until this transaction ends
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
        Base.metadata.create_all(conn)
        return migrate(conn)


def migrate(conn: Connection) -> list[str]:
    """Add the columns that ``create_all`` cannot add to a table made by an older release.

    Returns:
        The columns added (``jobs.kind``: existing rows become ``solve`` jobs; ``jobs.bound``:
        unknown for the jobs that ended before it; the lease columns: none held).
    """
    columns = {c["name"] for c in inspect(conn).get_columns("jobs")}
    later = {  # column -> its DDL type (all nullable or defaulted: old rows stay valid)
        "kind": f"VARCHAR(16) NOT NULL DEFAULT '{JobKind.SOLVE}'",
        "bound": "FLOAT",  # the dual bound of a finished solve (the job list's gap)
        "lease_owner": "VARCHAR(128)",
        "lease_until": "TIMESTAMP WITH TIME ZONE"
        if conn.dialect.name == "postgresql"
        else "DATETIME",
        "cancel_requested": "BOOLEAN NOT NULL DEFAULT FALSE",
    }
    added: list[str] = []
    for name, ddl in later.items():
        if name not in columns:
            conn.execute(text(f"ALTER TABLE jobs ADD COLUMN {name} {ddl}"))
            added.append(f"jobs.{name}")
    return added


class JobStore:
    """Persistent jobs, batches and incumbents."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        create_schema(self.engine)
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

    def finish(
        self,
        job_id: str,
        outcome: Outcome,
        *,
        holder: str | None = None,
        only_queued: bool = False,
    ) -> bool:
        """Move a non-terminal job to its terminal state; False if it already ended.

        ``holder``: a running job ends only while that replica holds its lease (a job re-queued
        after its lease ran out is no longer this replica's to end); ``only_queued``: a job
        that is running stays untouched (a cancel from a replica that does not run it)."""
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
        values.update(lease_owner=None, lease_until=None)
        queued = JobRow.state == JobState.QUEUED.value
        running = JobRow.state == JobState.RUNNING.value
        if only_queued:
            allowed = queued
        elif holder is not None:
            allowed = queued | (running & (JobRow.lease_owner == holder))
        else:
            allowed = queued | running
        with self._write() as s:
            res = s.execute(update(JobRow).where(JobRow.id == job_id, allowed).values(values))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def recover(self, replica: str | None = None) -> tuple[list[str], list[str]]:
        """After a restart: re-queue jobs left running (once), fail the twice-interrupted.

        ``replica``: only this replica's (its lease holder is this replica, or none); another
        replica's running jobs are re-queued by ``expire_leases`` once their lease runs out.

        Returns:
            (re-queued job ids, failed job ids)
        """
        where = JobRow.state == JobState.RUNNING.value
        if replica is not None:
            where &= (JobRow.lease_owner == replica) | JobRow.lease_owner.is_(None)
        return self._requeue(where, RESTART_REASON)

    def _requeue(self, where: ColumnElement[bool], reason: str) -> tuple[list[str], list[str]]:
        """Re-queue the running jobs ``where`` selects once; fail those re-queued before."""
        requeued: list[str] = []
        failed: list[str] = []
        query = select(JobRow).where(where)
        if self.engine.dialect.name == "postgresql":  # two replicas never take the same row
            query = query.with_for_update(skip_locked=True)
        with self._write() as s:
            for row in s.scalars(query):
                row.lease_owner, row.lease_until, row.cancel_requested = None, None, False
                if row.requeues < 1:
                    row.state, row.requeues, row.started_at = JobState.QUEUED.value, 1, None
                    requeued.append(row.id)
                else:
                    row.state, row.finished_at = JobState.FAILED.value, utcnow()
                    row.error = reason
                    failed.append(row.id)
            if requeued:  # a re-run reports its incumbents afresh
                s.execute(delete(IncumbentRow).where(IncumbentRow.job_id.in_(requeued)))
        return requeued, failed

    # --- leases: which replica runs a job ---------------------------------------------------
    def claim(self, replica: str, lease: float, per_owner_cap: int) -> JobRecord | None:
        """Take the next queued job for ``replica`` (queued -> running, an attempt counted,
        the lease held for ``lease`` seconds): priority high first, FIFO within a priority,
        skipping owners that already run ``per_owner_cap`` jobs (on every replica). On
        PostgreSQL the row is locked with SKIP LOCKED, so concurrent replicas never claim the
        same job; on SQLite one process writes at a time."""
        busy = (
            select(JobRow.owner)
            .where(JobRow.state == JobState.RUNNING.value)
            .group_by(JobRow.owner)
            .having(func.count() >= per_owner_cap)
        )
        query = (
            select(JobRow)
            .where(JobRow.state == JobState.QUEUED.value, JobRow.owner.not_in(busy))
            .order_by(JobRow.priority.desc(), JobRow.seq)
            .limit(1)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=JobRow)
        now = utcnow()
        with self._write() as s:
            row = s.scalar(query)
            if row is None:
                return None
            row.state, row.started_at, row.attempts = JobState.RUNNING.value, now, row.attempts + 1
            row.lease_owner, row.lease_until = replica, now + timedelta(seconds=lease)
            row.cancel_requested = False
            s.flush()
            return JobRecord.from_row(row)

    def renew(self, replica: str, job_ids: Sequence[str], lease: float) -> set[str]:
        """Extend this replica's leases on these running jobs; the ids it still holds."""
        if not job_ids:
            return set()
        held = (
            JobRow.id.in_(list(job_ids)),
            JobRow.state == JobState.RUNNING.value,
            JobRow.lease_owner == replica,
        )
        until = utcnow() + timedelta(seconds=lease)
        with self._write() as s:
            s.execute(update(JobRow).where(*held).values(lease_until=until))
            return set(s.scalars(select(JobRow.id).where(*held)))

    def expire_leases(self) -> tuple[list[str], list[str]]:
        """Re-queue (once) the running jobs whose lease ran out: their replica is gone."""
        where = (JobRow.state == JobState.RUNNING.value) & (JobRow.lease_until < utcnow())
        return self._requeue(where, LEASE_REASON)

    def request_cancel(self, job_id: str) -> bool:
        """Flag a running job for its replica to cancel; False when it is not running."""
        with self._write() as s:
            res = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == JobState.RUNNING.value)
                .values(cancel_requested=True)
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def cancel_requests(self, replica: str) -> list[str]:
        """This replica's running jobs that another replica was asked to cancel."""
        query = select(JobRow.id).where(
            JobRow.state == JobState.RUNNING.value,
            JobRow.lease_owner == replica,
            JobRow.cancel_requested.is_(True),
        )
        with self._read() as s:
            return list(s.scalars(query))

    def count_queued(self) -> int:
        with self._read() as s:
            query = select(func.count()).where(JobRow.state == JobState.QUEUED.value)
            return int(s.scalar(query) or 0)

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
