"""Primal metrics of an incumbent trace against a reference value (benchmark protocol).

A trace is a sequence of (t, objective) in seconds since the method started (reading, features
and inference included). The primal gap follows Berthold (2013):

    gap(x) = 0                                 if |ref| = |obj| = 0
           = 1                                 if there is no solution, or ref * obj < 0
           = |ref - obj| / max(|ref|, |obj|)    otherwise

The gap over time is the step function of the best objective found so far (1 before the first
incumbent). The primal integral is its integral over [0, T] divided by T, so it lies in [0, 1]
whatever the budget (0: the reference from t = 0; 1: nothing found in time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Trace = Sequence[tuple[float, float]]


def primal_gap(objective: float | None, reference: float) -> float:
    """Berthold's primal gap of one objective value (1 when there is none)."""
    if objective is None or not math.isfinite(objective):
        return 1.0
    if objective == 0.0 and reference == 0.0:
        return 0.0
    if objective * reference < 0:
        return 1.0
    return min(1.0, abs(reference - objective) / max(abs(reference), abs(objective)))


def compare(a: float | None, b: float | None, sense: int) -> int:
    """Two final objectives (None: no solution): 0 when ``a`` is better than ``b``, 1 when
    they are equal (relative 1e-6), 2 when ``a`` is worse; ``sense`` 1 minimizes, -1
    maximizes."""
    if a is None:
        return 2 if b is not None else 1
    if b is None:
        return 0
    if abs(a - b) <= 1e-6 * max(1.0, abs(b)):
        return 1
    return 0 if sense * (a - b) < 0 else 2


def best_so_far(trace: Trace, sense: int, horizon: float) -> list[tuple[float, float]]:
    """The improving steps of the trace within [0, horizon], sorted by time.

    Args:
        sense: +1 minimize, -1 maximize.
    """
    steps: list[tuple[float, float]] = []
    for t, obj in sorted(trace):
        if t > horizon or not math.isfinite(obj):
            continue
        if not steps or sense * obj < sense * steps[-1][1]:
            steps.append((max(0.0, t), obj))
    return steps


def gap_steps(
    trace: Trace, reference: float, sense: int, horizon: float
) -> list[tuple[float, float]]:
    """(t, gap from t on) steps, starting with (0, 1) unless an incumbent exists at t = 0."""
    out = [(0.0, 1.0)]
    for t, obj in best_so_far(trace, sense, horizon):
        out.append((t, primal_gap(obj, reference)))
    return out


def gap_at(trace: Trace, reference: float, sense: int, t: float) -> float:
    """Primal gap of the best objective found by time t."""
    return gap_steps(trace, reference, sense, t)[-1][1]


def primal_integral(trace: Trace, reference: float, sense: int, horizon: float) -> float:
    """Integral of the primal gap over [0, horizon], divided by horizon (in [0, 1])."""
    if horizon <= 0:
        raise ValueError("horizon must be positive")
    steps = gap_steps(trace, reference, sense, horizon)
    total = 0.0
    for (t0, g), (t1, _) in zip(steps, [*steps[1:], (horizon, 0.0)], strict=True):
        total += g * (t1 - t0)
    return total / horizon


def integral_parts(
    trace: Trace, reference: float, sense: int, horizon: float, edges: Sequence[float]
) -> list[float]:
    """The primal integral split at ``edges`` (ascending, 0 first, ``horizon`` last): the part
    over each [edges[k], edges[k + 1]), divided by ``horizon`` as the whole is, so the parts add
    up to ``primal_integral``. Shows where a method loses its integral: waiting for the first
    incumbent, closing the last gap, or in between."""
    if horizon <= 0:
        raise ValueError("horizon must be positive")
    if len(edges) < 2 or edges[0] != 0 or edges[-1] != horizon or list(edges) != sorted(edges):
        raise ValueError("edges must ascend from 0 to the horizon")
    steps = gap_steps(trace, reference, sense, horizon)
    parts = [0.0] * (len(edges) - 1)
    for (t0, g), (t1, _) in zip(steps, [*steps[1:], (horizon, 0.0)], strict=True):
        for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            overlap = min(t1, b) - max(t0, a)
            if overlap > 0:
                parts[k] += g * overlap
    return [part / horizon for part in parts]


def time_to_first(trace: Trace, horizon: float) -> float | None:
    """Seconds to the first incumbent within the horizon (None: none)."""
    times = [t for t, obj in trace if t <= horizon and math.isfinite(obj)]
    return max(0.0, min(times)) if times else None


def time_to_within(
    trace: Trace, reference: float, sense: int, horizon: float, tol: float = 0.01
) -> float | None:
    """Seconds until the primal gap is at most ``tol`` (None: not within the horizon)."""
    for t, obj in best_so_far(trace, sense, horizon):
        if primal_gap(obj, reference) <= tol:
            return t
    return None


def mean_gap_curve(
    traces: Sequence[Trace],
    references: Sequence[float],
    senses: Sequence[int],
    horizon: float,
    points: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """(grid, mean primal gap at each grid time) over several instances."""
    grid = np.linspace(0.0, horizon, points)
    curves = []
    for trace, ref, sense in zip(traces, references, senses, strict=True):
        steps = gap_steps(trace, ref, sense, horizon)
        times = np.array([t for t, _ in steps])
        gaps = np.array([g for _, g in steps])
        curves.append(gaps[np.searchsorted(times, grid, side="right") - 1])
    return grid, np.mean(curves, axis=0) if curves else np.ones_like(grid)
