"""Incumbent trace of a staged solve: strictly improving incumbents on one clock, with sources.

A staged solve (predict, subproblem, completion) calls several backends; each backend's tracker
has its own clock and knows nothing of the earlier stages. ``Trace`` stamps every offer with the
time since the staged solve started (features and inference included) and keeps only strict
improvements over the whole solve, so the result's trace reads like one solver's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mipguide.solvers.types import Incumbent, IncumbentCallback, IncumbentSource


class Trace:
    """Improving incumbents of one staged solve, timed from construction."""

    def __init__(
        self,
        minimize: bool,
        callback: IncumbentCallback | None = None,
        t0: float | None = None,
    ) -> None:
        """``t0``: the ``time.perf_counter()`` the trace counts from (default: now)."""
        self.minimize = minimize
        self.callback = callback
        self.t0 = time.perf_counter() if t0 is None else t0
        self.items: list[Incumbent] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def improves(self, objective: float) -> bool:
        if not self.items:
            return True
        best = self.items[-1].objective
        tol = 1e-9 * max(1.0, abs(best))
        return objective < best - tol if self.minimize else objective > best + tol

    def offer(
        self, objective: float, bound: float | None, source: IncumbentSource
    ) -> Incumbent | None:
        """Record (and forward) the incumbent if it strictly improves; return it or None."""
        if not self.improves(objective):
            return None
        inc = Incumbent(self.elapsed(), float(objective), bound, source)
        self.items.append(inc)
        if self.callback is not None:
            self.callback(inc)
        return inc

    def relay(
        self, *, keep_bound: bool, source: IncumbentSource | None = None
    ) -> Callable[[Incumbent], None]:
        """A backend callback feeding this trace (bounds dropped where they are not valid for
        the original problem, e.g. inside a trust region; ``source``, when given, replaces the
        backend's). A stage's start solution is one the trace already holds, so it is dropped
        as no improvement."""

        def on_incumbent(inc: Incumbent) -> None:
            bound = inc.bound if keep_bound else None
            self.offer(inc.objective, bound, inc.source if source is None else source)

        return on_incumbent
