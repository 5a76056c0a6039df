"""The ``highs`` backend: highspy in a child process, its protocol, options, stop and kill.

highspy is never imported here (OR-Tools is loaded in this process and they clash); anything
that needs highspy runs in a child interpreter.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from mipguide.errors import InvalidOptionError, SolverError
from mipguide.problem.verify import verify
from mipguide.solvers import highs
from mipguide.solvers.base import get_backend
from mipguide.solvers.highs_wire import (
    Msg,
    decode_message,
    decode_vector,
    encode_message,
    encode_vector,
    read_request,
    write_request,
)
from mipguide.solvers.types import Incumbent, Interrupt, SolveOptions, Status, TerminationReason
from tests.solvers.cases import CASES, hard_problem

KNAPSACK = CASES[0].problem
HARD = hard_problem()


def _in_child(code: str) -> str:
    """Run ``code`` in a fresh isolated interpreter, as the HiGHS child runs (it finds the
    installed ``mipguide``, not the working directory); return its stdout."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout


def test_wire_round_trip() -> None:
    arrays = {"c": np.array([1.0, -np.inf]), "a_index": np.array([0, 1], dtype=np.int32)}
    buf = io.BytesIO()
    write_request(buf, arrays, {"sense": -1, "options": {"threads": 1}})
    buf.seek(0)
    got, request = read_request(buf)
    assert request == {"sense": -1, "options": {"threads": 1}}
    assert np.array_equal(got["c"], arrays["c"]) and got["a_index"].dtype == np.int32
    x = np.array([0.5, -1e300, 3.0])
    msg = decode_message(encode_message(Msg.INCUMBENT, objective=2.0, x=encode_vector(x)))
    assert msg["type"] == Msg.INCUMBENT and np.array_equal(decode_vector(msg["x"]), x)
    with pytest.raises(EOFError):
        read_request(io.BytesIO(b"\x10\x00\x00\x00\x00\x00\x00\x00abc"))


def test_child_never_imports_ortools() -> None:
    out = _in_child(
        "import sys, mipguide.solvers.highs_child; "
        "print(sorted(m for m in sys.modules if m.startswith(('ortools', 'google', 'pyscipopt'))))"
    )
    assert out.strip() == "[]"


def test_param_table_matches_highs() -> None:
    kinds = {"kBool": "bool", "kInt": "int", "kDouble": "float", "kString": "str"}
    out = _in_child(
        "import json, highspy; h = highspy.Highs(); "
        f"names = {list(highs.HIGHS_OPTIONS)!r}; "
        "print(json.dumps({n: h.getOptionType(n)[1].name for n in names}))"
    )
    found = json.loads(out.splitlines()[-1])
    assert {n: kinds.get(k, k) for n, k in found.items()} == {
        n: t.__name__ for n, t in highs.HIGHS_OPTIONS.items()
    }


def test_passthrough_options() -> None:
    params = {"mip_heuristic_effort": 0.3, "presolve": "off", "mip_detect_symmetry": "false"}
    out = get_backend("highs").solve(KNAPSACK, SolveOptions(params=params))
    assert out.status == Status.OPTIMAL and out.objective == pytest.approx(23.0)


def test_value_rejected_by_highs_is_invalid_option() -> None:
    with pytest.raises(InvalidOptionError) as err:
        get_backend("highs").solve(KNAPSACK, SolveOptions(params={"solver": "quantum"}))
    assert err.value.option == "params.solver"


def test_log_lines_are_forwarded() -> None:
    lines: list[str] = []
    get_backend("highs").solve(KNAPSACK, SolveOptions(log=lines.append))
    assert any("Solving report" in line for line in lines)
    assert all("\n" not in line for line in lines)


def test_incumbents_stream_while_solving() -> None:
    """The first callback incumbent stops the solve: it arrived during the solve, not after."""
    interrupt = Interrupt()
    seen: list[Incumbent] = []

    def on_incumbent(inc: Incumbent) -> None:
        seen.append(inc)
        interrupt.set()

    out = get_backend("highs").solve(
        HARD, SolveOptions(time_limit=30), on_incumbent=on_incumbent, interrupt=interrupt
    )
    assert out.termination.reason == TerminationReason.INTERRUPTED
    assert out.solve_seconds < 5.0
    assert out.x is not None and verify(HARD, out.x).feasible
    assert seen and seen[-1].objective == pytest.approx(out.objective)


def test_child_slow_to_answer_an_interrupt_is_killed_promptly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS can go a second without an interrupt callback: the child that has not answered a
    stop within INTERRUPT_GRACE is killed, and its last incumbent is the interrupted answer."""
    monkeypatch.setattr(highs._Child, "_write_stop", lambda self: None)  # the stop never lands
    interrupt = Interrupt()
    asked: list[float] = []

    def on_incumbent(inc: Incumbent) -> None:
        if not asked:
            asked.append(time.perf_counter())
            interrupt.set()

    out = get_backend("highs").solve(
        HARD, SolveOptions(time_limit=30), on_incumbent=on_incumbent, interrupt=interrupt
    )
    assert asked and time.perf_counter() - asked[0] < 2.0  # not the 30 s limit
    assert out.termination.reason == TerminationReason.INTERRUPTED
    assert "interrupt" in out.termination.detail and out.bound is None
    assert out.x is not None and verify(HARD, out.x).feasible
    assert out.objective == pytest.approx(HARD.objective_value(out.x))


def test_interrupt_set_before_the_call_ends_the_solve() -> None:
    """Asked before the request is written (the watcher runs from the start), the stop
    follows the request."""
    interrupt = Interrupt()
    interrupt.set()
    t0 = time.perf_counter()
    out = get_backend("highs").solve(HARD, SolveOptions(time_limit=30), interrupt=interrupt)
    assert time.perf_counter() - t0 < 5.0
    assert out.termination.reason == TerminationReason.INTERRUPTED


def test_overrun_is_stopped_then_reported_as_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs, "STOP_GRACE", -0.7)  # "overrun" 0.3 s into a 1 s limit
    out = get_backend("highs").solve(HARD, SolveOptions(time_limit=1.0))
    assert out.termination.reason == TerminationReason.TIME_LIMIT
    assert out.solve_seconds < 0.9


def test_child_that_ignores_stop_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs._Child, "stop", lambda self: None)
    monkeypatch.setattr(highs, "KILL_GRACE", -0.5)  # kill 0.5 s into a 1 s limit
    out = get_backend("highs").solve(HARD, SolveOptions(time_limit=1.0))
    assert out.termination.reason == TerminationReason.TIME_LIMIT
    assert "killed" in out.termination.detail and out.warnings
    if out.x is not None:
        assert verify(HARD, out.x).feasible
        assert out.objective == pytest.approx(HARD.objective_value(out.x))


def test_child_death_is_solver_error_with_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs, "_LAUNCH", "import sys; sys.stderr.write('boom'); sys.exit(3)")
    with pytest.raises(SolverError, match="boom"):
        get_backend("highs").solve(KNAPSACK, SolveOptions())
