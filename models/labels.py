"""Labels: solution pool -> energy-weighted marginals of the binary variables (PaS targets).

The energy of pool solution k is ``E_k = sense * objective_k`` (lower is better whatever the
objective sense). Its weight is ``w_k = softmax(-E / T)_k``, computed stably (shifted by min E),
and the label of binary j is ``sum_k w_k x_kj``.

Temperature default: ``T = DEFAULT_TEMPERATURE_FRACTION * (max E - min E)`` (0.2 of the pool's
objective spread), so the worst solution of a pool weighs ``exp(-5)``, about 0.7 %, of the best
one whatever the objective scale: the better part of the pool dominates, every solution still
counts. A pool with no spread (one solution, or ties) gets T = 1 and equal weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mipguide.problem.model import Sense

DEFAULT_TEMPERATURE_FRACTION = 0.2


@dataclass(frozen=True)
class PoolLabels:
    """Targets for one instance.

    Attributes:
        labels: (num_binaries,) float32 in [0, 1], P(x_j = 1) under the pool weights.
        weights: (K,) float64, non-negative, sum to 1.
        temperature: the T that was used.
    """

    labels: np.ndarray
    weights: np.ndarray
    temperature: float


def default_temperature(
    energies: np.ndarray, fraction: float = DEFAULT_TEMPERATURE_FRACTION
) -> float:
    """``fraction`` (default 0.2) of the spread of the finite energies, or 1.0 when there is
    no spread."""
    finite = energies[np.isfinite(energies)]
    spread = float(finite.max() - finite.min()) if finite.size else 0.0
    t = fraction * spread
    return t if t > 0 and np.isfinite(t) else 1.0


def energy_weights(
    objectives: np.ndarray,
    sense: Sense,
    temperature: float | None = None,
    fraction: float = DEFAULT_TEMPERATURE_FRACTION,
) -> tuple[np.ndarray, float]:
    """Stable softmax of ``-sense * objective / T``.

    Args:
        objectives: (K,) objective values in the problem's own sense (K >= 1).
        sense: the objective sense.
        temperature: T > 0; None chooses ``default_temperature``.
        fraction: with ``temperature=None``, T as a fraction of the pool's objective spread
            (smaller: sharper labels, dominated by the best solutions).

    Returns:
        (weights summing to 1, T used). Non-finite objectives get weight 0 (all equal if none
        is finite).

    Raises:
        ValueError: empty pool or T <= 0.
    """
    obj = np.asarray(objectives, dtype=np.float64)
    if obj.size == 0:
        raise ValueError("empty solution pool")
    energies = float(sense) * obj
    if not (fraction > 0 and np.isfinite(fraction)):
        raise ValueError(f"temperature fraction must be positive and finite, got {fraction}")
    t = default_temperature(energies, fraction) if temperature is None else float(temperature)
    if not (t > 0 and np.isfinite(t)):
        raise ValueError(f"temperature must be positive and finite, got {temperature}")
    finite = np.isfinite(energies)
    if not finite.any():
        return np.full(obj.size, 1.0 / obj.size), t
    shifted = np.where(finite, energies - energies[finite].min(), np.inf)
    # exp(-inf) = 0; the best solution has exponent 0, so the sum is at least 1.
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.exp(-shifted / t)
    return z / z.sum(), t


def pool_labels(
    x_bin: np.ndarray,
    objectives: np.ndarray,
    sense: Sense,
    temperature: float | None = None,
    fraction: float = DEFAULT_TEMPERATURE_FRACTION,
) -> PoolLabels:
    """Energy-weighted marginals of a pool of binary assignments.

    Args:
        x_bin: (K, num_binaries) 0/1 values of the binaries in each pool solution.
        objectives: (K,) objectives in the problem's sense.
        sense: the objective sense.
        temperature, fraction: see ``energy_weights``.
    """
    x = np.asarray(x_bin, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != np.asarray(objectives).shape[0]:
        raise ValueError(f"x_bin has shape {x.shape}, expected (K, nb) with K objectives")
    w, t = energy_weights(objectives, sense, temperature, fraction)
    labels = np.clip(w @ x, 0.0, 1.0).astype(np.float32)
    return PoolLabels(labels=labels, weights=w, temperature=t)
