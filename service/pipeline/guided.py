"""Mode dispatch: (Problem, solver, options, mode) -> verified SolveResult.

- ``exact``: the solver alone (``solve_problem``);
- ``pas``: predict-and-search with the named model, or the best matching one (``solve_pas``);
- ``auto``: predict-and-search when a registered model matches the instance's family and size
  (``models.signature``), else ``exact``. The result's ``mode`` says what ran and
  ``extra["auto"]`` why;
- ``srg``: Lagrangian-guided score-based sampling with the named SRG model, or the best
  matching one (``solve_srg``).

Models are matched within their kind (``config.json["kind"]``): pas and auto use PaS models,
srg uses SRG score models.

Model selection and loading count against the time limit.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from models.registry import CARD_JSON, CONFIG, LoadedModel, load_model, model_path
from models.registry import list_models as registry_models
from models.signature import Match, best_match, signature
from service.errors import InvalidOptionError
from service.pipeline.pas import solve_pas
from service.pipeline.pas_params import PasParams
from service.pipeline.result import SolveResult
from service.pipeline.solve import solve_problem
from service.pipeline.srg import solve_srg
from service.pipeline.srg_params import SrgParams
from service.problem.model import Problem
from service.solvers.types import IncumbentCallback, Interrupt, SolveOptions

MODES = ("exact", "pas", "auto", "srg")  # service.jobs.options.MODES repeats them (no torch)


def model_cards(model_dir: Path, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(ref, card) of every registered model, or of those of one kind (``pas``, ``srg``); a
    model without a card has an empty one, one without a kind in its config is ``pas``."""
    out = []
    for ref in registry_models(model_dir):
        directory = model_path(model_dir, ref)
        if kind is not None:
            config = json.loads((directory / CONFIG).read_text())
            if config.get("kind", "pas") != kind:
                continue
        card_file = directory / CARD_JSON
        card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        out.append((str(ref), card))
    return out


def select_model(problem: Problem, model_dir: Path, kind: str = "pas") -> Match | None:
    """The registered model of ``kind`` whose training instances match ``problem``, or None."""
    return best_match(signature(problem), model_cards(model_dir, kind))


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


def srg_params(card: dict[str, Any], overrides: dict[str, Any] | None) -> SrgParams:
    """Defaults, then the model card's recommended ``srg`` parameters, then the user's.

    Raises:
        InvalidOptionError: an unknown or out-of-range parameter (named in the message).
    """
    values = {**card.get("srg", {}), **(overrides or {})}
    try:
        return SrgParams.from_mapping(values)
    except (TypeError, ValueError) as exc:
        names = list(SrgParams.__dataclass_fields__) if "unknown" in str(exc) else []
        raise InvalidOptionError("srg", str(exc), names) from exc


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
    srg: dict[str, Any] | None = None,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
) -> SolveResult:
    """Solve in the given mode (see module docstring).

    Args:
        model: ``name@version`` for ``pas`` and ``srg`` (default: the best match of the mode's
            kind) and ``auto`` (forces it).
        model_dir, device: the registry and the torch device (from settings).
        pas: PaS parameter overrides (``PasParams`` fields).
        srg: SRG parameter overrides (``SrgParams`` fields).

    Raises:
        InvalidOptionError: unknown mode, bad PaS/SRG parameters, or ``pas``/``srg`` with no
            model.
        ModelError: the model is missing or damaged.
        the errors of ``solve_problem``.
    """
    if mode not in MODES:
        raise InvalidOptionError("mode", f"unknown mode {mode!r}", MODES)
    if srg and mode != "srg":
        raise InvalidOptionError("srg", f"SRG parameters need mode srg, not {mode}")
    if pas and mode == "srg":
        raise InvalidOptionError("pas", "PaS parameters need mode pas or auto, not srg")
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
    kind = "srg" if mode == "srg" else "pas"
    if mode == "srg":
        srg_params({}, srg)  # bad parameters are an input error before any model work
    match = None if model is not None else select_model(problem, model_dir, kind)
    ref = model or (match.ref if match is not None else None)
    why = {"model": ref, "distance": None if match is None else match.distance}
    if ref is None:
        if mode in ("pas", "srg"):
            choices = [r for r, _ in model_cards(model_dir, kind)]
            article = "an" if kind == "srg" else "a"
            raise InvalidOptionError(
                "model", f"no registered model matches; name {article} {kind} model", choices
            )
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
    if mode == "srg":
        params_srg = srg_params(loaded.card, srg)
        spent = time.perf_counter() - t0
        result = solve_srg(
            problem,
            solver,
            options,
            loaded,
            params_srg,
            on_incumbent=on_incumbent,
            interrupt=interrupt,
            read_seconds=read_seconds,
            t0=t0,
        )
        return replace(result, seconds=dict(result.seconds, select=spent))
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
