"""Modelling-layer interop: a PuLP, Pyomo or linopy model object -> ``Exported`` (the file its
own writer makes, and the map from the file's variable names back to its variables), and a
solution by file name -> the layer's variables.

Nothing here solves. The layers are optional: a model's layer is told from the modules of its
type's MRO, and the package is imported only to export a model that is its own (importing Pyomo
or linopy takes seconds). The writers are the layers' own, with the names they use for solvers:

- PuLP: ``LpProblem.writeMPS(rename=True)`` (X0000000, C0000000, as PuLP's CBC gets them);
- Pyomo: ``Block.write`` to LP (x1, c_u_x2_, ... with its symbol map);
- linopy: ``Model.to_file`` to LP (x<label>, c<label>). Not MPS: linopy writes MPS through
  highspy, which cannot share a process with OR-Tools.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mipguide.errors import InputError

ACCEPTED = "a PuLP LpProblem, a Pyomo model or block (ConcreteModel, Block), or a linopy Model"


class Layer(StrEnum):
    """The modelling layers whose model objects are accepted."""

    PULP = "pulp"
    PYOMO = "pyomo"
    LINOPY = "linopy"


# (root module, class name) in a model type's MRO -> its layer
_MARKERS = {
    ("pulp", "LpProblem"): Layer.PULP,
    ("pyomo", "BlockData"): Layer.PYOMO,
    ("pyomo", "_BlockData"): Layer.PYOMO,  # Pyomo < 6.7
    ("linopy", "Model"): Layer.LINOPY,
}


@dataclass(frozen=True)
class Exported:
    """A model object as the file its layer writes.

    Attributes:
        layer: the modelling layer.
        filename: the file's name: the model's name (PuLP, Pyomo; sanitised) or the layer's,
            and ``.mps`` (PuLP) or ``.lp``.
        data: the file's bytes, as the layer's own writer wrote them.
        variables: the file's variable name -> the layer's variable: a PuLP ``LpVariable``, a
            Pyomo ``VarData``, or a linopy variable label (int).
        model: the model object itself.
    """

    layer: Layer
    filename: str
    data: bytes
    variables: Mapping[str, Any]
    model: Any


def layer_of(model: object) -> Layer:
    """The layer whose model ``model`` is (no layer package is imported).

    Raises:
        InputError: not a model object of a supported layer (the message lists them).
    """
    for klass in type(model).__mro__:
        layer = _MARKERS.get((klass.__module__.split(".")[0], klass.__name__))
        if layer is not None:
            return layer
    raise InputError(f"cannot export a {type(model).__qualname__}: expected {ACCEPTED}")


def export_model(model: object) -> Exported:
    """Write ``model`` with its layer's own writer into a temporary folder (deleted after).

    Raises:
        InputError: not a supported model object, or one its layer cannot write as a solver
            file (repeated variable names, an objective that is not linear, ...).
    """
    exporter: Callable[[Any, Path], Exported] = _EXPORTERS[layer_of(model)]
    with tempfile.TemporaryDirectory(prefix="mipguide-") as folder:
        return exporter(model, Path(folder))


def load_values(exported: Exported, values: Mapping[str, float]) -> None:
    """Write a solution (file name -> value, as ``SolveResult.values``) into the layer's
    variables: PuLP ``varValue``, Pyomo ``Var`` values, linopy ``Variable.solution``. Every
    exported variable is set; those missing from ``values`` to None (linopy: NaN).
    """
    _LOADERS[exported.layer](exported, values)


def file_stem(name: object, default: str) -> str:
    """A model's name as a file name: letters, digits, ``_ . -``; ``default`` when empty."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name or "")).strip("._")
    return stem[:100] or default


# --- PuLP ---------------------------------------------------------------------------------------
def _export_pulp(lp: Any, folder: Path) -> Exported:
    path = folder / f"{file_stem(lp.name, 'pulp')}.mps"
    written, file_names, _, _ = lp.writeMPS(str(path), rename=True, with_objsense=True)
    names = [v.name for v in written]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"the PuLP problem repeats variable names: {', '.join(repeated[:10])}")
    variables = {file_names[v.name]: v for v in written}
    return Exported(Layer.PULP, path.name, path.read_bytes(), variables, lp)


def _load_pulp(exported: Exported, values: Mapping[str, float]) -> None:
    for name, var in exported.variables.items():
        var.varValue = values.get(name)


# --- Pyomo --------------------------------------------------------------------------------------
def _export_pyomo(block: Any, folder: Path) -> Exported:
    from pyomo.core.base.var import VarData

    if not block.is_constructed():
        raise InputError(f"the Pyomo model {block.name!r} is not constructed")
    path = folder / f"{file_stem(block.name, 'pyomo')}.lp"
    try:
        _, smap_id = block.write(str(path), io_options={"symbolic_solver_labels": False})
    except (ValueError, TypeError) as exc:  # e.g. a nonlinear expression, an unknown domain
        raise InputError(f"Pyomo cannot write {block.name!r} as an LP file: {exc}") from exc
    smap = block.solutions.symbol_map.pop(smap_id)  # leave the model as it was
    variables = {
        symbol: obj
        for symbol, obj in smap.bySymbol.items()
        # the writer's ONE_VAR_CONSTANT (a fixed 1 carrying the objective constant) is no
        # variable of the model: it has no parent block
        if isinstance(obj, VarData) and obj.parent_block() is not None
    }
    return Exported(Layer.PYOMO, path.name, path.read_bytes(), variables, block)


def _load_pyomo(exported: Exported, values: Mapping[str, float]) -> None:
    for name, var in exported.variables.items():
        var.set_value(values.get(name), skip_validation=True)


# --- linopy -------------------------------------------------------------------------------------
def _export_linopy(m: Any, folder: Path) -> Exported:
    path = folder / "linopy.lp"
    try:
        m.to_file(path, progress=False)
    except ValueError as exc:  # e.g. no objective
        raise InputError(f"linopy cannot write the model as an LP file: {exc}") from exc
    variables: dict[str, Any] = {}
    for _, var in m.variables.items():
        for label in var.labels.values.ravel().tolist():
            if label >= 0:  # -1: masked out, not written
                variables[f"x{label}"] = label
    return Exported(Layer.LINOPY, path.name, path.read_bytes(), variables, m)


def _load_linopy(exported: Exported, values: Mapping[str, float]) -> None:
    """As linopy's ``Model.assign_result``: values in the file's (solver-scaled) space, divided
    by each variable's ``solver_scaling`` (linopy >= 0.6; 1 before)."""
    import numpy as np

    size = max(exported.variables.values(), default=-1) + 2  # the last slot stays NaN for -1
    by_label = np.full(size, math.nan)
    for name, label in exported.variables.items():
        value = values.get(name)
        if value is not None:
            by_label[label] = value
    for _, var in exported.model.variables.items():
        labels = var.labels.values
        point = by_label[np.where(labels >= 0, labels, size - 1)]
        scaling = getattr(var, "solver_scaling", None)
        if scaling is not None:
            point = point / scaling.values
        var.solution = var.labels.copy(data=point)


_EXPORTERS: dict[Layer, Callable[[Any, Path], Exported]] = {
    Layer.PULP: _export_pulp,
    Layer.PYOMO: _export_pyomo,
    Layer.LINOPY: _export_linopy,
}
_LOADERS: dict[Layer, Callable[[Exported, Mapping[str, float]], None]] = {
    Layer.PULP: _load_pulp,
    Layer.PYOMO: _load_pyomo,
    Layer.LINOPY: _load_linopy,
}
