"""Solution pools: training instance -> the best K distinct solutions (binaries) with objectives.

Sources: SCIP, time-boxed, keeping its solution storage (``mipguide.solvers.scip_pool``);
HiGHS, time-boxed, keeping its improving solutions (fewer, but on a family where HiGHS is the
better backend they are the better labels); or an exhaustive enumeration for tiny pure-binary
problems (tests). Pools are stored one ``.npz`` per instance: the binaries packed to bits, the
objectives, the binary indices and the instance hash (sha256 of the normalized problem);
building many is parallel over processes, shows progress, and resumes (an instance whose pool
file exists is skipped).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from mipguide.models.labels import DEFAULT_TEMPERATURE_FRACTION, PoolLabels, pool_labels
from mipguide.problem.digest import problem_hash
from mipguide.problem.model import Problem, Sense

BRUTE_FORCE_MAX_BINARIES = 20


@dataclass(frozen=True, eq=False)
class SolutionPool:
    """The best distinct solutions of one instance, best first.

    Attributes:
        x_bin: (K, num_binaries) uint8 0/1 values of the binaries.
        objectives: (K,) float64, in the problem's sense.
        binary_index: (num_binaries,) int64 variable indices of the binaries.
        instance_hash: ``problem_hash`` of the instance.
        sense: the objective sense.
        source: "scip", "highs", "bruteforce", "jobs" (solutions past jobs found), or
            "scip+jobs" / "highs+jobs".
    """

    x_bin: np.ndarray
    objectives: np.ndarray
    binary_index: np.ndarray
    instance_hash: str
    sense: Sense
    source: str

    @property
    def size(self) -> int:
        return int(self.objectives.size)

    def labels(
        self, temperature: float | None = None, fraction: float = DEFAULT_TEMPERATURE_FRACTION
    ) -> PoolLabels:
        return pool_labels(self.x_bin, self.objectives, self.sense, temperature, fraction)


def best_distinct(
    problem: Problem, x_bin: np.ndarray, objectives: np.ndarray, k: int, source: str
) -> SolutionPool:
    """Keep the k best solutions that differ on the binaries."""
    nb = int(problem.binary_mask.sum())
    x_bin = np.asarray(x_bin, dtype=np.uint8).reshape(len(objectives), nb)  # (0, nb): none
    energies = float(problem.sense) * np.asarray(objectives, dtype=np.float64)
    order = np.argsort(energies, kind="stable")
    _, first = np.unique(x_bin[order], axis=0, return_index=True)
    keep = order[np.sort(first)][:k]
    return SolutionPool(
        x_bin=x_bin[keep],
        objectives=np.asarray(objectives, dtype=np.float64)[keep],
        binary_index=np.flatnonzero(problem.binary_mask).astype(np.int64),
        instance_hash=problem_hash(problem),
        sense=problem.sense,
        source=source,
    )


def brute_force_pool(problem: Problem, k: int = 32) -> SolutionPool:
    """All feasible points of a tiny pure-binary problem, best k distinct.

    Raises:
        ValueError: not pure binary, or more than BRUTE_FORCE_MAX_BINARIES variables.
    """
    n = problem.num_vars
    if not problem.binary_mask.all() or n > BRUTE_FORCE_MAX_BINARIES:
        raise ValueError(f"brute force needs <= {BRUTE_FORCE_MAX_BINARIES} binaries only")
    codes = np.arange(2**n, dtype=np.int64)
    X = ((codes[:, None] >> np.arange(n)) & 1).astype(np.float64)
    ax = (problem.A @ X.T).T
    tol = 1e-9
    ok = ((ax >= problem.row_lower - tol) & (ax <= problem.row_upper + tol)).all(axis=1)
    ok &= ((problem.col_lower - tol <= X) & (problem.col_upper + tol >= X)).all(axis=1)
    X = X[ok]
    objs = X @ problem.c + problem.offset
    return best_distinct(problem, X, objs, k, "bruteforce")


def scip_solution_pool(
    problem: Problem, k: int = 32, time_limit: float = 10.0, seed: int = 0
) -> SolutionPool:
    """SCIP's stored solutions after a time-boxed solve, best k distinct on the binaries."""
    from mipguide.solvers.scip_pool import solve_pool

    out = solve_pool(problem, time_limit=time_limit, max_solutions=max(4 * k, 100), seed=seed)
    return best_distinct(problem, out.x_bin, out.objectives, k, "scip")


def highs_solution_pool(
    problem: Problem, k: int = 32, time_limit: float = 10.0, seed: int = 0
) -> SolutionPool:
    """HiGHS's best solution, the improving ones it found on the way and those it saved, after
    a time-boxed solve (one thread), each verified against the model; best k distinct on the
    binaries."""
    from mipguide.problem.verify import verify
    from mipguide.solvers.base import get_backend
    from mipguide.solvers.types import SolveOptions

    improving: list[np.ndarray] = []
    options = SolveOptions(
        time_limit=time_limit,
        seed=seed,
        keep_solutions=max(4 * k, 100),
        on_solution=lambda x: improving.append(np.array(x, dtype=np.float64)),
    )
    out = get_backend("highs").solve(problem, options)
    found = ([] if out.x is None else [out.x]) + list(out.solutions) + improving
    checked = [(x, verify(problem, x)) for x in found]
    kept = [(x, v.objective) for x, v in checked if v.feasible]
    nb = int(problem.binary_mask.sum())
    x_bin = np.array([x[problem.binary_mask] > 0.5 for x, _ in kept], dtype=np.uint8)
    objs = np.array([obj for _, obj in kept], dtype=np.float64)
    return best_distinct(problem, x_bin.reshape(len(kept), nb), objs, k, "highs")


def save_pool(pool: SolutionPool, path: Path) -> None:
    """Write the pool as a compressed npz (bits packed); atomically (tmp file then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        x_bits=np.packbits(pool.x_bin.astype(np.uint8), axis=1),
        num_binaries=np.int64(pool.x_bin.shape[1]),
        objectives=pool.objectives,
        binary_index=pool.binary_index,
        instance_hash=np.str_(pool.instance_hash),
        sense=np.int64(int(pool.sense)),
        source=np.str_(pool.source),
    )
    os.replace(tmp, path)


def load_pool(path: Path) -> SolutionPool:
    with np.load(Path(path)) as z:
        nb = int(z["num_binaries"])
        return SolutionPool(
            x_bin=np.unpackbits(z["x_bits"], axis=1, count=nb).astype(np.uint8),
            objectives=z["objectives"].astype(np.float64),
            binary_index=z["binary_index"].astype(np.int64),
            instance_hash=str(z["instance_hash"]),
            sense=Sense(int(z["sense"])),
            source=str(z["source"]),
        )


@dataclass(frozen=True)
class InstanceSpec:
    """How to rebuild one training instance (picklable, cheap to send to a worker): a generated
    one (family, params, seed) or, with ``path``, a model file (``family`` is then the label the
    card gives the user's instances, ``params`` None and ``seed`` its index). A path ending in
    ``.npz`` is a problem as the service stores it (``mipguide.problem.npz``).

    Attributes:
        solutions: optional npz of solutions already known for the instance (``x_bin`` over its
            binaries, ``objectives``), e.g. what past jobs found; they join the pool.
    """

    family: str
    params: Any
    seed: int
    name: str
    path: str | None = None
    solutions: str | None = None

    def build(self) -> Problem:
        if self.path is not None:
            if self.path.endswith(".npz"):
                from mipguide.problem.npz import load_problem

                return load_problem(Path(self.path))
            from mipguide.problem.io import read_problem

            return read_problem(self.path)
        from mipguide.instances.registry import generate_with

        return generate_with(self.family, self.params, self.seed, self.name)


def save_solutions(path: Path, x_bin: np.ndarray, objectives: np.ndarray) -> None:
    """Known solutions of one instance (binaries in ``binary_mask`` order) as an npz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez(fh, x_bin=np.asarray(x_bin, np.uint8), objectives=np.asarray(objectives, float))


def known_solutions(problem: Problem, path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The solutions in ``path`` (none when ``path`` is None, or when their shape does not fit
    the problem). The service writes only verified solutions of the same problem there."""
    nb = int(problem.binary_mask.sum())
    empty = (np.zeros((0, nb), np.uint8), np.zeros(0))
    if path is None:
        return empty
    with np.load(path, allow_pickle=False) as z:
        x_bin, objs = z["x_bin"].astype(np.uint8), z["objectives"].astype(np.float64)
    if x_bin.ndim != 2 or x_bin.shape[1] != nb or len(objs) != len(x_bin):
        return empty
    return x_bin, objs


@dataclass(frozen=True)
class PoolConfig:
    k: int = 32
    time_limit: float = 10.0
    method: str = "scip"  # or "highs", or "bruteforce"
    seed: int = 0


def pool_path(directory: Path, spec: InstanceSpec, method: str = "scip") -> Path:
    """Where an instance's pool is cached: ``NAME.pool.npz`` (SCIP's, and the other sources'
    that need no solver), ``NAME.highs.pool.npz`` (HiGHS's)."""
    tag = ".highs" if method == "highs" else ""
    return Path(directory) / f"{spec.name}{tag}.pool.npz"


def make_pool(spec: InstanceSpec, config: PoolConfig, path: Path) -> Path:
    """Build one instance's pool and write it (the worker's job): the known solutions
    (``spec.solutions``) and, when ``config.time_limit`` > 0, a time-boxed run's of the
    config's backend (``config.method``: SCIP or HiGHS).

    Raises:
        NoSolution: no solution at all for the instance (nothing is written).
    """
    problem = spec.build()
    known_x, known_obj = known_solutions(problem, spec.solutions)
    if config.method == "bruteforce":
        pool = brute_force_pool(problem, config.k)
    elif config.time_limit > 0:
        make = highs_solution_pool if config.method == "highs" else scip_solution_pool
        pool = make(problem, config.k, config.time_limit, config.seed + spec.seed)
    else:
        pool = best_distinct(problem, known_x, known_obj, config.k, "jobs")
    if len(known_obj) and pool.source != "jobs":
        x = np.concatenate([pool.x_bin, known_x])
        objs = np.concatenate([pool.objectives, known_obj])
        pool = best_distinct(problem, x, objs, config.k, pool.source + "+jobs")
    if pool.size == 0:
        raise NoSolution(f"{spec.name}: no feasible solution for the pool")
    save_pool(pool, path)
    return path


class NoSolution(ValueError):
    """An instance's pool run found no feasible solution (within its time limit)."""


def build_pools(
    specs: Sequence[InstanceSpec],
    directory: Path,
    config: PoolConfig,
    workers: int = 1,
    progress: bool = True,
    on_done: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[Path]:
    """Make the pools of all instances that have none yet; return every pool path (spec order).
    An instance for which no solution was found has no file at its path (the caller skips it).

    Args:
        specs: the instances.
        directory: where the ``NAME.pool.npz`` files live.
        config: K, time limit, method, seed.
        workers: processes (1: in this process).
        progress: show a rich progress bar.
        on_done: called with (pools done, pools to make) after each.
        stop: polled between pools (one process) or as each ends; True raises ``Stopped``.
    """
    from rich.progress import Progress

    paths = [pool_path(directory, s, config.method) for s in specs]
    todo = [(s, p) for s, p in zip(specs, paths, strict=True) if not p.exists()]
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"solution pools ({len(specs) - len(todo)} cached)", total=len(todo))
        if workers <= 1:
            for i, (spec, path) in enumerate(todo):
                _check_stop(stop)
                with contextlib.suppress(NoSolution):
                    make_pool(spec, config, path)
                bar.advance(task)
                if on_done is not None:
                    on_done(i + 1, len(todo))
        else:
            ctx = get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
                futures = [ex.submit(make_pool, s, config, p) for s, p in todo]
                for i, fut in enumerate(as_completed(futures)):
                    with contextlib.suppress(NoSolution):
                        fut.result()
                    bar.advance(task)
                    if on_done is not None:
                        on_done(i + 1, len(todo))
                    if stop is not None and stop():
                        for f in futures:
                            f.cancel()
                        _check_stop(stop)
    return paths


class Stopped(Exception):
    """Pool building or training was asked to stop (``stop()`` returned True)."""


def _check_stop(stop: Callable[[], bool] | None) -> None:
    if stop is not None and stop():
        raise Stopped("stopped on request")
