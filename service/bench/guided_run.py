"""Guided benchmark runs: (instance file, method, budget) -> incumbent trace, in a killable process.

Each run is a spawned process: it imports what the method needs, reports ready, then starts its
clock, reads the file, and solves with the rest of the budget on one thread (torch too), sending
every incumbent as it arrives with the time since its clock started (reading, features and
inference included). The parent kills the process at budget + grace, so a backend that overruns
its time limit is cut off and its incumbents up to the budget still count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from mipguide.guidance.params import merged
from mipguide.models.cards import Registry

if TYPE_CHECKING:
    from mipguide.pipeline.result import SolveResult

# method name -> (mode, solver, backend params)
METHODS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "scip": ("exact", "scip", {}),
    "scip-aggressive": ("exact", "scip", {"emphasis": "heuristics_aggressive"}),
    # plain SCIP with the LP pricing rule of the facility card (``lp_pricing``): what the
    # setting alone does, without the guidance
    "scip-pricing-q": ("exact", "scip", {"lp/pricing": "q"}),
    "cpsat": ("exact", "cpsat", {}),
    "highs": ("exact", "highs", {}),
    # solver=auto: the plain backend the learned selector picks (mipguide.models.selector)
    "select": ("exact", "auto", {}),
    # solver=auto with the selector off: the plain backend chosen by probing (pipeline.probe)
    "probe": ("exact", "auto", {}),
    # what a user gets from mode=auto: a matching model (its card's backend), else the selector
    "auto": ("auto", "auto", {}),
    # PaS with the backend its card names (solver=auto), as the API runs it by default
    "pas": ("pas", "auto", {}),
    "pas-scip": ("pas", "scip", {}),  # PaS with SCIP, whatever the card names
    "pas-highs": ("pas", "highs", {}),  # PaS with HiGHS for the subproblem and the completion
    # PaS ablations (PAS_ABLATIONS): is it the network or the search?
    "pas-lp": ("pas", "auto", {}),
    "lns": ("pas", "auto", {}),
    # SRG with the backend solver=auto gives it (the card's; outside the card's signature, the
    # plain selector's), as the API runs it by default
    "srg": ("srg", "auto", {}),
    "srg-scip": ("srg", "scip", {}),
    "srg-highs": ("srg", "highs", {}),  # SRG with HiGHS for the subproblem and the completion
    # SRG ablations: the same mode with one thing changed (SRG_ABLATIONS, SRG_MODELS)
    "srg-noguide": ("srg", "scip", {}),
    "srg-k1": ("srg", "scip", {}),
    "srg-topk": ("srg", "scip", {}),
    "srg-indep": ("srg", "scip", {}),
}
# method -> how solver=auto picks a plain backend (ModeRequest.plain; default: the selector)
PLAIN: dict[str, str] = {"probe": "probe"}
# PaS ablation -> its PaS parameter overrides: the LP relaxation as the prediction, or none
# (the region, LNS and completion around the backend's first incumbent)
PAS_ABLATIONS: dict[str, dict[str, Any]] = {
    "pas-lp": {"prediction": "lp"},
    "lns": {"prediction": "incumbent"},
}
# SRG ablation -> its SRG parameter overrides (on top of the run's --srg ones)
SRG_ABLATIONS: dict[str, dict[str, Any]] = {
    "srg-noguide": {"sampling": {"guidance": False}},
    "srg-k1": {"sampling": {"k": 1}},
    "srg-topk": {"region": {"kind": "topk"}},
}
# SRG ablation -> its model (independent variables: the score network without message passing)
SRG_MODELS: dict[str, str] = {"srg-indep": "srg-indep-mix@1"}


@dataclass(frozen=True)
class RunSpec:
    """One (instance, method) run."""

    path: Path
    method: str
    budget: float
    seed: int = 0
    model: str | None = None
    model_dir: Registry = Path("models/weights")  # a registry folder or a search path
    pas: dict[str, Any] = field(default_factory=dict)  # PaS parameter overrides
    srg: dict[str, Any] = field(default_factory=dict)  # SRG parameter overrides
    srg_model: str | None = None  # SRG model for the srg methods (default: the best match)

    def guidance(self) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
        """(model, PaS overrides, SRG overrides) for this run's method."""
        mode = METHODS[self.method][0]
        if mode == "exact":  # a plain solve takes no model and no search settings
            return None, {}, {}
        if mode != "srg":
            return self.model, merged(self.pas, PAS_ABLATIONS.get(self.method, {})), {}
        srg = merged(self.srg, SRG_ABLATIONS.get(self.method, {}))
        return SRG_MODELS.get(self.method, self.srg_model), {}, srg


@dataclass
class RunOutcome:
    """What came back from one run.

    Attributes:
        trace: (t, objective, source) within the budget, in arrival order.
        sense: +1 minimize, -1 maximize (None if the file was never read).
        status: the verified result's status, or "killed" / "error".
        objective: the verified result's objective (None when killed or without solution).
        wall: seconds from the run's clock start to its end (or to the kill).
        detail: the error, the model used, ...
        calibration: seconds of ``pipeline.machine.calibrate`` on the machine that made the run,
            measured before its bench started (None: made before the calibration existed).
    """

    trace: list[tuple[float, float, str]] = field(default_factory=list)
    sense: int | None = None
    status: str = "killed"
    objective: float | None = None
    wall: float = math.nan
    detail: str = ""
    calibration: float | None = None


def _child(spec: RunSpec, queue: Any) -> None:
    """The run's process: import, report ready, read and solve, stream incumbents, report."""
    from mipguide.pipeline.probe import PROBE_SOLVERS
    from mipguide.problem.io import read_problem
    from mipguide.solvers.base import AUTO_SOLVER, get_backend
    from mipguide.solvers.types import Incumbent, SolveOptions

    mode, solver, params = METHODS[spec.method]
    solve = _solver_for(mode, spec)  # imports torch for the guided modes
    for name in PROBE_SOLVERS if solver == AUTO_SOLVER else (solver,):
        get_backend(name)  # the backend modules too, before the clock starts
    queue.put(("ready",))
    t0 = time.perf_counter()
    try:
        problem = read_problem(spec.path)
        queue.put(("sense", int(problem.sense)))
        read = time.perf_counter() - t0

        def on_incumbent(inc: Incumbent) -> None:
            queue.put(("inc", time.perf_counter() - t0, inc.objective, inc.source.value))

        options = SolveOptions(
            time_limit=max(0.01, spec.budget - read), threads=1, seed=spec.seed, params=params
        )
        result = solve(problem, solver, options, on_incumbent, read)
        info = result.extra.get("pas") or result.extra.get("srg") or {}
        model = info.get("model", "")
        queue.put(("done", result.status.value, result.objective, time.perf_counter() - t0, model))
    except Exception as exc:  # reported as the run's outcome; the bench goes on
        queue.put(("error", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0))


def _solver_for(mode: str, spec: RunSpec) -> Callable[..., SolveResult]:
    """solve(problem, solver, options, on_incumbent, read_seconds) for the method's mode."""
    from mipguide.guidance.dispatch import ModeRequest, solve_request

    if mode != "exact":
        import torch

        torch.set_num_threads(1)  # one thread for inference too (imported before the clock)
        import mipguide.guidance.pas
        import mipguide.guidance.srg  # noqa: F401
    model, pas, srg = spec.guidance()
    request = ModeRequest(
        mode, model, pas, srg, model_dir=spec.model_dir, plain=PLAIN.get(spec.method, "select")
    )

    def solve(problem, solver, options, on_incumbent, read):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        return solve_request(
            problem, solver, options, request, on_incumbent=on_incumbent, read_seconds=read
        )

    return solve


def run_one(spec: RunSpec, grace: float = 2.0, start_timeout: float = 120.0) -> RunOutcome:
    """Run one method on one instance in its own process; kill it at budget + grace."""
    ctx = get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(spec, queue), daemon=True)
    proc.start()
    outcome = RunOutcome()
    try:
        _wait_ready(queue, proc, start_timeout)
        started = time.perf_counter()
        deadline = started + spec.budget + grace
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                outcome.wall = time.perf_counter() - started
                break
            try:
                msg = queue.get(timeout=min(left, 0.2))
            except Empty:
                if not proc.is_alive():
                    outcome.status, outcome.detail = "error", "the run died"
                    break
                continue
            if _take(msg, outcome, spec.budget):
                break
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        queue.close()
    return outcome


def _wait_ready(queue: Any, proc: Any, timeout: float) -> None:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        try:
            if queue.get(timeout=0.5)[0] == "ready":
                return
        except Empty:
            if not proc.is_alive():
                raise RuntimeError("the run died before it started") from None
    raise RuntimeError("the run did not start in time")


def _take(msg: tuple[Any, ...], outcome: RunOutcome, budget: float) -> bool:
    """Apply one message; True when the run has ended."""
    kind = msg[0]
    if kind == "sense":
        outcome.sense = int(msg[1])
    elif kind == "inc":
        if msg[1] <= budget:
            outcome.trace.append((float(msg[1]), float(msg[2]), str(msg[3])))
    elif kind == "done":
        outcome.status, outcome.objective, outcome.wall, outcome.detail = msg[1:5]
        return True
    elif kind == "error":
        outcome.status, outcome.detail, outcome.wall = "error", msg[1], msg[2]
        return True
    return False
