"""Build time versus solve time on a 1M-nonzero random model (measured and printed, not asserted).

Run with ``-s`` to see the numbers: ``pytest tests/solvers/test_build_time.py -m slow -s``.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from mipguide.problem.io import read_problem
from mipguide.problem.model import Problem, Sense, make_problem
from mipguide.problem.verify import verify
from mipguide.solvers.base import get_backend
from mipguide.solvers.types import SolveOptions

MIPLIB = Path(__file__).parent.parent / "data" / "miplib"


def random_problem(rows: int, cols: int, nnz: int, seed: int = 0) -> Problem:
    """A random multi-dimensional knapsack: max c x, A x <= b, x binary; A has ``nnz`` entries."""
    rng = np.random.default_rng(seed)
    A = sp.random(
        rows,
        cols,
        density=nnz / (rows * cols),
        format="csr",
        random_state=rng,
        data_rvs=lambda k: rng.integers(1, 100, k).astype(float),
    )
    b = np.asarray(A.sum(axis=1)).ravel() / 4
    return make_problem(
        A,
        np.full(rows, -np.inf),
        b,
        rng.integers(1, 100, cols),
        col_upper=np.ones(cols),
        integrality=np.ones(cols, dtype=bool),
        sense=Sense.MAXIMIZE,
        name=f"random_{A.nnz}",
    )


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["scip", "highs", "ortools-highs"])
@pytest.mark.parametrize("shape", [(2000, 50000), (100000, 50000)], ids=["wide", "tall"])
def test_build_vs_solve_1m_nonzeros(solver: str, shape: tuple[int, int]) -> None:
    problem = random_problem(*shape, nnz=1_000_000)
    out = get_backend(solver).solve(problem, SolveOptions(time_limit=5.0))
    print(
        f"\n{solver} {problem.name} {shape}: build {out.build_seconds:.2f} s, "
        f"solve {out.solve_seconds:.2f} s, {out.termination.reason}"
    )
    assert out.build_seconds > 0
    if out.x is not None:
        assert verify(problem, out.x).feasible


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["scip", "highs", "ortools-highs", "cpsat", "ortools-scip"])
def test_build_cap6000(solver: str) -> None:
    problem = read_problem(MIPLIB / "cap6000.mps.gz")
    gc.collect()  # do not time the collection of an earlier test's big model
    out = get_backend(solver).solve(problem, SolveOptions(time_limit=3.0))
    print(f"\n{solver} cap6000 ({problem.nnz} nnz): build {out.build_seconds:.3f} s")
    assert out.build_seconds < 1.0
