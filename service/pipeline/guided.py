"""Mode dispatch: (Problem, solver, options, mode) -> verified SolveResult.

- ``exact``: the solver alone (``solve_problem``);
- ``pas``: predict-and-search with the named model, or the best matching one (``solve_pas``);
- ``auto``: predict-and-search when a registered model matches the instance's family and size
  (``models.signature``), else ``exact``. The result's ``mode`` says what ran and
  ``extra["auto"]`` why.

Model selection and loading count against the time limit.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from models.registry import CARD_JSON, LoadedModel, load_model, model_path
from models.registry import list_models as registry_models
from models.signature import Match, best_match, signature
from service.errors import InvalidOptionError
from service.pipeline.pas import solve_pas
from service.pipeline.pas_params import PasParams
from service.pipeline.result import SolveResult
from service.pipeline.solve import solve_problem
from service.problem.model import Problem
from service.solvers.types import IncumbentCallback, Interrupt, SolveOptions

MODES = ("exact", "pas", "auto")  # service.jobs.options.MODES repeats them (no torch there)


def model_cards(model_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(ref, card) of every registered model (a model without a card has an empty one)."""
    out = []
    for ref in registry_models(model_dir):
        card_file = model_path(model_dir, ref) / CARD_JSON
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        out.append((str(ref), card))
    return out


def select_model(problem: Problem, model_dir: Path) -> Match | None:
    """The registered model whose training instances match ``problem``, or None."""
    return best_match(signature(problem), model_cards(model_dir))


@lru_cache(maxsize=8)
def cached_model(ref: str, model_dir: str, device: str) -> LoadedModel:
    """Load a model once per process (workers solve many jobs with the same model)."""
    return load_model(ref, Path(model_dir), device)


def pas_params(card: dict[str, Any], overrides: dict[str, Any] | None) -> PasParams:
    """Defaults, then the model card's recommended ``pas`` parameters, then the user's.

    Raises:
        InvalidOptionError: an unknown or out-of-range parameter.
    """
    values = {**card.get("pas", {}), **(overrides or {})}
    try:
        return PasParams.from_mapping(values)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError("pas", str(exc), list(PasParams.__dataclass_fields__)) from exc


def solve_guided(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    mode: str = "exact",
    *,
    model: str | None = None,
    model_dir: Path = Path("models/weights"),
    device: str = "cpu",
    pas: dict[str, Any] | None = None,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
) -> SolveResult:
    """Solve in the given mode (see module docstring).

    Args:
        model: ``name@version`` for ``pas`` (default: the best match) and ``auto`` (forces it).
        model_dir, device: the registry and the torch device (from settings).
        pas: PaS parameter overrides (``PasParams`` fields).

    Raises:
        InvalidOptionError: unknown mode, bad PaS parameters, or ``pas`` with no model.
        ModelError: the model is missing or damaged.
        the errors of ``solve_problem``.
    """
    if mode not in MODES:
        raise InvalidOptionError("mode", f"unknown mode {mode!r}", MODES)
    if mode == "exact":
        return solve_problem(
            problem,
            solver,
            options,
            on_incumbent=on_incumbent,
            interrupt=interrupt,
            read_seconds=read_seconds,
        )
    t0 = time.perf_counter()
    match = None if model is not None else select_model(problem, model_dir)
    ref = model or (match.ref if match is not None else None)
    why = {"model": ref, "distance": None if match is None else match.distance}
    if ref is None:
        if mode == "pas":
            choices = [r for r, _ in model_cards(model_dir)]
            raise InvalidOptionError("model", "no registered model matches; name one", choices)
        why["reason"] = "no registered model matches this instance"
        result = solve_problem(
            problem,
            solver,
            _less_time(options, time.perf_counter() - t0),
            on_incumbent=on_incumbent,
            interrupt=interrupt,
            read_seconds=read_seconds,
        )
        return replace(result, extra=dict(result.extra, auto=why))
    loaded = cached_model(ref, str(model_dir), device)
    params = pas_params(loaded.card, pas)
    spent = time.perf_counter() - t0
    result = solve_pas(
        problem,
        solver,
        options,
        loaded,
        params,
        on_incumbent=on_incumbent,
        interrupt=interrupt,
        read_seconds=read_seconds,
        t0=t0,
    )
    seconds = dict(result.seconds, select=spent)
    extra = dict(result.extra, auto=why) if mode == "auto" else result.extra
    return replace(result, seconds=seconds, extra=extra)


def _less_time(options: SolveOptions, spent: float) -> SolveOptions:
    if options.time_limit is None:
        return options
    return replace(options, time_limit=max(0.0, options.time_limit - spent))
