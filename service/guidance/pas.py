"""Predict-and-search (DESIGN steps 2-7) as a ``Guide`` for ``run.run_guided``.

1. features and GNN inference (counted in the budget);
2. the prediction rounded (and repaired where cheap, see ``rounding``; on problems with other
   variables, completed with the binaries fixed, see ``completion``); a feasible one is the
   first incumbent (source ``gnn``) and every later stage gets it as its start;
3. the region: the k0 binaries most likely 0 and the k1 most likely 1 (``trust_region``);
4. the search that ``run_guided`` runs: subproblem, LNS rounds guided by P(x = 1), completion.
"""

from __future__ import annotations

from mipguide.features import build_graph
from mipguide.guidance.completion import prediction_start
from mipguide.guidance.params import PasParams
from mipguide.guidance.predict import predict
from mipguide.guidance.run import GuideContext, ModelGuide, Proposal
from mipguide.guidance.trust_region import choose_region
from mipguide.solvers.types import IncumbentSource


class PasGuide(ModelGuide[PasParams]):
    """A PaS model and its parameters."""

    mode, label, source = "pas", "predict-and-search", IncumbentSource.GNN

    def propose(self, ctx: GuideContext) -> Proposal:
        """Predict, offer the rounded prediction, choose the top-k region."""
        problem, trace = ctx.problem, ctx.trace
        t_before = trace.elapsed()
        graph = build_graph(problem)
        t_features = trace.elapsed()
        pred = predict(graph, self.model)
        t_predict = trace.elapsed()
        left = ctx.remaining()
        cap = self.params.start_seconds
        cap = cap if left is None else min(cap, 0.05 * left)
        start = prediction_start(
            problem, pred.probs, pred.binary_index, solver=ctx.solver, time_limit=cap
        )
        ctx.offer([start], self.source)
        r = self.params.region
        region = choose_region(pred.probs, pred.binary_index, r.k0, r.k1, r.delta, ctx.best.x)
        seconds = {
            "features": t_features - t_before,
            "predict": t_predict - t_features,
            "start": trace.elapsed() - t_predict,
        }
        extra = {"binaries": int(pred.binary_index.size)}
        return Proposal(region, (pred.binary_index, pred.probs), seconds, extra)
