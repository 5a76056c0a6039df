"""Combinatorial auction generator (Leyton-Brown et al. 2000, "arbitrary relationships", as in
learn2branch / Ecole): seed -> Problem.

    max  sum_b p_b x_b   s.t.  sum_{b contains item i} x_b <= 1 for each item i,   x binary

Each bidder draws private interests and values around common item values, builds a bundle by
adding items with probability ``add_item_prob`` (chosen by interest times compatibility with the
bundle), prices it at the sum of private values plus ``size ** (1 + additivity)``, and offers up to
``max_n_sub_bids`` substitutable bundles of the same size within budget and resale limits. A
bidder with more than two bids gets a dummy item shared by all of them (XOR bids). Rows are the
items (and dummy items) that appear in at least one bid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipguide.problem.model import Problem, Sense, make_problem


@dataclass(frozen=True)
class AuctionParams:
    n_items: int
    n_bids: int
    min_value: float = 1.0
    max_value: float = 100.0
    value_deviation: float = 0.5
    add_item_prob: float = 0.65
    max_n_sub_bids: int = 5
    additivity: float = 0.2
    budget_factor: float = 1.5
    resale_factor: float = 0.5


@dataclass(frozen=True)
class _Bidder:
    interests: np.ndarray
    values: np.ndarray


def _next_item(mask: np.ndarray, b: _Bidder, compats: np.ndarray, rng: np.random.Generator) -> int:
    prob = (~mask) * b.interests * compats[mask, :].mean(axis=0)
    return int(rng.choice(mask.size, p=prob / prob.sum()))


def _price(bundle: np.ndarray, b: _Bidder, additivity: float) -> float:
    return float(b.values[bundle].sum() + len(bundle) ** (1.0 + additivity))


def _grow(
    start: int, size: int | None, b: _Bidder, compats: np.ndarray, p: AuctionParams, rng
) -> np.ndarray:
    """A bundle from ``start``: to ``size`` items, or (size None) while a coin says add one."""
    mask = np.zeros(p.n_items, dtype=bool)
    mask[start] = True
    while True:
        if size is None:
            if rng.random() >= p.add_item_prob or mask.all():
                break
        elif mask.sum() >= size:
            break
        mask[_next_item(mask, b, compats, rng)] = True
    return np.flatnonzero(mask)


def _bidder_bids(
    values: np.ndarray, compats: np.ndarray, p: AuctionParams, room: int, rng
) -> list[tuple[np.ndarray, float]] | None:
    """The bids of one bidder (at most ``room``), or None when the main bundle is negative."""
    interests = rng.random(p.n_items)
    b = _Bidder(interests, values + p.max_value * p.value_deviation * (2 * interests - 1))
    first = int(rng.choice(p.n_items, p=interests / interests.sum()))
    bundle = _grow(first, None, b, compats, p, rng)
    price = _price(bundle, b, p.additivity)
    if price < 0:
        return None
    subs = [_grow(int(i), len(bundle), b, compats, p, rng) for i in bundle]
    sub_prices = [_price(s, b, p.additivity) for s in subs]
    bids = {tuple(bundle.tolist()): price}
    budget = p.budget_factor * price
    min_resale = p.resale_factor * values[bundle].sum()
    for k in np.argsort(-np.asarray(sub_prices), kind="stable"):
        if len(bids) >= p.max_n_sub_bids + 1 or len(bids) >= room:
            break
        sub, sub_price = subs[k], sub_prices[k]
        key = tuple(sub.tolist())
        if sub_price < 0 or sub_price > budget or values[sub].sum() < min_resale or key in bids:
            continue
        bids[key] = sub_price
    return [(np.asarray(k), v) for k, v in bids.items()]


def generate_auction(p: AuctionParams, rng: np.random.Generator, name: str) -> Problem:
    """One combinatorial auction (winner determination, maximize)."""
    values = p.min_value + (p.max_value - p.min_value) * rng.random(p.n_items)
    compats = np.triu(rng.random((p.n_items, p.n_items)), k=1)
    compats = compats + compats.T
    compats = compats / compats.sum(axis=1)
    bundles: list[np.ndarray] = []
    prices: list[float] = []
    n_dummy = 0
    while len(bundles) < p.n_bids:
        bids = _bidder_bids(values, compats, p, p.n_bids - len(bundles), rng)
        if bids is None:
            continue
        dummy = [p.n_items + n_dummy] if len(bids) > 2 else []
        n_dummy += bool(dummy)
        for bundle, price in bids:
            bundles.append(np.concatenate([bundle, np.asarray(dummy, dtype=np.int64)]))
            prices.append(price)
    lengths = np.array([len(b) for b in bundles])
    cols = np.repeat(np.arange(p.n_bids), lengths)
    items = np.concatenate(bundles).astype(np.int64)
    A = sp.csr_matrix((np.ones(items.size), (items, cols)), shape=(p.n_items + n_dummy, p.n_bids))
    used = np.flatnonzero(np.diff(A.indptr) > 0)
    A = A[used]
    m = used.size
    return make_problem(
        A,
        np.full(m, -np.inf),
        np.ones(m),
        np.asarray(prices),
        col_lower=np.zeros(p.n_bids),
        col_upper=np.ones(p.n_bids),
        integrality=np.ones(p.n_bids, dtype=bool),
        sense=Sense.MAXIMIZE,
        name=name,
        var_names=[f"x_{j}" for j in range(p.n_bids)],
        row_names=[f"c_{int(i)}" for i in used],
    )
