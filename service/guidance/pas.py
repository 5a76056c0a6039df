"""Predict-and-search (DESIGN steps 2-7) as a ``Guide`` for ``run.run_guided``.

1. features and GNN inference (counted in the budget);
2. the prediction rounded (and repaired where cheap, see ``rounding``; on problems with other
   variables, completed with the binaries fixed, see ``completion``); a feasible one is the
   first incumbent (source ``gnn``) and every later stage gets it as its start;
3. the region: the k0 binaries most likely 0 and the k1 most likely 1 (``trust_region``);
4. the search that ``run_guided`` runs: subproblem, LNS rounds guided by P(x = 1), completion.

The ablations (``PasParams.prediction``) replace step 1 only: P(x = 1) from the LP relaxation,
or from the backend's first incumbent (no prediction at all).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from mipguide.features import build_graph
from mipguide.guidance.completion import prediction_start
from mipguide.guidance.lns import relaxation_values
from mipguide.guidance.params import PasParams
from mipguide.guidance.predict import pas_network, predict
from mipguide.guidance.run import GuideContext, ModelGuide, Proposal
from mipguide.guidance.trust_region import choose_region
from mipguide.pipeline.solve import backend_for
from mipguide.solvers.types import Incumbent, IncumbentSource, Interrupt

# at most this share of the budget left goes to an ablation's LP or a first incumbent
ABLATION_SHARE = 0.2


class PasGuide(ModelGuide[PasParams]):
    """A PaS model and its parameters."""

    mode, label, source = "pas", "predict-and-search", IncumbentSource.GNN

    def propose(self, ctx: GuideContext) -> Proposal:
        """Predict, offer the rounded prediction, choose the top-k region."""
        problem, trace = ctx.problem, ctx.trace
        t_before = trace.elapsed()
        probs, binary_index, seconds, inference = self._prediction(ctx)
        t_predict = trace.elapsed()
        left = ctx.remaining()
        cap = self.params.start_seconds
        cap = cap if left is None else min(cap, 0.05 * left)
        # an ablation's rounding is not the network's: it is reported as a start
        network = self.params.prediction == "network"
        source = self.source if network else IncumbentSource.START
        start = prediction_start(
            problem,
            probs,
            binary_index,
            solver=ctx.solver,
            time_limit=cap,
            on_found=lambda x: ctx.offer([x], source),  # each completion as it is found
            stop=ctx.stopped,
        )
        ctx.offer([start], source)
        r = self.params.region
        region = choose_region(probs, binary_index, r.k0, r.k1, r.delta, ctx.best.x)
        seconds["start"] = trace.elapsed() - t_predict
        seconds.setdefault("predict", t_predict - t_before)
        extra: dict[str, Any] = {
            "binaries": int(binary_index.size),
            "prediction": self.params.prediction,
        }
        if inference is not None:
            extra["inference"] = inference
        return Proposal(region, (binary_index, probs), seconds, extra)

    def _prediction(
        self, ctx: GuideContext
    ) -> tuple[np.ndarray, np.ndarray, dict[str, float], dict[str, Any] | None]:
        """P(x = 1) on the binaries, their indices, the stages' seconds, and where the
        network ran when that was the device pool (else None)."""
        problem = ctx.problem
        if self.params.prediction == "network":
            return self._network(ctx)
        if self.params.prediction == "network-incumbent":
            probs, binary_index, seconds, inference = self._network(ctx)
            x = _first_incumbent(ctx, _ablation_budget(ctx))
            if x is not None:  # the incumbent's values; the network ranks them (``PasParams``)
                probs = 0.5 * (probs + np.clip(x[binary_index], 0.0, 1.0))
            return probs, binary_index, seconds, inference
        binary_index = np.flatnonzero(problem.binary_mask).astype(np.int64)
        budget = _ablation_budget(ctx)
        if self.params.prediction == "lp":
            x = relaxation_values(
                problem, backend_for(problem, ctx.solver), ctx.options, budget, ctx.interrupt
            )
        else:
            x = _first_incumbent(ctx, budget)
        if x is None:  # nothing to lean on: every binary undecided
            return np.full(binary_index.size, 0.5), binary_index, {}, None
        probs = np.clip(x[binary_index], 0.0, 1.0)
        # ties (an incumbent's 0/1, an LP's many 0s) broken at random, not by variable order
        rng = np.random.default_rng(ctx.options.seed)
        probs = np.clip(probs + rng.uniform(-1e-3, 1e-3, probs.size), 0.0, 1.0)
        return probs, binary_index, {}, None

    def _network(
        self, ctx: GuideContext
    ) -> tuple[np.ndarray, np.ndarray, dict[str, float], dict[str, Any] | None]:
        """The network's P(x = 1) (on the device pool when there is one), as ``_prediction``."""
        trace = ctx.trace
        t0 = trace.elapsed()
        graph = build_graph(ctx.problem)
        t_features = trace.elapsed()
        inference, answer, failed = None, None, None
        if self.remote is not None:
            pas_network(self.model)  # a wrong kind fails here, not on the pool
            answer, failed = self.remote.pas(graph)
        if answer is not None and self.remote is not None:
            probs, binary_index = answer.output, np.flatnonzero(graph.binary_mask)
            inference = answer.where(self.remote.runner)
        else:
            pred = predict(graph, self.model)
            probs, binary_index = pred.probs, pred.binary_index
            if self.remote is not None:
                inference = self.remote.fallback(pred.device, failed)
        seconds = {"features": t_features - t0, "predict": trace.elapsed() - t_features}
        return probs, binary_index, seconds, inference


def _ablation_budget(ctx: GuideContext) -> float:
    """Seconds for the LP relaxation or the first incumbent: ``ABLATION_SHARE`` of the budget
    left (60 s without a limit)."""
    left = ctx.remaining()
    return 60.0 if left is None else ABLATION_SHARE * left


def _first_incumbent(ctx: GuideContext, seconds: float) -> np.ndarray | None:
    """The backend's first incumbent on the whole problem (it stops when one is found, or after
    ``seconds``); offered to the trace as the solver's."""
    stop = Interrupt()

    def found(_: Incumbent) -> None:
        stop.set()

    backend = backend_for(ctx.problem, ctx.solver)
    options = replace(ctx.options, time_limit=seconds, start=None)
    out = backend.solve(ctx.problem, options, found, stop)
    if out.x is None:
        return None
    x = np.asarray(out.x, dtype=np.float64)
    ctx.offer([x], IncumbentSource.SOLVER)
    return x
