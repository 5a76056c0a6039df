"""How fast this machine runs right now: one number saved with every benchmark run.

A run's primal integral depends on wall-clock time, so runs made on a slower machine, or on a
loaded one, are not comparable with runs made elsewhere: the same HiGHS path reaches the same
incumbents later. ``calibrate`` times a fixed single-thread workload (a sort and an interpreter
loop, fixed sizes and seed) and takes the fastest of a few repeats (other work on the machine
only ever slows a repeat down, so the fastest is the least disturbed); ``bench guided`` saves
it with each run and ``mipguide tune`` in the card's ``tuning``, and ``bench summarize`` says
when the runs it reads differ by more than ``SPREAD`` (they were made on machines or under
loads of different speed).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

# runs whose calibrations differ by more than this factor are flagged as not comparable
SPREAD = 1.25
_SIZE = 1_000_000
_LOOP = 1_000_000


def _workload(values: np.ndarray) -> int:
    np.sort(values, kind="quicksort")
    total = 0
    for k in range(_LOOP):
        total += k * k % 7
    return total


def calibrate(repeats: int = 5) -> float:
    """Seconds of the fixed workload: the fastest of ``repeats`` timings (the median moved
    0.060-0.084 s between calls on an otherwise idle shared machine)."""
    values = np.random.default_rng(0).random(_SIZE)
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        _workload(values)  # np.sort returns a sorted copy: the input stays as drawn
        times.append(time.perf_counter() - start)
    return min(times)


def spread(calibrations: Iterable[float]) -> float:
    """The largest over the smallest calibration (1.0 for fewer than two)."""
    values = [c for c in calibrations if c > 0]
    if len(values) < 2:
        return 1.0
    return max(values) / min(values)
