"""The plug-ins' shared solve: (Exported, RunOptions) -> SolveResult, in this process or as a job
on a server. Values come back by the exported file's variable names (``SolveResult.values``).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mipguide.errors import InvalidOptionError, SolverError
from mipguide.interop import Exported
from mipguide.pipeline.result import SolveResult

# seconds the submit request itself waits for the job's end before long-polling
FIRST_WAIT = 60.0


@dataclass(frozen=True)
class RunOptions:
    """How a plug-in solves: where, with which backend and mode, within which limits.

    Attributes:
        server: the server's URL; None: solve here, in this process (needs the ``server``
            extra: the solvers).
        api_key: the key sent to the server (None: ``MIPGUIDE_API_KEY``).
        solver: the backend (None: the settings' ``default_solver`` here, the server's there).
        mode: exact | pas | auto | srg.
        model: ``NAME@VERSION`` of the guided modes (None: the best match).
        time_limit: seconds (None: no limit here; the server's default there).
        gap: relative gap to stop at (None: the backend's default).
        threads, seed: the backend's threads and random seed (None: 1 and 0).
        params: backend parameters by name.
        wait: seconds to wait for a server's job to end (None: until it ends).
    """

    server: str | None = None
    api_key: str | None = None
    solver: str | None = None
    mode: str = "exact"
    model: str | None = None
    time_limit: float | None = None
    gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    wait: float | None = None

    def __post_init__(self) -> None:
        for name in ("time_limit", "wait"):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                raise InvalidOptionError(name, f"must be a positive number of seconds, not {value}")
        if self.gap is not None and not 0 <= self.gap < math.inf:
            raise InvalidOptionError("gap", f"must be a number >= 0, not {self.gap}")
        if self.threads is not None and self.threads < 1:
            raise InvalidOptionError("threads", f"must be at least 1, not {self.threads}")
        if self.seed is not None and self.seed < 0:
            raise InvalidOptionError("seed", f"must be >= 0, not {self.seed}")

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> RunOptions:
        """Options by name (None: the default), coerced to their types.

        Raises:
            InvalidOptionError: an unknown name (with the valid ones) or a bad value.
        """
        given = {}
        for name, value in options.items():
            if name not in OPTION_NAMES:
                raise InvalidOptionError(name, "unknown option", OPTION_NAMES)
            if value is not None:
                given[name] = _coerce(name, value)
        return cls(**given)

    def form(self) -> dict[str, Any]:
        """The job options a server takes (None: the server's default)."""
        keep = ("solver", "mode", "model", "time_limit", "gap", "threads", "seed")
        form = {name: getattr(self, name) for name in keep}
        return form | ({"params": dict(self.params)} if self.params else {})


OPTION_NAMES = tuple(f.name for f in fields(RunOptions))
_TYPES: dict[str, Callable[[Any], Any]] = {"time_limit": float, "gap": float, "wait": float}
_TYPES |= {"threads": int, "seed": int, "params": dict}


def _coerce(name: str, value: Any) -> Any:
    convert = _TYPES.get(name, str)
    if convert is str and not isinstance(value, str):
        raise InvalidOptionError(name, f"must be a string, not {value!r}")
    try:
        return convert(value)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(name, f"must be a {convert.__name__}, not {value!r}") from exc


def solve_exported(
    exported: Exported, options: RunOptions, log: Callable[[str], None] | None = None
) -> SolveResult:
    """Solve an exported model where ``options.server`` says (None: here).

    Args:
        log: receives the solver's log lines (local solves only).

    Raises:
        InvalidOptionError: a bad option (the server's answer names it too).
        ParseError: the layer's file cannot be read (a feature mipguide refuses).
        ApiError: the server refused the job; SolverError: the job failed or was cancelled.
        TimeoutError: the job did not end within ``options.wait``.
    """
    if options.server is None:
        return _solve_here(exported, options, log)
    return _solve_there(exported, options)


def _solve_here(
    exported: Exported, options: RunOptions, log: Callable[[str], None] | None
) -> SolveResult:
    # imported here: the remote path needs neither the solvers nor the guidance
    from mipguide.guidance.dispatch import ModeRequest, solve_request
    from mipguide.problem.io import read_problem
    from mipguide.settings import get_settings
    from mipguide.solvers.base import AUTO_SOLVER, check_solver
    from mipguide.solvers.types import SolveOptions

    settings = get_settings()
    guided = options.mode != "exact" and not options.params  # parameters keep the default
    solver = options.solver or (AUTO_SOLVER if guided else settings.default_solver)
    check_solver(solver, "solver", settings.allow_fake_solver)
    check_no_highs_clash(solver)
    t0 = time.perf_counter()
    problem = read_problem(exported.data, exported.filename)
    read_seconds = time.perf_counter() - t0
    solve_options = SolveOptions(
        time_limit=options.time_limit,
        rel_gap=options.gap,
        threads=options.threads or 1,
        seed=options.seed or 0,
        params=dict(options.params),
        log=log,
    )
    request = ModeRequest(
        mode=options.mode,
        model=options.model,
        model_dir=settings.model_dirs,
        device=settings.device,
    )
    return solve_request(problem, solver, solve_options, request, read_seconds=read_seconds)


def check_no_highs_clash(solver: str) -> None:
    """OR-Tools and highspy each bundle HiGHS: OR-Tools' HiGHS crashes a process that has
    loaded highspy's (``import pulp`` loads it). The ``highs`` backend runs in a child.

    Raises:
        InvalidOptionError: ``ortools-highs`` in a process that has imported highspy.
    """
    if solver == "ortools-highs" and "highspy" in sys.modules:
        raise InvalidOptionError(
            "solver",
            "ortools-highs cannot run in a process that has imported highspy (PuLP imports "
            "it): use highs, which runs HiGHS in a child process, or a server",
        )


def _solve_there(exported: Exported, options: RunOptions) -> SolveResult:
    from mipguide.client import MipguideClient

    first = FIRST_WAIT if options.wait is None else min(FIRST_WAIT, options.wait)
    t0 = time.monotonic()
    with MipguideClient(options.server, options.api_key) as client:
        upload = (exported.filename, exported.data)
        job = client.submit(upload, wait=first, **options.form())
        if not job.done:
            left = None if options.wait is None else options.wait - (time.monotonic() - t0)
            job = client.wait(job.id, timeout=left)
        if job.state != "completed":
            raise SolverError(f"job {job.id} {job.state}: {job.error or 'no result'}")
        return job.result or client.result(job.id)
