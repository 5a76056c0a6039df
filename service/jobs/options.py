"""Job options: raw form/JSON fields -> validated ``JobOptions`` (solve jobs) or ``DmmvOptions``
(DMMV jobs) -> ``SolveOptions`` / ``DmmvConfig`` in a worker.

Unknown names and bad values raise ``InvalidOptionError`` naming the option and the valid ones.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mipguide.errors import InvalidOptionError
from mipguide.guidance.dispatch import ModeRequest, check_request
from mipguide.settings import SHIPPED_MODELS, Settings
from mipguide.solvers.base import AUTO_SOLVER, check_params, check_solver, get_backend
from mipguide.solvers.types import SolveOptions

DEFAULT_DMMV_SECONDS = 2.0

_M = TypeVar("_M", bound=BaseModel)


class JobOptions(BaseModel):
    """Options of one job, after validation and capping (what is stored with the job)."""

    # NaN/Infinity cannot be stored as JSON (PostgreSQL refuses them) and mean nothing here
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    solver: str = "scip"
    mode: str = "exact"
    model: str | None = None
    pas: dict[str, Any] = Field(default_factory=dict)
    srg: dict[str, Any] = Field(default_factory=dict)
    time_limit: float = Field(default=60.0, gt=0)
    gap: float | None = Field(default=None, ge=0)
    threads: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0)
    priority: int = Field(default=0, ge=-100, le=100)
    tags: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    dmmv: bool = Field(
        default=False, description="pure-integer problems: DMMV feasibility search first"
    )
    dmmv_seconds: float | None = Field(default=None, gt=0, description="DMMV's share of time")


OPTION_NAMES = tuple(JobOptions.model_fields)


class DmmvOptions(BaseModel):
    """Options of a DMMV job (what is stored with it; ``device`` comes from the settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    time_limit: float = Field(default=60.0, gt=0)
    seed: int = Field(default=0, ge=0)
    threads: int = Field(default=1, ge=1)
    hybrid: bool | None = Field(
        default=None,
        description="run the exact min-max MILP beside the search (one more thread) and return "
        "the better answer; default: on when the MILP is small enough (dmmv_hybrid_max_nonzeros)",
    )
    milp_solver: Literal["scip", "highs", "both"] = Field(
        default="highs",
        description="the hybrid's MILP backend (both: SCIP and HiGHS, two threads more than DMMV)",
    )
    priority: int = Field(default=0, ge=-100, le=100)
    tags: list[str] = Field(default_factory=list)


DMMV_OPTION_NAMES = tuple(DmmvOptions.model_fields)


class TrainOptions(BaseModel):
    """Options of a training job (``POST /v1/models``): what to train on and how long."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(description="NAME@VERSION of the new model")
    kind: Literal["pas", "srg"] = "pas"
    from_tag: str | None = Field(
        default=None, description="train on the solved jobs of this key that carry this tag"
    )
    epochs: int = Field(default=300, ge=1, le=1000)  # models.train.DEFAULT_EPOCHS
    patience: int = Field(default=15, ge=1, le=1000)  # models.train.DEFAULT_PATIENCE
    pool_time: float = Field(
        default=5.0, ge=0, le=600, description="seconds of the pool solver per instance"
    )
    pool_solver: Literal["auto", "scip", "highs"] = Field(
        default="auto",
        description="the backend that builds the pools (auto: the plain selector's pick)",
    )
    pool_k: int = Field(default=32, ge=1, le=1000)
    val_share: float = Field(default=0.2, gt=0, lt=1)
    seed: int = Field(default=0, ge=0)
    tune_time: float = Field(
        default=10.0,
        ge=0,
        le=600,
        description="kind pas: seconds per run of the search-settings grid (0: defaults)",
    )
    tune_instances: int = Field(default=3, ge=1, le=50, description="validation instances tuned on")
    tune_horizon: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="seconds the model will serve: the grid's integrals cover them, each run's "
        "last gap held past tune_time",
    )
    time_limit: float = Field(default=3600.0, gt=0, description="seconds for the whole job")
    priority: int = Field(default=0, ge=-100, le=100)
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _ref(cls, value: str) -> str:
        from mipguide.models.cards import ModelError, ModelRef

        try:
            ModelRef.parse(value)
        except ModelError as exc:
            raise ValueError(str(exc)) from exc
        return value


TRAIN_OPTION_NAMES = tuple(TrainOptions.model_fields)


def parse_train_options(raw: Mapping[str, Any], settings: Settings) -> TrainOptions:
    """Validate the options of a training job (time_limit capped by ``max_train_seconds``).

    Raises:
        InvalidOptionError: unknown option or bad value.
    """
    data = dict(raw)
    if data.get("time_limit") in (None, ""):
        data["time_limit"] = settings.max_train_seconds
    opts = _validate(TrainOptions, _known(data, TRAIN_OPTION_NAMES, settings))
    if opts.from_tag is not None and _split_tags(opts.from_tag, "from_tag") != [opts.from_tag]:
        raise InvalidOptionError("from_tag", "one tag")
    limit = min(opts.time_limit, settings.max_train_seconds)
    return opts.model_copy(update={"time_limit": limit})


def _split_tags(value: Any, name: str = "tags") -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    tags: list[str] = []
    for item in items:
        tags.extend(t.strip() for t in str(item).split(",") if t.strip())
    for t in tags:
        if len(t) > 64 or not t.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidOptionError(name, f"bad tag {t!r}: use letters, digits, - _ . (<= 64)")
    return tags


def _params(value: Any, name: str = "params", what: str = "backend parameters") -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if value not in (None, "") else {}
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(name, f"expected a JSON object of {what}") from exc
    if not isinstance(parsed, dict):
        raise InvalidOptionError(name, f"expected a JSON object of {what}")
    return parsed


def _request(opts: JobOptions) -> ModeRequest:
    """The dispatcher's request of stored options (registry and device come with the worker)."""
    return ModeRequest(
        mode=opts.mode,
        model=opts.model,
        pas=opts.pas,
        srg=opts.srg,
        dmmv_seconds=(opts.dmmv_seconds or DEFAULT_DMMV_SECONDS) if opts.dmmv else None,
    )


def parse_options(
    raw: Mapping[str, Any],
    settings: Settings,
    param_table: Callable[[str], Mapping[str, type]] | None = None,
) -> JobOptions:
    """Validate raw options (strings from a form or values from JSON).

    Args:
        raw: option name -> value; ``tags`` may be a list or comma-separated, ``params`` a dict
            or a JSON object string.
        settings: defaults (solver, time limit) and caps (max time limit, threads).
        param_table: solver name -> its parameter table; default imports the backend.

    Raises:
        InvalidOptionError: unknown option, bad value, unknown solver/mode/parameter.
    """
    data = _known(raw, OPTION_NAMES, settings)
    data["params"] = _params(data.get("params"))
    # a guided mode with no solver named follows its model's card (or the plain selector): auto;
    # backend parameters name no backend of their own, so with them it stays the default one
    guided = data.get("mode", "exact") != "exact" and not data["params"]
    data.setdefault("solver", AUTO_SOLVER if guided else settings.default_solver)
    if "pas" in data:
        data["pas"] = _params(data["pas"], "pas", "PaS parameters")
    if "srg" in data:
        data["srg"] = _params(data["srg"], "srg", "SRG parameters")
    opts = _validate(JobOptions, data)
    if opts.dmmv_seconds is not None and not opts.dmmv:
        raise InvalidOptionError("dmmv_seconds", "needs dmmv=true")
    check_solver(opts.solver, fake=settings.allow_fake_solver)
    check_request(_request(opts))
    if opts.threads > settings.max_threads:
        raise InvalidOptionError("threads", f"at most {settings.max_threads}")
    updates: dict[str, Any] = {"time_limit": min(opts.time_limit, settings.max_time_limit)}
    if opts.dmmv:
        seconds = opts.dmmv_seconds or DEFAULT_DMMV_SECONDS
        updates["dmmv_seconds"] = min(seconds, updates["time_limit"])
    if opts.params and opts.solver == AUTO_SOLVER:
        raise InvalidOptionError("params", "backend parameters need a named solver, not auto")
    if opts.dmmv and opts.solver == AUTO_SOLVER:
        raise InvalidOptionError("dmmv", "the DMMV start needs a named solver, not auto")
    if opts.params:
        table = (param_table or _backend_params)(opts.solver)
        updates["params"] = check_params(opts.solver, opts.params, table)
        for key, value in updates["params"].items():
            if isinstance(value, float) and not math.isfinite(value):
                raise InvalidOptionError(f"params.{key}", f"expected a finite number, got {value}")
    return opts.model_copy(update=updates)


def parse_dmmv_options(raw: Mapping[str, Any], settings: Settings) -> DmmvOptions:
    """Validate the options of a DMMV job (time_limit capped like a solve's).

    Raises:
        InvalidOptionError: unknown option or bad value.
    """
    opts = _validate(DmmvOptions, _known(raw, DMMV_OPTION_NAMES, settings))
    if opts.threads > settings.max_threads:
        raise InvalidOptionError("threads", f"at most {settings.max_threads}")
    return opts.model_copy(update={"time_limit": min(opts.time_limit, settings.max_time_limit)})


def _known(raw: Mapping[str, Any], names: tuple[str, ...], settings: Settings) -> dict[str, Any]:
    """Given options (empty ones dropped) after checking their names; tags split."""
    data = {k: v for k, v in raw.items() if v is not None and v != ""}
    for key in data:
        if key not in names:
            raise InvalidOptionError(key, "unknown option", names)
    data.setdefault("time_limit", settings.default_time_limit)
    if "tags" in data:
        data["tags"] = _split_tags(data["tags"])
    return data


def _validate(model: type[_M], data: dict[str, Any]) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "options"
        raise InvalidOptionError(name, err["msg"]) from exc


def _backend_params(solver: str) -> Mapping[str, type]:
    return get_backend(solver).param_names()


def mode_request(opts: Mapping[str, Any], guidance: Mapping[str, str]) -> ModeRequest:
    """The dispatcher's request for stored job options (runs in the worker).

    Args:
        guidance: ``model_dir`` (the registry's search path, ``os.pathsep``-joined) and
            ``device`` from the server's settings.
    """
    dmmv = bool(opts.get("dmmv"))
    return ModeRequest(
        mode=str(opts.get("mode") or "exact"),
        model=opts.get("model"),
        pas=dict(opts.get("pas") or {}),
        srg=dict(opts.get("srg") or {}),
        dmmv_seconds=float(opts.get("dmmv_seconds") or DEFAULT_DMMV_SECONDS) if dmmv else None,
        model_dir=tuple(
            Path(d) for d in guidance.get("model_dir", str(SHIPPED_MODELS)).split(os.pathsep)
        ),
        device=guidance.get("device", "cpu"),
    )


def solve_options(opts: Mapping[str, Any], log: Callable[[str], None] | None) -> SolveOptions:
    """The backend's ``SolveOptions`` for stored job options (runs in the worker)."""
    return SolveOptions(
        time_limit=opts.get("time_limit"),
        rel_gap=opts.get("gap"),
        threads=int(opts.get("threads", 1)),
        seed=int(opts.get("seed", 0)),
        params=dict(opts.get("params") or {}),
        log=log,
    )
