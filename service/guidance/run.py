"""The one guided-solve path: (Problem, solver, options, Guide) -> verified SolveResult.

A ``Guide`` (PaS: ``pas.PasGuide``, SRG: ``srg.SrgGuide``) proposes, within the budget: its
first incumbents (offered as it finds them), a trust region and an LNS guide. ``run_guided``
does the rest, the same for every guide:

1. the backend check, the trace (incumbents timed from ``t0``) and the best verified solution;
2. the guide's proposal;
3. the solver's start: the best solution so far, else the region's x^ on S as a partial start
   (the whole rounding is often infeasible, the confident part rarely);
4. the subproblem, LNS rounds and completion (``search.search_region``);
5. verification against the original problem (``finish``), stage timings, and what the guide
   and the search did in ``result.extra[mode]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from mipguide.guidance.best import Best
from mipguide.guidance.params import SearchParams
from mipguide.guidance.remote import Remote
from mipguide.guidance.search import SearchOutcome, remaining, search_region
from mipguide.guidance.trust_region import Region
from mipguide.models.registry import LoadedModel
from mipguide.pipeline.result import SolveResult
from mipguide.pipeline.solve import backend_for, finish
from mipguide.pipeline.trace import Trace
from mipguide.problem.model import Problem, Sense
from mipguide.solvers.types import (
    IncumbentCallback,
    IncumbentSource,
    Interrupt,
    SolveOptions,
    is_stopped,
)


@dataclass
class GuideContext:
    """What a guide may use while it proposes: the problem, the budget, and the incumbent."""

    problem: Problem
    solver: str
    options: SolveOptions
    trace: Trace
    best: Best
    interrupt: Interrupt | None

    def remaining(self) -> float | None:
        """Seconds left of the time limit (None: no limit)."""
        return remaining(self.options, self.trace)

    def stopped(self) -> bool:
        """Whether the caller has asked to stop (polled by the guide's long stages)."""
        return is_stopped(self.interrupt)

    def offer(self, candidates: Iterable[np.ndarray | None], source: IncumbentSource) -> bool:
        """Consider every candidate; when one improves the best, report it once (``source``)."""
        improved = [self.best.consider(self.problem, x) for x in candidates]
        if any(improved):
            assert self.best.objective is not None
            self.trace.offer(self.best.objective, None, source)
        return any(improved)


@dataclass(frozen=True)
class Proposal:
    """A guide's proposal.

    Attributes:
        region: the trust region (S, x^, Delta).
        lns_guide: (binary indices, P(x = 1) on them) steering the LNS neighbourhoods.
        seconds: the guide's stages and their seconds (``features``, ``predict``, ...).
        extra: what the guide did, for ``result.extra[mode]``.
        starts: more solutions of the problem the backend gets as starts beside the incumbent
            (``SolveOptions.extra_starts``).
    """

    region: Region
    lns_guide: tuple[np.ndarray, np.ndarray]
    seconds: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    starts: tuple[np.ndarray, ...] = ()


class Guide(Protocol):
    """A guided mode: what it is called, its model and parameters, and its proposal."""

    @property
    def mode(self) -> str:
        """The result's mode and its extra's key: "pas", "srg"."""
        ...

    @property
    def label(self) -> str:
        """Named in a termination detail: "predict-and-search", "SRG"."""
        ...

    @property
    def source(self) -> IncumbentSource:
        """The source of the guide's own incumbents."""
        ...

    @property
    def model(self) -> LoadedModel: ...

    @property
    def search(self) -> SearchParams: ...

    def params_dict(self) -> dict[str, Any]: ...

    def propose(self, ctx: GuideContext) -> Proposal: ...


class _GuideParams(Protocol):
    @property
    def search(self) -> SearchParams: ...

    def model_dump(self) -> dict[str, Any]: ...


GP = TypeVar("GP", bound=_GuideParams)


@dataclass(frozen=True)
class ModelGuide(Generic[GP]):
    """What the guides share: a model and parameters that include the search's."""

    model: LoadedModel
    params: GP
    remote: Remote | None = None  # inference on the device pool (None: in this process)

    @property
    def search(self) -> SearchParams:
        return self.params.search

    def params_dict(self) -> dict[str, Any]:
        return self.params.model_dump()


def run_guided(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    guide: Guide,
    *,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
    t0: float | None = None,
) -> SolveResult:
    """Solve with ``guide`` and one backend; the result is verified against ``problem``.

    Args:
        options: the budget (``time_limit`` covers the guide's work and every solve), seed,
            backend parameters; ``options.start`` is ignored (the guide proposes the start).
        on_incumbent: called with each improving incumbent (times from ``t0``).
        interrupt: cooperative stop.
        read_seconds: reported in ``seconds["read"]``.
        t0: ``time.perf_counter()`` at which the budget started (default: now), e.g. before
            model selection; incumbent times and the time limit count from it.

    Raises:
        UnsupportedProblemError: the backend cannot take this problem.
        the errors of ``solve_problem`` (unknown solver, solver failure).
    """
    trace = Trace(problem.sense == Sense.MINIMIZE, on_incumbent, t0)
    backend = backend_for(problem, solver)
    ctx = GuideContext(
        problem, solver, options, trace, Best(keep=options.keep_solutions), interrupt
    )
    proposal = guide.propose(ctx)
    start = ctx.best.x if ctx.best.x is not None else _partial_start(problem, proposal.region)
    t_start = trace.elapsed()
    found = search_region(
        problem,
        backend,
        options,
        guide.search,
        proposal.region,
        start,
        ctx.best,
        trace,
        interrupt,
        guide.label,
        guide=proposal.lns_guide,
        starts=proposal.starts,
    )
    total = trace.elapsed()
    result = finish(
        problem,
        found.output,
        seed=options.seed,
        read_seconds=read_seconds,
        wall=total,
        mode=guide.mode,
    )
    if result.objective is not None:  # an answer better than every report: at the end
        trace.offer(result.objective, result.bound, IncumbentSource.SOLVER)
    seconds = dict(result.seconds, **proposal.seconds, **_stage_seconds(found, t_start, total))
    extra = dict(result.extra)
    extra[guide.mode] = _summary(guide, proposal, found, trace)
    warnings = result.warnings
    if _empty_region(problem, guide, proposal.region):
        warnings = (*warnings, EMPTY_REGION_WARNING)
    return replace(
        result, incumbents=tuple(trace.items), seconds=seconds, extra=extra, warnings=warnings
    )


EMPTY_REGION_WARNING = (
    "the model's prediction left the trust region empty (no binary predicted on the side the "
    "region fixes), so no subproblem ran: the search was the backend on the full model"
)


def _empty_region(problem: Problem, guide: Guide, region: Region) -> bool:
    """The guide's search has a subproblem, the problem binaries, and the region none."""
    wanted = guide.search.subproblem.share > 0
    return wanted and region.size == 0 and bool(problem.binary_mask.any())


def _partial_start(problem: Problem, region: Region) -> np.ndarray:
    """The region's rounded prediction, NaN elsewhere (left to the backend)."""
    start = np.full(problem.num_vars, np.nan)
    start[region.index] = region.x_hat
    return start


def _stage_seconds(found: SearchOutcome, t_start: float, total: float) -> dict[str, float]:
    return {
        "subproblem": found.sub_end - t_start,
        "lns": found.lns_end - found.sub_end,
        "completion": total - found.lns_end if found.completed else 0.0,
    }


def _summary(
    guide: Guide, proposal: Proposal, found: SearchOutcome, trace: Trace
) -> dict[str, Any]:
    """``result.extra[mode]``: the model, the parameters, the guide's facts, the search's."""
    sub = found.sub
    return {
        "model": str(guide.model.ref),
        "params": guide.params_dict(),
        **proposal.extra,
        "region_size": proposal.region.size,
        "delta": sub.region.delta,
        "widened": sub.widened,
        "stalled": sub.stalled,
        "subproblem_status": sub.last.status.value if sub.last is not None else None,
        "start_feasible": bool(
            trace.items and trace.items[0].source in (guide.source, IncumbentSource.START)
        ),
        "lns": {
            "rounds": found.lns.rounds,
            "improved": found.lns.improved,
            "exhausted": found.lns.exhausted,
            "free": found.lns.free,
            "stopped_early": found.lns.stopped_early,
            "relaxed": found.lns.relaxed,
            "stalled": found.lns.stalled,
        },
        "completed": found.completed,
    }
