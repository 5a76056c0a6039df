"""Readers never drop or invent a constraint: rows and bounds that can never hold are kept and
make the solve infeasible; PuLP's maximize files keep their sense; infinite coefficients, long
names and duplicates are refused saying where (regression tests of the trust probe)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mipguide.errors import ParseError
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.io import read_problem
from mipguide.problem.model import Sense, make_problem
from mipguide.problem.names import MAX_NAME
from mipguide.problem.npz import load_problem, save_problem
from mipguide.problem.verify import impossible_bounds, verify
from mipguide.solvers.types import SolveOptions, Status

# solve.py's exact-mode backends that take an LP with continuous variables
LP_BACKENDS = ["scip", "highs", "ortools-highs", "glop", "ortools-scip"]


@pytest.mark.parametrize("rhs", ["inf", "1e30", "+infinity"])
@pytest.mark.parametrize("solver", LP_BACKENDS)
def test_a_row_that_can_never_hold_makes_the_lp_file_infeasible(rhs: str, solver: str) -> None:
    text = f"min\n obj: x + y\nst\n c0: x + y <= 4\n c1: x + y >= {rhs}\nend\n"
    problem = read_problem(text.encode(), filename="inf.lp")
    assert problem.num_rows == 2 and problem.row_lower[1] == np.inf
    result = solve_problem(problem, solver, SolveOptions(time_limit=10))
    assert result.status == Status.INFEASIBLE
    assert "c1" in result.termination_detail


def test_p0033_with_an_l_row_at_minus_infinity_is_infeasible(miplib_dir: Path) -> None:
    text = gzip.decompress((miplib_dir / "p0033.mps.gz").read_bytes()).decode()
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["RHS"]) + 1
    parts = lines[k].split()  # "RHS  R114  -5" style: set that row's RHS to -1e30
    row = parts[1]
    lines[k] = f"    {parts[0]}  {row}  -1e30"
    problem = read_problem("\n".join(lines).encode(), filename="p0033-bad.mps")
    i = problem.row_names.index(row)
    assert problem.row_upper[i] == -np.inf or problem.row_lower[i] == np.inf
    for solver in ("scip", "highs", "cpsat"):
        result = solve_problem(problem, solver, SolveOptions(time_limit=10))
        assert result.status == Status.INFEASIBLE, solver


def test_verify_counts_impossible_bounds_as_violated() -> None:
    problem = make_problem(
        [[1.0, 1.0]], [np.inf], [np.inf], [1.0, 1.0], col_lower=[0.0, 0.0], col_upper=[1.0, -np.inf]
    )
    check = verify(problem, np.zeros(2))
    assert not check.feasible
    assert check.max_row_violation == np.inf and check.max_bound_violation == np.inf
    assert "row r0" in (impossible_bounds(problem) or "")
    free = make_problem([[1.0, 1.0]], [-np.inf], [np.inf], [1.0, 1.0], col_lower=[-np.inf] * 2)
    assert verify(free, np.array([-5.0, 3.0])).feasible
    assert impossible_bounds(free) is None


# PuLP imports highspy when it is imported, and highspy cannot share a process with OR-Tools:
# the real PuLP package writes its files and solves with its bundled CBC in a child process.
PULP_SCRIPT = """
import json, sys, warnings
import pulp
prob = pulp.LpProblem("knap", pulp.LpMaximize)
x = prob.add_variable("x", 0, 4, cat="Integer")
y = prob.add_variable("y", 0, 3, cat="Integer")
prob += 10 * x + 20 * y
prob += 3 * x + 5 * y <= 20, "cap"
prob.writeMPS(sys.argv[1], with_objsense=sys.argv[2] == "1")
with warnings.catch_warnings():  # PuLP 3.3 marks its bundled CBC deprecated for PuLP 4
    warnings.simplefilter("ignore", DeprecationWarning)
    prob.solve(pulp.PULP_CBC_CMD(msg=0))
print(json.dumps(pulp.value(prob.objective)))
"""


def pulp_knapsack(path: Path, with_objsense: bool) -> float:
    """Write PuLP's maximization knapsack to ``path``; CBC's optimum."""
    proc = subprocess.run(
        [sys.executable, "-c", PULP_SCRIPT, str(path), "1" if with_objsense else "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("with_objsense", [False, True])
def test_pulp_maximize_files_are_read_as_maximize(tmp_path: Path, with_objsense: bool) -> None:
    path = tmp_path / "knap.mps"
    cbc = pulp_knapsack(path, with_objsense)
    problem = read_problem(path)
    assert problem.sense == Sense.MAXIMIZE
    noted = any("*SENSE" in w for w in problem.warnings)
    assert noted != with_objsense  # the comment is named only when it decided the sense
    result = solve_problem(problem, "scip", SolveOptions(time_limit=10))
    assert result.objective == pytest.approx(cbc)


def test_objsense_section_before_name_and_explicit_sense_wins() -> None:
    text = (
        "*SENSE:Maximize\nOBJSENSE\n MIN\nNAME t\nROWS\n N obj\n L c\nCOLUMNS\n"
        " x obj 1 c 1\nRHS\n rhs c 4\nBOUNDS\n UP bnd x 4\nENDATA\n"
    )
    problem = read_problem(text.encode(), filename="t.mps")
    assert problem.sense == Sense.MINIMIZE and problem.warnings == ()


def test_lp_infinite_coefficients_are_refused_with_the_line() -> None:
    with pytest.raises(ParseError, match="must be finite") as err:
        read_problem(b"max\n obj: x\nst\n c: 1e400 x <= 1\nend\n", filename="c.lp")
    assert err.value.line == 4
    with pytest.raises(ParseError, match="must be finite"):
        read_problem(b"max\n obj: 1e400 x\nst\n c: x <= 1\nend\n", filename="o.lp")


def test_json_infinite_objective_is_refused_with_its_path() -> None:
    doc = {"objective_data": {"coefficients": [1, "inf"]}}
    with pytest.raises(ParseError) as err:
        read_problem(json.dumps(doc).encode(), filename="m.json")
    assert err.value.path == "objective_data.coefficients[1]"


def test_a_100k_character_name_is_refused_with_its_line() -> None:
    text = f"NAME t\nROWS\n N obj\n L c\nCOLUMNS\n {'x' * 100_000} obj 1 c 1\nRHS\nENDATA\n"
    data = gzip.compress(text.encode())
    assert len(data) < 6000
    with pytest.raises(ParseError, match=f"at most {MAX_NAME}") as err:
        read_problem(data, filename="long.mps.gz")
    assert err.value.line == 6
    with pytest.raises(ParseError, match=f"at most {MAX_NAME}") as err:
        read_problem(f"max\n obj: {'y' * 300}\nend\n".encode(), filename="long.lp")
    assert err.value.line == 2
    names = {"objective_data": {"coefficients": [1]}, "variable_names": ["z" * 256]}
    with pytest.raises(ParseError) as err:
        read_problem(json.dumps(names).encode(), filename="long.json")
    assert err.value.path == "variable_names[0]"


def test_long_comments_are_not_names() -> None:
    text = f"* {'c' * 1000}\nNAME t\nROWS\n N obj\nCOLUMNS\n x obj 1\nENDATA\n"
    assert read_problem(text.encode(), filename="c.mps").var_names == ("x",)


def test_names_are_stored_in_proportion_to_their_length(tmp_path: Path) -> None:
    n = 10_000
    names = [f"{j:0{MAX_NAME}d}" for j in range(n)]
    problem = make_problem(np.zeros((1, n)), [0.0], [1.0], np.ones(n), var_names=names)
    path = tmp_path / "problem.npz"
    save_problem(problem, path)
    assert path.stat().st_size < 10 * 1024 * 1024
    back = load_problem(path)
    assert back.var_names == tuple(names) and back.same_as(problem)


def test_json_duplicate_names_are_found_in_linear_time_and_located() -> None:
    n = 20_000
    doc = {
        "objective_data": {"coefficients": [0] * n},
        "variable_names": [f"v{j}" for j in range(n)],
    }
    t0 = time.perf_counter()
    read_problem(json.dumps(doc).encode(), filename="ok.json")
    ok_seconds = time.perf_counter() - t0
    assert ok_seconds < 2.0  # the quadratic check took about 5 s
    doc["variable_names"][n - 1] = "v7"
    with pytest.raises(ParseError, match="appears twice") as err:
        read_problem(json.dumps(doc).encode(), filename="dup.json")
    assert err.value.path == f"variable_names[{n - 1}]" and "[7]" in err.value.reason


def test_lp_duplicate_rows_name_both_lines() -> None:
    text = b"min\n obj: x\nst\n c: x >= 1\n d: x <= 5\n c: x <= 3\nend\n"
    with pytest.raises(ParseError, match="first on line 4") as err:
        read_problem(text, filename="dup.lp")
    assert err.value.line == 6
