"""Errors of the job layer (the API maps each to an HTTP status).

::

    MipguideError
    ├── InputError
    │   ├── PayloadTooLargeError   (mipguide.errors) an input over a size limit (413)
    │   └── QuotaExceededError     too many queued/running jobs for this key (429)
    ├── JobNotFoundError           no such job, or not this key's job (404)
    ├── JobNotReadyError           the job has no result (yet, or ever) (409)
    ├── ResultUnavailableError     the job's stored result is missing or corrupt (500)
    └── JobInputError              (in a worker) the job's stored input cannot be read
"""

from __future__ import annotations

from mipguide.errors import InputError, MipguideError, PayloadTooLargeError

__all__ = [
    "JobInputError",
    "JobNotFoundError",
    "JobNotReadyError",
    "PayloadTooLargeError",
    "QuotaExceededError",
    "ResultUnavailableError",
]


class QuotaExceededError(InputError):
    """The caller has too many active jobs."""


class JobNotFoundError(MipguideError):
    """No such job or batch (or it belongs to another key)."""


class JobNotReadyError(MipguideError):
    """The job has no result to return; ``state`` says why."""

    def __init__(self, job_id: str, state: str, detail: str | None = None) -> None:
        self.job_id = job_id
        self.state = state
        msg = f"job {job_id} is {state}"
        super().__init__(msg + (f": {detail}" if detail else ""))


class ResultUnavailableError(MipguideError):
    """The job ended with a result, but its stored file cannot be read (missing or corrupt)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(
            f"the result of job {job_id} cannot be read (its stored file is missing or "
            "corrupt); submit the model again"
        )


class JobInputError(MipguideError):
    """A worker cannot read a job's stored input (deleted, expired or corrupt)."""
