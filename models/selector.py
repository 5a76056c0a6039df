"""The plain backend for an instance no model fits: a small selector learned from its features.

Neither SCIP nor HiGHS reaches good solutions sooner on every family we measure, and the better
one is a property of the problem's structure. The selector is learned from labelled instances:
both backends' primal integrals on one thread (``mipguide tune-plain`` reads them from ``bench
guided`` runs on validation seeds). It answers in two steps, with no solve:

1. **a measured family**: when the instance's signature matches a labelled family's (the rule
   models are matched by, ``mipguide.models.signature``), that family's better backend (the
   lower mean integral over its labelled instances);
2. **else the fallback**, the point of the declared ``GRID`` with the lowest leave-one-group-out
   score: each family's instances chosen for as if that family had never been measured (step 1
   against the other families, then the fallback fitted on them), over the best backend's
   integral. The grid: always HiGHS, always SCIP, ridge regression of
   ``y = log((I_highs + EPS) / (I_scip + EPS))`` on the standardized ``features`` with a few
   penalties, k nearest neighbours, and small decision trees that pick the backend of the lower
   summed integral ratio in each leaf; a negative prediction picks HiGHS.

Besides families, the data may hold a *library*: unrelated instances (MIPLIB's, say), each its
own group (``Labelled.single``). They are never a measured family (one instance is no
distribution to match against), only data for the fallback and its score, which then weighs
the two kinds of unmeasured instance alike: the mean of the families' mean ratio and the
library's geometric mean ratio (``score``; each part's instances weighted so in the fits too).

The shipped selector is ``models/weights/plain-selector.json``; the file keeps the grid's
figures and the data it was fitted on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mipguide.models.signature import Cluster, clusters_of_signatures, nearest, signature
from mipguide.problem.model import Problem

SELECTOR_FILE = "plain-selector.json"
SOLVERS = ("highs", "scip")  # a negative prediction -> the first
EPS = 1e-3  # added to both integrals: a ratio of two near-zero integrals is noise
# the fallback's grid, (kind, parameter): a constant prediction (-1: HiGHS, 1: SCIP), a ridge
# penalty on the standardized features, or the neighbours' count; ties go to the earlier
GRID: tuple[tuple[str, float], ...] = (
    ("constant", -1.0),
    ("constant", 1.0),
    ("ridge", 0.1),
    ("ridge", 1.0),
    ("ridge", 10.0),
    ("ridge", 100.0),
    ("knn", 1),
    ("knn", 3),
    ("knn", 5),
    ("tree", 1),
    ("tree", 2),
)
KINDS = ("constant", "ridge", "knn", "tree")
# what a selector file keeps beside the selector itself
REPORT_KEYS = ("grid", "chosen", "always", "data", "command")
# a feature's spread below this is noise, not signal: standardizing by less would magnify it
SCALE_FLOOR = 0.05
FEATURES = (
    "log_vars",
    "log_rows",
    "log_rows_per_var",
    "log_row_degree",
    "log_binary_fraction",
    "objective_cv",
    "continuous_fraction",
    "integer_fraction",
    "all_binary",
    "has_eq",
    "has_ge",
    "has_le",
    "unit_coefficients",
    "mixed_coefficients",
    "maximize",
)


def features(problem: Problem, sig: dict[str, Any] | None = None) -> np.ndarray:
    """The fallback's feature vector of one instance (``FEATURES``, cheap: no solve)."""
    sig = signature(problem) if sig is None else sig
    n = max(problem.num_vars, 1)
    integers = int(np.count_nonzero(problem.integrality))
    rows = str(sig["rows"]).split(",")
    values = {
        **{k: float(sig[k]) for k in FEATURES[:6]},
        "continuous_fraction": (problem.num_vars - integers) / n,
        "integer_fraction": max(integers - problem.num_binaries, 0) / n,
        "all_binary": float(sig["types"] == "binary"),
        "has_eq": float("eq" in rows),
        "has_ge": float("ge" in rows),
        "has_le": float("le" in rows),
        "unit_coefficients": float(sig["coefficients"] == "unit"),
        "mixed_coefficients": float(sig["coefficients"] == "mixed"),
        "maximize": float(problem.sense < 0),
    }
    return np.array([values[k] for k in FEATURES], dtype=np.float64)


def log_ratio(highs: float, scip: float) -> float:
    """The regression's target: negative when HiGHS's primal integral is the lower."""
    return math.log((highs + EPS) / (scip + EPS))


@dataclass(frozen=True)
class Labelled:
    """One labelled instance: its family, signature, features and both backends' integrals."""

    instance: str
    family: str
    sig: dict[str, Any]
    x: np.ndarray
    highs: float
    scip: float
    single: bool = False  # a library instance: its own group, never a measured family

    @property
    def y(self) -> float:
        return log_ratio(self.highs, self.scip)

    @property
    def group(self) -> str:
        """What leave-one-group-out leaves out together: the family, or the library instance."""
        return f"{self.family}/{self.instance}" if self.single else self.family

    def cost(self, solver: str) -> float:
        """This instance's integral with ``solver`` over the better backend's (EPS added)."""
        best = min(self.highs, self.scip)
        return ((self.highs if solver == "highs" else self.scip) + EPS) / (best + EPS)


@dataclass(frozen=True)
class Choice:
    """The selector's answer for one instance."""

    solver: str
    family: str | None  # the measured family it matched, or None (the fallback chose)
    predicted: float  # the fallback's log ratio (0 when a family matched)

    def to_dict(self) -> dict[str, Any]:
        return {
            "solver": self.solver,
            "by": "selector",
            "family": self.family,
            "predicted_log_ratio": self.predicted,
        }


@dataclass(frozen=True)
class Family:
    """A measured family: its signature and its better backend (lower mean integral)."""

    label: str
    clusters: tuple[Cluster, ...]
    solver: str
    highs: float  # mean integrals over its labelled instances
    scip: float

    def distance(self, sig: dict[str, Any]) -> float | None:
        return nearest(self.clusters, sig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "solver": self.solver,
            "highs": self.highs,
            "scip": self.scip,
            "signature": [c.to_dict() for c in self.clusters],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Family:
        solver = str(d["solver"])
        if solver not in SOLVERS:
            raise ValueError(f"unknown backend {solver!r}")
        clusters = tuple(Cluster.from_dict(c) for c in d["signature"])
        return cls(str(d["label"]), clusters, solver, float(d["highs"]), float(d["scip"]))


@dataclass
class Fallback:
    """The choice for an instance of no measured family: a constant, ridge or neighbours."""

    kind: str
    param: float
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray | None = None  # ridge
    bias: float = 0.0  # ridge
    points: np.ndarray | None = None  # knn: standardized training features
    targets: np.ndarray | None = None  # knn: their log ratios
    tree: dict[str, Any] | None = None  # tree: nested splits, leaves {"solver": ...}

    def predict(self, x: np.ndarray) -> float:
        if self.kind == "constant":
            return self.param
        if self.kind == "tree":
            assert self.tree is not None
            return _tree_predict(self.tree, np.asarray(x, dtype=np.float64))
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        if self.kind == "ridge":
            assert self.weights is not None
            return float(z @ self.weights + self.bias)
        assert self.points is not None and self.targets is not None
        k = min(int(self.param), len(self.targets))
        closest = np.argsort(np.linalg.norm(self.points - z, axis=1), kind="stable")[:k]
        return float(self.targets[closest].mean())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "param": self.param}
        if self.kind == "constant":
            return d
        if self.kind == "tree":
            d["tree"] = self.tree
            return d
        d.update(mean=self.mean.tolist(), scale=self.scale.tolist())
        if self.kind == "ridge":
            assert self.weights is not None
            d.update(
                weights=dict(zip(FEATURES, self.weights.tolist(), strict=True)), bias=self.bias
            )
        else:
            assert self.points is not None and self.targets is not None
            d.update(points=self.points.tolist(), targets=self.targets.tolist())
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fallback:
        kind = str(d["kind"])
        if kind not in KINDS:
            raise ValueError(f"unknown fallback kind {kind!r}")
        if kind == "constant":
            return cls(kind, float(d["param"]), np.zeros(0), np.zeros(0))
        if kind == "tree":
            tree = d["tree"]
            _check_tree(tree)
            return cls(kind, float(d["param"]), np.zeros(0), np.zeros(0), tree=tree)
        param = float(d["param"])
        mean = np.asarray(d["mean"], dtype=np.float64)
        scale = np.asarray(d["scale"], dtype=np.float64)
        if kind == "ridge":
            weights = np.array([float(d["weights"][k]) for k in FEATURES])
            return cls(kind, param, mean, scale, weights=weights, bias=float(d["bias"]))
        points = np.asarray(d["points"], dtype=np.float64)
        targets = np.asarray(d["targets"], dtype=np.float64)
        return cls(kind, param, mean, scale, points=points, targets=targets)


@dataclass
class Selector:
    """Measured families first, then the fallback (see the module docstring)."""

    families: list[Family]
    fallback: Fallback
    report: dict[str, Any] = field(default_factory=dict)  # the grid's figures and the data

    def choose(self, problem: Problem) -> Choice:
        sig = signature(problem)
        return self.choose_for(sig, features(problem, sig))

    def choose_for(self, sig: dict[str, Any], x: np.ndarray) -> Choice:
        matches = [(d, f.label, f) for f in self.families if (d := f.distance(sig)) is not None]
        if matches:
            family = min(matches, key=lambda m: (m[0], m[1]))[2]
            return Choice(family.solver, family.label, 0.0)
        predicted = self.fallback.predict(x)
        return Choice(SOLVERS[0] if predicted < 0 else SOLVERS[1], None, predicted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "solvers": {"negative": SOLVERS[0], "otherwise": SOLVERS[1]},
            "eps": EPS,
            "families": [f.to_dict() for f in self.families],
            "fallback": self.fallback.to_dict(),
            **self.report,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selector:
        if list(d.get("features", [])) != list(FEATURES):
            raise ValueError("the selector was fitted on other features")
        families = [Family.from_dict(f) for f in d["families"]]
        report = {k: d[k] for k in REPORT_KEYS if k in d}
        return cls(families, Fallback.from_dict(d["fallback"]), report)


def load_selector(path: Path) -> Selector | None:
    """The selector in ``path``, or None when there is none (or it cannot be read)."""
    try:
        return Selector.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _by_group(data: Sequence[Labelled]) -> dict[str, list[Labelled]]:
    groups: dict[str, list[Labelled]] = {}
    for d in data:
        groups.setdefault(d.group, []).append(d)
    return groups


def measured_families(data: Sequence[Labelled]) -> list[Family]:
    """Each family's signature clusters and better backend (HiGHS on a tie); library
    instances are none."""
    out = []
    for label, items in _by_group([d for d in data if not d.single]).items():
        highs = float(np.mean([d.highs for d in items]))
        scip = float(np.mean([d.scip for d in items]))
        clusters = tuple(clusters_of_signatures(label, [d.sig for d in items]))
        out.append(Family(label, clusters, "highs" if highs <= scip else "scip", highs, scip))
    return out


def weights(data: Sequence[Labelled]) -> np.ndarray:
    """The instances' weights, summing to 1: each group weighs the same within its part
    (families, library), and each present part weighs the same."""
    groups = _by_group(data)
    parts = {d.single for d in data}
    count = {single: sum(g[0].single == single for g in groups.values()) for single in parts}
    return np.array(
        [1.0 / (len(parts) * count[d.single] * len(groups[d.group])) for d in data],
        dtype=np.float64,
    )


def fit_fallback(data: Sequence[Labelled], kind: str, param: float) -> Fallback:
    """One grid point fitted on ``data`` (weighted by ``weights``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown fallback kind {kind!r}")
    if kind == "constant":
        return Fallback(kind, param, np.zeros(0), np.zeros(0))
    if not data:
        raise ValueError("no labelled instances")
    X = np.stack([d.x for d in data])
    w = weights(data)
    if kind == "tree":
        tree = _grow(list(data), X, w, int(param))
        return Fallback(kind, param, np.zeros(0), np.zeros(0), tree=tree)
    y = np.array([d.y for d in data])
    mean = w @ X
    scale = np.sqrt(w @ (X - mean) ** 2)
    scale = np.maximum(scale, SCALE_FLOOR)
    Z = (X - mean) / scale
    if kind == "knn":
        return Fallback(kind, param, mean, scale, points=Z, targets=y)
    y_mean = float(w @ y)  # Z is centred under w: the intercept is y's weighted mean
    A = Z.T @ (w[:, None] * Z) + param * np.eye(Z.shape[1]) / len(data)
    coef = np.linalg.solve(A, Z.T @ (w * (y - y_mean)))
    return Fallback(kind, param, mean, scale, weights=coef, bias=y_mean)


def _leaf(data: Sequence[Labelled], w: np.ndarray) -> tuple[dict[str, Any], float]:
    """The leaf of ``data``: the backend of the lower weighted cost, and that cost."""
    costs = {s: float(sum(wi * d.cost(s) for d, wi in zip(data, w, strict=True))) for s in SOLVERS}
    solver = min(SOLVERS, key=lambda s: (costs[s], SOLVERS.index(s)))
    return {"solver": solver}, costs[solver]


def _grow(data: list[Labelled], X: np.ndarray, w: np.ndarray, depth: int) -> dict[str, Any]:
    """A decision tree of at most ``depth`` splits from the root, each split a feature's
    threshold (midway between two values) that lowers the weighted cost, keeps every group on
    one side and leaves two groups at least on each (a split through a family, or one that
    isolates a single group, is fitting noise)."""
    leaf, cost = _leaf(data, w)
    if depth <= 0:
        return leaf
    best: tuple[float, int, float] | None = None
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        for lo, hi in zip(values[:-1], values[1:], strict=True):
            t = float((lo + hi) / 2)
            left = X[:, j] <= t
            sides = [[d for d, m in zip(data, mask, strict=True) if m] for mask in (left, ~left)]
            groups = [{d.group for d in side} for side in sides]
            if min(map(len, groups)) < 2 or groups[0] & groups[1]:
                continue
            split = _leaf(sides[0], w[left])[1] + _leaf(sides[1], w[~left])[1]
            if split < cost - 1e-12 and (best is None or split < best[0] - 1e-12):
                best = (split, j, t)
    if best is None:
        return leaf
    _, j, t = best
    left = X[:, j] <= t
    pick = [[i for i, m in enumerate(mask) if m] for mask in (left, ~left)]
    children = [_grow([data[i] for i in idx], X[idx], w[idx], depth - 1) for idx in pick]
    return {"feature": FEATURES[j], "threshold": t, "le": children[0], "gt": children[1]}


def _tree_predict(node: dict[str, Any], x: np.ndarray) -> float:
    while "solver" not in node:
        j = FEATURES.index(node["feature"])
        node = node["le"] if x[j] <= node["threshold"] else node["gt"]
    return -1.0 if node["solver"] == SOLVERS[0] else 1.0


def _check_tree(node: Any, depth: int = 0) -> None:
    """Raises ValueError unless ``node`` is a tree ``_tree_predict`` can walk."""
    if not isinstance(node, dict) or depth > 16:
        raise ValueError("a damaged tree")
    if "solver" in node:
        if node["solver"] not in SOLVERS:
            raise ValueError(f"unknown backend {node['solver']!r}")
        return
    if node.get("feature") not in FEATURES or not isinstance(node.get("threshold"), int | float):
        raise ValueError("a damaged tree split")
    _check_tree(node.get("le"), depth + 1)
    _check_tree(node.get("gt"), depth + 1)


def fit_one(data: Sequence[Labelled], kind: str, param: float) -> Selector:
    """The selector of ``data``'s families with one grid point as its fallback."""
    return Selector(measured_families(data), fit_fallback(data, kind, param))


def family_ratio(items: Sequence[Labelled], picks: Sequence[str]) -> float:
    """A group's mean primal integral with ``picks`` over the better single backend's mean."""
    got = float(
        np.mean([d.highs if s == "highs" else d.scip for d, s in zip(items, picks, strict=True)])
    )
    best = min(float(np.mean([d.highs for d in items])), float(np.mean([d.scip for d in items])))
    return (got + EPS) / (best + EPS)


def leave_one_family_out(
    data: Sequence[Labelled], kind: str, param: float
) -> tuple[dict[str, float], dict[str, int], dict[str, list[str]]]:
    """Each group's ratio to its better backend when it was never measured (the selector of
    the other groups chooses), how many of its instances matched a measured family, and the
    backends chosen for its instances."""
    ratios: dict[str, float] = {}
    matched: dict[str, int] = {}
    picks: dict[str, list[str]] = {}
    for group, items in _by_group(data).items():
        rest = [d for d in data if d.group != group]
        if not rest:
            continue
        sel = fit_one(rest, kind, param)
        choices = [sel.choose_for(d.sig, d.x) for d in items]
        picks[group] = [c.solver for c in choices]
        ratios[group] = family_ratio(items, picks[group])
        matched[group] = sum(c.family is not None for c in choices)
    return ratios, matched, picks


def score(data: Sequence[Labelled], picks: dict[str, list[str]]) -> dict[str, float]:
    """The grid's figures from the backends chosen per group: ``families``, the mean of the
    families' ratios (family mean integral over its better backend's); ``library``, the
    geometric mean over library instances of the integral over the instance's better
    backend's (EPS added to both: a shifted geometric mean, as solver benchmarks compare run
    times; a plain mean of integrals over unrelated instances is carried by the one or two
    hardest); and ``mean``, the mean of the two present parts (the score the grid is chosen
    by)."""
    groups = _by_group(data)
    families = [family_ratio(groups[g], p) for g, p in picks.items() if not groups[g][0].single]
    library = [(d, p[0]) for g, p in picks.items() for d in groups[g] if d.single]
    out: dict[str, float] = {}
    if families:
        out["families"] = float(np.mean(families))
    if library:
        out["library"] = float(np.exp(np.mean([math.log(d.cost(p)) for d, p in library])))
    out["mean"] = float(np.mean(list(out.values()))) if out else math.inf
    return out


def fit(data: Sequence[Labelled], grid: Sequence[tuple[str, float]] = GRID) -> Selector:
    """The selector of ``data``'s families with the grid point of the lowest leave-one-group-out
    ``score`` (then the earlier) as its fallback, fitted on all of ``data``; its ``report``
    holds every point's figures and the data.

    Raises:
        ValueError: fewer than two groups, or no family among them.
    """
    groups = _by_group(data)
    if len(groups) < 2 or all(d.single for d in data):
        raise ValueError("the selector needs labelled instances of two families at least")
    rows: list[dict[str, Any]] = []
    for kind, param in grid:
        lofo, matched, picks = leave_one_family_out(data, kind, param)
        rows.append(
            {"kind": kind, "param": param, "lofo": lofo, "matched": matched, **score(data, picks)}
        )
    best = min(range(len(rows)), key=lambda i: (rows[i]["mean"], i))
    sel = fit_one(data, str(rows[best]["kind"]), float(rows[best]["param"]))
    always = {
        s: {g: family_ratio(items, [s] * len(items)) for g, items in groups.items()}
        for s in SOLVERS
    }
    constant = {s: {g: [s] * len(items) for g, items in groups.items()} for s in SOLVERS}
    sel.report = {
        "grid": rows,
        "chosen": best,
        "always": {s: {"ratios": r, **score(data, constant[s])} for s, r in always.items()},
        "data": [
            {
                "instance": d.instance,
                "family": d.family,
                "highs": d.highs,
                "scip": d.scip,
                **({"single": True} if d.single else {}),
            }
            for d in data
        ],
    }
    return sel
