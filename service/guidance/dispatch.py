"""The one mode dispatcher, used by the CLI and the job worker alike:
(Problem, solver, options, ModeRequest) -> verified SolveResult.

- ``exact``: the solver alone; with ``dmmv_seconds`` on a pure-integer problem, the DMMV
  feasibility search first and its point as the solver's start (other problems: a warning and
  a plain solve);
- ``pas``: predict-and-search with the named model, or the best matching one;
- ``auto``: predict-and-search when a registered PaS model matches the instance (family and
  size, ``mipguide.models.signature``), else ``exact``; ``exact`` too when the model's card
  says its tuning found a backend alone better than the guidance (``auto``: that backend,
  unless the caller named one); ``result.extra["auto"]`` says why;
- ``srg``: Lagrangian-guided score-based sampling with the named SRG model, or the best match.

``solver="auto"`` leaves the backend to the service: a guided solve uses its model card's
``solver`` (chosen when the model was tuned; SCIP for a card without one) on an instance
inside the card's signature, and on one outside it (a model named for another family) the
backend the plain selector picks for the instance; any other solve the
plain backend the selector learned from instance features picks (``mipguide.models.selector``,
the registry's ``plain-selector.json``), or, with no selector or ``plain="probe"``, the one
chosen by probing (``mipguide.pipeline.probe``). ``result.extra["solver_choice"]`` says which
and why.

``check_request`` validates a request without loading anything (the job layer calls it at
submit); exact mode imports neither torch nor the model code. Model selection and loading
count against the time limit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mipguide.errors import BackendUnavailableError, InvalidOptionError
from mipguide.models.cards import Registry, locate
from mipguide.pipeline.result import SolveResult
from mipguide.pipeline.solve import solve_problem
from mipguide.problem.model import Problem
from mipguide.settings import SHIPPED_MODELS
from mipguide.solvers.base import AUTO_SOLVER
from mipguide.solvers.types import IncumbentCallback, Interrupt, SolveOptions

if TYPE_CHECKING:  # exact mode imports no model code
    from mipguide.guidance.remote import DeviceRunner
    from mipguide.models.selector import Selector

MODES = ("exact", "pas", "auto", "srg")
_MODEL_REF = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9_.+-]+$")


@dataclass(frozen=True)
class ModeRequest:
    """How a problem is to be solved beyond the backend's options.

    Attributes:
        mode: exact | pas | auto | srg.
        model: ``NAME@VERSION`` (default: the best match of the mode's kind).
        pas, srg: parameter overrides (nested, see ``params``).
        dmmv_seconds: exact mode only: seconds for the DMMV start (None: no DMMV).
        model_dir, device: the registry (a directory, or a search path of them: the user's
            models, then the shipped ones) and the torch device (from the settings).
        runner: the server's device pool (``mipguide.guidance.remote``): the network runs
            there, and here only on the CPU to read its card; None: here, on ``device``.
        plain: how ``solver=auto`` picks a plain backend: ``select`` (the learned selector;
            the probe when the registry has none) or ``probe``.
    """

    mode: str = "exact"
    model: str | None = None
    pas: Mapping[str, Any] = field(default_factory=dict)
    srg: Mapping[str, Any] = field(default_factory=dict)
    dmmv_seconds: float | None = None
    model_dir: Registry = SHIPPED_MODELS
    device: str = "cpu"
    runner: DeviceRunner | None = None
    plain: str = "select"


PLAIN_CHOICES = ("select", "probe")


def check_request(request: ModeRequest) -> None:
    """Validate the mode, the model reference and the parameters (nothing is loaded).

    Raises:
        InvalidOptionError: the offending option, named.
    """
    mode = request.mode
    if mode not in MODES:
        raise InvalidOptionError("mode", f"unknown mode {mode!r}", MODES)
    if request.model is not None and not _MODEL_REF.match(request.model):
        raise InvalidOptionError(
            "model", f"bad model reference {request.model!r}: use NAME@VERSION"
        )
    if (request.model or request.pas) and mode == "exact":
        raise InvalidOptionError("mode", "model and pas options need mode pas, auto or srg")
    if request.pas and mode == "srg":
        raise InvalidOptionError("pas", "PaS parameters need mode pas or auto; use srg")
    if request.srg and mode != "srg":
        raise InvalidOptionError("srg", f"SRG parameters need mode srg, not {mode}")
    if request.plain not in PLAIN_CHOICES:
        raise InvalidOptionError("plain", f"unknown plain choice {request.plain!r}", PLAIN_CHOICES)
    if request.dmmv_seconds is not None and mode != "exact":
        raise InvalidOptionError("dmmv", f"works with mode exact only, not {mode}")
    if request.pas or request.srg:  # the parameter models (pydantic) load only when used
        from mipguide.guidance.params import PasParams, SrgParams, parse_params

        parse_params(PasParams, "pas", request.pas)
        parse_params(SrgParams, "srg", request.srg)


def solve_request(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    request: ModeRequest,
    *,
    on_incumbent: IncumbentCallback | None = None,
    interrupt: Interrupt | None = None,
    read_seconds: float = 0.0,
    note: Callable[[str], None] | None = None,
) -> SolveResult:
    """Solve in the request's mode (see the module docstring).

    Args:
        note: told what the dispatcher does beyond the solve (the DMMV search first), and,
            as ``warning: ...``, when a request cannot be honoured as asked (DMMV on a problem
            it does not fit: the solve goes on without it).

    Raises:
        InvalidOptionError: a bad request, or ``pas``/``srg`` with no model to use.
        ModelError: the model is missing or damaged.
        the errors of ``solve_problem``.
    """
    check_request(request)
    kwargs: dict[str, Any] = {
        "on_incumbent": on_incumbent,
        "interrupt": interrupt,
        "read_seconds": read_seconds,
    }
    if request.mode == "exact":
        if solver == AUTO_SOLVER:
            if request.dmmv_seconds is not None:
                raise InvalidOptionError("solver", "the DMMV start needs a named solver, not auto")
            return _plain_auto(problem, options, request, kwargs)
        if request.dmmv_seconds is not None:
            return _exact_with_dmmv(problem, solver, options, request.dmmv_seconds, note, kwargs)
        return solve_problem(problem, solver, options, **kwargs)
    return _guided(problem, solver, options, request, kwargs)


def _exact_with_dmmv(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    seconds: float,
    note: Callable[[str], None] | None,
    kwargs: dict[str, Any],
) -> SolveResult:
    # imported here: the DMMV search brings torch, which a plain solve does not need
    from mipguide.heuristics.dmmv.start import dmmv_unsuitable
    from mipguide.pipeline.dmmv_solve import solve_with_dmmv_start

    say = note or (lambda _line: None)
    reason = dmmv_unsuitable(problem)
    if reason is None:
        say(f"DMMV feasibility search first (up to {seconds:g} s)")
        return solve_with_dmmv_start(problem, solver, options, seconds, **kwargs)
    say(f"warning: dmmv skipped: {reason}; solving without it")
    return solve_problem(problem, solver, options, **kwargs)


def check_model(problem: Problem, request: ModeRequest) -> None:
    """At submit: the named model exists in the registry with the mode's kind, and a pas or srg
    request without a name has a model that matches ``problem`` (auto falls back to exact).
    Reads the cards only (no torch).

    Raises:
        InvalidOptionError: ``model``, with the registered models of the kind.
    """
    if request.mode == "exact":
        return
    from mipguide.models.cards import model_cards
    from mipguide.models.signature import best_match, signature

    kind = "srg" if request.mode == "srg" else "pas"
    cards = model_cards(request.model_dir, kind)
    refs = [ref for ref, _ in cards]
    if request.model is not None:
        if request.model not in refs:
            raise InvalidOptionError(
                "model", f"no {kind} model {request.model!r} is registered", refs
            )
    elif request.mode != "auto" and best_match(signature(problem), cards) is None:
        raise no_model_matches(kind, refs)


def no_model_matches(kind: str, refs: list[str]) -> InvalidOptionError:
    """The error of a pas or srg request that names no model and matches none."""
    article = "an" if kind == "srg" else "a"
    return InvalidOptionError(
        "model", f"no registered model matches; name {article} {kind} model", refs
    )


def _guided(
    problem: Problem,
    solver: str,
    options: SolveOptions,
    request: ModeRequest,
    kwargs: dict[str, Any],
) -> SolveResult:
    import torch

    from mipguide.guidance.pas import PasGuide
    from mipguide.guidance.remote import ModelAt, Remote
    from mipguide.guidance.run import Guide, run_guided
    from mipguide.guidance.selection import (
        cached_model,
        model_cards,
        pas_params,
        select_model,
        srg_params,
    )
    from mipguide.guidance.srg import SrgGuide

    torch.set_num_threads(options.threads)  # the network runs on the solve's threads
    t0 = time.perf_counter()
    kind = "srg" if request.mode == "srg" else "pas"
    match = None if request.model is not None else select_model(problem, request.model_dir, kind)
    ref = request.model or (match.ref if match is not None else None)
    why = {"model": ref, "distance": None if match is None else match.distance}
    plain = None if ref is None or request.mode != "auto" else card_auto_plain(request, ref)
    extra: dict[str, Any] = {"auto": why}
    if plain is not None and solver == AUTO_SOLVER:
        solver = plain
        extra["solver_choice"] = {"solver": plain, "by": "card", "model": ref}
    if ref is None or plain is not None:
        if request.mode in ("pas", "srg"):
            raise no_model_matches(kind, [r for r, _ in model_cards(request.model_dir, kind)])
        why["reason"] = (
            "no registered model matches this instance"
            if ref is None
            else f"the model's tuning found {plain} alone better than its guidance"
        )
        spent = time.perf_counter() - t0
        if solver == AUTO_SOLVER:
            result = _plain_auto(problem, _less_time(options, spent), request, kwargs)
        else:
            result = solve_problem(problem, solver, _less_time(options, spent), **kwargs)
        return replace(result, extra=dict(result.extra, **extra))
    registry = str(locate(request.model_dir, ref))
    runner = request.runner
    loaded = cached_model(ref, registry, "cpu" if runner is not None else request.device)
    remote = None if runner is None else Remote(runner, ModelAt.of(loaded, registry))
    guide: Guide = (
        SrgGuide(loaded, srg_params(loaded.card, request.srg), remote)
        if kind == "srg"
        else PasGuide(loaded, pas_params(loaded.card, request.pas), remote)
    )
    choice = None
    if solver == AUTO_SOLVER:
        solver, choice = _guided_backend(problem, loaded.card, ref, request)
    spent = time.perf_counter() - t0
    result = run_guided(problem, solver, options, guide, t0=t0, **kwargs)
    seconds = dict(result.seconds, select=spent)
    extra = dict(result.extra, auto=why) if request.mode == "auto" else dict(result.extra)
    if choice is not None:
        extra["solver_choice"] = choice
    return replace(result, seconds=seconds, extra=extra)


def _guided_backend(
    problem: Problem, card: Mapping[str, Any], ref: str, request: ModeRequest
) -> tuple[str, dict[str, Any]]:
    """``solver=auto`` in a guided solve: the card's backend, chosen on the model's own
    family; for an instance outside the card's signature (a model named for another family,
    zero-shot), the backend the plain selector picks for the instance, when there is one."""
    from mipguide.guidance.selection import card_solver
    from mipguide.models.signature import clusters_from_card, nearest, signature

    inside = request.model is None or (  # a model found by matching is inside by definition
        nearest(clusters_from_card(dict(card)), signature(problem)) is not None
    )
    selector = None if inside else plain_selector(request.model_dir)
    if selector is None:
        solver = card_solver(card)
        return solver, {"solver": solver, "by": "card", "model": ref}
    choice = selector.choose(problem)
    return choice.solver, {**choice.to_dict(), "model": ref, "outside_model": True}


def card_auto_plain(request: ModeRequest, ref: str) -> str | None:
    """The backend a PaS model's card says ``mode=auto`` should run alone (its tuning found
    that backend without guidance better than the guided point), or None: guide."""
    from mipguide.models.cards import model_cards

    card = dict(model_cards(request.model_dir, "pas")).get(ref, {})
    auto = card.get("auto")
    if isinstance(auto, dict) and auto.get("mode") == "exact":
        solver = auto.get("solver")
        return solver if isinstance(solver, str) and solver else "scip"
    return None


def _plain_auto(
    problem: Problem, options: SolveOptions, request: ModeRequest, kwargs: dict[str, Any]
) -> SolveResult:
    """``solver=auto`` without a model to follow: the selector's backend, else the probe."""
    from mipguide.pipeline.probe import solve_probed

    t0 = time.perf_counter()
    selector = None if request.plain == "probe" else plain_selector(request.model_dir)
    if selector is None:
        return solve_probed(problem, options, **kwargs)
    choice = selector.choose(problem)
    options = _less_time(options, time.perf_counter() - t0)  # the choice counts against it
    try:
        result = solve_problem(problem, choice.solver, options, **kwargs)
    except BackendUnavailableError:  # not installed here: the probe takes what there is
        return solve_probed(problem, options, **kwargs)
    return replace(result, extra=dict(result.extra, solver_choice=choice.to_dict()))


def plain_selector(registry: Registry) -> Selector | None:
    """The first readable ``plain-selector.json`` on the registry's search path (the user's,
    then the shipped one), loaded once per file version; None when there is none."""
    from mipguide.models.cards import registry_roots
    from mipguide.models.selector import SELECTOR_FILE

    for root in registry_roots(registry):
        path = Path(root) / SELECTOR_FILE
        try:
            stat = path.stat()
        except OSError:
            continue
        selector = _load_selector(str(path), stat.st_mtime_ns, stat.st_size)
        if selector is not None:
            return selector
    return None


@lru_cache(maxsize=4)
def _load_selector(path: str, _mtime: int, _size: int) -> Selector | None:
    from mipguide.models.selector import load_selector

    return load_selector(Path(path))


def _less_time(options: SolveOptions, spent: float) -> SolveOptions:
    if options.time_limit is None:
        return options
    return replace(options, time_limit=max(0.0, options.time_limit - spent))
