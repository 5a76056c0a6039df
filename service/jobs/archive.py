"""The solution archive: every finished solve job's verified solution, kept per key to train on.

A solve job that completes with a verified solution of a problem that has binaries adds one
entry (its binaries and objective, in the store's ``solutions`` table; the problem, once per
content hash, as a file under ``<data_dir>/archive``), and one more for each other verified
solution its backend found (up to ``archive_pool``: SCIP's solution storage, HiGHS's improving
solutions, a guided search's earlier bests; the worker writes them beside the result,
``jobs.solutions_file``).
``POST /v1/models`` with ``from_tag`` turns a key's entries with that tag into training
instances: one per distinct problem, with every solution the service found for it. Retention
purges jobs but not their entries; deleting a job deletes its entries; each key keeps at most
``archive_per_key`` entries.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mipguide.jobs.records import ArchivedSolution, JobRecord
from mipguide.jobs.solutions_file import load_solutions, solutions_path
from mipguide.jobs.store import JobStore
from mipguide.problem.digest import problem_hash
from mipguide.problem.npz import load_problem, save_problem
from mipguide.settings import Settings

FEASIBLE_STATUSES = ("optimal", "feasible")


@dataclass(frozen=True)
class ArchivedInstance:
    """One distinct problem of a tag and the solutions the service found for it.

    Attributes:
        problem_file: the archived problem (``mipguide.problem.npz``).
        x_bin: (K, num_binaries) uint8; objectives: (K,).
        jobs: the ids of the jobs that found them.
    """

    problem_hash: str
    problem_file: Path
    x_bin: np.ndarray
    objectives: np.ndarray
    jobs: tuple[str, ...]


class SolutionArchive:
    def __init__(self, store: JobStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.root = Path(settings.data_dir).resolve() / "archive"

    def problem_file(self, digest: str) -> Path:
        return self.root / f"{digest}.npz"

    def add_job(self, job: JobRecord, result_path: str) -> bool:
        """Archive the solution of a completed solve job, when it has one worth learning from
        (verified feasible, a problem with binaries). Returns whether it was kept."""
        if self.settings.archive_per_key == 0 or job.num_vars > self.settings.archive_max_vars:
            return False
        with open(result_path, encoding="utf-8") as fh:
            result = json.load(fh)
        if result.get("status") not in FEASIBLE_STATUSES or result.get("objective") is None:
            return False
        problem = load_problem(Path(job.input_path))
        mask = problem.binary_mask
        if not mask.any():
            return False
        values = result.get("values") or {}
        x = np.array([values.get(name, 0.0) for name in problem.var_names], dtype=np.float64)
        x_bin = (x[mask] > 0.5).astype(np.uint8)
        # the other solutions its backend found (worst first, so the final is the newest entry)
        others = load_solutions(solutions_path(result_path), int(mask.sum()))[::-1]
        digest = problem_hash(problem)
        target = self.problem_file(digest)
        if not target.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{job.id}.npz")
            save_problem(problem, tmp)
            tmp.replace(target)
        solutions = [
            ArchivedSolution(
                job_id=job.id,
                tags=job.tags,
                problem_hash=digest,
                objective=objective,
                num_binaries=int(mask.sum()),
                x_bits=np.packbits(bits).tobytes(),
            )
            for objective, bits in [*others, (float(result["objective"]), x_bin)]
        ]
        keep = self.settings.archive_per_key
        self._remove(self.store.add_solutions(job.owner, solutions, keep))
        return True

    def forget_jobs(self, job_ids: list[str]) -> None:
        self._remove(self.store.forget_jobs(job_ids))

    def instances(self, owner: str, tag: str) -> list[ArchivedInstance]:
        """The owner's archived problems of jobs tagged ``tag``, each with all its solutions
        (in the order the jobs finished); problems whose file is gone are left out."""
        groups: dict[str, list[ArchivedSolution]] = {}
        for sol in self.store.solutions(owner, tag):
            groups.setdefault(sol.problem_hash, []).append(sol)
        out = []
        for digest, sols in groups.items():
            path = self.problem_file(digest)
            if not path.is_file():
                continue
            nb = sols[0].num_binaries
            sols = [s for s in sols if s.num_binaries == nb]
            bits = np.stack([np.frombuffer(s.x_bits, np.uint8) for s in sols])
            x_bin = np.unpackbits(bits, axis=1, count=nb)
            objs = np.array([s.objective for s in sols])
            out.append(ArchivedInstance(digest, path, x_bin, objs, tuple(s.job_id for s in sols)))
        return out

    def copy_problem(self, instance: ArchivedInstance, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(instance.problem_file, target)

    def _remove(self, digests: list[str]) -> None:
        for digest in digests:
            self.problem_file(digest).unlink(missing_ok=True)
