"""The HiGHS child process: request frame on stdin -> messages on stdout (see ``highs_wire``).

The only module that imports highspy, and it runs only in a child interpreter started by
``mipguide.solvers.highs``: highspy and OR-Tools each bundle their own HiGHS and cannot share a
process. So this module imports nothing but the standard library, numpy, highspy and
``highs_wire`` (nothing that could pull in OR-Tools).

The child is a mechanism, not a policy: the parent decides every HiGHS option; the child loads
the model with one ``passModel`` call on the CSR arrays, sets the options, passes the start,
streams improving solutions from HiGHS's MIP_IMPROVING_SOLUTION callback, and stops at the next
simplex/IPM/MIP interrupt callback once the parent has written ``stop`` (or closed stdin).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import IO, Any

import highspy
import numpy as np

from mipguide.solvers.highs_wire import (
    STOP,
    Msg,
    encode_message,
    encode_vector,
    read_request,
)

ROWWISE = 2  # HiGHS MatrixFormat::kRowwise: passModel takes our CSR arrays as they are
FEASIBLE = 2  # HiGHS kSolutionStatusFeasible


class Channel:
    """Writes messages to the parent; callbacks may fire on HiGHS's worker threads."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, kind: Msg, **fields: Any) -> None:
        data = encode_message(kind, **fields)
        with self._lock:
            self.stream.write(data)
            self.stream.flush()


def private_stdout() -> IO[bytes]:
    """A private copy of stdout for messages; fd 1 itself goes to /dev/null.

    HiGHS prints its banner (and, with ``log_to_console``, its log) straight to fd 1.
    """
    fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return os.fdopen(fd, "wb")


def watch_stdin(stdin: IO[bytes], stop: threading.Event) -> None:
    """Set ``stop`` on a ``stop`` line or at end of input (the parent is gone)."""
    for line in stdin:
        if line == STOP:
            stop.set()
    stop.set()


def version(h: highspy.Highs) -> str:
    return f"HiGHS {h.version()} (git {h.githash()}; highspy in a child process)"


def load(h: highspy.Highs, arrays: dict[str, np.ndarray], request: dict[str, Any]) -> None:
    """One passModel call from the CSR arrays (HiGHS turns them column-wise itself)."""
    status = h.passModel(
        arrays["c"].size,
        arrays["row_lower"].size,
        arrays["a_value"].size,
        ROWWISE,
        int(request["sense"]),
        float(request["offset"]),
        arrays["c"],
        arrays["col_lower"],
        arrays["col_upper"],
        arrays["row_lower"],
        arrays["row_upper"],
        arrays["a_start"].astype(np.int32),
        arrays["a_index"].astype(np.int32),
        arrays["a_value"],
        arrays["integrality"].astype(np.int32),  # all zeros for an LP (never empty)
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model (passModel returned kError)")


def set_options(h: highspy.Highs, options: dict[str, Any], channel: Channel) -> bool:
    """Set every option; on the first one HiGHS rejects, tell the parent and return False."""
    for name, value in options.items():
        try:
            status = h.setOptionValue(name, value)
        except (TypeError, ValueError) as exc:
            channel.send(Msg.OPTION_ERROR, name=name, detail=str(exc))
            return False
        if status == highspy.HighsStatus.kError:
            channel.send(Msg.OPTION_ERROR, name=name, detail=f"HiGHS rejected value {value!r}")
            return False
    return True


def subscribe(h: highspy.Highs, channel: Channel, stop: threading.Event, log: bool) -> list[str]:
    """Register the incumbent, interrupt and (when asked) logging callbacks."""
    pending: list[str] = []  # a log line may arrive in pieces

    def on_improving(e: Any) -> None:
        out = e.data_out
        bound = float(out.mip_dual_bound)
        channel.send(
            Msg.INCUMBENT,
            objective=float(out.mip_primal_bound),
            bound=bound if np.isfinite(bound) else None,
            x=encode_vector(np.asarray(out.mip_solution, dtype=np.float64)),
        )

    def on_interrupt(e: Any) -> None:
        if stop.is_set():
            e.interrupt()

    def on_log(e: Any) -> None:
        text = "".join(pending) + e.message
        lines = text.split("\n")
        pending[:] = [lines.pop()]
        for line in lines:
            channel.send(Msg.LOG, line=line)

    h.cbMipImprovingSolution.subscribe(on_improving)
    for event in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
        event.subscribe(on_interrupt)
    if log:
        h.cbLogging.subscribe(on_log)
    return pending


def result_fields(h: highspy.Highs, is_mip: bool) -> dict[str, Any]:
    """The final status, solution, objective, bound and nodes (JSON-ready)."""
    status = h.getModelStatus()
    info = h.getInfo()
    fields: dict[str, Any] = {"model_status": status.name, "x": None, "objective": None}
    if info.primal_solution_status == FEASIBLE or status == highspy.HighsModelStatus.kModelEmpty:
        fields["x"] = encode_vector(np.asarray(h.getSolution().col_value, dtype=np.float64))
        fields["objective"] = float(info.objective_function_value)
    if is_mip:
        bound = float(info.mip_dual_bound)
        fields["nodes"] = int(info.mip_node_count)
    else:  # an LP's dual bound is its objective once HiGHS has proven optimality
        optimal = status == highspy.HighsModelStatus.kOptimal
        bound = float(info.objective_function_value) if optimal else float("nan")
        fields["nodes"] = None
    fields["bound"] = bound if np.isfinite(bound) else None
    return fields


def saved_solutions(h: highspy.Highs, keep: int) -> list[str]:
    """Up to ``keep`` of the improving solutions HiGHS saved, after the best (best first)."""
    if keep <= 0:
        return []
    saved = list(h.getSavedMipSolutions())[::-1][1 : keep + 1]  # HiGHS saves oldest first
    return [encode_vector(np.asarray(s.col_value, dtype=np.float64)) for s in saved]


def solve(
    arrays: dict[str, np.ndarray], request: dict[str, Any], channel: Channel, stop: threading.Event
) -> None:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    t0 = time.perf_counter()
    load(h, arrays, request)
    build_seconds = time.perf_counter() - t0
    log = bool(request["log"])
    options = dict(request["options"])
    if log:  # log lines reach the parent through the logging callback, never the console
        options.update(output_flag=True, log_to_console=False)
    keep = int(request.get("keep_solutions", 0))
    if keep > 0:
        options["mip_improving_solution_save"] = True
    if not set_options(h, options, channel):
        return
    warnings: list[str] = []
    if "start_index" in arrays:
        status = h.setSolution(
            arrays["start_index"].size,
            arrays["start_index"].astype(np.int32),
            arrays["start_value"],
        )
        if status == highspy.HighsStatus.kError:
            warnings.append("the start solution was rejected by HiGHS")
    pending = subscribe(h, channel, stop, log)
    deadline = request.get("deadline")
    if deadline is not None:  # what is left of the caller's time after start-up and passModel
        h.setOptionValue("time_limit", max(0.0, float(deadline) - time.time()))
    channel.send(Msg.STARTED, build_seconds=build_seconds, version=version(h))
    t0 = time.perf_counter()
    h.run()
    solve_seconds = time.perf_counter() - t0
    if pending and pending[0]:
        channel.send(Msg.LOG, line=pending[0])
    channel.send(
        Msg.RESULT,
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        warnings=warnings,
        solutions=saved_solutions(h, keep),
        **result_fields(h, bool(request["is_mip"])),
    )


def main() -> None:
    """Entry point: ``version`` as the only argument prints the version message and exits."""
    channel = Channel(private_stdout())
    if sys.argv[1:] == ["version"]:
        channel.send(Msg.VERSION, version=version(highspy.Highs()))
        os._exit(0)
    stdin = sys.stdin.buffer
    try:
        arrays, request = read_request(stdin)
    except EOFError:
        os._exit(0)  # the parent gave up before sending the model
    stop = threading.Event()
    threading.Thread(target=watch_stdin, args=(stdin, stop), daemon=True).start()
    code = 0
    try:
        solve(arrays, request, channel, stop)
    except BrokenPipeError:
        code = 1  # the parent is gone; nobody to tell
    except Exception as exc:  # every other failure goes to the parent as a message
        with contextlib.suppress(OSError):
            channel.send(Msg.ERROR, detail=f"{type(exc).__name__}: {exc}")
        code = 1
    # os._exit: the stdin watcher is blocked in a read on the buffered stdin, which would stall
    # or abort interpreter shutdown; everything worth keeping has been flushed.
    sys.stderr.flush()
    os._exit(code)
