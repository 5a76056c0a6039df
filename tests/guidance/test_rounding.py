"""Start-solution stage: the repaired rounding is feasible on packing and covering instances."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance import rounding
from mipguide.guidance.rounding import Structure, repaired_start, round_prediction, structure
from mipguide.instances.registry import Family, Size, generate
from mipguide.problem.model import Problem, Sense, make_problem
from mipguide.problem.verify import verify


@pytest.mark.parametrize(
    ("family", "kind"),
    [
        (Family.SET_COVER, Structure.COVERING),
        (Family.COMBINATORIAL_AUCTION, Structure.PACKING),
        (Family.INDEPENDENT_SET, Structure.PACKING),
        (Family.FACILITY_LOCATION, Structure.OTHER),
    ],
)
def test_structure_of_the_families(family: Family, kind: Structure) -> None:
    assert structure(generate(family, Size.EASY, 0)) == kind


@pytest.mark.parametrize(
    "family", [Family.SET_COVER, Family.COMBINATORIAL_AUCTION, Family.INDEPENDENT_SET]
)
@pytest.mark.parametrize("level", [0.0, 0.3, 1.0])
def test_repair_makes_any_rounding_feasible(family: Family, level: float) -> None:
    p = generate(family, Size.EASY, 1)
    rng = np.random.default_rng(0)
    probs = np.clip(level + 0.2 * rng.standard_normal(p.num_binaries), 0, 1)
    bidx = np.flatnonzero(p.binary_mask)
    x = repaired_start(p, probs, bidx)
    assert not np.isnan(x).any()
    assert verify(p, x).feasible


def test_greedy_completion_adds_to_an_empty_packing() -> None:
    p = generate(Family.INDEPENDENT_SET, Size.EASY, 2)
    bidx = np.flatnonzero(p.binary_mask)
    x = repaired_start(p, np.zeros(bidx.size), bidx)
    assert verify(p, x).feasible and x.sum() > 0  # maximal, not the trivial zero


def test_other_structures_get_a_partial_start() -> None:
    p = generate(Family.FACILITY_LOCATION, Size.EASY, 0)
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.linspace(0, 1, bidx.size)
    x = repaired_start(p, probs, bidx)
    np.testing.assert_array_equal(x, round_prediction(p, probs, bidx))
    assert np.isnan(x).sum() == p.num_vars - bidx.size
    np.testing.assert_array_equal(x[bidx], probs > 0.5)


def _bundles(col_lower: list[float] | None = None) -> Problem:
    """Items 0 and 1; bids a = {0} and b = {1} worth 1 each, c = {0, 1} worth 3 (maximize)."""
    A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    return make_problem(
        A, [-np.inf] * 2, [1.0] * 2, [1.0, 1.0, 3.0], col_upper=[1.0] * 3,
        col_lower=col_lower, integrality=[True] * 3, sense=Sense.MAXIMIZE,
    )  # fmt: skip


def test_an_exchange_replaces_the_likely_ones_by_a_better_bundle() -> None:
    p = _bundles()
    x = repaired_start(p, np.array([0.9, 0.9, 0.1]), np.arange(3))
    np.testing.assert_array_equal(x, [0.0, 0.0, 1.0])  # the rounding alone gives a + b = 2


def test_an_exchange_never_drops_a_one_fixed_by_its_bound() -> None:
    p = _bundles(col_lower=[1.0, 0.0, 0.0])
    x = repaired_start(p, np.array([0.9, 0.9, 0.1]), np.arange(3))
    np.testing.assert_array_equal(x, [1.0, 1.0, 0.0])
    assert verify(p, x).feasible


@pytest.mark.parametrize(
    ("family", "seed"),
    [(Family.COMBINATORIAL_AUCTION, s) for s in (0, 1, 2)]
    + [(Family.INDEPENDENT_SET, s) for s in (3, 4)],
)
def test_exchanges_improve_set_packing_starts_and_stay_feasible(
    family: Family, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = generate(family, Size.EASY, seed)
    bidx = np.flatnonzero(p.binary_mask)
    probs = np.random.default_rng(seed).uniform(0, 1, bidx.size)
    x = repaired_start(p, probs, bidx)
    monkeypatch.setattr(rounding, "EXCHANGE_ROUNDS", 0)
    greedy = repaired_start(p, probs, bidx)
    assert verify(p, x).feasible and verify(p, greedy).feasible
    assert p.objective_value(x) > p.objective_value(greedy)  # both maximize


def test_two_leaves_replace_the_centre_of_a_star() -> None:
    """Edges v-a and v-b as rows, unit weights: the likely centre alone is worth 1, a + b 2."""
    A = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    p = make_problem(
        A, [-np.inf] * 2, [1.0] * 2, [1.0] * 3, col_upper=[1.0] * 3,
        integrality=[True] * 3, sense=Sense.MAXIMIZE,
    )  # fmt: skip
    x = repaired_start(p, np.array([0.9, 0.1, 0.1]), np.arange(3))
    np.testing.assert_array_equal(x, [0.0, 1.0, 1.0])
