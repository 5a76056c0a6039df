"""A caller's backend parameters: no file, directory, log or output parameter passes, every
string-typed parameter that passes is a reviewed enumeration (checked against each solver's
own metadata), and only the CLI's ``--unsafe-params`` skips the policy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from google.protobuf.descriptor import FieldDescriptor

from mipguide.errors import InvalidOptionError
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.model import make_problem
from mipguide.solvers.base import check_params, get_backend
from mipguide.solvers.param_policy import REVIEWED_STRINGS
from mipguide.solvers.types import SolveOptions

POLICY_BACKENDS = ["scip", "cpsat", "highs", "ortools-highs", "glop", "pdlp", "ortools-scip"]
# what the probe of the server found (issue "Trust"), plus the other path-taking SCIP settings
SCIP_PATHS = [
    "visual/vbcfilename",
    "visual/bakfilename",
    "heuristics/repair/filename",
    "estimation/regforestfilename",
    "heuristics/alns/rewardfilename",
    "nlpi/ipopt/optfile",
    "nlpi/ipopt/hsllib",
    "nlpi/ipopt/pardisolib",
    "concurrent/paramsetprefix",
    "solvingphases/feassetname",
]
FILE_OR_OUTPUT = re.compile(r"file|dir|path|lib|log|output|print|dump|write|visual|display")


def _accepted(backend: str, name: str, typ: type, value: object) -> bool:
    try:
        check_params(backend, {name: value}, {name: typ})
    except InvalidOptionError:
        return False
    return True


def _scip_types() -> dict[str, str]:
    """SCIP's own type of every parameter (bool, int, longint, real, char, string), read from
    the commented settings file SCIP writes."""
    from pyscipopt import Model

    model = Model()
    model.hideOutput()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all.set"
        model.writeParams(str(path), comments=True, onlychanged=False)
        text = path.read_text()
    types: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"# \[type: (\w+)", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^([^#\s][^=]*?)\s*=", line)
        if m and current:
            types[m.group(1)] = current
            current = None
    return types


def _proto_enums() -> set[str]:
    from ortools.glop import parameters_pb2 as glop_pb2
    from ortools.pdlp import solvers_pb2 as pdlp_pb2
    from ortools.sat import sat_parameters_pb2

    out: set[str] = set()
    for prefix, msg in (
        ("", sat_parameters_pb2.SatParameters),
        ("glop.", glop_pb2.GlopParameters),
        ("pdlp.", pdlp_pb2.PrimalDualHybridGradientParams),
    ):
        out |= {
            prefix + f.name
            for f in msg.DESCRIPTOR.fields
            if f.cpp_type == FieldDescriptor.CPPTYPE_ENUM
        }
    return out


@pytest.mark.parametrize("backend", POLICY_BACKENDS)
def test_only_reviewed_string_parameters_are_accepted(backend: str) -> None:
    table = get_backend(backend).param_names()
    strings = {k for k, t in table.items() if t is str}
    accepted = {k for k in strings if _accepted(backend, k, str, "x")}
    assert accepted == strings & REVIEWED_STRINGS[backend]
    assert accepted, "each backend keeps its enumerations"


def test_every_accepted_scip_string_is_an_enumeration_in_scips_own_metadata() -> None:
    types = _scip_types()
    table = get_backend("scip").param_names()
    accepted = {k for k, t in table.items() if t is str and _accepted("scip", k, str, "x")}
    named = {"emphasis", "heuristics", "presolving", "separating"}
    assert {types[k] for k in accepted - named} == {"char"}
    assert {k for k, t in types.items() if t == "string"} & accepted == set()


def test_every_accepted_proto_string_is_an_enum_field() -> None:
    enums = _proto_enums()
    for backend in ("cpsat", "glop", "pdlp"):
        table = get_backend(backend).param_names()
        accepted = {k for k, t in table.items() if t is str and _accepted(backend, k, str, "x")}
        named = REVIEWED_STRINGS["ortools-scip"]  # MathOpt's common emphasis settings
        assert accepted - named <= enums, backend


def test_no_highs_string_option_passes_but_the_four_choices() -> None:
    """Every string option HiGHS has (listed by highspy in a child process) is refused,
    except solver, presolve, parallel and run_crossover; so are its file and output switches."""
    script = (
        "import json, highspy; h = highspy.Highs(); o = h.getOptions(); "
        "print(json.dumps({n: str(h.getOptionType(n)[1]) for n in dir(o) "
        "if not n.startswith('_')}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    options: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    strings = {k for k, t in options.items() if t.endswith("kString")}
    assert {"log_file", "solution_file", "write_model_file", "read_basis_file"} <= strings
    table = get_backend("highs").param_names()
    for name in options:
        typ = table.get(name, str)
        ok = name in table and _accepted("highs", name, typ, "on" if typ is str else 1)
        assert ok == (name in table and (typ is not str or name in REVIEWED_STRINGS["highs"]))
        if name in strings or FILE_OR_OUTPUT.search(name):
            assert not ok or name in REVIEWED_STRINGS["highs"], name


@pytest.mark.parametrize("name", SCIP_PATHS)
def test_scip_path_parameters_are_refused_saying_why(name: str) -> None:
    with pytest.raises(InvalidOptionError, match="not accepted from a caller") as err:
        check_params("scip", {name: "/tmp/x"}, get_backend("scip").param_names())
    assert err.value.option == f"params.{name}"


@pytest.mark.parametrize("backend", POLICY_BACKENDS)
def test_file_log_and_output_parameters_are_refused_whatever_their_type(backend: str) -> None:
    table = get_backend(backend).param_names()
    for name, typ in table.items():
        parts = re.split(r"[/_.]", name)
        if {"file", "filename", "log", "output", "write", "visual", "display", "debug"} & set(
            parts
        ) or name.startswith(("reading/", "display/")):
            value: object = "x" if typ is str else (True if typ is bool else 1)
            assert not _accepted(backend, name, typ, value), name


@pytest.mark.parametrize(
    ("backend", "name", "value"),
    [
        ("scip", "limits/time", 1e9),
        ("scip", "limits/memory", 1e9),
        ("scip", "parallel/maxnthreads", 64),
        ("cpsat", "max_time_in_seconds", 1e9),
        ("cpsat", "num_workers", 64),
        ("cpsat", "log_to_stdout", True),
        ("cpsat", "output_drat_proof", True),
        ("cpsat", "debug_crash_on_bad_hint", True),
        ("glop", "glop.max_time_in_seconds", 1e9),
        ("pdlp", "pdlp.num_threads", 64),
    ],
)
def test_limits_the_server_caps_cannot_be_raised_through_params(
    backend: str, name: str, value: object
) -> None:
    table = get_backend(backend).param_names()
    assert name in table
    assert not _accepted(backend, name, table[name], value)


def test_harmless_parameters_still_pass() -> None:
    table = get_backend("scip").param_names()
    ok = check_params(
        "scip", {"limits/nodes": 10, "lp/pricing": "q", "emphasis": "feasibility"}, table
    )
    assert ok == {"limits/nodes": 10, "lp/pricing": "q", "emphasis": "feasibility"}


def test_the_policy_holds_inside_the_backend_and_unsafe_lifts_it(tmp_path: Path) -> None:
    """A direct backend solve refuses the parameter too (no caller can skip the job layer's
    check); with ``unsafe_params`` (the CLI's --unsafe-params) SCIP writes the file."""
    problem = make_problem([[1.0, 1.0]], [1.0], [2.0], [1.0, 2.0], integrality=[True, True])
    target = tmp_path / "tree.vbc"
    params = {"visual/vbcfilename": str(target)}
    with pytest.raises(InvalidOptionError, match="visual/vbcfilename"):
        solve_problem(problem, "scip", SolveOptions(params=params))
    assert not target.exists()
    result = solve_problem(problem, "scip", SolveOptions(params=params, unsafe_params=True))
    assert result.objective == pytest.approx(1.0)
    assert target.exists()


@pytest.mark.parametrize(
    ("value", "typ"),
    [({"a": 1}, str), ([1, 2], int), (None, float), ("x" * 500, str), ("maybe", bool)],
)
def test_values_of_the_wrong_shape_are_refused_with_a_short_message(
    value: object, typ: type
) -> None:
    with pytest.raises(InvalidOptionError) as err:
        check_params("scip", {"lp/pricing": value}, {"lp/pricing": typ})
    assert len(str(err.value)) < 200
