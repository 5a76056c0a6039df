"""Per-job log files: appended by the supervisor, read from a byte offset by the API."""

from __future__ import annotations

import os
import threading
from typing import IO

from mipguide.jobs.files import JobFiles


class JobLogs:
    """Appends lines to ``<job dir>/log.txt``, keeping the file of a running job open."""

    def __init__(self, files: JobFiles) -> None:
        self.files = files
        self._open: dict[str, IO[str]] = {}
        self._lock = threading.Lock()

    def append(self, job_id: str, line: str) -> None:
        with self._lock:
            fh = self._open.get(job_id)
            if fh is None:
                path = self.files.log(job_id)
                path.parent.mkdir(parents=True, exist_ok=True)
                fh = self._open[job_id] = open(path, "a", encoding="utf-8")  # noqa: SIM115
            fh.write(line + "\n")
            fh.flush()

    def close(self, job_id: str) -> None:
        with self._lock:
            fh = self._open.pop(job_id, None)
        if fh is not None:
            fh.close()

    def close_all(self) -> None:
        with self._lock:
            handles, self._open = list(self._open.values()), {}
        for fh in handles:
            fh.close()

    def read(self, job_id: str, offset: int = 0, limit: int = 1 << 20) -> tuple[str, int]:
        """Text from byte ``offset`` (at most ``limit`` bytes) and the offset after it."""
        path = self.files.log(job_id)
        if not path.exists():
            return "", offset
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            if offset >= size:  # nothing new (an offset past the end is not an error)
                return "", offset
            fh.seek(offset)
            data = fh.read(limit)
        # never split a UTF-8 character: stop at the last complete line when we hit the limit
        if len(data) == limit and b"\n" in data:
            data = data[: data.rindex(b"\n") + 1]
        return data.decode("utf-8", errors="replace"), offset + len(data)
