"""Instance signatures: Problem -> family/size features, and which trained model fits an instance.

A model's card records one ``Cluster`` per family it was trained on: the categorical structure
(sense, variable types, row kinds, coefficient kind) and the range of a few scale-free numeric
features over its training instances. An instance matches a cluster when its categories are equal
and each numeric feature lies in the range widened by that feature's tolerance (sizes may grow
or shrink by 4x: models are trained on medium and used on hard). ``mode=auto`` picks the matching
model with the fewest clusters (a specialist before a mix), then the closest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mipguide.problem.model import Problem

# numeric feature -> tolerance added on both sides of the training range
TOLERANCES: dict[str, float] = {
    "log_vars": math.log10(4.0),
    "log_rows": math.log10(4.0),
    "log_rows_per_var": 0.35,
    "log_row_degree": 0.15,
    "log_binary_fraction": 0.35,
    "objective_cv": 0.25,
}


def signature(problem: Problem) -> dict[str, Any]:
    """Categorical and numeric features of one instance (cheap: no solve, no graph)."""
    A = problem.A
    n, m = max(problem.num_vars, 1), max(problem.num_rows, 1)
    has_lo, has_hi = np.isfinite(problem.row_lower), np.isfinite(problem.row_upper)
    eq = has_lo & has_hi & (problem.row_lower == problem.row_upper)
    kinds = {
        "ge": bool((has_lo & ~has_hi).any()),
        "le": bool((~has_lo & has_hi).any()),
        "eq": bool(eq.any()),
        "ranged": bool((has_lo & has_hi & ~eq).any()),
    }
    data = A.data
    coef = "empty" if data.size == 0 else "unit" if np.all(data == 1.0) else "nonneg"
    if data.size and data.min() < 0:
        coef = "mixed"
    c = problem.c
    mean_abs = float(np.abs(c).mean()) if c.size else 0.0
    nb = problem.num_binaries
    return {
        "sense": int(problem.sense),
        "types": "binary" if nb == problem.num_vars else "mixed" if nb else "no-binary",
        "rows": ",".join(k for k, v in kinds.items() if v),
        "coefficients": coef,
        "log_vars": math.log10(n),
        "log_rows": math.log10(m),
        "log_rows_per_var": math.log10(m / n),
        "log_row_degree": math.log10(max(A.nnz / m, 1e-3)),
        "log_binary_fraction": math.log10(max(nb / n, 1e-6)),
        "objective_cv": float(c.std() / mean_abs) if mean_abs > 0 else 0.0,
    }


@dataclass(frozen=True)
class Cluster:
    """The signature of a set of training instances of one family."""

    label: str
    categories: dict[str, Any]
    ranges: dict[str, tuple[float, float]]

    def distance(self, sig: dict[str, Any]) -> float | None:
        """None when ``sig`` does not match; else the tolerance-scaled distance to the range."""
        if any(sig.get(k) != v for k, v in self.categories.items()):
            return None
        worst = 0.0
        for key, (lo, hi) in self.ranges.items():
            tol = TOLERANCES[key]
            v = float(sig[key])
            out = max(lo - v, v - hi, 0.0)
            if out > tol + 1e-12:
                return None
            worst = max(worst, out / tol if tol > 0 else 0.0)
        return worst

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ranges"] = {k: [lo, hi] for k, (lo, hi) in self.ranges.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cluster:
        ranges = {k: (float(v[0]), float(v[1])) for k, v in d["ranges"].items()}
        return cls(str(d["label"]), dict(d["categories"]), ranges)


def cluster_of(label: str, problems: Iterable[Problem]) -> Cluster:
    """One cluster from instances of one family (their categories must agree)."""
    return cluster_of_signatures(label, [signature(p) for p in problems])


def cluster_of_signatures(label: str, sigs: Sequence[dict[str, Any]]) -> Cluster:
    """One cluster from the signatures of instances of one family (categories must agree)."""
    if not sigs:
        raise ValueError("no instances")
    cats = {k: v for k, v in sigs[0].items() if k not in TOLERANCES}
    for s in sigs[1:]:
        for k, v in cats.items():
            if s[k] != v:
                raise ValueError(f"instances of {label} differ in {k}: {v!r} vs {s[k]!r}")
    ranges = {k: (min(s[k] for s in sigs), max(s[k] for s in sigs)) for k in TOLERANCES}
    return Cluster(label, cats, ranges)


def clusters_of(label: str, problems: Iterable[Problem]) -> list[Cluster]:
    """Clusters of a set of instances that may differ in their categories (the user's own
    files): one per distinct categorical structure, labelled ``label``, ``label/2``, ..."""
    return clusters_of_signatures(label, [signature(p) for p in problems])


def clusters_of_signatures(label: str, sigs: Iterable[dict[str, Any]]) -> list[Cluster]:
    """``clusters_of`` from the instances' signatures."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for sig in sigs:
        key = tuple(v for k, v in sig.items() if k not in TOLERANCES)
        groups.setdefault(key, []).append(sig)
    return [
        cluster_of_signatures(label if i == 0 else f"{label}/{i + 1}", group)
        for i, group in enumerate(groups.values())
    ]


def clusters_from_card(card: dict[str, Any]) -> list[Cluster]:
    return [Cluster.from_dict(d) for d in card.get("signature", [])]


def nearest(clusters: Iterable[Cluster], sig: dict[str, Any]) -> float | None:
    """The distance of ``sig`` to the closest of ``clusters`` it matches; None: it matches none."""
    dists = [d for d in (c.distance(sig) for c in clusters) if d is not None]
    return min(dists) if dists else None


@dataclass(frozen=True)
class Match:
    """A model that fits an instance: its reference, cluster count and distance."""

    ref: str
    clusters: int
    distance: float


def best_match(sig: dict[str, Any], cards: Sequence[tuple[str, dict[str, Any]]]) -> Match | None:
    """The best fitting model among (ref, card) pairs, or None when none matches."""
    found: list[Match] = []
    for ref, card in cards:
        clusters = clusters_from_card(card)
        dist = nearest(clusters, sig)
        if dist is not None:
            found.append(Match(ref, len(clusters), dist))
    if not found:
        return None
    return min(found, key=lambda m: (m.clusters, m.distance, m.ref))
