"""The job layer's facade: uploads + options -> stored, queued jobs; queries; cancel; purge.

The API calls only this. Everything here is synchronous (routes run it in a threadpool).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mipguide.errors import InputError, InvalidOptionError, ParseError
from mipguide.guidance.dispatch import check_model
from mipguide.jobs.archive import SolutionArchive
from mipguide.jobs.cluster_bus import make_bus, stop_bus
from mipguide.jobs.errors import (
    JobNotFoundError,
    JobNotReadyError,
    PayloadTooLargeError,
    QuotaExceededError,
    ResultUnavailableError,
)
from mipguide.jobs.executor import Executor, LocalExecutor, OnFinish, job_context
from mipguide.jobs.files import JobFiles
from mipguide.jobs.logs import JobLogs
from mipguide.jobs.models import JobKind, JobState, utcnow
from mipguide.jobs.options import (
    JobOptions,
    mode_request,
    parse_dmmv_options,
    parse_options,
    parse_train_options,
)
from mipguide.jobs.records import BatchRecord, IncumbentRecord, JobRecord, JobSpec, Outcome
from mipguide.jobs.store import JobStore
from mipguide.problem.compression import DecompressionLimits
from mipguide.problem.model import Problem
from mipguide.problem.npz import save_problem
from mipguide.settings import Settings

if TYPE_CHECKING:
    from mipguide.heuristics.dmmv.types import DmmvInstance


@dataclass(frozen=True)
class Upload:
    """One model as sent by the caller (file contents and its name, which gives the format)."""

    filename: str
    data: bytes


def _new_id() -> str:
    return uuid.uuid4().hex


def _safe_stem(stem: str) -> str:
    """A file's stem as an instance name in a card: letters, digits, - _ . only."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:64] or "model"


def _read(upload: Upload, limits: DecompressionLimits) -> Problem:
    from mipguide.problem.io import read_problem  # the reader is imported on first use

    try:
        return read_problem(upload.data, filename=upload.filename, limits=limits)
    except InputError:
        raise
    except Exception as exc:  # a corrupt archive or a reader bug: still the caller's file
        raise ParseError(upload.filename, None, f"cannot read: {exc}") from exc


class JobManager:
    """Owns the store, the files, the event bus and the executor of one server."""

    def __init__(self, settings: Settings, on_finish: OnFinish | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = JobStore(settings.database_url)
        self.files = JobFiles(settings.data_dir)
        self.logs = JobLogs(self.files)
        self.bus = make_bus(self.store.engine, settings.replica)
        self.archive = SolutionArchive(self.store, settings)
        self._on_finish = on_finish
        executor = LocalExecutor
        if settings.executor == "ray":  # imports ray: only when asked for
            from mipguide.jobs.ray_executor import RayExecutor

            executor = RayExecutor
        self.executor: Executor = executor(
            self.store, self.files, self.logs, self.bus, settings, on_finish=self._finished
        )
        self._stop = threading.Event()
        self._retention: threading.Thread | None = None
        self.param_table: Callable[[str], Mapping[str, type]] | None = None

    def _finished(self, job: JobRecord, outcome: Outcome) -> None:
        """Archive a completed solve's solution (to train on later), then tell the server."""
        if (
            job.kind == JobKind.SOLVE
            and outcome.state == JobState.COMPLETED
            and outcome.result_path is not None
        ):
            try:
                self.archive.add_job(job, outcome.result_path)
            except Exception as exc:  # the job's result stands; only the archive misses it
                self.logs.append(job.id, f"[mipguide] not archived for training: {exc!r}")
        if self._on_finish is not None:
            self._on_finish(job, outcome)

    def start(self) -> None:
        """Recover from a previous run, start the workers and the retention loop."""
        requeued, failed = self.store.recover(self.settings.replica)
        for job_id in requeued:
            self.logs.append(job_id, "[mipguide] re-queued after a server restart")
        for job_id in failed:
            self.logs.append(job_id, "[mipguide] failed: interrupted by a restart twice")
        self.logs.close_all()
        self.executor.start()
        self._retention = threading.Thread(target=self._retention_loop, daemon=True)
        self._retention.start()

    def stop(self) -> None:
        self._stop.set()
        self.executor.stop()
        stop_bus(self.bus)
        self.logs.close_all()
        self.store.close()

    # --- submit ---------------------------------------------------------------------------
    def submit(
        self,
        uploads: list[Upload],
        raw_options: Mapping[str, Any],
        owner: str,
        *,
        batch: bool = False,
    ) -> tuple[list[JobRecord], BatchRecord | None]:
        """Parse, store and queue one job per upload (all or none).

        Raises:
            InvalidOptionError: bad options (422).
            ParseError / UnsupportedFormatError: a model cannot be read (422 / 415).
            QuotaExceededError: the owner has too many active jobs (429).
        """
        opts = parse_options(raw_options, self.settings, self.param_table)
        if not uploads:
            raise InputError("file: no model given (send a 'file' field or a JSON 'model')")
        self._check_quota(owner, len(uploads))
        batch_id = _new_id() if batch else None
        specs: list[JobSpec] = []
        try:
            for upload in uploads:
                specs.append(self._prepare(upload, opts, owner, batch_id))
        except Exception:
            for spec in specs:
                self.files.remove(spec.id)
            raise
        batch_rec = None
        if batch_id is not None:
            batch_rec = self.store.create_batch(batch_id, owner, opts.model_dump())
        jobs = self.store.create_jobs(specs)
        for job in jobs:
            self.logs.append(job.id, f"[mipguide] queued {job.filename} ({job.problem_name})")
            self.logs.close(job.id)
        self.executor.submit(jobs)
        return jobs, batch_rec

    def submit_dmmv(
        self,
        instance: DmmvInstance,
        raw_options: Mapping[str, Any],
        owner: str,
        *,
        filename: str = "instance.json",
        name: str = "dmmv",
    ) -> JobRecord:
        """Store and queue a DMMV job (the instance is already validated).

        Raises:
            InvalidOptionError: bad options (422).
            PayloadTooLargeError: rows x columns over ``dmmv_max_entries`` (413).
            QuotaExceededError: the owner has too many active jobs (429).
        """
        from mipguide.heuristics.dmmv.io import save_instance
        from mipguide.heuristics.dmmv.types import nonzeros
        from mipguide.pipeline.dmmv_hybrid import wants_hybrid

        opts = parse_dmmv_options(raw_options, self.settings)
        m, n = instance.A.shape
        if m * n > self.settings.dmmv_max_entries:
            raise PayloadTooLargeError(
                f"A is {m} x {n}; DMMV keeps A dense, at most "
                f"{self.settings.dmmv_max_entries} entries"
            )
        self._check_quota(owner, 1)
        job_id = _new_id()
        path = self.files.dmmv_instance(job_id)
        try:
            save_instance(instance, path)
            nnz = nonzeros(instance.A)
            stored = opts.model_dump(exclude={"priority", "tags"}) | {
                "device": self.settings.device,
                "hybrid": wants_hybrid(
                    opts.hybrid, instance, self.settings.dmmv_hybrid_max_nonzeros
                ),
            }
            spec = JobSpec(
                id=job_id,
                owner=owner,
                options=stored,
                priority=opts.priority,
                tags=tuple(opts.tags),
                filename=filename,
                problem_name=name,
                num_vars=int(n),
                num_rows=int(m),
                nnz=nnz,
                input_path=str(path),
                kind=JobKind.DMMV,
            )
            (job,) = self.store.create_jobs([spec])
        except Exception:
            self.files.remove(job_id)
            raise
        self.logs.append(job.id, f"[mipguide] queued DMMV {name} ({m} rows, {n} variables)")
        self.logs.close(job.id)
        self.executor.submit([job])
        return job

    def submit_training(
        self, uploads: list[Upload], raw_options: Mapping[str, Any], owner: str
    ) -> JobRecord:
        """Store and queue the training of a model on uploaded files and/or the solved jobs of
        a tag (``from_tag``); the model is registered in the owner's own directory.

        Raises:
            InvalidOptionError: bad options (422).
            ParseError / InputError: a file cannot be read, has no binaries, or the tag has no
                solved job; fewer than two instances in all (422).
            ModelExistsError: the key sees a model of that name already (409).
            PayloadTooLargeError: more instances than ``max_train_instances`` (413).
            QuotaExceededError: the owner has too many active jobs (429).
        """
        from mipguide.jobs.train_job import MANIFEST
        from mipguide.models.cards import ModelExistsError, models, split_path_ref
        from mipguide.models.pools import save_solutions

        opts = parse_train_options(raw_options, self.settings)
        if split_path_ref(opts.name)[0] is not None:
            raise InvalidOptionError("name", "NAME@VERSION, not a path")
        if opts.name in {m.ref for m in models(self.settings.registry_for(owner))}:
            raise ModelExistsError(f"model {opts.name} exists already; choose another version")
        archived = self.archive.instances(owner, opts.from_tag) if opts.from_tag else []
        if opts.from_tag and not archived:
            raise InputError(
                f"from_tag: no solved job of this key with tag {opts.from_tag!r} has a solution "
                "of a problem with binaries (solve some with that tag first)"
            )
        total = len(uploads) + len(archived)
        if total > self.settings.max_train_instances:
            raise PayloadTooLargeError(
                f"{total} instances; a training job takes at most "
                f"{self.settings.max_train_instances}"
            )
        if total < 2:
            raise InputError(f"{total} instance: training needs at least 2 (files or from_tag)")
        self._check_quota(owner, 1)
        job_id = _new_id()
        root = self.files.dir(job_id)
        instances: list[dict[str, Any]] = []
        try:
            for i, upload in enumerate(uploads):
                problem = _read(upload, self.settings.decompression_limits)
                if problem.num_binaries == 0:
                    raise InputError(
                        f"{upload.filename}: no binary variables; guidance predicts binaries, so "
                        "every training instance needs some"
                    )
                stem = upload.filename.replace("\\", "/").rsplit("/", 1)[-1].split(".")[0]
                save_problem(problem, root / "instances" / f"{i}.npz")
                name = f"{i}-{_safe_stem(stem)}"
                instances.append({"name": name, "problem": f"instances/{i}.npz"})
            for j, inst in enumerate(archived, start=len(uploads)):
                self.archive.copy_problem(inst, root / "instances" / f"{j}.npz")
                save_solutions(root / "instances" / f"{j}.sol.npz", inst.x_bin, inst.objectives)
                instances.append(
                    {
                        "name": f"{j}-{inst.problem_hash[:10]}",
                        "problem": f"instances/{j}.npz",
                        "solutions": f"instances/{j}.sol.npz",
                        "jobs": list(inst.jobs),
                    }
                )
            source = "+".join(s for s, used in (("files", uploads), ("jobs", archived)) if used)
            manifest = {
                "instances": instances,
                "source": {
                    "source": source,
                    "files": [u.filename for u in uploads],
                    **({"from_tag": opts.from_tag} if opts.from_tag else {}),
                },
            }
            path = root / MANIFEST
            path.write_text(json.dumps(manifest))
            spec = JobSpec(
                id=job_id,
                owner=owner,
                options=opts.model_dump(exclude={"priority", "tags"}),
                priority=opts.priority,
                tags=tuple(opts.tags),
                filename=", ".join(u.filename for u in uploads)[:200] or f"tag {opts.from_tag}",
                problem_name=opts.name,
                num_vars=0,
                num_rows=0,
                nnz=0,
                input_path=str(path),
                kind=JobKind.TRAIN,
            )
            (job,) = self.store.create_jobs([spec])
        except Exception:
            self.files.remove(job_id)
            raise
        self.logs.append(job.id, f"[mipguide] queued training of {opts.name} on {total} instances")
        self.logs.close(job.id)
        self.executor.submit([job])
        return job

    def _check_quota(self, owner: str, new_jobs: int) -> None:
        active = self.store.count_active(owner)
        if active + new_jobs > self.settings.max_queued_per_key:
            raise QuotaExceededError(
                f"{active} active jobs; at most {self.settings.max_queued_per_key} per key"
            )

    def _prepare(
        self, upload: Upload, opts: JobOptions, owner: str, batch_id: str | None
    ) -> JobSpec:
        problem = _read(upload, self.settings.decompression_limits)
        check_model(problem, mode_request(opts.model_dump(), job_context(self.settings, owner)))
        job_id = _new_id()
        path = self.files.problem(job_id)
        save_problem(problem, path)
        return JobSpec(
            id=job_id,
            owner=owner,
            options=opts.model_dump(exclude={"priority", "tags"}),
            priority=opts.priority,
            tags=tuple(opts.tags),
            filename=upload.filename,
            problem_name=problem.name,
            num_vars=problem.num_vars,
            num_rows=problem.num_rows,
            nnz=problem.nnz,
            input_path=str(path),
            batch_id=batch_id,
        )

    # --- queries --------------------------------------------------------------------------
    def get(self, job_id: str, owner: str | None) -> JobRecord:
        """The job, if it exists and ``owner`` (None: any) may see it."""
        job = self.store.get(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise JobNotFoundError(f"no job {job_id}")
        return job

    def queue_position(self, job: JobRecord) -> int | None:
        return self.store.queue_position(job) if job.state == JobState.QUEUED else None

    def result(self, job: JobRecord) -> dict[str, Any]:
        """The stored result (``SolveResult.to_dict()`` form).

        Raises:
            JobNotReadyError: still queued/running, or it ended without a result.
            ResultUnavailableError: the stored result is missing or corrupt.
        """
        if job.result_path is None:
            raise JobNotReadyError(job.id, job.state.value, job.error)
        try:
            with open(job.result_path, encoding="utf-8") as fh:
                result = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ResultUnavailableError(job.id) from exc
        if not isinstance(result, dict):
            raise ResultUnavailableError(job.id)
        return result

    def incumbents(self, job: JobRecord, since: int = 0) -> list[IncumbentRecord]:
        return self.store.incumbents(job.id, since)

    def log(self, job: JobRecord, offset: int = 0) -> tuple[str, int]:
        return self.logs.read(job.id, offset)

    def get_batch(self, batch_id: str, owner: str | None) -> BatchRecord:
        batch = self.store.get_batch(batch_id)
        if batch is None or (owner is not None and batch.owner != owner):
            raise JobNotFoundError(f"no batch {batch_id}")
        return batch

    # --- cancel and delete ------------------------------------------------------------------
    def cancel(self, job: JobRecord) -> None:
        """Ask for a queued or running job to stop (no-op once it has ended)."""
        if job.state.terminal:
            return
        self.executor.cancel(job.id)

    def purge(self, job_id: str) -> None:
        """Delete an ended job's rows and files, and its archived solution."""
        self.files.remove(job_id)
        self.store.delete_jobs([job_id])
        self.archive.forget_jobs([job_id])

    def purge_expired(self) -> int:
        """Delete jobs that ended more than ``job_ttl`` seconds ago; returns how many."""
        ids = self.store.expired(utcnow() - timedelta(seconds=self.settings.job_ttl))
        for job_id in ids:
            self.files.remove(job_id)
        self.store.delete_jobs(ids)
        return len(ids)

    def _retention_loop(self) -> None:
        while not self._stop.wait(self.settings.retention_interval):
            try:
                self.purge_expired()
            except Exception:  # a failed purge is retried at the next interval
                continue

    def cancel_batch(self, batch_id: str, purge: bool = False, timeout: float = 10.0) -> bool:
        """Cancel a batch's jobs and wait (up to ``timeout``) for them to end; with ``purge``
        then delete the jobs and the batch.

        Returns:
            True when purged.
        """
        ids = self.store.batch_job_ids(batch_id)
        for job_id in ids:
            job = self.store.get(job_id)
            if job is not None:
                self.cancel(job)
        deadline = time.monotonic() + timeout
        while self.store.count_active_in(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not purge or self.store.count_active_in(ids):
            return False
        for job_id in ids:
            self.files.remove(job_id)
        self.store.delete_jobs(ids)
        self.archive.forget_jobs(ids)
        self.store.delete_batch(batch_id)
        return True
