"""SRG sampler measurements: (instance, score model, params) -> sampling time and the quality of
the raw candidates (before any repair), with and without guidance.

- ``time_sampling``: wall seconds of ``sample_candidates`` (the whole sampler: context, K
  candidates, guidance), median of repeats, on the calling thread's torch settings;
- ``raw_quality``: the fraction of the K rounded candidates that verify feasible before repair
  (for problems with non-binary variables: the binaries admit a feasible completion, checked by
  an LP with the binaries fixed), their mean max violation (pure-binary: against the original
  problem; otherwise: the normalized guidance rows) and their mean objective (pure-binary: the
  objective; otherwise the binaries' part c_B x_B + offset), and the best raw feasible objective.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from mipguide.features import build_graph
from mipguide.guidance.candidates import evaluate_candidates
from mipguide.guidance.params import SrgParams
from mipguide.guidance.rows import guidance_rows
from mipguide.guidance.sample import sample_candidates
from mipguide.models.registry import LoadedModel
from mipguide.problem.model import Problem


@dataclass(frozen=True)
class Timing:
    """Sampling time of one instance: median, min and max over the repeats (seconds)."""

    instance: str
    binaries: int
    rows: int
    nnz: int
    k: int
    steps: int
    median: float
    best: float
    worst: float


@dataclass(frozen=True)
class RawQuality:
    """Raw candidates of one instance under one setting."""

    instance: str
    guidance: bool
    k: int
    feasible_rate: float
    mean_violation: float
    mean_objective: float
    best_feasible_objective: float | None
    seconds: float
    minimize: bool = True
    setting: str = ""  # with ``bench srg --tune``: the guided run's PATH=VALUE


def time_sampling(
    problem: Problem, model: LoadedModel, params: SrgParams, repeat: int = 3, seed: int = 0
) -> Timing:
    """Median wall time of the sampler (graph features excluded, everything else included)."""
    graph, rows = build_graph(problem), guidance_rows(problem, params.sampling.aggregates)
    times = []
    for r in range(repeat):
        t0 = time.perf_counter()
        sample_candidates(graph, rows, model, params.sampling, seed + r)
        times.append(time.perf_counter() - t0)
    return Timing(
        instance=problem.name,
        binaries=problem.num_binaries,
        rows=problem.num_rows,
        nnz=problem.nnz,
        k=params.sampling.k,
        steps=params.sampling.steps,
        median=float(np.median(times)),
        best=float(min(times)),
        worst=float(max(times)),
    )


def raw_quality(
    problem: Problem, model: LoadedModel, params: SrgParams, seed: int = 0, setting: str = ""
) -> RawQuality:
    """Sample K candidates and judge them before repair (see module docstring)."""
    graph, rows = build_graph(problem), guidance_rows(problem, params.sampling.aggregates)
    raw = params.candidates.model_copy(update={"repair": "none"})
    t0 = time.perf_counter()
    samples = sample_candidates(graph, rows, model, params.sampling, seed)
    seconds = time.perf_counter() - t0
    cands = evaluate_candidates(problem, samples, rows, raw, complete_all=True, seed=seed)
    objective = cands.x @ problem.c[cands.binary_index] + problem.offset
    feasible = cands.objective[cands.raw_feasible]
    best = None
    if feasible.size:
        best = float(feasible.min() if problem.sense > 0 else feasible.max())
    return RawQuality(
        instance=problem.name,
        guidance=params.sampling.guidance,
        k=params.sampling.k,
        feasible_rate=float(cands.raw_feasible.mean()),
        mean_violation=float(cands.violation.mean()),
        mean_objective=float(objective.mean()) if objective.size else math.nan,
        best_feasible_objective=best,
        seconds=seconds,
        minimize=problem.sense > 0,
        setting=setting,
    )
