"""SRG (DESIGN steps 2-7): (Problem, solver, options, score model) -> verified SolveResult.

1. features and the guidance rows (``guidance``);
2. a first incumbent (source ``srg``) from the network's first one-step estimate (the mean
   over K of the clean state guessed from pure noise), rounded, repaired or completed like
   PaS's prediction (``completion.prediction_start``), as soon as the first step is done;
   then K candidates from the Lagrangian-guided reverse SDE (``sample``), in one batch, within
   ``sample_share`` of the time limit (fewer steps on graphs too big for the full count);
3. each candidate verified (completed where the problem has non-binary variables) and the
   infeasible ones repaired (``candidates``); the best feasible one improves the incumbent
   (source ``srg``) and is the solver's start;
4. the region: the consensus of the candidates (``consensus``: agreement -> S, x^, Delta from
   their spread) or, as an ablation, PaS's top-k choice on their mean (``region=topk``);
5. the same subproblem and completion as PaS (``search``).

Every returned answer goes through ``finish`` (verification against the original problem).
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np

from models.registry import LoadedModel
from service.errors import UnsupportedProblemError
from service.pipeline.candidates import CandidateSet, evaluate_candidates
from service.pipeline.completion import prediction_start
from service.pipeline.consensus import consensus_region
from service.pipeline.features import build_graph
from service.pipeline.guidance import guidance_rows
from service.pipeline.result import SolveResult
from service.pipeline.sample import Samples, sample_candidates
from service.pipeline.search import Best, remaining, search_region
from service.pipeline.solve import finish
from service.pipeline.srg_params import SrgParams
from service.pipeline.trace import Trace
from service.pipeline.trust_region import Region, choose_region
from service.problem.model import Problem, Sense
from service.solvers.base import get_backend
from service.solvers.types import IncumbentCallback, IncumbentSource, Interrupt, SolveOptions


def solve_srg(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    model: LoadedModel,
    params: SrgParams | None = None,
    *,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
    t0: float | None = None,
) -> SolveResult:
    """SRG with one backend; the result is verified against ``problem``.

    Args:
        problem: the original model.
        solver: backend for the completions of candidates, the subproblem and the completion.
        options: the budget (``time_limit`` covers features, sampling, candidates and both
            solves), seed (also the sampling seed unless ``params.seed``), backend parameters;
            ``options.start`` is ignored (the candidates are the start).
        model: a loaded SRG score model (``kind = srg``).
        params: SRG parameters (default ``SrgParams()``).
        on_incumbent: called with each improving incumbent (times from the start of this call).
        interrupt: cooperative stop.
        read_seconds: reported in ``seconds["read"]``.
        t0: ``time.perf_counter()`` at which the budget started (default: now).

    Raises:
        ModelError: the model is not an SRG model.
        the errors of ``solve_problem`` (unknown solver, unsupported problem, solver failure).
    """
    params = params or SrgParams()
    trace = Trace(problem.sense == Sense.MINIMIZE, on_incumbent, t0)
    backend = get_backend(solver)
    reason = backend.supports(problem)
    if reason is not None:
        raise UnsupportedProblemError(f"solver {solver!r} cannot solve {problem.name!r}: {reason}")
    t_before = trace.elapsed()
    graph = build_graph(problem)
    rows = guidance_rows(problem)
    t_features = trace.elapsed()
    seed = params.seed if params.seed is not None else options.seed
    left = remaining(options, trace)
    budget = None if left is None else params.sample_share * left
    best = Best()
    early: list[float] = []
    bidx = np.flatnonzero(graph.binary_mask)

    def first_estimate(probs: np.ndarray) -> None:
        x = prediction_start(
            problem, probs, bidx, solver=solver, time_limit=params.complete_seconds
        )
        if best.consider(problem, x):
            assert best.objective is not None
            early.append(best.objective)
            trace.offer(best.objective, None, IncumbentSource.SRG)

    hook = first_estimate if params.first_estimate else None
    samples = sample_candidates(graph, rows, model, params, seed, budget, on_first=hook)
    t_sample = trace.elapsed()
    stop = interrupt.is_set if interrupt is not None else None
    cands = evaluate_candidates(problem, samples, rows, params, solver=solver, seed=seed, stop=stop)
    improved = [best.consider(problem, x) for x in cands.solutions]  # every one is offered
    if any(improved):
        assert best.objective is not None
        trace.offer(best.objective, None, IncumbentSource.SRG)
    region = srg_region(samples, cands, params, best.x)
    start = best.x
    if start is None:
        # no feasible candidate: the region's x^ on S as a partial start (SCIP completes it)
        start = np.full(problem.num_vars, np.nan)
        start[region.index] = region.x_hat
    t_start = trace.elapsed()
    found = search_region(
        problem,
        backend,
        options,
        params,
        region,
        start,
        best,
        trace,
        interrupt,
        "SRG",
        guide=(samples.binary_index, samples.x.mean(axis=0)),
    )
    total = trace.elapsed()
    result = finish(
        problem, found.output, seed=options.seed, read_seconds=read_seconds, wall=total, mode="srg"
    )
    seconds = dict(
        result.seconds,
        features=t_features - t_before,
        sample=t_sample - t_features,
        candidates=t_start - t_sample,
        subproblem=found.sub_end - t_start,
        lns=found.lns_end - found.sub_end,
        completion=total - found.lns_end if found.completed else 0.0,
    )
    extra = dict(
        result.extra,
        srg={
            "model": str(model.ref),
            "device": samples.device,
            "params": asdict(params),
            "seed": seed,
            "steps": samples.steps,
            "binaries": int(samples.binary_index.size),
            **candidate_summary(cands),
            "lambda_min": samples.lambda_min,
            "region": params.region,
            "region_size": region.size,
            "delta": found.sub.region.delta,
            "widened": found.sub.widened,
            "grown": found.sub.grown,
            "last_region_size": found.sub.region.size,
            "stalled": found.sub.stalled,
            "subproblem_status": found.sub.last.status.value if found.sub.last else None,
            "first_estimate": early[0] if early else None,
            "start_feasible": bool(trace.items and trace.items[0].source == IncumbentSource.SRG),
            "lns": asdict(found.lns),
            "completed": found.completed,
        },
    )
    return replace(result, incumbents=tuple(trace.items), seconds=seconds, extra=extra)


def candidate_summary(cands: CandidateSet) -> dict[str, object]:
    """Counts and means of the candidates, for the result's ``extra``."""
    k = int(cands.x.shape[0])
    return {
        "k": k,
        "raw_feasible": int(cands.raw_feasible.sum()),
        "feasible": int(cands.feasible.sum()),
        "repair": cands.repair,
        "repaired": int(cands.repaired.sum()),
        "mean_violation": float(cands.violation.mean()) if k else 0.0,
    }


def srg_region(
    samples: Samples, cands: CandidateSet, params: SrgParams, best: np.ndarray | None
) -> Region:
    """The trust region of the candidates: consensus (default) or top-k on their mean.

    The consensus is taken over the feasible candidates (after repair) when there are at least
    two, else over all of them; ties in agreement are broken by the confidence of all K soft
    estimates (with a few feasible candidates most binaries tie, and S must not then follow
    the variable order); x^ is the best feasible solution on S when there is one.
    """
    bidx = samples.binary_index
    if bidx.size == 0:
        return Region(bidx, np.zeros(0), 0)
    reference = None if best is None else best[bidx]
    if params.region == "topk":
        mean = samples.probs.mean(axis=0)
        return choose_region(mean, bidx, params.k0, params.k1, params.topk_delta, best)
    feasible = [s for s in cands.solutions if s is not None]
    pool = np.stack([s[bidx] for s in feasible]) if len(feasible) >= 2 else cands.x
    return consensus_region(
        pool,
        bidx,
        params.agreement,
        max_share=params.max_share,
        delta_factor=params.delta_factor,
        delta_min=params.delta_min,
        reference=reference,
        probs=samples.probs,
    ).region
