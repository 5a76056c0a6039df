"""Guidance never makes a result wrong: mode=srg on the easy MIPLIB conformance instances
(the check: ``miplib_guided.check_guided``)."""

from __future__ import annotations

import pytest

from mipguide.guidance.params import SearchParams, SrgParams, SrgRegion, SubproblemParams
from mipguide.guidance.run import run_guided
from mipguide.guidance.srg import SrgGuide
from mipguide.models.registry import LoadedModel
from mipguide.pipeline.result import SolveResult
from mipguide.solvers.types import Status
from tests.guidance.miplib_guided import OTHERS, QUICK, check_guided

# The hardest case for correctness: every binary fixed to the consensus (Delta = 0), so the
# subproblem is often infeasible or poor and the completion must still get it right.
TIGHT = SrgParams(
    region=SrgRegion(agreement=0.5, max_share=1.0, delta_factor=0.0, delta_min=0),
    search=SearchParams(subproblem=SubproblemParams(widen=1)),
)


def check(row: dict[str, str], model: LoadedModel, budget: float, params: SrgParams) -> SolveResult:
    return check_guided(
        row, "srg", lambda p, opts: run_guided(p, "scip", opts, SrgGuide(model, params)), budget
    )


@pytest.mark.parametrize("params", [SrgParams(), TIGHT], ids=["default", "tight"])
@pytest.mark.parametrize("row", QUICK, ids=[r["name"] for r in QUICK])
def test_srg_proves_the_catalogued_optimum(
    row: dict[str, str], tiny_srg_model: LoadedModel, params: SrgParams
) -> None:
    result = check(row, tiny_srg_model, 30.0, params)
    assert result.status == Status.OPTIMAL


@pytest.mark.parametrize("row", OTHERS, ids=[r["name"] for r in OTHERS])
def test_srg_answers_are_verified_and_never_better_than_optimal(
    row: dict[str, str], tiny_srg_model: LoadedModel
) -> None:
    check(row, tiny_srg_model, 2.0, TIGHT)
