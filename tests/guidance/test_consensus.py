"""Consensus region on a hand-computed example: agreement -> S, x^, Delta from the spread."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.guidance.consensus import agreement, consensus_region

#   binary:      0  1  2  3  4
CANDIDATES = np.array(
    [
        [1, 0, 0, 1, 1],
        [1, 0, 0, 0, 1],
        [1, 0, 1, 1, 0],
        [1, 0, 0, 1, 0],
    ]
)
INDEX = np.array([10, 11, 12, 13, 14])  # variable indices of the binaries


def test_agreement_by_hand() -> None:
    # means 1, 0, 1/4, 3/4, 1/2
    np.testing.assert_allclose(agreement(CANDIDATES), [1, 1, 0.75, 0.75, 0.5])


def test_region_by_hand() -> None:
    c = consensus_region(CANDIDATES, INDEX, 0.75, delta_factor=2.0)
    # S = binaries 0..3 (agreement >= 0.75); x^ = majority (1, 0, 0, 1)
    assert c.region.index.tolist() == [10, 11, 12, 13]
    assert c.region.x_hat.tolist() == [1, 0, 0, 1]
    # Hamming distances on S to x^: 0, 1, 1, 0 -> median 0.5; Delta = ceil(2 * 0.5) = 1
    assert c.spread == 0.5 and c.region.delta == 1


def test_full_agreement_gives_the_floor() -> None:
    c = consensus_region(CANDIDATES, INDEX, 1.0, delta_factor=3.0, delta_min=2)
    assert c.region.index.tolist() == [10, 11] and c.spread == 0.0 and c.region.delta == 2


def test_reference_sets_x_hat_and_the_spread() -> None:
    ref = np.array([1, 0, 1, 1, 0])  # candidate 2, e.g. the best feasible one
    c = consensus_region(CANDIDATES, INDEX, 0.75, reference=ref)
    assert c.region.x_hat.tolist() == [1, 0, 1, 1]
    # distances to (1, 0, 1, 1): 1, 2, 0, 1 -> median 1
    assert c.spread == 1.0 and c.region.delta == 1


def test_cap_keeps_the_most_agreeing_then_most_confident() -> None:
    probs = np.tile([0.99, 0.2, 0.3, 0.9, 0.5], (4, 1))  # binary 0 more confident than 1
    c = consensus_region(CANDIDATES, INDEX, 0.75, max_share=0.2, probs=probs)
    assert c.region.index.tolist() == [10]
    c = consensus_region(CANDIDATES, INDEX, 0.75, max_share=0.6, probs=probs)
    assert c.region.index.tolist() == [10, 11, 13]  # then the 0.75s: 13 (|0.9-.5|) before 12


def test_one_candidate_is_its_own_region() -> None:
    c = consensus_region(CANDIDATES[:1], INDEX, 0.95, max_share=1.0, delta_min=1)
    assert c.region.size == 5 and c.region.x_hat.tolist() == [1, 0, 0, 1, 1]
    assert c.region.delta == 1


def test_bad_shapes() -> None:
    with pytest.raises(ValueError):
        consensus_region(np.zeros((0, 5)), INDEX, 0.9)
    with pytest.raises(ValueError):
        consensus_region(CANDIDATES, INDEX[:3], 0.9)
