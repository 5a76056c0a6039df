"""A solve job's other solutions, for the solution archive: written by the worker next to the
result (``result.json`` -> ``result.solutions.npz``), read by the archive when the job ends.

Only what training needs is kept: each solution's binaries (``Problem.binary_mask`` order) as
uint8 and its objective, best first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mipguide.problem.model import Problem


def solutions_path(result_path: str | Path) -> Path:
    """Where the worker puts the other solutions of the job whose result is ``result_path``."""
    path = Path(result_path)
    return path.with_name(path.stem + ".solutions.npz")


def save_solutions(
    problem: Problem, solutions: tuple[tuple[float, np.ndarray], ...], path: Path
) -> None:
    """Write (objective, x) pairs' binaries and objectives (nothing when there are no binaries)."""
    mask = problem.binary_mask
    if not solutions or not mask.any():
        return
    x_bin = np.stack([(x[mask] > 0.5).astype(np.uint8) for _, x in solutions])
    objectives = np.array([obj for obj, _ in solutions], dtype=np.float64)
    tmp = path.with_name(f".{path.name}")
    with open(tmp, "wb") as fh:
        np.savez(fh, x_bin=x_bin, objectives=objectives)
    tmp.replace(path)


def load_solutions(path: Path, num_binaries: int) -> list[tuple[float, np.ndarray]]:
    """The (objective, binaries) written by ``save_solutions``; none when the file is missing
    or does not fit the problem's binaries."""
    if not path.is_file():
        return []
    with np.load(path, allow_pickle=False) as data:
        x_bin, objectives = data["x_bin"], data["objectives"]
    if x_bin.ndim != 2 or x_bin.shape[1] != num_binaries or len(objectives) != len(x_bin):
        return []
    return [(float(o), x.astype(np.uint8)) for o, x in zip(objectives, x_bin, strict=True)]
