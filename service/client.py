"""Python client of the mipguide REST API (sync, httpx): submit, batch, wait, result, stream.

with MipguideClient("http://127.0.0.1:8000") as c:
    job = c.submit("p0033.mps.gz", time_limit=30, wait=60)
    print(c.result(job.id).objective)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from mipguide.errors import MipguideError
from mipguide.interop import export_model
from mipguide.pipeline.result import SolveResult
from mipguide.problem.jsonschema import JsonModel
from mipguide.settings import Settings
from mipguide.solvers.types import Incumbent, IncumbentSource

if TYPE_CHECKING:
    from mipguide.heuristics.dmmv.types import DmmvInstance

# a model file: a path, or (filename, bytes); ``submit`` also takes a PuLP, Pyomo or linopy model
# object, uploaded as its layer's own writer writes it (``mipguide.interop``; the result's
# values are by the file's variable names: the plug-ins, ``mipguide.plugins``, map them back)
ModelSource = str | os.PathLike[str] | tuple[str, bytes]
TERMINAL = ("completed", "failed", "cancelled")


class ApiError(MipguideError):
    """The server answered with an error.

    Attributes:
        status: HTTP status code.
        code: the server's error code (parse_error, invalid_option, not_found, ...).
        body: the error object as sent (file, line, option, valid, ...).
    """

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        self.status, self.code, self.body = status, code, body
        super().__init__(f"HTTP {status} {code}: {message}")


@dataclass(frozen=True)
class Job:
    """A job as the server reports it (``raw`` holds every field)."""

    id: str
    state: str
    status: str | None
    termination: str | None
    objective: float | None
    error: str | None
    queue_position: int | None
    batch_id: str | None
    raw: dict[str, Any]

    @property
    def done(self) -> bool:
        return self.state in TERMINAL

    @property
    def result(self) -> SolveResult | None:
        """The result of a solve job when the server embedded it (answers to ``wait``); other
        kinds' results are in ``raw["result"]``."""
        data = self.raw.get("result")
        if not data or self.raw.get("kind", "solve") != "solve":
            return None
        return SolveResult.from_dict(data)

    @classmethod
    def of(cls, d: dict[str, Any]) -> Job:
        return cls(
            id=d["id"],
            state=d["state"],
            status=d.get("status"),
            termination=d.get("termination"),
            objective=d.get("objective"),
            error=d.get("error"),
            queue_position=d.get("queue_position"),
            batch_id=d.get("batch_id"),
            raw=d,
        )


@dataclass(frozen=True)
class Batch:
    id: str
    job_ids: tuple[str, ...]
    counts: dict[str, int]
    done: bool

    @classmethod
    def of(cls, d: dict[str, Any]) -> Batch:
        return cls(d["id"], tuple(d["job_ids"]), dict(d["counts"]), bool(d["done"]))


@dataclass(frozen=True)
class StreamEvent:
    """One Server-Sent Event of a job: kind is state, incumbent, log or end."""

    kind: str
    data: dict[str, Any]


def _form(options: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key == "tags" and not isinstance(value, str):
            out[key] = ",".join(value)
        elif key in ("params", "pas", "srg") and not isinstance(value, str):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


def _file(source: ModelSource) -> tuple[str, bytes]:
    if isinstance(source, tuple):
        return source
    path = Path(source)
    return path.name, path.read_bytes()


class MipguideClient:
    """Talks to one server. Options are the server's: solver, mode, time_limit, gap, threads,
    seed, priority, tags (list), params (dict)."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        settings = Settings() if url is None or api_key is None else None
        base = url or (settings.server_url if settings else "")
        key = api_key if api_key is not None else (settings.api_key if settings else None)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._timeout = timeout
        self._http = httpx.Client(
            base_url=base.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MipguideClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, resp: httpx.Response) -> httpx.Response:
        if resp.status_code >= 400:
            try:
                err = resp.json()["error"]
            except (ValueError, KeyError, TypeError):
                err = {"code": "http_error", "message": resp.text}
            raise ApiError(resp.status_code, err.get("code", ""), err.get("message", ""), err)
        return resp

    # --- submit -------------------------------------------------------------------------------
    def submit(
        self, model: ModelSource | object, /, *, wait: float | None = None, **options: Any
    ) -> Job:
        """Submit one model: a file (path, or (filename, bytes)), a JSON model (``JsonModel``
        or its dict, as ``submit_model``), or a PuLP, Pyomo or linopy model object (written by
        its layer); ``wait`` seconds for the end.

        Raises:
            InputError: an object of no supported layer, or one its layer cannot write.
        """
        if isinstance(model, JsonModel | Mapping):
            return self.submit_model(model, wait=wait, **options)
        if isinstance(model, str | os.PathLike | tuple):
            upload = _file(model)
        else:
            exported = export_model(model)
            upload = (exported.filename, exported.data)
        params = {"wait": wait} if wait else {}
        timeout = self._timeout + wait if wait else self._timeout
        resp = self._http.post(
            "/v1/jobs",
            files={"file": upload},
            data=_form(options),
            params=params,
            timeout=timeout,
        )
        return Job.of(self._check(resp).json())

    def submit_model(
        self, model: JsonModel | Mapping[str, Any], /, *, wait: float | None = None, **options: Any
    ) -> Job:
        """Submit a model in the JSON model format: a ``JsonModel`` or its document (a dict,
        checked against the same schema here first); ``wait`` seconds for the end.

        Raises:
            pydantic.ValidationError: the document does not fit the schema (its field path).
        """
        typed = model if isinstance(model, JsonModel) else JsonModel.model_validate(model)
        given = {k: v for k, v in options.items() if v is not None}
        body = {"model": typed.document(), "options": given}
        params = {"wait": wait} if wait else {}
        timeout = self._timeout + wait if wait else self._timeout
        resp = self._http.post("/v1/jobs", json=body, params=params, timeout=timeout)
        return Job.of(self._check(resp).json())

    def submit_dmmv(
        self,
        instance: ModelSource | DmmvInstance | Mapping[str, Any],
        *,
        wait: float | None = None,
        **options: Any,
    ) -> Job:
        """Submit a DMMV search as a job (``/v1/dmmv``).

        Args:
            instance: an npz file (path, or (filename, bytes)) in the CLI's format, sent as an
                upload; or a ``DmmvInstance``, or a dict of the JSON fields (A, lower, upper,
                levels, x0, fixed, name), sent as JSON.
            wait: seconds to wait for the end (the answer then embeds the result).
            options: time_limit, seed, threads, priority, tags (list).
        """
        params = {"wait": wait} if wait else {}
        timeout = self._timeout + wait if wait else self._timeout
        if isinstance(instance, str | os.PathLike | tuple):
            resp = self._http.post(
                "/v1/dmmv",
                files={"file": _file(instance)},
                data=_form(options),
                params=params,
                timeout=timeout,
            )
        else:
            body = dict(instance) if isinstance(instance, Mapping) else _dmmv_json(instance)
            body.update({k: v for k, v in options.items() if v is not None})
            resp = self._http.post("/v1/dmmv", json=body, params=params, timeout=timeout)
        return Job.of(self._check(resp).json())

    def submit_batch(self, models: Sequence[ModelSource], **options: Any) -> Batch:
        """Upload several models with shared options (all accepted or none)."""
        files = [("file", _file(m)) for m in models]
        resp = self._http.post("/v1/batches", files=files, data=_form(options))
        return Batch.of(self._check(resp).json())

    # --- read -----------------------------------------------------------------------------------
    def job(self, job_id: str) -> Job:
        return Job.of(self._check(self._http.get(f"/v1/jobs/{job_id}")).json())

    def jobs(
        self, state: str | None = None, tag: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Job], int]:
        """A page of jobs (newest first) and the total count."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        params.update({k: v for k, v in (("state", state), ("tag", tag)) if v})
        data = self._check(self._http.get("/v1/jobs", params=params)).json()
        return [Job.of(d) for d in data["items"]], int(data["total"])

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 30.0) -> Job:
        """Block until the job ends (long-polls the server); TimeoutError after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = poll if deadline is None else min(poll, deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError(f"job {job_id} still running after {timeout} s")
            resp = self._http.get(f"/v1/jobs/{job_id}", params={"wait": left}, timeout=left + 30.0)
            job = Job.of(self._check(resp).json())
            if job.done:
                return job

    def batch(self, batch_id: str) -> Batch:
        return Batch.of(self._check(self._http.get(f"/v1/batches/{batch_id}")).json())

    def wait_batch(self, batch_id: str, timeout: float | None = None) -> Batch:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (b := self.batch(batch_id)).done:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"batch {batch_id} not done after {timeout} s")
            time.sleep(0.2)
        return b

    def result(self, job_id: str) -> SolveResult:
        resp = self._http.get(f"/v1/jobs/{job_id}/result")
        return SolveResult.from_dict(self._check(resp).json())

    def result_json(self, job_id: str) -> dict[str, Any]:
        """The stored result as JSON (a DMMV job's result: x, level_index, max_violation, ...)."""
        data: dict[str, Any] = self._check(self._http.get(f"/v1/jobs/{job_id}/result")).json()
        return data

    def result_text(self, job_id: str, format: str = "sol") -> str:
        resp = self._http.get(f"/v1/jobs/{job_id}/result", params={"format": format})
        return self._check(resp).text

    def incumbents(self, job_id: str, since: int = 0) -> list[Incumbent]:
        resp = self._http.get(f"/v1/jobs/{job_id}/incumbents", params={"since": since})
        return [_incumbent(d) for d in self._check(resp).json()["items"]]

    def log(self, job_id: str, offset: int = 0) -> tuple[str, int]:
        """Log text from ``offset`` and the offset to continue from."""
        resp = self._check(self._http.get(f"/v1/jobs/{job_id}/log", params={"offset": offset}))
        return resp.text, int(resp.headers.get("x-next-offset", offset))

    # --- streams --------------------------------------------------------------------------------
    def events(self, job_id: str) -> Iterator[StreamEvent]:
        """The job's Server-Sent Events until it ends (the last one has kind 'end')."""
        with self._http.stream("GET", f"/v1/jobs/{job_id}/events", timeout=None) as resp:
            if resp.status_code >= 400:
                resp.read()
                self._check(resp)
            kind, data = "message", ""
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif not line and data:
                    yield StreamEvent(kind, json.loads(data))
                    if kind == "end":
                        return
                    kind, data = "message", ""

    def stream_incumbents(self, job_id: str) -> Iterator[Incumbent]:
        """Incumbents as they are found, until the job ends."""
        for ev in self.events(job_id):
            if ev.kind == "incumbent":
                yield _incumbent(ev.data)

    # --- models -------------------------------------------------------------------------------
    def models(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The guided models the server can use (ref, kind, registry, family, source,
        train_instances, signature, metrics); ``kind``: pas or srg."""
        params = {"kind": kind} if kind else {}
        items: list[dict[str, Any]] = self._check(
            self._http.get("/v1/models", params=params)
        ).json()["items"]
        return items

    def model(self, ref: str) -> dict[str, Any]:
        """One model with its whole card."""
        data: dict[str, Any] = self._check(self._http.get(f"/v1/models/{ref}")).json()
        return data

    def train(
        self,
        name: str,
        files: Sequence[ModelSource] = (),
        *,
        from_tag: str | None = None,
        wait: float | None = None,
        **options: Any,
    ) -> Job:
        """Train a model on the server (a job of kind ``train``; follow it like any job).

        Args:
            name: ``NAME@VERSION`` of the new model; it joins this key's registry.
            files: training instances (paths or (filename, bytes)), uploaded.
            from_tag: also (or instead) train on this key's solved jobs with this tag.
            wait: seconds to wait for the end.
            options: kind (pas|srg), epochs, patience, pool_time, pool_solver, pool_k,
                val_share, seed, tune_time, tune_instances, tune_horizon, time_limit, priority,
                tags.
        """
        params = {"wait": wait} if wait else {}
        timeout = self._timeout + wait if wait else self._timeout
        fields = {"name": name, "from_tag": from_tag, **options}
        if files:
            uploads = [("file", _file(f)) for f in files]
            resp = self._http.post(
                "/v1/models", files=uploads, data=_form(fields), params=params, timeout=timeout
            )
        else:
            body = {k: v for k, v in fields.items() if v is not None}
            resp = self._http.post("/v1/models", json=body, params=params, timeout=timeout)
        return Job.of(self._check(resp).json())

    def delete_model(self, ref: str) -> None:
        """Delete one of this key's own models."""
        self._check(self._http.delete(f"/v1/models/{ref}"))

    # --- cancel ---------------------------------------------------------------------------------
    def cancel(self, job_id: str, purge: bool = False) -> Job | None:
        """Cancel a job (None when purged)."""
        resp = self._check(self._http.delete(f"/v1/jobs/{job_id}", params={"purge": purge}))
        return None if resp.status_code == 204 else Job.of(resp.json())

    def cancel_batch(self, batch_id: str, purge: bool = False) -> Batch | None:
        resp = self._check(self._http.delete(f"/v1/batches/{batch_id}", params={"purge": purge}))
        return None if resp.status_code == 204 else Batch.of(resp.json())


def _dmmv_json(instance: DmmvInstance) -> dict[str, Any]:
    from mipguide.heuristics.dmmv.io import instance_to_json

    return instance_to_json(instance)


def _incumbent(d: dict[str, Any]) -> Incumbent:
    return Incumbent(d["t"], d["objective"], d.get("bound"), IncumbentSource(d["source"]))
