"""Guided-model selection: (Problem, registry, kind) -> the matching model, its parameters.

Models are matched within their kind (``config.json["kind"]``): ``pas`` for the pas and auto
modes, ``srg`` for srg. The parameters of a solve are the defaults, then the model card's
recommended ones, then the caller's (``params.parse_params``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from mipguide.guidance.params import PasParams, SrgParams, parse_params
from mipguide.models.cards import Registry, model_cards, model_path, model_stamp
from mipguide.models.registry import LoadedModel, load_model
from mipguide.models.signature import Match, best_match, signature
from mipguide.problem.model import Problem


def select_model(problem: Problem, model_dir: Registry, kind: str = "pas") -> Match | None:
    """The registered model of ``kind`` whose training instances match ``problem``, or None."""
    return best_match(signature(problem), model_cards(model_dir, kind))


def cached_model(ref: str, model_dir: str, device: str) -> LoadedModel:
    """Load a model once per process (workers solve many jobs with the same model); a model
    deleted and trained again under the same reference, or whose card was rewritten (``mipguide
    tune``), is loaded afresh."""
    return _cached(ref, model_dir, device, model_stamp(model_path(Path(model_dir), ref)))


@lru_cache(maxsize=8)
def _cached(ref: str, model_dir: str, device: str, _stamp: tuple[int, int]) -> LoadedModel:
    return load_model(ref, Path(model_dir), device)


def card_solver(card: Mapping[str, Any]) -> str:
    """The backend a model's card names for ``solver=auto`` (its tuning's choice); SCIP, the
    backend every model was trained and first tuned with, when the card names none."""
    solver = card.get("solver")
    return solver if isinstance(solver, str) and solver else "scip"


def pas_params(card: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> PasParams:
    """Defaults, then the card's ``pas`` parameters, then the caller's.

    Raises:
        InvalidOptionError: a wrong field, named by its path (``pas.region.k0``).
    """
    return parse_params(PasParams, "pas", card.get("pas"), overrides)


def srg_params(card: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> SrgParams:
    """Defaults, then the card's ``srg`` parameters, then the caller's.

    Raises:
        InvalidOptionError: a wrong field, named by its path (``srg.sampling.k``).
    """
    return parse_params(SrgParams, "srg", card.get("srg"), overrides)
