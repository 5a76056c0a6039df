"""The verified result of one solve, and its JSON form (result -> JSON -> result round-trips)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from mipguide.solvers.types import Incumbent, IncumbentSource, Status, TerminationReason

RESULT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SolveResult:
    """What the service returns for one solve; every field is verified or measured.

    Attributes:
        status: what is known (optimal, feasible, infeasible, ...).
        termination: why the solve stopped; termination_detail says more.
        objective: objective of the returned values, recomputed in float64 (None: no solution).
        bound: best proven dual bound (None when unknown).
        gap: relative gap |objective - bound| / max(|objective|, |bound|, 1e-10) (None if unknown).
        max_violation: largest bound/row/integrality violation of the values (None: no solution).
        solver, solver_version: the backend that produced the values.
        mode: exact, pas, srg (guided modes later).
        seconds: wall seconds per stage (read, build, solve, verify, ...) and "total".
        incumbents: improving solutions over time.
        values: variable name -> value (empty when there is no solution).
        warnings: reader and solver warnings.
        problem_name, num_vars, num_rows, nnz: the model solved.
        seed: the seed used.
        nodes: branch-and-bound nodes, when known.
        solutions: (objective, x) of the other solutions the backend found and verification
            passed, best first, when ``SolveOptions.keep_solutions`` asked for them; not part of
            the JSON result (the job worker hands them to the solution archive).
    """

    status: Status
    termination: TerminationReason
    objective: float | None
    bound: float | None
    gap: float | None
    max_violation: float | None
    solver: str
    solver_version: str
    seconds: dict[str, float]
    incumbents: tuple[Incumbent, ...]
    values: dict[str, float]
    warnings: tuple[str, ...] = ()
    termination_detail: str = ""
    mode: str = "exact"
    problem_name: str = ""
    num_vars: int = 0
    num_rows: int = 0
    nnz: int = 0
    seed: int = 0
    nodes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    solutions: tuple[tuple[float, np.ndarray], ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, solutions=()))
        del d["solutions"]
        d["status"] = self.status.value
        d["termination"] = self.termination.value
        d["incumbents"] = [
            {"t": i.t, "objective": i.objective, "bound": i.bound, "source": i.source.value}
            for i in self.incumbents
        ]
        d["warnings"] = list(self.warnings)
        d["schema_version"] = RESULT_SCHEMA_VERSION
        return _finite_or_none(d)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SolveResult:
        d = dict(d)
        d.pop("schema_version", None)
        d["status"] = Status(d["status"])
        d["termination"] = TerminationReason(d["termination"])
        d["incumbents"] = tuple(
            Incumbent(i["t"], i["objective"], i.get("bound"), IncumbentSource(i["source"]))
            for i in d.get("incumbents", [])
        )
        d["warnings"] = tuple(d.get("warnings", ()))
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> SolveResult:
        return cls.from_dict(json.loads(text))


def _finite_or_none(obj: Any) -> Any:
    """JSON has no inf/NaN: map non-finite floats to None (a bound of -inf means 'unknown')."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|obj - bound| / max(|obj|, |bound|); 0 when equal; None if either is unknown."""
    if (
        objective is None
        or bound is None
        or not math.isfinite(bound)
        or not math.isfinite(objective)
    ):
        return None
    diff = abs(objective - bound)
    if diff <= 1e-9:
        return 0.0
    scale = max(abs(objective), abs(bound), 1e-10)
    if math.isinf(diff):  # both finite but the difference overflows (near the float limit)
        return abs(objective / scale - bound / scale)
    return diff / scale
