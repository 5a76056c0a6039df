"""``mipguide.interop``: layers told without importing them, the layers' own files and the map
back to their variables, values written back; ``MipguideClient.submit`` takes model objects.
(PuLP's export is checked in a child process by ``test_pulp.py``.)"""

from __future__ import annotations

import math
import subprocess
import sys

import linopy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

from mipguide.errors import InputError
from mipguide.interop import Layer, export_model, layer_of, load_values
from mipguide.problem.io import read_problem
from tests.api.serverutil import Server

NO_LAYER_IMPORTED = """
import sys
from mipguide.client import MipguideClient
from mipguide.interop import layer_of

Model = type("Model", (), {"__module__": "linopy.model"})
LpProblem = type("LpProblem", (), {"__module__": "pulp.pulp"})
print(layer_of(Model()).value, layer_of(LpProblem()).value)
print(sorted(m for m in ("pulp", "pyomo", "linopy", "highspy") if m in sys.modules))
"""


def test_layers_are_told_from_the_mro_without_importing_them() -> None:
    out = subprocess.run(
        [sys.executable, "-c", NO_LAYER_IMPORTED],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split("\n")[:2] == ["linopy pulp", "[]"]


@pytest.mark.parametrize("obj", [object(), "model.mps", {"maximize": True}, pd.DataFrame()])
def test_other_objects_are_refused_with_the_accepted_types(obj: object) -> None:
    with pytest.raises(InputError, match="PuLP LpProblem, a Pyomo model .* or a linopy Model"):
        export_model(obj)


def test_pyomo_export_is_its_lp_file_and_values_go_back() -> None:
    m = pyo.ConcreteModel("two vars")
    m.x = pyo.Var([1, 2], domain=pyo.NonNegativeIntegers, bounds=(0, 4))
    m.obj = pyo.Objective(expr=m.x[1] + 2 * m.x[2] + 7, sense=pyo.maximize)
    m.c = pyo.Constraint(expr=m.x[1] + m.x[2] <= 5)
    exported = export_model(m)
    assert layer_of(m) == Layer.PYOMO and exported.filename == "two_vars.lp"
    assert exported.data.startswith(b"\\* Source Pyomo model name=two vars *\\")
    assert sorted(v.name for v in exported.variables.values()) == ["x[1]", "x[2]"]
    assert not m.solutions.symbol_map  # the writer's symbol map is not left behind
    problem = read_problem(exported.data, exported.filename)
    assert set(exported.variables) < set(problem.var_names)  # and ONE_VAR_CONSTANT
    names = {v.name: n for n, v in exported.variables.items()}
    load_values(exported, {names["x[1]"]: 1})
    assert (m.x[1].value, m.x[2].value) == (1, None)


def test_linopy_export_skips_masked_variables_and_values_go_back() -> None:
    m = linopy.Model()
    idx = pd.RangeIndex(3, name="i")
    mask = pd.Series([True, False, True], index=idx)
    x = m.add_variables(lower=0, upper=5, coords=[idx], mask=mask, name="x")
    m.add_constraints(x.sum() <= 4, name="c")
    m.add_objective(x.sum(), sense="max")
    exported = export_model(m)
    assert layer_of(m) == Layer.LINOPY and exported.filename == "linopy.lp"
    assert exported.variables == {"x0": 0, "x2": 2}
    assert set(read_problem(exported.data, exported.filename).var_names) == {"x0", "x2"}
    load_values(exported, {"x0": 1.5})
    m.status = "ok"  # linopy shows a solution only then (the plug-in sets the status)
    sol = m.variables["x"].solution.values
    assert sol[0] == 1.5 and math.isnan(sol[1]) and math.isnan(sol[2])
    assert np.isnan(sol).sum() == 2


def test_client_submit_takes_a_model_object_and_refuses_others(server: Server) -> None:
    m = pyo.ConcreteModel("tiny")
    m.x = pyo.Var(domain=pyo.Binary)
    m.obj = pyo.Objective(expr=3 * m.x, sense=pyo.maximize)
    with server.client() as client:
        job = client.submit(m, wait=60, time_limit=10)
        assert job.state == "completed" and job.objective == 3
        assert job.raw["problem"]["filename"] == "tiny.lp"
        with pytest.raises(InputError, match="cannot export a set"):
            client.submit({"not a model"}, wait=10)
