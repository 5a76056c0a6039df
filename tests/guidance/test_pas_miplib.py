"""Guidance never makes a result wrong: mode=pas on the easy MIPLIB conformance instances
(the check: ``miplib_guided.check_guided``)."""

from __future__ import annotations

import pytest

from mipguide.guidance.params import PasParams, SearchParams, SubproblemParams, TopKRegion
from mipguide.guidance.pas import PasGuide
from mipguide.guidance.run import run_guided
from mipguide.models.registry import LoadedModel
from mipguide.pipeline.result import SolveResult
from mipguide.solvers.types import Status
from tests.guidance.miplib_guided import OTHERS, QUICK, check_guided

# A tight region (hard fixing of most binaries) is the hardest case for correctness: the
# subproblem is often infeasible or poor, and the completion must still get it right.
TIGHT = PasParams(
    region=TopKRegion(k0=0.9, k1=0.1, delta=0.0),
    search=SearchParams(subproblem=SubproblemParams(widen=1)),
)


def check(row: dict[str, str], model: LoadedModel, budget: float, params: PasParams) -> SolveResult:
    return check_guided(
        row, "pas", lambda p, opts: run_guided(p, "scip", opts, PasGuide(model, params)), budget
    )


@pytest.mark.parametrize("params", [PasParams(), TIGHT], ids=["default", "tight"])
@pytest.mark.parametrize("row", QUICK, ids=[r["name"] for r in QUICK])
def test_pas_proves_the_catalogued_optimum(
    row: dict[str, str], tiny_model: LoadedModel, params: PasParams
) -> None:
    result = check(row, tiny_model, 30.0, params)
    assert result.status == Status.OPTIMAL


@pytest.mark.parametrize("row", OTHERS, ids=[r["name"] for r in OTHERS])
def test_pas_answers_are_verified_and_never_better_than_optimal(
    row: dict[str, str], tiny_model: LoadedModel
) -> None:
    check(row, tiny_model, 2.0, TIGHT)
