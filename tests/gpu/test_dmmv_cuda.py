"""The same DMMV code on a CUDA device (skipped without one)."""

from __future__ import annotations

import pytest
import torch

from mipguide.heuristics.dmmv import DmmvConfig, solve_batch, stack_instances
from mipguide.heuristics.dmmv.evaluate import evaluate
from tests.heuristics.dmmv_cases import random_instance


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_search_returns_verified_results() -> None:
    insts = [random_instance(s, m=20, n=12, matrix_seed=2) for s in range(8)]
    results = solve_batch(
        stack_instances(insts), DmmvConfig(device="cuda", time_limit=2.0, max_iterations=100)
    )
    for inst, res in zip(insts, results, strict=True):
        ev = evaluate(inst.A, res.x, inst.lower, inst.upper)
        assert res.max_violation == pytest.approx(ev.max_violation, abs=1e-12)
        assert res.max_violation <= res.start_max_violation + 1e-9


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graph_passes_match_plain_passes_in_quality() -> None:
    """One instance, 200 passes: replayed as a CUDA graph and as plain passes, both verified
    and the graph really used."""
    from dataclasses import replace

    import numpy as np

    from mipguide.heuristics.dmmv.evaluate import start_indices
    from mipguide.heuristics.dmmv.search import run_search
    from mipguide.heuristics.dmmv.tensors import to_device_batch, to_device_matrix
    from mipguide.instances.dmmv.tomography import tomography_case

    batch = tomography_case(32, n_levels=4, n_angles=8, seed=0).batch
    dev = torch.device("cuda")
    mat = to_device_matrix(batch.A, dev, torch.float32)
    dbatch = to_device_batch(batch, dev, torch.float32)
    start = torch.as_tensor(start_indices(batch), dtype=torch.long, device=dev)
    cfg = DmmvConfig(
        device="cuda", time_limit=60.0, max_iterations=200, recompute_every=50, cuda_graph=True
    )
    graphed = run_search(mat, dbatch, start, cfg)
    plain = run_search(mat, dbatch, start, replace(cfg, cuda_graph=False))
    assert graphed.graphed and not plain.graphed and graphed.iterations == 200
    results = []
    for out in (graphed, plain):
        idx = out.best_idx.cpu().numpy()[0]
        x = np.asarray(batch.levels_of(0))[np.arange(idx.size), idx]
        results.append(evaluate(batch.A, x, batch.lower[0], batch.upper[0]).max_violation)
    start_v = evaluate(
        batch.A,
        np.asarray(batch.levels_of(0))[np.arange(start.shape[1]), start.cpu().numpy()[0]],
        batch.lower[0],
        batch.upper[0],
    ).max_violation
    assert max(results) < start_v  # both searched
    assert results[0] <= 2.0 * results[1] + 1e-6  # the graph's passes are as good in kind
