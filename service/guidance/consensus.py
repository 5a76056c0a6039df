"""Consensus region (SRG, DESIGN step 5): K candidates -> S, x^ and an adaptive Delta.

agreement_j = max(mean_k x_kj, 1 - mean_k x_kj) is the share of candidates that take the
majority value of binary j. S = the binaries whose agreement reaches a threshold, in the order
of agreement (the most agreeing first, at most ``max_share`` of the binaries; ties broken by the
confidence of the mean soft estimate); x^ = a reference solution on S (the best feasible
candidate) or the majority; Delta = max(delta_min, ceil(delta_factor * median_k Hamming(x_k on
S, x^))): the region is as wide as the candidates are spread on S.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mipguide.guidance.trust_region import Region


@dataclass(frozen=True, eq=False)
class Consensus:
    """Attributes:
    region: S (variable indices), x^ and Delta.
    agreement: (nb,) agreement per binary.
    spread: median Hamming distance of the candidates to x^ on S.
    """

    region: Region
    agreement: np.ndarray
    spread: float


def agreement(x: np.ndarray) -> np.ndarray:
    """(nb,) share of the candidates (K, nb) that take the majority value of each binary."""
    mean = np.asarray(x, dtype=np.float64).mean(axis=0)
    return np.maximum(mean, 1.0 - mean)


def consensus_region(
    x: np.ndarray,
    binary_index: np.ndarray,
    threshold: float,
    *,
    max_share: float = 1.0,
    delta_factor: float = 1.0,
    delta_min: int = 0,
    reference: np.ndarray | None = None,
    probs: np.ndarray | None = None,
) -> Consensus:
    """The consensus trust region of K candidates.

    Args:
        x: (K, nb) 0/1 candidates (K >= 1) in the order of ``binary_index``.
        binary_index: (nb,) variable indices of the binaries.
        threshold: smallest agreement in S, in [0.5, 1].
        max_share: largest |S| / nb.
        delta_factor, delta_min: Delta = max(delta_min, ceil(delta_factor * spread)).
        reference: (nb,) values of a reference solution on the binaries (x^ = reference on S);
            None: the majority.
        probs: (K, nb) soft estimates; their mean's distance to 1/2 breaks agreement ties.

    Returns:
        The region (empty S when nothing agrees enough) with the agreement and spread.
    """
    xb = np.asarray(x, dtype=np.float64) > 0.5
    bidx = np.asarray(binary_index, dtype=np.int64)
    if xb.ndim != 2 or xb.shape[1] != bidx.size or xb.shape[0] == 0:
        raise ValueError(f"x has shape {xb.shape}, expected (K >= 1, {bidx.size})")
    agree = agreement(xb)
    confidence = np.zeros(bidx.size) if probs is None else np.abs(np.mean(probs, axis=0) - 0.5)
    order = np.lexsort((-confidence, -agree))  # most agreeing first, then most confident
    eligible = order[agree[order] >= threshold - 1e-12]
    cap = math.floor(max_share * bidx.size + 1e-9)
    pick = eligible[:cap]  # most agreeing first
    majority = xb.mean(axis=0) > 0.5
    ref = majority if reference is None else np.asarray(reference) > 0.5
    x_hat = ref[pick]
    distances = (xb[:, pick] != x_hat).sum(axis=1)
    spread = float(np.median(distances)) if pick.size else 0.0
    delta = max(int(delta_min), math.ceil(delta_factor * spread - 1e-9))
    region = Region(bidx[pick], x_hat.astype(np.float64), delta if pick.size else 0)
    return Consensus(region=region, agreement=agree, spread=spread)
