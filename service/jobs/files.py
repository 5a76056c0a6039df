"""On-disk layout of a job's data: <data_dir>/jobs/<id>/{problem.npz,result.json,log.txt}
(a DMMV job keeps its instance in instance.npz instead of problem.npz).

The normalized problem format stored with each job is ``mipguide.problem.npz``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class JobFiles:
    """Paths of a job's input, result and log under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve() / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)

    def dir(self, job_id: str) -> Path:
        return self.root / job_id

    def problem(self, job_id: str) -> Path:
        return self.dir(job_id) / "problem.npz"

    def dmmv_instance(self, job_id: str) -> Path:
        return self.dir(job_id) / "instance.npz"

    def result(self, job_id: str) -> Path:
        return self.dir(job_id) / "result.json"

    def log(self, job_id: str) -> Path:
        return self.dir(job_id) / "log.txt"

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.dir(job_id), ignore_errors=True)


def write_atomic(path: Path, text: str) -> None:
    """Write text so a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
