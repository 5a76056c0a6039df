"""Start-solution stage: the repaired rounding is feasible on packing and covering instances."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance.rounding import Structure, repaired_start, round_prediction, structure
from mipguide.instances.registry import Family, Size, generate
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
