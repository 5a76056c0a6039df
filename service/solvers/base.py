"""The SolverBackend protocol and the registry that imports backends lazily by name."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from mipguide.errors import BackendUnavailableError, InvalidOptionError
from mipguide.problem.model import Problem
from mipguide.solvers.param_policy import refusal
from mipguide.solvers.types import IncumbentCallback, Interrupt, SolveOptions, SolveOutput


@runtime_checkable
class SolverBackend(Protocol):
    """One solver behind one interface.

    Implementations live in ``service/solvers/<name>.py`` and are the only modules that call
    their solver's API.
    """

    name: str

    def version(self) -> str:
        """The solver's version string."""
        ...

    def supports(self, problem: Problem) -> str | None:
        """None when the backend can solve this problem, else the reason it cannot."""
        ...

    def param_names(self) -> Mapping[str, type]:
        """Backend-specific parameter names accepted in ``SolveOptions.params`` and their types."""
        ...

    def solve(
        self,
        problem: Problem,
        options: SolveOptions,
        on_incumbent: IncumbentCallback | None = None,
        interrupt: Interrupt | None = None,
    ) -> SolveOutput:
        """Solve ``problem``; report improving incumbents; stop soon after ``interrupt`` is set.

        Raises:
            InvalidOptionError: an unknown or ill-typed backend parameter.
            BackendUnavailableError: the backend cannot take this problem.
            SolverError: the backend failed.
        """
        ...


# name -> (module, class). Modules are imported only when the backend is asked for, so a
# missing optional solver cannot break the others.
_REGISTRY: dict[str, tuple[str, str]] = {
    "scip": ("mipguide.solvers.scip", "ScipBackend"),
    "cpsat": ("mipguide.solvers.cpsat", "CpSatBackend"),
    "highs": ("mipguide.solvers.highs", "HighsBackend"),
    "ortools-highs": ("mipguide.solvers.mathopt", "OrtoolsHighsBackend"),
    "glop": ("mipguide.solvers.mathopt", "GlopBackend"),
    "pdlp": ("mipguide.solvers.mathopt", "PdlpBackend"),
    "ortools-scip": ("mipguide.solvers.mathopt", "OrtoolsScipBackend"),
    "fake": ("mipguide.solvers.fake", "FakeBackend"),
}


# Longest parameter name looked up (SCIP's longest is under 70 characters).
MAX_PARAM_NAME = 200
# How many close names an "unknown parameter" error lists when the valid set is large.
CLOSE_NAMES = 20


def closest_names(name: str, valid: Iterable[str], k: int = CLOSE_NAMES) -> list[str]:
    """The k valid names most similar to ``name`` (difflib ratio), best first."""
    return difflib.get_close_matches(name, list(valid), n=k, cutoff=0.0)


def backend_names(fake: bool = True) -> list[str]:
    """Registered backend names (installed or not); ``fake=False`` leaves out the test double
    (offered to callers only where ``allow_fake_solver`` is set)."""
    return [n for n in _REGISTRY if fake or n != "fake"]


# Not a backend: the caller leaves the choice to the service (a guided model's card, or the
# plain backend chosen by probing; ``mipguide.guidance.dispatch``).
AUTO_SOLVER = "auto"


def check_solver(name: str, option: str = "solver", fake: bool = False, auto: bool = True) -> None:
    """Raises InvalidOptionError (``option``, with the valid names) for an unknown backend;
    ``fake`` offers the test double, ``auto`` accepts ``AUTO_SOLVER``."""
    solvers = ([AUTO_SOLVER] if auto else []) + backend_names(fake=fake)
    if name not in solvers:
        raise InvalidOptionError(option, f"unknown solver {name!r}", solvers)


def get_backend(name: str) -> SolverBackend:
    """Return a fresh backend instance by name.

    Raises:
        InvalidOptionError: the name is not registered.
        BackendUnavailableError: its solver package cannot be imported.
    """
    if name not in _REGISTRY:
        raise InvalidOptionError("solver", f"unknown solver {name!r}", _REGISTRY)
    module_name, cls_name = _REGISTRY[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(f"solver {name!r} is not available: {exc}") from exc
    backend: SolverBackend = getattr(module, cls_name)()
    return backend


def check_params(
    backend: str,
    params: Mapping[str, Any],
    valid: Mapping[str, type],
    *,
    unsafe: bool = False,
) -> dict[str, Any]:
    """Validate pass-through parameters against a backend's table; coerce to the declared types.

    Args:
        backend: the backend's name (selects its ``param_policy`` lists).
        params: name -> value as the caller gave them.
        valid: the backend's whole parameter table (name -> type).
        unsafe: skip ``param_policy`` (the CLI's ``--unsafe-params``; never the server).

    Raises:
        InvalidOptionError: unknown name (listing the valid ones), a parameter the policy
            refuses (saying why), or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str) or len(key) > MAX_PARAM_NAME:
            raise InvalidOptionError("params", f"bad parameter name {str(key)[:40]!r}...")
        if key not in valid:
            # a short table is listed whole; a long one (SCIP has ~3000) by its closest names
            short = len(valid) <= CLOSE_NAMES
            names = list(valid) if short else closest_names(key, valid)
            hint = "valid" if short else f"{len(valid)} valid; closest"
            raise InvalidOptionError(
                f"params.{key}", f"unknown {backend} parameter ({hint})", names
            )
        typ = valid[key]
        reason = None if unsafe else refusal(backend, key, typ)
        if reason is not None:
            raise InvalidOptionError(f"params.{key}", f"not accepted from a caller: it {reason}")
        out[key] = _coerce(key, typ, value)
    return out


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _coerce(key: str, typ: type, value: Any) -> Any:
    """``value`` as ``typ``: numbers from numbers or numeric strings, bools from true/false/1/0,
    strings from strings only (an enumeration's value is checked by the backend)."""
    bad = InvalidOptionError(f"params.{key}", f"expected {typ.__name__}, got {_show(value)}")
    if isinstance(value, dict | list | tuple) or value is None:
        raise bad
    if typ is str:
        if not isinstance(value, str) or len(value) > MAX_PARAM_NAME:
            raise bad
        return value
    if typ is bool:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text not in ("true", "false", "1", "0"):
            raise bad
        return text in ("true", "1")
    if typ is int and isinstance(value, float) and not value.is_integer():
        raise bad
    try:
        return typ(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise bad from exc
