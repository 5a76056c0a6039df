"""Candidates: verification, the LP completion of mixed problems, greedy and DMMV repair;
every returned solution verifies."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance.candidates import evaluate_candidates, repair_method
from mipguide.guidance.params import CandidateParams
from mipguide.guidance.rows import guidance_rows
from mipguide.guidance.sample import Samples
from mipguide.instances.indset import IndependentSetParams
from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.problem.model import Problem, make_problem
from mipguide.problem.verify import verify


def _samples(problem: Problem, x: np.ndarray) -> Samples:
    bidx = np.flatnonzero(problem.binary_mask)
    x = np.asarray(x, dtype=np.float64)
    probs = np.where(x > 0.5, 0.9, 0.1)
    return Samples(x, probs, bidx, np.zeros((x.shape[0], 0)), 0.0, "t@1", "cpu", 0.0, 0)


def test_raw_feasibility_of_a_mixed_problem_is_the_completion(small_facility: Problem) -> None:
    p = small_facility
    nb = p.num_binaries
    s = _samples(p, np.array([np.ones(nb), np.zeros(nb), np.ones(nb)]))
    params = CandidateParams(repair="none")
    c = evaluate_candidates(p, s, guidance_rows(p), params, complete_all=True)
    assert c.raw_feasible.tolist() == [True, False, True]
    assert np.isfinite(c.objective[[0, 2]]).all() and np.isnan(c.objective[1])
    # ranked first (cheapest): all closed, which fails; then all open (and its duplicate)
    top = evaluate_candidates(
        p, s, guidance_rows(p), CandidateParams(complete_top=1, repair="none")
    )
    assert top.raw_feasible.tolist() == [True, False, True]
    zero = evaluate_candidates(
        p, s, guidance_rows(p), CandidateParams(complete_top=0, repair="none")
    )
    assert not zero.raw_feasible.any()


def test_greedy_repair_makes_covers_feasible() -> None:
    p = generate_with(Family.SET_COVER, SetCoverParams(n_rows=40, n_cols=30, density=0.1), 2)
    s = _samples(p, np.zeros((3, p.num_vars)))
    c = evaluate_candidates(p, s, guidance_rows(p), CandidateParams())
    assert c.repair == "greedy" and not c.raw_feasible.any() and c.repaired.all()
    assert all(verify(p, x).feasible for x in c.solutions if x is not None)
    assert (c.violation > 0).all()


def test_dmmv_repairs_a_general_binary_problem() -> None:
    # equality rows (not packing/covering): x0 + x1 = 1, x1 + x2 = 1, x2 - x3 = 0
    A = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, -1]], dtype=float)
    p = make_problem(
        A, [1, 1, 0], [1, 1, 0], [1, 2, 3, 4], col_upper=np.ones(4), integrality=np.ones(4, bool)
    )
    assert repair_method(p, "auto") == "dmmv" and repair_method(p, "greedy") == "none"
    s = _samples(p, np.zeros((2, 4)))
    c = evaluate_candidates(p, s, guidance_rows(p), CandidateParams(repair_seconds=0.2))
    assert c.repair == "dmmv" and c.repaired.all()
    assert all(verify(p, x).feasible for x in c.solutions if x is not None)
    none = evaluate_candidates(p, s, guidance_rows(p), CandidateParams(repair="none"))
    assert not none.feasible.any()


@pytest.mark.parametrize("family", [Family.INDEPENDENT_SET, Family.SET_COVER])
def test_fixed_binaries_keep_their_bounds(family: Family) -> None:
    p = (
        generate_with(family, IndependentSetParams(n_nodes=30), 0)
        if family == Family.INDEPENDENT_SET
        else generate_with(family, SetCoverParams(n_rows=30, n_cols=20, density=0.2), 0)
    )  # noqa: E501
    lower = p.col_lower.copy()
    lower[0] = 1.0  # binary 0 is fixed at 1
    from dataclasses import replace

    q = replace(p, col_lower=lower)
    c = evaluate_candidates(
        q, _samples(q, np.zeros((2, q.num_vars))), guidance_rows(q), CandidateParams()
    )
    assert (c.x[:, 0] == 1).all()
