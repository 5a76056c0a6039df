"""SRG (DESIGN steps 2-7) as a ``Guide`` for ``run.run_guided``.

1. features and the guidance rows (``rows``);
2. a first incumbent (source ``srg``) from the network's first one-step estimate (the mean
   over K of the clean state guessed from pure noise), rounded, repaired or completed like
   PaS's prediction (``completion.prediction_start``, each completion offered as it is
   found), as soon as the first step is done;
   then K candidates from the Lagrangian-guided reverse SDE (``sample``), in one batch, within
   ``sampling.share`` of the time limit (fewer steps on graphs too big for the full count);
3. each candidate verified (completed where the problem has non-binary variables) and the
   infeasible ones repaired (``candidates``); the best feasible one improves the incumbent
   (source ``srg``) and is the solver's start;
4. the region: the consensus of the candidates (``consensus``: agreement -> S, x^, Delta from
   their spread) or, as an ablation, PaS's top-k choice on their mean (``region.kind=topk``);
5. the search that ``run_guided`` runs, the LNS guided by the candidates' mean; up to
   ``candidates.starts`` other feasible candidates go to the backend as more starts.
"""

from __future__ import annotations

import numpy as np

from mipguide.features import build_graph
from mipguide.guidance.candidates import CandidateSet, evaluate_candidates
from mipguide.guidance.completion import prediction_start
from mipguide.guidance.consensus import consensus_region
from mipguide.guidance.params import SrgParams, SrgRegion
from mipguide.guidance.remote import SrgRequest
from mipguide.guidance.rows import GuidanceRows, guidance_rows
from mipguide.guidance.run import GuideContext, ModelGuide, Proposal
from mipguide.guidance.sample import Samples, sample_candidates, score_model
from mipguide.guidance.trust_region import Region, choose_region
from mipguide.problem.model import Problem
from mipguide.problem.verify import verify
from mipguide.solvers.types import IncumbentSource


class SrgGuide(ModelGuide[SrgParams]):
    """An SRG score model and its parameters."""

    mode, label, source = "srg", "SRG", IncumbentSource.SRG

    def propose(self, ctx: GuideContext) -> Proposal:
        """Sample, offer the first estimate and the candidates, choose the region."""
        problem, trace, p = ctx.problem, ctx.trace, self.params
        t_before = trace.elapsed()
        graph = build_graph(problem)
        rows = guidance_rows(problem)
        t_features = trace.elapsed()
        seed = p.sampling.seed if p.sampling.seed is not None else ctx.options.seed
        left = ctx.remaining()
        budget = None if left is None else p.sampling.share * left
        early: list[float] = []
        bidx = np.flatnonzero(graph.binary_mask)

        def first_estimate(probs: np.ndarray) -> None:
            x = prediction_start(
                problem,
                probs,
                bidx,
                solver=ctx.solver,
                time_limit=p.candidates.complete_seconds,
                on_found=lambda y: ctx.offer([y], self.source),  # each completion at once
                stop=ctx.stopped,
            )
            ctx.offer([x], self.source)
            if not np.isnan(x).any() and verify(problem, x).feasible:
                early.append(problem.objective_value(x))

        hook = first_estimate if p.sampling.first_estimate else None
        built: list[GuidanceRows] = []

        def with_aggregates() -> GuidanceRows:
            """The rows and the aggregate rows (an LP: seconds on big models), built once."""
            if not built:
                built.append(guidance_rows(problem, aggregates=True))
            return built[0]

        # locally the aggregate rows are built after the first estimate, which need not wait
        lazy_rows = with_aggregates if p.sampling.aggregates else rows
        inference, answer, failed = None, None, None
        if self.remote is not None:
            # on the device pool: the first estimate comes back with the candidates
            score_model(self.model)  # a wrong kind fails here, not on the pool
            req = SrgRequest(
                self.remote.model,
                graph,
                with_aggregates() if p.sampling.aggregates else rows,
                p.sampling,
                seed,
                budget,
                hook is not None,
            )
            answer, failed = self.remote.srg(req)
        if answer is not None and self.remote is not None:
            samples, first = answer.output
            if hook is not None and first is not None:
                hook(first)
            inference = answer.where(self.remote.runner)
        else:
            samples = sample_candidates(
                graph, lazy_rows, self.model, p.sampling, seed, budget, hook, ctx.stopped
            )
            if self.remote is not None:
                inference = self.remote.fallback(samples.device, failed)
        t_sample = trace.elapsed()
        cands = evaluate_candidates(
            problem,
            samples,
            built[0] if built else rows,
            p.candidates,
            solver=ctx.solver,
            seed=seed,
            stop=ctx.stopped,
        )
        ctx.offer(cands.solutions, self.source)  # every feasible candidate is considered
        region = srg_region(samples, cands, p.region, ctx.best.x)
        seconds = {
            "features": t_features - t_before,
            "sample": t_sample - t_features,
            "candidates": trace.elapsed() - t_sample,
        }
        extra = {
            "device": samples.device,
            "seed": seed,
            "steps": samples.steps,
            "binaries": int(samples.binary_index.size),
            **candidate_summary(cands),
            "lambda_min": samples.lambda_min,
            "region": p.region.kind,
            "first_estimate": early[0] if early else None,
        }
        if inference is not None:
            extra["inference"] = inference
        mean = samples.x.mean(axis=0)
        starts = other_starts(problem, cands, ctx.best.x, p.candidates.starts)
        extra["starts"] = len(starts)
        return Proposal(region, (samples.binary_index, mean), seconds, extra, starts)


def other_starts(
    problem: Problem, cands: CandidateSet, best: np.ndarray | None, count: int
) -> tuple[np.ndarray, ...]:
    """Up to ``count`` distinct feasible candidates other than ``best``, the best first."""
    if count <= 0:
        return ()
    found = [x for x in cands.solutions if x is not None]
    found.sort(key=lambda x: problem.sense * problem.objective_value(x))
    out: list[np.ndarray] = []
    for x in found:
        if len(out) == count:
            break
        if best is not None and np.array_equal(x, best):
            continue
        if any(np.array_equal(x, y) for y in out):
            continue
        out.append(x)
    return tuple(out)


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
    samples: Samples, cands: CandidateSet, params: SrgRegion, best: np.ndarray | None
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
    if params.kind == "topk":
        mean = samples.probs.mean(axis=0)
        t = params.topk
        return choose_region(mean, bidx, t.k0, t.k1, t.delta, best)
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
