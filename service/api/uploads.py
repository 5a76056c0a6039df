"""Read a submission from a request: multipart files + option fields, or a JSON body; for
``/v1/dmmv`` a DMMV instance (JSON fields or an npz upload) + options.

Enforces the upload size limit while reading (413) and the accepted content types (415).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from mipguide.errors import (
    FieldError,
    InputError,
    MalformedRequestError,
    PayloadTooLargeError,
    UnsupportedFormatError,
)
from mipguide.jobs.manager import Upload
from mipguide.problem.names import MAX_NAME
from mipguide.settings import Settings

if TYPE_CHECKING:
    from mipguide.heuristics.dmmv.types import DmmvInstance

FILE_FIELDS = ("file", "files")
# python-multipart's limit on one header line of a part (its DEFAULT_MAX_HEADER_SIZE)
MAX_PART_HEADER = 4096 + 128


async def _read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or 413 once it passes ``limit`` (the rest is drained, not kept)."""
    declared = request.headers.get("content-length")
    chunks: list[bytes] = []
    size = 0
    too_large = declared is not None and declared.isdigit() and int(declared) > limit
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            too_large = True
        if not too_large:
            chunks.append(chunk)
    if too_large:
        raise PayloadTooLargeError(f"upload of {size} bytes; the limit is {limit} bytes")
    return b"".join(chunks)


async def _read_body(request: Request, settings: Settings) -> tuple[str, bytes]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("multipart/form-data", "application/json"):
        raise UnsupportedFormatError(
            f"content type {ctype or 'none'!r}: send multipart/form-data or application/json"
        )
    body = await _read_limited(request, settings.max_upload_bytes)
    request._body = body  # starlette parses the form from the body we already hold
    return ctype, body


async def read_submission(
    request: Request, settings: Settings, *, many: bool
) -> tuple[list[Upload], dict[str, Any]]:
    """Uploads and raw options from a multipart form or a JSON body.

    Args:
        many: a batch (several files / ``models``) rather than one job.
    """
    ctype, body = await _read_body(request, settings)
    if ctype == "application/json":
        return _from_json(body, many)
    return await _from_form(request, settings, many)


async def read_training(
    request: Request, settings: Settings
) -> tuple[list[Upload], dict[str, Any]]:
    """A training submission: multipart ``file`` fields (the instances) + option fields, or a
    JSON object of options (``from_tag`` names the instances then)."""
    ctype, body = await _read_body(request, settings)
    if ctype == "multipart/form-data":
        return await _from_form(request, settings, many=True)
    try:
        options = json.loads(body)
    except ValueError as exc:
        raise MalformedRequestError(f"body: not JSON ({exc})") from exc
    if not isinstance(options, dict):
        raise InputError("body: expected a JSON object of training options")
    return [], options


def _from_json(body: bytes, many: bool) -> tuple[list[Upload], dict[str, Any]]:
    from mipguide.api.schemas import BatchCreate, JobCreate

    try:
        if many:
            batch = BatchCreate.model_validate_json(body)
            models, options = batch.models, batch.options
        else:
            job = JobCreate.model_validate_json(body)
            models, options = [job.model], job.options
    except ValidationError as exc:
        err = exc.errors()[0]
        message = err["msg"].removeprefix("Value error, ")
        raise InputError(f"body{_path(err['loc'])}: {message}") from exc
    uploads = [
        Upload(f"model{i}.json" if many else "model.json", json.dumps(m.document()).encode())
        for i, m in enumerate(models)
    ]
    return uploads, options


def _path(loc: tuple[int | str, ...]) -> str:
    """A validation error's location as a field path: ``.model.variable_names[7]``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


async def _from_form(
    request: Request, settings: Settings, many: bool
) -> tuple[list[Upload], dict[str, Any]]:
    form = await _form(request, max_files=settings.max_batch_jobs, max_fields=1000)
    uploads: list[Upload] = []
    options: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key not in FILE_FIELDS:
                    raise InputError(f"{key}: files go in the 'file' field")
                uploads.append(Upload(_filename(value, key), await value.read()))
            elif key == "tags" and "tags" in options:
                options["tags"] = f"{options['tags']},{value}"
            else:
                options[key] = value
    finally:
        await form.close()
    if len(uploads) > 1 and not many:
        raise InputError(f"{len(uploads)} files: send several files to /v1/batches")
    return uploads, options


async def _form(request: Request, max_files: int, max_fields: int) -> FormData:
    """The parsed multipart form; a malformed one is a 400 that says what the parser found."""
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except HTTPException as exc:
        # the parser's own reason is at the end of the chain (HTTPException <- starlette's
        # MultiPartException "Invalid multipart data." <- python-multipart's error)
        root: BaseException = exc
        while (nxt := root.__cause__ or root.__context__) is not None:
            root = nxt
        detail = str(root) or str(exc.detail)
        hint = ""
        if "header size" in detail:
            hint = (
                f" (a part's header is limited to {MAX_PART_HEADER} bytes: is a file name too "
                f"long? file names may have at most {MAX_NAME} characters)"
            )
        raise MalformedRequestError(f"multipart form: {detail}{hint}") from exc


def _filename(upload: UploadFile, default: str) -> str:
    name = upload.filename or default
    if len(name) > MAX_NAME:
        raise FieldError("file", f"the file name has {len(name)} characters; at most {MAX_NAME}")
    return name


@dataclass(frozen=True)
class DmmvSubmission:
    """A validated DMMV instance, its raw options, and how to show it (file and name)."""

    instance: DmmvInstance
    options: dict[str, Any]
    filename: str
    name: str


async def read_dmmv_submission(request: Request, settings: Settings) -> DmmvSubmission:
    """A DMMV instance from a JSON body (instance fields + options) or a multipart ``file``
    (npz, the CLI's format) + option fields.

    Raises:
        FieldError: a missing, malformed or inconsistent field (422, the field named).
        PayloadTooLargeError: the body, or the npz's arrays unpacked, over the limit (413).
    """
    from starlette.concurrency import run_in_threadpool

    ctype, body = await _read_body(request, settings)
    if ctype == "application/json":
        return await run_in_threadpool(_dmmv_from_json, body)
    form = await _form(request, max_files=1, max_fields=100)
    try:
        options: dict[str, Any] = {}
        upload: tuple[str, bytes] | None = None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "file":
                    raise FieldError(key, "send the npz in the 'file' field")
                upload = (_filename(value, "instance.npz"), await value.read())
            else:
                options[key] = value
    finally:
        await form.close()
    if upload is None:
        raise FieldError("file", "no instance given (send an npz 'file' or a JSON body)")
    name = str(options.pop("name", "") or upload[0].removesuffix(".npz"))
    instance = await run_in_threadpool(_dmmv_from_npz, upload[1], settings)
    return DmmvSubmission(instance, options, upload[0], name)


def _dmmv_from_npz(data: bytes, settings: Settings) -> DmmvInstance:
    from mipguide.heuristics.dmmv.io import instance_from_npz, npz_unpacked_bytes

    unpacked = npz_unpacked_bytes(data)
    if unpacked > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the npz's arrays take {unpacked} bytes unpacked; the limit is "
            f"{settings.max_upload_bytes} bytes"
        )
    return instance_from_npz(data)


def _dmmv_from_json(body: bytes) -> DmmvSubmission:
    from mipguide.heuristics.dmmv.io import INSTANCE_FIELDS, instance_from_json
    from mipguide.jobs.options import DMMV_OPTION_NAMES

    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise FieldError("body", f"not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise FieldError("body", "expected a JSON object with A, lower, upper, levels")
    known = (*INSTANCE_FIELDS, "name", *DMMV_OPTION_NAMES)
    for key in doc:
        if key not in known:
            raise FieldError(key, f"unknown field (valid: {', '.join(known)})")
    instance = instance_from_json(doc)
    options = {k: doc[k] for k in DMMV_OPTION_NAMES if k in doc}
    name = doc.get("name") or "dmmv"
    if not isinstance(name, str) or len(name) > 256:
        raise FieldError("name", "expected a string of at most 256 characters")
    return DmmvSubmission(instance, options, "instance.json", name)
