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
