"""Errors of the job layer (the API maps each to an HTTP status).

::

    MipguideError
    ├── InputError
    │   ├── PayloadTooLargeError   upload over the server's limit (413)
    │   └── QuotaExceededError     too many queued/running jobs for this key (429)
    ├── JobNotFoundError           no such job, or not this key's job (404)
    └── JobNotReadyError           the job has no result (yet, or ever) (409)
"""

from __future__ import annotations

from service.errors import InputError, MipguideError


class PayloadTooLargeError(InputError):
    """The upload is larger than ``Settings.max_upload_bytes``."""


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
