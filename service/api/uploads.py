"""Read a submission from a request: multipart files + option fields, or a JSON body.

Enforces the upload size limit while reading (413) and the accepted content types (415).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from service.errors import InputError, UnsupportedFormatError
from service.jobs.errors import PayloadTooLargeError
from service.jobs.manager import Upload
from service.settings import Settings

FILE_FIELDS = ("file", "files")


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


async def read_submission(
    request: Request, settings: Settings, *, many: bool
) -> tuple[list[Upload], dict[str, Any]]:
    """Uploads and raw options from a multipart form or a JSON body.

    Args:
        many: a batch (several files / ``models``) rather than one job.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("multipart/form-data", "application/json"):
        raise UnsupportedFormatError(
            f"content type {ctype or 'none'!r}: send multipart/form-data or application/json"
        )
    body = await _read_limited(request, settings.max_upload_bytes)
    request._body = body  # starlette parses the form from the body we already hold
    if ctype == "application/json":
        return _from_json(body, many)
    return await _from_form(request, settings, many)


def _from_json(body: bytes, many: bool) -> tuple[list[Upload], dict[str, Any]]:
    from service.api.schemas import BatchCreate, JobCreate

    try:
        if many:
            batch = BatchCreate.model_validate_json(body)
            models, options = batch.models, batch.options
        else:
            job = JobCreate.model_validate_json(body)
            models, options = [job.model], job.options
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"body.{where}: {err['msg']}") from exc
    uploads = [
        Upload(f"model{i}.json" if many else "model.json", json.dumps(m).encode())
        for i, m in enumerate(models)
    ]
    return uploads, options


async def _from_form(
    request: Request, settings: Settings, many: bool
) -> tuple[list[Upload], dict[str, Any]]:
    form = await request.form(max_files=settings.max_batch_jobs, max_fields=1000)
    uploads: list[Upload] = []
    options: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key not in FILE_FIELDS:
                    raise InputError(f"{key}: files go in the 'file' field")
                uploads.append(Upload(value.filename or key, await value.read()))
            elif key == "tags" and "tags" in options:
                options["tags"] = f"{options['tags']},{value}"
            else:
                options[key] = value
    finally:
        await form.close()
    if len(uploads) > 1 and not many:
        raise InputError(f"{len(uploads)} files: send several files to /v1/batches")
    return uploads, options
