"""Guidance never makes a result wrong: mode=pas and mode=srg on the easy MIPLIB conformance
instances.

Every returned solution verifies against the original model and is never better than the
catalogued optimum; a claimed optimum equals it. The instances HiGHS solves in about a second
(``QUICK``) get enough time for the completion to prove the optimum; the others (``OTHERS``)
run under a short budget (the claim is then only "verified and not better than optimal").
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mipguide.guidance.params import (
    PasParams,
    SearchParams,
    SrgParams,
    SrgRegion,
    SubproblemParams,
    TopKRegion,
)
from mipguide.guidance.pas import PasGuide
from mipguide.guidance.run import Guide, run_guided
from mipguide.guidance.srg import SrgGuide
from mipguide.models.registry import LoadedModel
from mipguide.pipeline.result import SolveResult
from mipguide.problem.io import read_problem
from mipguide.problem.verify import verify
from mipguide.solvers.types import SolveOptions, Status

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"
with (MIPLIB / "catalog.csv").open(newline="") as _f:
    EASY_MIP = [
        r
        for r in csv.DictReader(_f)
        if r["difficulty"] == "easy" and int(r["ints"]) > 0 and r["status"] == "optimal"
    ]
QUICK = [r for r in EASY_MIP if float(r["highs_1thread_seconds"] or 99) <= 1.0]
OTHERS = [r for r in EASY_MIP if r not in QUICK]


def check_guided(row: dict[str, str], guide: Guide, budget: float) -> SolveResult:
    """Solve the catalogued instance ``row`` with ``guide`` and check the answer (see above)."""
    problem = read_problem(MIPLIB / row["file"])
    result = run_guided(problem, "scip", SolveOptions(time_limit=budget), guide)
    optimum = float(row["optimal_objective"])
    assert result.mode == guide.mode
    tol = 1e-6 * max(1.0, abs(optimum))
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        x = [result.values[v] for v in problem.var_names]
        check = verify(problem, x)  # 1e-6 relative to max(1, |bound|), as every solver's
        assert check.feasible
        assert result.max_violation == pytest.approx(check.max_violation, rel=1e-9, abs=1e-12)
        assert problem.sense * result.objective >= problem.sense * optimum - tol
        if result.status == Status.OPTIMAL:
            assert result.objective == pytest.approx(optimum, rel=1e-6, abs=1e-9)
    else:
        assert result.status == Status.NO_SOLUTION  # never "infeasible": these are feasible
    for inc in result.incumbents:  # no incumbent beats the optimum either
        assert problem.sense * inc.objective >= problem.sense * optimum - tol
    return result


# The hardest case for correctness: a tight region (PaS: most binaries fixed by hard rounding;
# SRG: every binary fixed to the consensus, Delta = 0), so the subproblem is often infeasible or
# poor and the completion must still get it right.
TIGHT_PAS = PasParams(
    region=TopKRegion(k0=0.9, k1=0.1, delta=0.0),
    search=SearchParams(subproblem=SubproblemParams(widen=1)),
)
TIGHT_SRG = SrgParams(
    region=SrgRegion(agreement=0.5, max_share=1.0, delta_factor=0.0, delta_min=0),
    search=SearchParams(subproblem=SubproblemParams(widen=1)),
)
# mode -> (model fixture, default parameters, tight parameters)
MODES = {
    "pas": ("tiny_model", PasParams(), TIGHT_PAS),
    "srg": ("tiny_srg_model", SrgParams(), TIGHT_SRG),
}


def guide(request: pytest.FixtureRequest, mode: str, tight: bool) -> Guide:
    fixture, default, strict = MODES[mode]
    model: LoadedModel = request.getfixturevalue(fixture)
    params = strict if tight else default
    if mode == "pas":
        assert isinstance(params, PasParams)
        return PasGuide(model, params)
    assert isinstance(params, SrgParams)
    return SrgGuide(model, params)


@pytest.mark.parametrize("tight", [False, True], ids=["default", "tight"])
@pytest.mark.parametrize("row", QUICK, ids=[r["name"] for r in QUICK])
@pytest.mark.parametrize("mode", list(MODES))
def test_guided_modes_prove_the_catalogued_optimum(
    request: pytest.FixtureRequest, mode: str, row: dict[str, str], tight: bool
) -> None:
    result = check_guided(row, guide(request, mode, tight), 30.0)
    assert result.status == Status.OPTIMAL


@pytest.mark.parametrize("row", OTHERS, ids=[r["name"] for r in OTHERS])
@pytest.mark.parametrize("mode", list(MODES))
def test_guided_answers_are_verified_and_never_better_than_optimal(
    request: pytest.FixtureRequest, mode: str, row: dict[str, str]
) -> None:
    check_guided(row, guide(request, mode, tight=True), 2.0)
