"""DMMV and the exact min-max MILP side by side in one wall budget:
(instance, config, MILP backend) -> the better of the two answers, checked in float64.

- DMMV searches on this thread for the whole budget, exactly as it does alone (until it follows
  the MILP, below).
- The MILP ``min t  s.t.  l - t <= A x <= u + t,  x_j in D_j`` (``build_minmax_milp``) runs on a
  second thread for the same budget, exactly as the MILP baseline does alone: started from the
  round-to-nearest point, with that point's max violation as t's upper bound. SCIP runs with the
  GIL released and HiGHS in its own process, so the two really run at once: the hybrid uses one
  thread more than DMMV alone. ``solver="both"``: SCIP and HiGHS each on a thread of its own
  (two threads more than DMMV alone), the answer the best of all.
- The polish: a DMMV search from the MILP's best point. Local moves from a MILP incumbent often
  lower its max violation a good deal (a point that meets most rows exactly, which the min-max
  MILP's search does not polish), sometimes to zero where neither side alone reaches it.
  ``polish_on="stalled"`` (the default): the MILP keeps the whole budget (its side is the MILP
  alone), and DMMV's thread turns to the MILP's best point once its own best has not moved for
  the polish's share of the budget (from ``1 - polish`` of it on), so a DMMV search that still
  improves keeps its time. ``polish_on="milp"``: the MILP gets the first ``1 - polish`` of the
  budget, then the polish runs on its thread for the rest (while DMMV goes on). ``polish = 0``:
  no polish, the MILP has the whole budget.
- Following: each MILP incumbent's values come back as it is found (``SolveOptions.on_solution``);
  when one is better than the best DMMV's thread has reached, DMMV stops its search between two
  passes and starts again from that point for the rest of the budget (``follow``). A MILP point
  that meets most rows exactly is where DMMV's moves pay most; DMMV's own answer up to then is
  kept.
- The switch: at ``switch`` of the budget, when a MILP incumbent has beaten the best DMMV's
  thread had reached by then (following or not), DMMV alone is not where the budget pays, and
  the two backends differ most on such small instances: DMMV's thread runs the other backend's
  MILP (SCIP beside HiGHS) from round-to-nearest until the polish's turn, then polishes the
  MILPs' best point as before.
- DMMV stops early when the MILP has proved its answer optimal, the MILP (and the polish) when
  DMMV reaches zero. The answer is the best point (max violation, then sum of squares) of DMMV,
  the MILP and the searches from its points (the restarts and the polish), each decoded to levels
  and evaluated from scratch in float64. A MILP that proves optimality also gives a proven lower
  bound on the max violation.

Measured and not kept: handing DMMV's point to the MILP as its start after a head start of 10 %
of the budget (the issue's first design) lost to the MILP alone on 3 of 4 small sparse-angle
tomography instances at 10 s (the MILP's search from a different start is a different search,
and on those instances a high-variance one); the side-by-side hybrid keeps each side's own
trajectory, which is what makes "never worse than either" hold.

Measured on validation seed 100 (24 instances, 10 s, this 2-core machine; ``mipguide bench dmmv
--seeds 100 --tune solver=highs,both``) and not made the default:
- ``both`` (mean ratio to the best setting 2.4e4 against HiGHS's 1.045): three busy threads on
  two cores slow each MILP, and with both HiGHS missed the zero it reaches alone on 32x32
  binary tomography with 12 angles (0.568). Where SCIP wins it does help (24x24 4-level, 4
  angles, the best MILP: SCIP). It is an option for machines with a core per thread.
- The polish on DMMV's thread at 80 % whatever DMMV is doing (the MILP keeping the whole
  budget): 1.080 against 1.045. DMMV's own search loses its last fifth: 64x64 binary tomography
  with 12 angles 1.345 against 0.935. Turning only once DMMV has stalled (``stalled``) keeps it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from mipguide.errors import MipguideError
from mipguide.heuristics.dmmv.evaluate import (
    Violation,
    continuous_start,
    evaluate,
    start_indices,
    values_of,
)
from mipguide.heuristics.dmmv.milp import MinMaxMilp, build_minmax_milp, is_uniform
from mipguide.heuristics.dmmv.search import ProgressCallback
from mipguide.heuristics.dmmv.solve import solve
from mipguide.heuristics.dmmv.types import (
    DmmvBatch,
    DmmvConfig,
    DmmvInstance,
    DmmvResult,
    nonzeros,
)
from mipguide.pipeline.result import SolveResult
from mipguide.pipeline.solve import solve_problem
from mipguide.solvers.types import (
    Incumbent,
    Interrupt,
    InterruptWhen,
    SolveOptions,
    Status,
    is_stopped,
)

HYBRID_SOLVERS = ("scip", "highs", "both")
# chosen first by ``mipguide bench dmmv --seeds 100 --only dmmv,scip,highs`` (validation seeds):
# the lower mean of min(DMMV, MILP) over the best of the three, HiGHS 1.029 against SCIP 1.148;
# kept by the grid below, which runs the hybrid itself
DEFAULT_SOLVER = "highs"
# the share of the budget the polish gets, chosen on validation seed 100 (24 instances, 10 s) by
# ``mipguide bench dmmv --seeds 100 --tune polish=0,0.1,0.2`` and ``polish=0.2,0.3,0.4``: mean
# ratio to the best value 1.173 (0), 1.032 (0.1), 1.005 (0.2); 1.012 (0.2), 1.056 (0.3), 1.071
# (0.4); kept by the grid below
DEFAULT_POLISH = 0.2
# DMMV restarts from each MILP incumbent that beats its best so far; chosen with the backend and
# the polish by the grid ``mipguide bench dmmv --seeds 100 --tune solver=scip,highs --tune
# follow=0,1 --tune polish=0,0.2`` (24 instances, 10 s): mean ratio to the best setting HiGHS
# 1.023 (follow, polish 0.2), 1.035 (polish 0.2), 1.157 (follow), 1.212 (neither); SCIP 1.216
# at best
DEFAULT_FOLLOW = True
# where the polish runs: ``milp`` (the MILP stops at ``1 - polish`` of the budget and the polish
# takes its thread) or ``stalled`` (the MILP keeps the whole budget, exactly as alone; from
# ``1 - polish`` of the budget on, DMMV's thread turns to the MILP's best point once its own best
# is older than ``polish`` of the budget, so a DMMV search that still improves keeps its time).
# ``stalled`` chosen by the grid ``mipguide bench dmmv --seeds 100 --tune solver=highs --tune
# follow=1 --tune polish=0.2 --tune polish_on=milp,stalled`` with a third value then in the code,
# ``either`` (decided at 80 %: DMMV's thread when stalled, else the MILP's, cut short; removed)
# (24 instances, 10 s): mean ratio to the best setting 1.029; ``milp`` and ``either`` missed the
# zero HiGHS reaches with its whole budget on 32x32 binary tomography with 12 angles (1.078 and
# 1.072 without that instance). An earlier grid (polish 0.2 and 0.3 x milp, stalled) also chose
# stalled at 0.2
POLISH_ON = ("milp", "stalled")
DEFAULT_POLISH_ON = "stalled"
# the switch: at ``switch`` of the budget, when the MILP has led DMMV's thread (a MILP incumbent
# better than the best that thread had reached then), DMMV's thread runs the other backend's
# MILP (SCIP beside HiGHS, HiGHS beside SCIP) until the polish's turn; 0: never. See
# ``solve_hybrid``. Chosen by the grid ``mipguide bench dmmv --seeds 100 --tune
# switch=0,0.03,0.1`` (24 instances, 10 s): mean ratio to the best setting 1.051 (never), 1.034
# (0.03), 1.022 (0.1); mean max violation 0.2854, 0.2877, 0.2807
DEFAULT_SWITCH = 0.1


@dataclass(frozen=True)
class HybridInfo:
    """What the MILP side did.

    Attributes:
        solver: the MILP backend.
        status: its status (``optimal``: the answer's max violation is proven minimal, within
            the backend's tolerances), or ``error``.
        dmmv_max_violation: DMMV's own answer.
        milp_max_violation: the MILP's answer evaluated in float64 (None: none returned).
        bound: the MILP's proven lower bound on the max violation (None: unknown).
        source: ``dmmv``, ``milp`` or ``polish`` (DMMV from the MILP's point): whose point is
            the answer.
        dmmv_seconds, milp_seconds: wall time of each side.
        error: why the MILP failed, when it did (the answer is then DMMV's).
        polish_max_violation: the best answer of DMMV from a MILP point, the restarts' and
            the polish's (None: none ran).
        restarts: how many times DMMV restarted from a MILP point (the polish on DMMV's
            thread, ``polish_on="stalled"``, included).
        switched: the seconds at which DMMV's thread turned to the other backend's MILP
            (``switch``), None when it did not.
    """

    solver: str
    status: str
    dmmv_max_violation: float
    milp_max_violation: float | None
    bound: float | None
    source: str
    dmmv_seconds: float
    milp_seconds: float
    error: str | None = None
    polish_max_violation: float | None = None
    restarts: int = 0
    switched: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def milp_size(instance: DmmvInstance) -> int:
    """Nonzeros of the instance's min-max MILP (its size, before it is built)."""
    levels = np.asarray(instance.levels, dtype=np.float64)
    lv = levels if levels.ndim == 2 else np.broadcast_to(levels, (instance.A.shape[1], len(levels)))
    width = 1 if is_uniform(lv) else lv.shape[1]
    return nonzeros(instance.A) * width * 2 + instance.A.shape[0] * 2


def wants_hybrid(asked: bool | None, instance: DmmvInstance, max_nonzeros: int) -> bool:
    """The caller's choice, else on when the instance's MILP has at most ``max_nonzeros``."""
    return asked if asked is not None else milp_size(instance) <= max_nonzeros


def solve_minmax_milp(
    batch: DmmvBatch,
    solver: str,
    seconds: float,
    *,
    threads: int = 1,
    seed: int = 0,
    interrupt: Interrupt | None = None,
    on_incumbent: Callable[[Incumbent], None] | None = None,
    on_point: Callable[[MinMaxMilp, np.ndarray], None] | None = None,
) -> tuple[MinMaxMilp, SolveResult]:
    """The min-max MILP of instance 0, from its round-to-nearest point with that point's max
    violation as the upper bound of t (the MILP baseline and the hybrid's MILP side), with the
    backend's random ``seed``.

    ``on_point``: called with the MILP and the values of each improving incumbent, on the
    backend's thread (``SolveOptions.on_solution``).

    Raises:
        the errors of ``solve_problem`` (the backend is missing, fails, ...).
    """
    idx0 = start_indices(batch)[0]
    x0 = values_of(batch.levels_of(0), idx0)
    v0 = evaluate(batch.A, x0, batch.lower[0], batch.upper[0]).max_violation
    t_up = v0 * 1.000001 + 1e-12  # a hair above: the start stays feasible under float rounding
    milp = build_minmax_milp(batch, t_upper=t_up)
    options = SolveOptions(
        time_limit=seconds,
        threads=threads,
        seed=seed,
        start=milp.encode(idx0, t_up),
        on_solution=None if on_point is None else (lambda values: on_point(milp, values)),
    )
    res = solve_problem(
        milp.problem, solver, options, on_incumbent=on_incumbent, interrupt=interrupt
    )
    return milp, res


def solve_hybrid(
    instance: DmmvInstance,
    config: DmmvConfig,
    *,
    solver: str = DEFAULT_SOLVER,
    interrupt: Interrupt | None = None,
    on_improve: ProgressCallback | None = None,
    on_milp_improve: ProgressCallback | None = None,
    polish: float = DEFAULT_POLISH,
    follow: bool = DEFAULT_FOLLOW,
    polish_on: str = DEFAULT_POLISH_ON,
    switch: float = DEFAULT_SWITCH,
) -> tuple[DmmvResult, HybridInfo]:
    """Run both within ``config.time_limit`` seconds (see the module docstring).

    Args:
        solver: ``scip``, ``highs`` or ``both`` (each on its own thread beside DMMV's).
        polish: the share of the budget (0 to 0.9) of the polish: with ``milp``, the last
            share, in which DMMV polishes each MILP's last point on that MILP's thread; with
            ``stalled``, from ``1 - polish`` of the budget on, DMMV's thread turns to the MILPs'
            best point once its own best is that share of the budget old.
        follow: DMMV restarts from each MILP incumbent better than its own best so far.
        polish_on: ``milp`` (the polish on the MILP's thread, which stops at ``1 - polish`` of
            the budget) or ``stalled`` (the MILP keeps the whole budget; DMMV's thread polishes
            the MILP's best point when its own search has stalled); see ``POLISH_ON``.
        switch: a share of the budget (0 to 0.9; 0: never): at that time, when a MILP
            incumbent has been better than the best DMMV's thread had reached at the time
            (following or not), that thread runs the
            other backend's MILP (from round-to-nearest, as the first) until the polish's turn
            (the end of the budget without one), and then goes on as before from the MILPs'
            points. With ``solver="both"`` both backends already run: no switch.
        on_improve: (seconds, max violation) as DMMV improves;
        on_milp_improve: (seconds, t) at each MILP incumbent (default: ``on_improve``). Both
            are called one at a time, from any thread.

    Raises:
        ValueError: unknown solver, polish or polish_on. torch errors propagate.
    """
    if polish_on not in POLISH_ON:
        raise ValueError(f"polish_on must be one of {', '.join(POLISH_ON)}, not {polish_on}")
    if solver not in HYBRID_SOLVERS:
        raise ValueError(f"hybrid solver must be one of {', '.join(HYBRID_SOLVERS)}, not {solver}")
    if not 0.0 <= polish <= 0.9:
        raise ValueError(f"polish must be within 0 and 0.9, not {polish}")
    if not 0.0 <= switch <= 0.9:
        raise ValueError(f"switch must be within 0 and 0.9, not {switch}")
    t0 = time.perf_counter()
    lock = threading.Lock()
    milp_cb = on_milp_improve or on_improve

    def report(seconds: float, value: float) -> None:
        if on_improve is not None:
            with lock:
                on_improve(seconds, value)

    def milp_report(seconds: float, value: float) -> None:
        if milp_cb is not None:
            with lock:
                milp_cb(seconds, value)

    def stopped() -> bool:
        return is_stopped(interrupt)

    if instance.x0 is None:  # every side rounds the relaxed start: compute it once
        instance = replace(instance, x0=continuous_start(instance.as_batch())[0])
    milp_stop = InterruptWhen(stopped)  # the caller's interrupt reaches the MILPs at once
    turn = None
    if polish_on == "stalled" and polish > 0:
        turn = _Turn(t0 + config.time_limit * (1 - polish), config.time_limit * polish)
    follower = _Follower(follow, turn)
    stages = [  # with the polish on DMMV's thread, the MILP has the whole budget
        _MilpStage(
            instance, name, config, milp_stop, milp_report, 0.0 if turn else polish, follower, t0
        )
        for name in (("scip", "highs") if solver == "both" else (solver,))
    ]
    other = {"scip": "highs", "highs": "scip"}.get(solver)
    if switch > 0 and other is not None:

        def run_other() -> None:
            """The other backend's MILP on this (DMMV's) thread, until the polish's turn."""
            until = turn.at if turn else t0 + config.time_limit
            left = until - time.perf_counter()
            if left <= 0.01:
                return
            stage = _MilpStage(
                instance,
                other,
                replace(config, time_limit=left),
                InterruptWhen(done),
                milp_report,
                0.0,
                follower,
                t0,
            )
            stages.append(stage)
            stage.run()

        follower.switch_at, follower.run_other = t0 + config.time_limit * switch, run_other
    threads = []
    for stage in stages:
        stage.report_polish = report
        thread = threading.Thread(target=stage.run, name=f"hybrid-{stage.solver}", daemon=True)
        thread.start()
        threads.append(thread)

    def done() -> bool:
        return stopped() or any(s.proved or s.polished_zero for s in stages)

    own, followed = follower.search(instance, config, t0, done, report)
    own = replace(own, interrupted=stopped())
    best_here = own if followed is None or _key(own) <= _key(followed) else followed
    if best_here.max_violation <= 0.0 or done():
        milp_stop.set()  # zero, an interrupt or a proof: the other MILP need not go on
    for thread in threads:
        thread.join()
    best, info = _outcome(stages, own, followed, solver)
    switched = None if follower.switched is None else round(follower.switched - t0, 3)
    info = replace(info, dmmv_seconds=own.seconds, switched=switched)
    return replace(best, seconds=time.perf_counter() - t0), info


def _key(res: DmmvResult) -> tuple[float, float]:
    return (res.max_violation, res.sum_squares)


@dataclass(frozen=True)
class _Turn:
    """When DMMV's thread turns to the MILP's best point (``polish_on="stalled"``): from ``at``
    (a ``perf_counter`` time) on, once its best is ``window`` seconds old."""

    at: float
    window: float


class _Follower:
    """The DMMV thread: its own search, restarted from each MILP incumbent that beats its best
    so far (when following), and from the MILP's best point when its search has stalled (with
    a ``turn``). The MILP's thread offers points; this thread takes them between passes."""

    def __init__(self, follow: bool, turn: _Turn | None = None) -> None:
        self.follow = follow
        self.turn = turn
        self.lock = threading.Lock()
        self.best = float("inf")  # the lowest max violation this thread has reached
        self.improved = time.perf_counter()  # when it was reached
        self.pending: tuple[np.ndarray, float] | None = None
        self.latest: tuple[np.ndarray, float] | None = None  # the MILP's best point so far
        self.turned = False
        self.restarts = 0
        # the switch (set by ``solve_hybrid``): at ``switch_at`` (a ``perf_counter`` time), when
        # a MILP point has beaten this thread's best by then, ``run_other`` runs here, once
        self.switch_at: float | None = None
        self.run_other: Callable[[], None] | None = None
        self.switch_decided = False
        self.led = False  # a MILP point has beaten this thread's best at some time
        self.switched: float | None = None  # when it ran

    @property
    def wants_points(self) -> bool:
        """Whether the MILP's incumbents are to be offered at all."""
        return self.follow or self.turn is not None or self.switch_at is not None

    def offer(self, x: np.ndarray, value: float) -> None:
        """A MILP incumbent (values on the levels, its max violation in float64)."""
        with self.lock:
            if self.latest is None or value < self.latest[1]:
                self.latest = (x, value)
            if value < self.best * (1 - 1e-9) and self.best < float("inf"):
                self.led = True  # (before DMMV's first value, nothing to beat)
            if not self.follow:
                return
            if value < self.best * (1 - 1e-9) and (self.pending is None or value < self.pending[1]):
                self.pending = (x, value)

    def _seen(self, value: float) -> None:
        with self.lock:
            if value < self.best:
                self.best, self.improved = value, time.perf_counter()

    def _turning(self) -> bool:
        """Whether to turn to the MILP's best point now (once; a turn is set, its time has
        come, this thread's best is old enough and the MILP has a point)."""
        turn = self.turn
        if turn is None or self.turned or self.latest is None:
            return False
        now = time.perf_counter()
        return now >= turn.at and now - self.improved >= turn.window

    def _switching(self) -> bool:
        """Whether to run the other backend now: decided once, at the switch's time, by
        whether a MILP point has beaten this thread's best by then (with following, the
        points it restarted from)."""
        if self.switch_at is None or self.switched is not None:
            return False
        if not self.switch_decided:
            if time.perf_counter() < self.switch_at:
                return False
            self.switch_decided = True
            if not self.led:
                self.switch_at = None
        return self.switch_at is not None

    def _idle(self, done: Callable[[], bool], end: float) -> None:
        """A search that ended before its time (an iteration limit) and a turn still to come:
        wait for it (or a point to follow, or the end)."""
        while (
            self.turn is not None
            and not self.turned
            and self.pending is None
            and not self._turning()
            and not self._switching()
            and not done()
            and time.perf_counter() < end - 0.01
        ):
            time.sleep(0.01)

    def search(
        self,
        instance: DmmvInstance,
        config: DmmvConfig,
        t0: float,
        done: Callable[[], bool],
        report: ProgressCallback,
    ) -> tuple[DmmvResult, DmmvResult | None]:
        """DMMV's own search, then the searches from MILP points until the budget is spent:
        (its own answer, the best from a MILP point or None)."""

        def improve(seconds: float, value: float) -> None:
            self._seen(value)
            report(time.perf_counter() - t0, value)

        def stop() -> bool:
            return done() or self.pending is not None or self._turning() or self._switching()

        own = solve(instance, config, stop=stop, on_improve=improve)
        self._seen(own.max_violation)
        followed: DmmvResult | None = None
        while True:
            self._idle(done, t0 + config.time_limit)
            if self._switching() and not done() and self.run_other is not None:
                self.switched = time.perf_counter()
                self.run_other()
                continue
            with self.lock:
                point, self.pending = self.pending, None
            if point is None and self._turning():
                point, self.turned = self.latest, True
            left = config.time_limit - (time.perf_counter() - t0)
            if point is None or done() or left <= 0.01:
                break
            self.restarts += 1
            cfg = replace(config, time_limit=left, seed=config.seed + 100 + self.restarts)
            res = solve(replace(instance, x0=point[0]), cfg, stop=stop, on_improve=improve)
            self._seen(res.max_violation)
            if followed is None or _key(res) < _key(followed):
                followed = res
        return own, followed


class _MilpStage:
    """The second thread: the MILP (its answer or error, whether it proved optimality), then
    the polish of its point."""

    def __init__(
        self,
        instance: DmmvInstance,
        solver: str,
        config: DmmvConfig,
        interrupt: Interrupt,
        report: ProgressCallback,
        polish: float,
        follower: _Follower,
        t0: float,
    ) -> None:
        self.instance, self.solver, self.config = instance, solver, config
        self.seconds = config.time_limit * (1.0 - polish)
        self.polish = polish
        self.interrupt, self.report = interrupt, report
        self.follower = follower
        self.report_polish: ProgressCallback | None = None
        self.t0 = t0  # the hybrid's start: progress is reported from it
        self.started = time.perf_counter()
        self.proved = False
        self.result: SolveResult | None = None
        self.milp: MinMaxMilp | None = None
        self.error: str | None = None
        self.wall = 0.0
        self.polished: DmmvResult | None = None
        self.polished_zero = False

    def run(self) -> None:
        try:
            self.milp, self.result = solve_minmax_milp(
                self.instance.as_batch(),
                self.solver,
                self.seconds,
                seed=self.config.seed,  # the search's seed: one seed for the whole hybrid
                interrupt=self.interrupt,
                on_incumbent=self._incumbent,
                on_point=self._point if self.follower.wants_points else None,
            )
            self.proved = self.result.status == Status.OPTIMAL
        except MipguideError as exc:
            self.error = str(exc)
        finally:
            self.wall = time.perf_counter() - self.started
        self._polish()

    def _point(self, milp: MinMaxMilp, values: np.ndarray) -> None:
        """A MILP incumbent, offered to the DMMV thread."""
        x = values_of(milp.levels, milp.decode(values))
        self.follower.offer(x, self._evaluate(x).max_violation)

    def _evaluate(self, x: np.ndarray) -> Violation:
        """The instance's violations at x, in float64 (on either thread: no batch is built)."""
        inst = self.instance
        lower = np.asarray(inst.lower, dtype=np.float64)
        return evaluate(inst.A, x, lower, np.asarray(inst.upper, dtype=np.float64))

    def _polish(self) -> None:
        """DMMV from the MILP's point for what is left of the budget."""
        res, milp = self.result, self.milp
        left = self.config.time_limit - (time.perf_counter() - self.t0)
        if self.polish <= 0 or res is None or milp is None or not res.values or self.proved:
            return
        if left <= 0 or self.interrupt.is_set():
            return
        x = values_of(milp.levels, milp.decode_values(res.values))
        config = replace(self.config, time_limit=left, seed=self.config.seed + 1)
        self.polished = solve(
            replace(self.instance, x0=x),
            config,
            stop=self.interrupt.is_set,
            on_improve=self.report_polish,
        )
        self.polished_zero = self.polished.max_violation <= 0.0

    def _incumbent(self, inc: Incumbent) -> None:
        self.report(time.perf_counter() - self.t0, inc.objective)

    def point(self) -> tuple[np.ndarray, np.ndarray, Violation] | None:
        """The MILP's answer: (levels' indices, values, violations), or None."""
        res, milp = self.result, self.milp
        if res is None or milp is None or not res.values:
            return None
        index = milp.decode_values(res.values)
        x = values_of(milp.levels, index)
        return index, x, self._evaluate(x)


def _outcome(
    stages: list[_MilpStage], dmmv: DmmvResult, followed: DmmvResult | None, solver: str
) -> tuple[DmmvResult, HybridInfo]:
    """The best of DMMV's own answer, the MILPs', and DMMV's from the MILPs' points (the
    restarts and the polish), and what the MILPs did (the best status and bound of them)."""
    errors = [f"{s.solver}: {s.error}" for s in stages if s.error]
    info = HybridInfo(
        solver,
        "error",
        dmmv.max_violation,
        None,
        None,
        "dmmv",
        0.0,
        max(s.wall for s in stages),
        "; ".join(errors) or None,
        restarts=stages[0].follower.restarts,
    )
    answer, source = dmmv, "dmmv"
    statuses = [s.result.status.value for s in stages if s.result is not None]
    if statuses:
        status = "optimal" if "optimal" in statuses else statuses[0]
        bounds = [
            max(0.0, float(s.result.bound))
            for s in stages
            if s.result and s.result.bound is not None
        ]
        info = replace(info, status=status, bound=max(bounds) if bounds else None)
    for stage in stages:
        found = stage.point()
        if found is None:
            continue
        index, x, ev = found
        if info.milp_max_violation is None or ev.max_violation < info.milp_max_violation:
            info = replace(info, milp_max_violation=ev.max_violation)
        if (ev.max_violation, ev.sum_squares) < _key(answer):
            answer = replace(
                dmmv,
                x=x,
                level_index=index,
                max_violation=ev.max_violation,
                argmax_row=ev.argmax_row,
                sum_squares=ev.sum_squares,
            )
            source = "milp"
    from_milp = [r for r in (followed, *(s.polished for s in stages)) if r is not None]
    if from_milp:
        polished = min(from_milp, key=_key)
        info = replace(info, polish_max_violation=polished.max_violation)
        if _key(polished) < _key(answer):
            keep = ("iterations", "counters", "interrupted", "start_max_violation")
            answer = replace(polished, **{k: getattr(dmmv, k) for k in keep})
            source = "polish"
    return answer, replace(info, source=source)
