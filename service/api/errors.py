"""Map mipguide errors to HTTP status codes with a body that says what and where."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mipguide.errors import (
    BackendUnavailableError,
    FieldError,
    InputError,
    InvalidOptionError,
    MalformedRequestError,
    MipguideError,
    ParseError,
    UnsupportedFormatError,
)
from mipguide.jobs.errors import (
    JobNotFoundError,
    JobNotReadyError,
    PayloadTooLargeError,
    QuotaExceededError,
    ResultUnavailableError,
)
from mipguide.models.cards import (
    ModelError,
    ModelExistsError,
    ModelForbiddenError,
    ModelNotFoundError,
)

log = logging.getLogger("mipguide.api")

# most specific first
_STATUS: list[tuple[type[Exception], int, str]] = [
    (PayloadTooLargeError, 413, "payload_too_large"),
    (QuotaExceededError, 429, "quota_exceeded"),
    (UnsupportedFormatError, 415, "unsupported_format"),
    (MalformedRequestError, 400, "malformed_request"),
    (ParseError, 422, "parse_error"),
    (InvalidOptionError, 422, "invalid_option"),
    (FieldError, 422, "invalid_field"),
    (InputError, 422, "invalid_input"),
    (BackendUnavailableError, 422, "backend_unavailable"),
    (JobNotFoundError, 404, "not_found"),
    (ModelNotFoundError, 404, "not_found"),
    (ModelExistsError, 409, "conflict"),
    (ModelForbiddenError, 403, "forbidden"),
    (ModelError, 422, "invalid_model"),
    (JobNotReadyError, 409, "not_ready"),
    (ResultUnavailableError, 500, "result_unavailable"),
]


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def describe(exc: MipguideError) -> tuple[int, dict[str, Any]]:
    """HTTP status and body for one of our errors."""
    status, code = 500, "internal_error"
    for cls, st, cd in _STATUS:
        if isinstance(exc, cls):
            status, code = st, cd
            break
    extra: dict[str, Any] = {}
    if isinstance(exc, ParseError):
        extra = {"file": exc.file, "line": exc.line}
        if exc.path is not None:
            extra["path"] = exc.path
    elif isinstance(exc, InvalidOptionError):
        extra = {"option": exc.option, "valid": exc.valid or None}
    elif isinstance(exc, FieldError):
        extra = {"field": exc.field}
    elif isinstance(exc, JobNotReadyError):
        extra = {"state": exc.state}
    return status, error_body(code, str(exc), **extra)


def install_error_handlers(app: FastAPI) -> None:
    async def on_mipguide(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MipguideError)
        status, body = describe(exc)
        return JSONResponse(body, status_code=status)

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = f"{where}: {first.get('msg', 'invalid request')}"
        return JSONResponse(error_body("invalid_request", msg, option=where), status_code=422)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the details (traceback, paths) go to the server log, never to the caller
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        body = error_body("internal_error", "internal server error; the server log has the details")
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(MipguideError, on_mipguide)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
