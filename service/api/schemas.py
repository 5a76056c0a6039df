"""Wire schemas of the REST API (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mipguide.jobs.manager import JobManager
from mipguide.jobs.options import TrainOptions
from mipguide.jobs.records import BatchRecord, IncumbentRecord, JobRecord
from mipguide.models.cards import ModelInfo, summary
from mipguide.pipeline.result import relative_gap
from mipguide.problem.jsonschema import JsonModel


class ErrorPublic(BaseModel):
    """What went wrong and where."""

    code: str = Field(description="machine-readable: parse_error, invalid_option, not_found, ...")
    message: str
    file: str | None = None
    line: int | None = None
    option: str | None = None
    field: str | None = Field(default=None, description="the input field that is wrong")
    valid: list[str] | None = None
    state: str | None = None


class ErrorBody(BaseModel):
    error: ErrorPublic


class ProblemPublic(BaseModel):
    name: str
    filename: str
    num_vars: int
    num_rows: int
    nnz: int


class JobPublic(BaseModel):
    """A job: its state, timestamps, options and (when ended) a summary of the outcome."""

    id: str
    kind: str = Field(description="solve | dmmv | train")
    state: str
    batch_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queue_position: int | None = Field(description="jobs ahead of it while queued")
    priority: int
    tags: list[str]
    options: dict[str, Any]
    problem: ProblemPublic
    status: str | None = Field(
        description="optimal, feasible, infeasible, ... once solved (DMMV: feasible | violated)"
    )
    termination: str | None
    objective: float | None = Field(
        description="the objective (DMMV: the max violation); while running, the best so far"
    )
    bound: float | None = Field(
        default=None, description="a solve's dual bound (while running, the newest reported)"
    )
    gap: float | None = Field(
        default=None,
        description="a solve's relative gap |objective - bound| / max(|objective|, |bound|)",
    )
    solve_seconds: float | None
    error: str | None
    attempts: int
    result: dict[str, Any] | None = Field(
        default=None, description="the full result, only in answers to ?wait"
    )

    @classmethod
    def of(
        cls,
        job: JobRecord,
        queue_position: int | None = None,
        latest: IncumbentRecord | None = None,
    ) -> JobPublic:
        """``latest``: the job's newest incumbent, whose figures a running job shows."""
        objective, bound = job.objective, job.bound
        if not job.state.terminal and latest is not None:
            objective, bound = latest.objective, latest.bound
        solve = job.kind.value == "solve"
        return cls(
            id=job.id,
            kind=job.kind.value,
            state=job.state.value,
            batch_id=job.batch_id,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            queue_position=queue_position,
            priority=job.priority,
            tags=list(job.tags),
            options=job.options,
            problem=ProblemPublic(
                name=job.problem_name,
                filename=job.filename,
                num_vars=job.num_vars,
                num_rows=job.num_rows,
                nnz=job.nnz,
            ),
            status=job.status,
            termination=job.termination,
            objective=objective,
            bound=bound if solve else None,
            gap=relative_gap(objective, bound) if solve else None,
            solve_seconds=job.solve_seconds,
            error=job.error,
            attempts=job.attempts,
        )


class JobListPublic(BaseModel):
    items: list[JobPublic]
    total: int
    limit: int
    offset: int


class IncumbentPublic(BaseModel):
    seq: int = Field(description="1, 2, ... in the order found")
    t: float = Field(description="seconds since the solve started")
    objective: float
    bound: float | None
    source: str

    @classmethod
    def of(cls, inc: IncumbentRecord) -> IncumbentPublic:
        return cls(
            seq=inc.seq, t=inc.t, objective=inc.objective, bound=inc.bound, source=inc.source
        )


class IncumbentListPublic(BaseModel):
    items: list[IncumbentPublic]
    next: int = Field(description="pass as ?since= to get only newer incumbents")
    state: str


class BatchPublic(BaseModel):
    id: str
    created_at: datetime
    options: dict[str, Any]
    job_ids: list[str]
    counts: dict[str, int] = Field(description="jobs per state")
    total: int
    done: bool = Field(description="every job has ended")

    @classmethod
    def of(cls, batch: BatchRecord, manager: JobManager) -> BatchPublic:
        ids = manager.store.batch_job_ids(batch.id)
        counts = manager.store.counts(batch_id=batch.id)
        active = counts.get("queued", 0) + counts.get("running", 0)
        return cls(
            id=batch.id,
            created_at=batch.created_at,
            options=batch.options,
            job_ids=ids,
            counts=counts,
            total=len(ids),
            done=active == 0,
        )


class TrainCreate(TrainOptions):
    """JSON training submission: the options (the instances come from ``from_tag``; upload
    files with multipart instead)."""


class JobCreate(BaseModel):
    """JSON submission: a model in the JSON model format, and options."""

    model: JsonModel = Field(description="the model, in mipguide's JSON model format")
    options: dict[str, Any] = Field(default_factory=dict)


class CsrMatrix(BaseModel):
    indptr: list[int]
    indices: list[int]
    values: list[float]
    shape: list[int] = Field(min_length=2, max_length=2)


class CsrWrapper(BaseModel):
    csr: CsrMatrix


Bound = float | str | None


class DmmvCreate(BaseModel):
    """JSON DMMV submission: the instance (minimize max_i viol_i(x), x_j in levels) and options.

    Documents the body; validation is done by ``mipguide.heuristics.dmmv.io`` so that every error
    names its field.
    """

    A: list[list[float]] | CsrWrapper = Field(description="dense rows, or {'csr': {...}}")
    lower: list[Bound] = Field(description="row lower bounds: number, null or '-inf'")
    upper: list[Bound] = Field(description="row upper bounds: number, null or 'inf'")
    levels: list[float] | list[list[float]] = Field(
        description="ascending levels shared by all variables, or one list per variable"
    )
    x0: list[float] | None = Field(default=None, description="values to round for the start")
    fixed: list[bool] | None = Field(default=None, description="variables kept at round(x0)")
    name: str | None = Field(default=None, description="shown as the job's problem name")
    time_limit: float | None = None
    seed: int | None = None
    threads: int | None = None
    priority: int | None = None
    tags: list[str] | str | None = None


class BatchCreate(BaseModel):
    """JSON batch submission: several models sharing options."""

    models: list[JsonModel]
    options: dict[str, Any] = Field(default_factory=dict)


class ModelPublic(BaseModel):
    """A guided model the server can use: its kind, what it was trained on, how it did."""

    ref: str = Field(description="NAME@VERSION, the value of the model option")
    kind: str = Field(description="pas (modes pas and auto) | srg (mode srg)")
    registry: str = Field(
        description="shipped | user (the server's own registry) | key (this key's own)"
    )
    family: str | None = Field(description="the family (a+b: a mix), or the name of user data")
    source: str = Field(description="generator | files")
    train_instances: int
    signature: list[str] = Field(description="the structures it matches (mode auto)")
    metrics: dict[str, Any]
    card: dict[str, Any] | None = Field(
        default=None, description="the whole card (GET /v1/models/{ref} only)"
    )

    @classmethod
    def of(
        cls, info: ModelInfo, shipped: Path, full: bool = False, own: Path | None = None
    ) -> ModelPublic:
        return cls(**summary(info, shipped, full, own))


class ModelListPublic(BaseModel):
    items: list[ModelPublic]
