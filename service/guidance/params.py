"""Guided-solve parameters, composed like OR-Tools' ``SolveParameters``: validated in one place,
with errors that name the field (``search.lns.share``). No torch here: the job layer imports it.

::

    PasParams(region: TopKRegion, start_seconds, search: SearchParams)
    SrgParams(sampling: SamplingParams, candidates: CandidateParams, region: SrgRegion,
              search: SearchParams)
    SearchParams(subproblem: SubproblemParams, lns: LnsParams, completion: CompletionParams,
                 lp_pricing)

Values come from three layers, each overriding the one before: the defaults here, the model
card's recommended parameters (``card["pas"]`` / ``card["srg"]``), the caller's (API option
``pas`` / ``srg`` as nested JSON; CLI ``--pas region.k0=0.5``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mipguide.errors import InvalidOptionError

# SCIP's lp/pricing values ("": SCIP's default), for ``SearchParams.lp_pricing``
LpPricing = Literal["", "l", "a", "f", "p", "s", "q", "d"]


class _Params(BaseModel):
    # strict: a flag is true or false, a count an integer (JSON numbers pass as floats)
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class SubproblemParams(_Params):
    """The trust-region subproblem (``search.solve_subproblem``).

    Attributes:
        share: share of the remaining budget for the subproblem.
        stall: stop it early when no stage has improved the incumbent for this share of the
            remaining budget (0: never).
        widen: how many times Delta is doubled while it is proven infeasible.
        time_cap: its seconds when the solve has no time limit.
        heuristics: solve it for solutions, not bounds (SCIP: cutting planes off, primal
            heuristics aggressive; ``search.SUB_HEURISTIC_PARAMS``).
    """

    share: float = Field(default=0.5, ge=0, le=1)
    stall: float = Field(default=0.1, ge=0, le=1)
    widen: int = Field(default=2, ge=0)
    time_cap: float = Field(default=30.0, gt=0)
    heuristics: bool = False


class LnsParams(_Params):
    """LNS rounds around the incumbent between the subproblem and the completion (``lns``).

    Attributes:
        share: share of the budget left after the subproblem spent on the rounds (0: none).
        free: share of the binaries freed in the first round (then adapted).
        round: each round's time limit as a share of the LNS budget.
        guide: how much the guide (P(x_j = 1)) steers which binaries are freed (0: uniform).
        relax: share of each round's freed binaries chosen by the local-branching LP around
            the incumbent (LB-RELAX; 0: none).
        disagree: share of each round's freed binaries chosen among those the guide is unsure
            of (0 < P(x_j = 1) < 1; for SRG: where the candidates disagree), all of them when
            they are fewer (0: none). Not with ``relax``.
        stall: end the rounds when no stage has improved the incumbent for this share of the
            LNS budget, leaving the rest to the completion (0: never).
    """

    share: float = Field(default=0.0, ge=0, le=1)
    free: float = Field(default=0.2, gt=0, le=1)
    round: float = Field(default=0.05, gt=0, le=1)
    guide: float = Field(default=0.5, ge=0, le=1)
    relax: float = Field(default=0.0, ge=0, le=1)
    disagree: float = Field(default=0.0, ge=0, le=1)
    stall: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _one_priority(self) -> LnsParams:
        if self.relax > 0 and self.disagree > 0:
            raise ValueError("relax and disagree cannot both be above 0")
        return self


class CompletionParams(_Params):
    """The completion on the full model.

    Attributes:
        run: run it (false: heuristic only, no proof, status at most feasible).
        heuristics: run it for solutions as well as bounds (SCIP: primal heuristics
            aggressive; ``search.COMPLETION_HEURISTIC_PARAMS``); the caller's settings win.
        warm: start it from the best solution so far (false: from scratch; the earlier best
            still stands when it finds nothing better).
    """

    run: bool = True
    heuristics: bool = False
    warm: bool = True


class SearchParams(_Params):
    """What follows the guide's proposal (``search.search_region``), the same for PaS and SRG.

    Attributes:
        lp_pricing: SCIP's ``lp/pricing`` for every stage ("" keeps SCIP's default; a
            ``lp/pricing`` the caller sets wins; other backends ignore it).
    """

    subproblem: SubproblemParams = SubproblemParams()
    lns: LnsParams = LnsParams()
    completion: CompletionParams = CompletionParams()
    lp_pricing: LpPricing = ""


class TopKRegion(_Params):
    """PaS's region: S = the k0 most-likely-0 and k1 most-likely-1 binaries.

    Attributes:
        k0, k1: fractions of the binaries fixed near 0 / near 1 (each side capped by the
            predicted count on that side).
        delta: Delta as a fraction of |S| (rounded up); 0 is hard fixing.
    """

    k0: float = Field(default=0.6, ge=0, le=1)
    k1: float = Field(default=0.02, ge=0, le=1)
    delta: float = Field(default=0.02, ge=0)


class PasParams(_Params):
    """Predict-and-search (``mode=pas`` / ``auto``).

    Attributes:
        start_seconds: on problems with non-binary variables, seconds (at most 5 % of the
            budget left) to complete the rounded prediction into a first incumbent (0: hand
            the solver the partial rounding only).
        prediction: what gives P(x = 1): the ``network``; or, the ablations that ask whether
            the network earns its place, the LP relaxation's values (``lp``, bench method
            ``pas-lp``) or the backend's first incumbent (``incumbent``: no prediction, the same
            region, LNS and completion around it; bench method ``lns``); or both
            (``network-incumbent``): the network's P(x = 1) averaged with that incumbent, so
            the region keeps the incumbent's values and the network ranks them: the binaries
            where both agree are fixed first (most confident first), those where they disagree
            are left free (a learned neighbourhood for the incumbent's search; with no
            incumbent in its share of the budget, the network alone).
    """

    region: TopKRegion = TopKRegion()
    start_seconds: float = Field(default=2.0, ge=0)
    prediction: Literal["network", "lp", "incumbent", "network-incumbent"] = "network"
    search: SearchParams = SearchParams()


class SamplingParams(_Params):
    """SRG's guided reverse SDE (``sample``).

    Attributes:
        k: candidates sampled in one batch.
        steps: reverse-time steps.
        guidance: Lagrangian guidance on (false: the plain score model).
        eta: guidance strength (the denoised estimate moves by eta * grad L per step).
        rho: step of the projected subgradient update of lambda.
        objective: weight of the normalized objective in L (0: feasibility only).
        seed: sampling seed (None: the solve's seed).
        share: at most this share of the time limit goes to sampling (fewer steps on graphs
            too big for ``steps`` forwards in that time; at least one).
        first_estimate: turn the first step's one-step estimate into the first incumbent
            before the other steps run.
        aggregates: guide with the rows over the binaries that sums of rows imply
            (``rows.aggregate_rows``) as well as with each row's own binary part; their LP
            runs after the first estimate (on the device pool: before sampling).
        aggregate_rho: the multiplier step of those aggregate rows (``rho`` is the other
            rows'): a sum of many rows, scaled by its right-hand side, whose multiplier must
            move slower than a single row's or every candidate opens far more than the total
            needs. 0.2: chosen from 1, 0.5, 0.2 and 0.1 by ``mipguide bench srg --tune`` on
            validation facility location (docs/benchmarks.md#srg-aggregates).
    """

    k: int = Field(default=16, ge=1, le=1024)
    steps: int = Field(default=20, ge=1, le=1000)
    guidance: bool = True
    eta: float = Field(default=3.0, ge=0)
    rho: float = Field(default=1.0, ge=0)
    objective: float = Field(default=0.05, ge=0)
    seed: int | None = Field(default=None, ge=0)
    share: float = Field(default=0.25, ge=0, le=1)
    first_estimate: bool = True
    aggregates: bool = False
    aggregate_rho: float = Field(default=0.2, ge=0)


class CandidateParams(_Params):
    """What is done with SRG's candidates (``candidates``).

    Attributes:
        repair: ``greedy`` (packing/covering rows), ``dmmv`` (min-max violation search,
            pure-integer problems), ``auto`` (greedy where it applies, else DMMV), ``none``.
        repair_seconds: time for the DMMV repair of the whole batch.
        complete_top: with non-binary variables, how many of the best candidates get them
            completed by a solve with the binaries fixed.
        complete_seconds: time cap of each such completion (and of the first estimate's).
        starts: how many of the other feasible candidates (the best first) the backend gets
            as starts beside the incumbent, in the subproblem and the completion (SCIP keeps
            them for its crossover heuristics; 0: none).
    """

    repair: Literal["auto", "dmmv", "greedy", "none"] = "auto"
    repair_seconds: float = Field(default=0.2, ge=0)
    complete_top: int = Field(default=2, ge=0)
    complete_seconds: float = Field(default=2.0, gt=0)
    starts: int = Field(default=0, ge=0, le=1024)


class SrgRegion(_Params):
    """SRG's region (``consensus``).

    Attributes:
        kind: ``consensus`` (S = the binaries the candidates agree on) or ``topk`` (PaS's
            choice on the candidates' mean, with ``topk``).
        agreement: smallest agreement (share of candidates with the majority value) in S.
        max_share: largest |S| as a fraction of the binaries (most agreeing first).
        delta_factor, delta_min: Delta = max(delta_min, ceil(delta_factor * median Hamming
            distance of the candidates to x^ on S)).
    """

    kind: Literal["consensus", "topk"] = "consensus"
    agreement: float = Field(default=0.95, ge=0.5, le=1)
    max_share: float = Field(default=0.95, ge=0, le=1)
    delta_factor: float = Field(default=1.0, ge=0)
    delta_min: int = Field(default=1, ge=0)
    topk: TopKRegion = TopKRegion()


class SrgParams(_Params):
    """Lagrangian-guided score-based sampling (``mode=srg``)."""

    sampling: SamplingParams = SamplingParams()
    candidates: CandidateParams = CandidateParams()
    region: SrgRegion = SrgRegion()
    search: SearchParams = SearchParams()


P = TypeVar("P", bound=_Params)


def merged(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Nested dicts merged left to right (a later layer's value wins; dicts merge by key)."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if isinstance(value, Mapping) and isinstance(out.get(key), dict):
                out[key] = merged(out[key], value)
            else:
                out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def parse_params(cls: type[P], option: str, *layers: Mapping[str, Any] | None) -> P:
    """``cls`` from its layers of nested values (defaults, card, caller; see ``merged``).

    Raises:
        InvalidOptionError: the first wrong field, named by its path (``pas.search.lns.share``),
            with the valid names when it is unknown.
    """
    try:
        return cls.model_validate(merged(*layers))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        valid = _field_names(cls, err["loc"][:-1]) if err["type"] == "extra_forbidden" else ()
        raise InvalidOptionError(f"{option}.{loc}", err["msg"], valid) from exc


def _field_names(cls: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """The field names of the model at ``path`` inside ``cls``."""
    model: Any = cls
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None or not (
            isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        ):
            return []
        model = field.annotation
    return list(model.model_fields)


def dotted(pairs: Mapping[str, Any]) -> dict[str, Any]:
    """``{"search.lns.share": 0.8}`` -> ``{"search": {"lns": {"share": 0.8}}}`` (the CLI form)."""
    out: dict[str, Any] = {}
    for key, value in pairs.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InvalidOptionError(key, f"{part} is a value, not a group")
        node[leaf] = value
    return out
