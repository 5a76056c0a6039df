"""Automatic configuration: a trained model's search settings chosen from a declared grid on
its validation instances, by a procedure the code runs (no card is tuned by hand). A PaS model
(``PAS_GRID``) and an SRG model (``SRG_GRID``) go through the same procedure.

Each grid point is a complete ``PasParams`` or ``SrgParams`` (given as overrides of the
defaults). Every point solves every tuning instance under every seed with the same budget, one
thread, on the first backend of ``PAS_BACKENDS`` in ``backend_order`` (the one the plain
selector picks for most of the instances); then the best of them solves them again with the
other backend (running the subproblem and the completion). The reference of an instance is the
best objective any run found; a point's score is its mean primal integral
(``mipguide.pipeline.primal``, the benchmark's measure) over the horizon the model will serve
(``horizon``, at least the budget): when the runs are shorter than that, each run's last gap is
held from the end of its budget to the horizon (no further improvement is credited), so a point
that is fast early and then stalls does not beat one that keeps closing its gap. The lowest
score wins (ties: the earlier point). The card then holds the choice as its ``pas`` (or
``srg``) parameters and its ``solver`` (what ``solver=auto`` runs), and under ``tuning`` the
grid, the budget, the horizon, the instances, the seeds, every figure and the choice.

Each backend alone (``plain@scip``, ``plain@highs``) runs the same instances too, right after
the grid; they take part in the references, and they set the finals rule: a point is chosen
(in both stages) only if its final objective is no worse than the better backend alone's on at
least ``FINALS_SHARE`` of the runs, when any point is (a point that is fast early and then
ends worse than the free solver fails the user at the deadline). When none is (a few runs, and
backends that end within a hundredth of a percent of each other, make the count fragile: each
backend alone may fail it too), a point is chosen only if its mean final gap is no larger than
the better backend alone's, when any point's is (``holds_mean_final``). When the best backend alone
beats the chosen point's integral, the card's ``auto`` says ``{"mode": "exact", "solver":
...}``: ``mode=auto`` then solves such an instance plainly with that backend (``mode=pas``
still runs the chosen point: the caller asked for it). An SRG model has no ``mode=auto`` (it is
always named): its backends alone serve the references and the finals rule only.

The grid's points are the region/search shapes that earlier validation runs found for the four
shipped families, the defaults, an LNS-heavy variant (and the same ending its rounds when they
stall), a warm start with no region and a learned neighbourhood of the backend's first
incumbent: what
differs between families is which of them the procedure picks, on that family's own validation
instances.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mipguide.guidance.dispatch import ModeRequest, solve_request
from mipguide.guidance.params import PasParams, SrgParams, parse_params
from mipguide.models.pools import Stopped
from mipguide.pipeline.machine import calibrate
from mipguide.pipeline.primal import compare, primal_gap, primal_integral
from mipguide.problem.model import Problem
from mipguide.solvers.types import Incumbent, SolveOptions

# name -> PaS overrides of the defaults; the order breaks ties (simpler first)
PAS_GRID: dict[str, dict[str, Any]] = {
    "default": {},
    "fix": {
        "region": {"k0": 0.6, "k1": 0.0, "delta": 0.0},
        "search": {"subproblem": {"heuristics": True}, "completion": {"warm": False}},
    },
    "soft": {"region": {"k0": 0.3, "k1": 0.2, "delta": 0.02}},
    "fix-lns": {
        "region": {"k0": 0.6, "k1": 0.0, "delta": 0.0},
        "search": {"subproblem": {"heuristics": True}, "lns": {"share": 0.5}},
    },
    "wide-lns": {
        "region": {"k0": 0.8, "k1": 0.01, "delta": 0.0},
        "search": {
            "subproblem": {"heuristics": True},
            "lns": {"share": 0.8, "relax": 0.5},
            "completion": {"heuristics": True},
        },
    },
    "lp-lns": {
        "region": {"k0": 0.5, "k1": 0.0, "delta": 0.0},
        "search": {
            "subproblem": {"stall": 0.1, "heuristics": True},
            "lns": {"share": 0.8, "round": 0.15},
            "lp_pricing": "q",
        },
    },
    # no region: the rounded (and completed) prediction starts the full model, for a backend
    # whose own search improves faster from a good start than inside a region (SRG's ``warm``)
    "warm": {"search": {"subproblem": {"share": 0.0}}},
    # fix-lns around the backend's first incumbent, the network choosing which of its values
    # to fix and which to free: for a backend whose first incumbent beats the rounded
    # prediction (HiGHS on GISP: ``prediction`` in ``PasParams``)
    "inc-fix-lns": {
        "region": {"k0": 0.6, "k1": 0.0, "delta": 0.0},
        "search": {"subproblem": {"heuristics": True}, "lns": {"share": 0.5}},
        "prediction": "network-incumbent",
    },
    # wide-lns whose rounds end once they stop improving (for a tenth of their budget): the
    # completion on the full model gets the rest, for a family whose LNS finds a good
    # incumbent early and then stalls short of what the backend alone reaches by the deadline
    "wide-lns-stall": {
        "region": {"k0": 0.8, "k1": 0.01, "delta": 0.0},
        "search": {
            "subproblem": {"heuristics": True},
            "lns": {"share": 0.8, "relax": 0.5, "stall": 0.1},
            "completion": {"heuristics": True},
        },
    },
}

# 4 candidates and a top-k region (k0 0.5, k1 0, delta 0) on their mean
_TOPK_K4: dict[str, Any] = {
    "sampling": {"k": 4},
    "region": {
        "delta_min": 0,
        "delta_factor": 0.0,
        "kind": "topk",
        "topk": {"k0": 0.5, "k1": 0.0, "delta": 0.0},
    },
}

# no region and no start: the full model from scratch (SRG's ``cold`` points)
_COLD_SEARCH: dict[str, Any] = {"subproblem": {"share": 0.0}, "completion": {"warm": False}}

# SRG's points: the defaults (the region's Delta from the candidates' spread); the consensus fixed
# hard; that with LNS rounds freeing the binaries on which the K candidates disagree
# (``search.lns.disagree``); a cheap sampling (4 candidates) with a top-k region and no stall
# stop, and that with the completion from scratch; that sampling with no region and the full model
# from scratch (``cold``), and that with one reverse step (``cold-1step``); a cheaper sampling (8
# candidates, 10 steps: a quarter of the default's forwards) with the fixed consensus and
# disagreement LNS; and that sampling as warm starts only (no region: the full model from the best
# candidate, the others as extra starts), for a backend whose own heuristics find good solutions
# within a second. No point is best on every family, so each model's own validation runs choose
# (the figures: docs/srg.md)
SRG_GRID: dict[str, dict[str, Any]] = {
    "default": {},
    "fix": {"region": {"delta_min": 0, "delta_factor": 0.0}},
    "fix-lns": {
        "region": {"delta_min": 0, "delta_factor": 0.0},
        "search": {"lns": {"share": 0.3, "disagree": 1.0}},
    },
    "topk-k4": {**_TOPK_K4, "search": {"subproblem": {"stall": 0.0}}},
    # the same region, then the full model from scratch (the region's best kept in the trace):
    # a backend whose own root heuristics reach the last units that it misses from a start
    # (HiGHS on independent set stops one short of them from the region's best)
    "topk-k4-cold": {
        **_TOPK_K4,
        "search": {"subproblem": {"stall": 0.0}, "completion": {"warm": False}},
    },
    # no region, no start: the candidates are the first incumbents (kept in the trace) and the
    # backend solves the full model from scratch beside them
    "cold": {"sampling": {"k": 4}, "search": _COLD_SEARCH},
    # that with the sampling cut to one reverse step: the K candidates are the guided rounding
    # of the first estimate, and the backend starts about 0.3 s sooner (on independent set the
    # 19 further steps cost 0.30 s and their candidates did not beat the first estimate)
    "cold-1step": {"sampling": {"k": 4, "steps": 1}, "search": _COLD_SEARCH},
    "fast-lns": {
        "sampling": {"k": 8, "steps": 10},
        "region": {"delta_min": 0, "delta_factor": 0.0},
        "search": {"lns": {"share": 0.3, "disagree": 1.0}},
    },
    "warm": {
        "sampling": {"k": 8, "steps": 10},
        "candidates": {"starts": 7},
        "search": {"subproblem": {"share": 0.0}},
    },
}
GRIDS: dict[str, dict[str, dict[str, Any]]] = {"pas": PAS_GRID, "srg": SRG_GRID}

# The grid runs on the first backend; the first stage's best point then runs on the others.
# Without a declared order, the backend the plain selector picks for most of the tuning
# instances goes first (``backend_order``): the grid's points are compared where the model
# will most likely run, not on a backend its tuning then leaves.
PAS_BACKENDS = ("scip", "highs")
# The points that run a backend alone (``plain@scip``): what ``mode=auto`` is measured against.
PLAIN = "plain"
# A guided point is chosen only if its final objective is no worse than the better backend
# alone's on at least this share of the tuning runs (the product's promise: guidance does not
# end worse than the free solver), unless no point is; the lowest integral among them wins.
FINALS_SHARE = 0.9
# The horizon a tuning scores over unless told: a solve's default time limit
# (``jobs.options.JobOptions.time_limit``), what a model tuned at a shorter budget will serve.
SERVE_HORIZON = 60.0

Report = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Tuning:
    """The outcome: the chosen point and what the card records."""

    choice: str
    params: dict[str, Any]
    record: dict[str, Any]
    solver: str = "scip"
    auto: dict[str, str] = field(default_factory=lambda: {"mode": "pas"})


def run_count(
    instances: int,
    seeds: int,
    grid: Mapping[str, Any] = PAS_GRID,
    backends: Sequence[str] = PAS_BACKENDS,
    plain: bool = True,
) -> int:
    """How many solves a tuning makes."""
    points = len(grid) + len(backends) - 1 + (len(backends) if plain else 0)
    return points * instances * seeds


def full_params(overrides: Mapping[str, Any], kind: str = "pas") -> dict[str, Any]:
    """A grid point as a complete parameter set (every field set, so a card's own ``pas`` or
    ``srg`` parameters cannot leak into the point while it is measured)."""
    cls = SrgParams if kind == "srg" else PasParams
    return parse_params(cls, kind, None, overrides).model_dump()


def tune_pas(
    ref: str,
    registry: Path | Sequence[Path],
    instances: Sequence[tuple[str, Problem]],
    *,
    budget: float,
    seeds: Sequence[int] = (0,),
    grid: Mapping[str, Mapping[str, Any]] | None = None,
    backends: Sequence[str] | None = None,
    plain: bool = True,
    kind: str = "pas",
    device: str = "cpu",
    report: Report | None = None,
    stop: Callable[[], bool] | None = None,
    horizon: float | None = None,
    jobs: int = 1,
) -> Tuning:
    """Measure every grid point on every (instance, seed) with the first backend, then the
    best point with each other backend, and choose the lowest mean primal integral; with
    ``plain``, also each backend alone (no guidance): only points whose finals hold against
    them are chosen when any do (``holds_finals``; else those that ``holds_mean_final``), and
    ``mode=auto`` prefers the best of them when it beats the chosen point.

    Args:
        instances: (name, problem) to tune on: the model's validation instances.
        budget: seconds per run, everything after reading included.
        horizon: seconds each run's integral covers, its last gap held past the budget (None
            or less than the budget: the budget).
        grid: defaults to the kind's (``GRIDS``).
        plain: run each backend alone (the finals rule; ``mode=auto`` for PaS).
        kind: the model's, ``pas`` or ``srg`` (the mode its runs solve in).
        backends: the first runs the whole grid; each other one runs the first stage's choice
            (None: ``PAS_BACKENDS`` in ``backend_order``).
        report: told of each run (its point, instance, seed and final objective), in the order
            the runs end.
        stop: polled before each run starts; True raises ``Stopped`` (runs under way end first).
        jobs: runs at once, each in a worker process of its own with one thread (as ``bench
            guided --jobs`` runs them); 1: one after another in this process. A worker loads
            the model before its first run, so no run's time includes loading.
    """
    if kind not in GRIDS:
        raise ValueError(f"unknown model kind {kind!r}")
    grid = GRIDS[kind] if grid is None else grid
    if backends is None:
        backends = backend_order(registry, [problem for _, problem in instances])
    if not instances or not grid or not backends:
        raise ValueError("tuning needs instances, a grid and a backend")
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    horizon = budget if horizon is None else max(horizon, budget)
    with _Runner(ref, _registry(registry), device, kind, budget, jobs) as runner:
        return _tune(runner, instances, budget, seeds, grid, backends, plain, kind, report, stop,
                     horizon)  # fmt: skip


def _tune(
    runner: _Runner,
    instances: Sequence[tuple[str, Problem]],
    budget: float,
    seeds: Sequence[int],
    grid: Mapping[str, Mapping[str, Any]],
    backends: Sequence[str],
    plain: bool,
    kind: str,
    report: Report | None,
    stop: Callable[[], bool] | None,
    horizon: float,
) -> Tuning:
    """``tune_pas``'s stages, each (point, instance, seed) run by ``runner``."""
    first, others = backends[0], tuple(backends[1:])
    total = run_count(len(instances), len(seeds), grid, backends, plain)
    runs: _Runs = {}
    # name -> (shape, backend); the shape None: the backend alone
    points: dict[str, tuple[str | None, str]] = {p: (p, first) for p in grid}

    def measure(names: Sequence[str]) -> None:
        tasks = []
        for name, problem in instances:
            for point in names:
                shape, backend = points[point]
                params = None if shape is None else full_params(grid[shape], kind)
                tasks += [((point, name, seed), problem, params, backend) for seed in seeds]
        for key, run in runner.runs(tasks, stop):
            runs[key] = run
            if report is not None:
                point, name, seed = key
                report(
                    {
                        "done": len(runs),
                        "total": total,
                        "point": point,
                        "instance": name,
                        "seed": seed,
                        "objective": run[1],
                    }
                )

    calibration = calibrate()  # this machine's speed, before the runs (``pipeline.machine``)
    measure(list(grid))
    # each backend alone next, so that the finals rule already applies to the first stage
    plains = [f"{PLAIN}@{b}" for b in backends] if plain else []
    points.update({name: (None, b) for name, b in zip(plains, backends, strict=False)})
    measure(plains)
    stage_one = point_figures(runs, list(points), instances, seeds, budget, plains, horizon)[0]
    best_shape = choose_point(stage_one, list(grid))
    stage_two = {f"{best_shape}@{backend}": (best_shape, backend) for backend in others}
    points.update(stage_two)
    measure(list(stage_two))
    figures, references = point_figures(
        runs, list(points), instances, seeds, budget, plains, horizon
    )
    guided = [p for p in points if p not in plains]
    choice = choose_point(figures, guided)  # the recorded figures rank it first
    shape, solver = points[choice]
    assert shape is not None
    auto: dict[str, str] = {"mode": kind}
    if plains and kind == "pas":
        best_plain = _lowest({p: figures[p] for p in plains})
        if figures[best_plain]["primal_integral"] < figures[choice]["primal_integral"]:
            auto = {"mode": "exact", "solver": points[best_plain][1]}
    record = {
        "procedure": "mipguide.guidance.tuning.tune_pas: lowest mean primal integral"
        + (
            f" over {horizon:g} s (each run's last gap held from its {budget:g} s on)"
            if horizon > budget
            else ""
        )
        + (
            f" among the points whose final objective is no worse than the better backend "
            f"alone's on at least {FINALS_SHARE:.0%} of the runs (when none is: those whose mean "
            f"final gap is no larger than the better backend alone's; all points when none is)"
            if plains
            else ""
        )
        + f"; the grid on {first}, then its best point on {', '.join(others) or 'no other backend'}"
        + ("; each backend alone" if plains else "")
        + (", for this rule and for mode=auto" if plains and kind == "pas" else ""),
        "budget_seconds": budget,
        "horizon_seconds": horizon,
        "solver": solver,
        "auto": auto,
        "backends": list(backends),
        "threads": 1,
        "runs_at_once": runner.jobs,
        "calibration": calibration,
        "seeds": list(seeds),
        "instances": [name for name, _ in instances],
        "references": references,
        "grid": {p: dict(v) for p, v in grid.items()},
        "figures": figures,
        "choice": choice,
    }
    return Tuning(choice, dict(grid[shape]), record, solver, auto)


_Key = tuple[str, str, int]  # (point, instance, solver seed)
_Outcome = tuple[list[tuple[float, float]], float | None]  # incumbent trace, final objective
_Runs = dict[_Key, _Outcome]
# (key, problem, the point's complete parameters or None for the backend alone, backend)
_Task = tuple[_Key, Problem, dict[str, Any] | None, str]


class _Runner:
    """Runs a tuning's solves: in this process one after another (``jobs`` 1), or ``jobs`` at
    once in spawned worker processes that each load the model first (``_warm_up``)."""

    def __init__(
        self,
        ref: str,
        registry: tuple[Path, ...],
        device: str,
        kind: str,
        budget: float,
        jobs: int,
    ) -> None:
        self.model = (ref, registry, device, kind)  # what ``_warm_up`` loads
        self.budget = budget
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Runner:
        if self.jobs == 1:
            _warm_up(*self.model)
        else:
            import multiprocessing

            self.pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
                initargs=self.model,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def runs(
        self, tasks: Sequence[_Task], stop: Callable[[], bool] | None
    ) -> Iterator[tuple[_Key, _Outcome]]:
        """Each task's outcome as it ends (in order with one job); ``stop`` is polled before
        each start. Runs still queued when it stops are cancelled on leaving the runner."""
        ref, registry, device, kind = self.model
        queue = list(tasks)
        pending: dict[Future[_Outcome], _Key] = {}
        while queue or pending:
            while queue and len(pending) < self.jobs:
                if stop is not None and stop():
                    raise Stopped("stopped on request")
                key, problem, params, backend = queue.pop(0)
                args = (ref, registry, problem, params, backend, self.budget, key[2], device, kind)
                if self.pool is None:
                    yield key, _run(*args)
                    continue
                pending[self.pool.submit(_run, *args)] = key
            if pending:
                ended, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in ended:
                    yield pending.pop(future), future.result()


def backend_order(
    registry: Path | Sequence[Path],
    problems: Sequence[Problem],
    backends: Sequence[str] = PAS_BACKENDS,
) -> tuple[str, ...]:
    """``backends`` with the one the plain selector (the registry's, else the shipped one) picks
    for most of ``problems`` first (ties and a backend it never picks keep their order;
    unchanged without a selector)."""
    from mipguide.guidance.dispatch import plain_selector
    from mipguide.models.cards import registry_roots
    from mipguide.settings import SHIPPED_MODELS

    selector = plain_selector((*registry_roots(registry), SHIPPED_MODELS))
    if selector is None or not problems:
        return tuple(backends)
    votes = [selector.choose(problem).solver for problem in problems]
    return tuple(sorted(backends, key=lambda b: (-votes.count(b), backends.index(b))))


def pool_backend(choice: str, registry: Path | Sequence[Path], problems: Iterable[Problem]) -> str:
    """The backend that builds a model's solution pools: ``scip`` or ``highs`` as named, and for
    ``auto`` the one the plain selector picks for most of the training ``problems``
    (``backend_order``): the labels come from the better backend on them. ``problems`` is
    consumed only for ``auto`` (a generator builds nothing otherwise).

    Raises:
        ValueError: an unknown choice.
    """
    if choice in PAS_BACKENDS:
        return choice
    if choice != "auto":
        raise ValueError(f"unknown pool solver {choice!r}: auto, {', '.join(PAS_BACKENDS)}")
    return backend_order(registry, list(problems))[0]


def choose_point(figures: Mapping[str, Mapping[str, Any]], candidates: Sequence[str]) -> str:
    """The candidate of the lowest mean primal integral among those that hold the finals
    (``holds_finals``; when none does, those that ``holds_mean_final``; all of them when none
    does or there are no plain points), from the figures ``point_figures`` computed over every
    run so far (the card records them)."""
    held = [p for p in candidates if holds_finals(figures[p])]
    if not held:
        held = [p for p in candidates if holds_mean_final(figures[p], figures)]
    return _lowest({p: figures[p] for p in (held or candidates)})


def holds_mean_final(figure: Mapping[str, Any], figures: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a point's mean final gap is no larger than the better backend alone's (the
    plain points' lowest; True when no plain point ran)."""
    plains = [f["final_gap"] for p, f in figures.items() if p.startswith(f"{PLAIN}@")]
    if not plains:
        return True
    return bool(figure["final_gap"] <= min(plains) + 1e-12)


def holds_finals(figure: Mapping[str, Any]) -> bool:
    """Whether a point's final objective was no worse than the better backend alone's on at
    least ``FINALS_SHARE`` of its runs (True when no plain point ran)."""
    no_worse = figure.get("finals_no_worse")
    if no_worse is None:
        return True
    return bool(no_worse >= FINALS_SHARE * figure["runs"] - 1e-9)


def _finals_no_worse(
    runs: _Runs,
    point: str,
    plains: Sequence[str],
    instances: Sequence[tuple[str, Problem]],
    seeds: Sequence[int],
) -> int:
    """On how many (instance, seed) the point's final objective is no worse than the better
    of the backends alone's (relative 1e-6, ``pipeline.primal.compare``)."""
    count = 0
    for name, problem in instances:
        sense = int(problem.sense)
        for seed in seeds:
            finals = [runs[(p, name, seed)][1] for p in plains]
            found = [f for f in finals if f is not None]
            best = (min if sense == 1 else max)(found) if found else None
            count += compare(runs[(point, name, seed)][1], best, sense) < 2
    return count


def point_figures(
    runs: _Runs,
    points: Sequence[str],
    instances: Sequence[tuple[str, Problem]],
    seeds: Sequence[int],
    budget: float,
    plains: Sequence[str] = (),
    horizon: float | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, float | None]]:
    """Each point's mean primal integral (of its incumbents within ``budget``, over
    ``horizon``: the last gap held from the budget on; None: the budget) and final gap against
    the best objective any run of any point found on the instance, and (with ``plains``) on how
    many runs its final objective is no worse than the better backend alone's; and those
    references."""
    senses = {name: int(problem.sense) for name, problem in instances}
    horizon = budget if horizon is None else max(horizon, budget)
    references: dict[str, float | None] = {}
    for name, _ in instances:
        found = [obj for (_, n, _), (_, obj) in runs.items() if n == name and obj is not None]
        references[name] = (min if senses[name] == 1 else max)(found) if found else None
    figures: dict[str, dict[str, Any]] = {}
    for point in points:
        integrals, gaps = [], []
        for name, _ in instances:
            ref_value = references[name]
            for seed in seeds:
                trace, objective = runs[(point, name, seed)]
                if ref_value is None:  # no run found a solution: every point is equally bad
                    integrals.append(1.0)
                    gaps.append(1.0)
                    continue
                within = [(t, obj) for t, obj in trace if t <= budget]
                integrals.append(primal_integral(within, ref_value, senses[name], horizon))
                gaps.append(primal_gap(objective, ref_value))
        figures[point] = {
            "primal_integral": sum(integrals) / len(integrals),
            "final_gap": sum(gaps) / len(gaps),
            "runs": len(integrals),
        }
        if plains:
            no_worse = _finals_no_worse(runs, point, plains, instances, seeds)
            figures[point]["finals_no_worse"] = no_worse
    return figures, references


def _lowest(figures: Mapping[str, Mapping[str, Any]]) -> str:
    """The point of the lowest mean primal integral; ties go to the earlier point."""
    best = min(f["primal_integral"] for f in figures.values())
    return next(
        p for p in figures if math.isclose(figures[p]["primal_integral"], best, abs_tol=1e-12)
    )


def tune_registered(
    directory: Path,
    instances: Sequence[tuple[str, Problem]],
    *,
    budget: float,
    seeds: Sequence[int] = (0,),
    device: str = "cpu",
    report: Report | None = None,
    stop: Callable[[], bool] | None = None,
    horizon: float | None = None,
    jobs: int = 1,
) -> Tuning:
    """Tune the model registered at ``directory`` (``.../NAME@VERSION``, PaS or SRG) and write
    the choice and the record into its card (a person's note on earlier parameters goes)."""
    from mipguide.models.cards import model_kind
    from mipguide.models.registry import update_card

    kind = model_kind(directory)
    tuning = tune_pas(
        directory.name,
        (directory.parent,),
        instances,
        budget=budget,
        seeds=seeds,
        kind=kind,
        device=device,
        report=report,
        stop=stop,
        horizon=horizon,
        jobs=jobs,
    )
    changes: dict[str, Any] = {kind: tuning.params, "solver": tuning.solver}
    if kind == "pas":
        changes["auto"] = tuning.auto
    update_card(directory, {**changes, "tuning": tuning.record, f"{kind}_note": None})
    return tuning


def _run(
    ref: str,
    registry: Path | Sequence[Path],
    problem: Problem,
    params: dict[str, Any] | None,
    solver: str,
    budget: float,
    seed: int,
    device: str,
    kind: str = "pas",
) -> tuple[list[tuple[float, float]], float | None]:
    """One guided solve: its incumbent trace (seconds since the call) and final objective."""
    trace: list[tuple[float, float]] = []
    t0 = time.perf_counter()

    def on_incumbent(inc: Incumbent) -> None:
        trace.append((time.perf_counter() - t0, inc.objective))

    request = (
        ModeRequest(mode="exact")
        if params is None
        else ModeRequest(
            mode=kind,
            model=ref,
            pas=params if kind == "pas" else {},
            srg=params if kind == "srg" else {},
            model_dir=_registry(registry),
            device=device,
        )
    )
    options = SolveOptions(time_limit=budget, threads=1, seed=seed)
    result = solve_request(problem, solver, options, request, on_incumbent=on_incumbent)
    return trace, result.objective


def _warm_up(ref: str, registry: Path | Sequence[Path], device: str, kind: str = "pas") -> None:
    """Load the model and the guided path's modules before the first run is timed."""
    import mipguide.guidance.pas  # noqa: F401
    import mipguide.guidance.srg  # noqa: F401
    from mipguide.guidance.selection import cached_model
    from mipguide.models.cards import locate

    cached_model(ref, str(locate(_registry(registry), ref)), device)


def _registry(registry: Path | Sequence[Path]) -> tuple[Path, ...]:
    return (registry,) if isinstance(registry, Path) else tuple(registry)
