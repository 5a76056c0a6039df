"""A live progress line for long solves and followed jobs: elapsed, incumbent, bound, gap, source.

On a terminal it is one line that rich redraws four times a second (so the elapsed time moves
between incumbents) and removes at the end; when the output is not a terminal (a pipe, a log
file) it is off and only the ordinary lines are printed.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.text import Text

from mipguide.pipeline.result import relative_gap


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.10g}"


def incumbent_line(t: float, objective: float, bound: float | None, source: str) -> str:
    """One incumbent as the CLI prints it (local solves and followed jobs alike)."""
    gap = relative_gap(objective, bound)
    shown = "" if gap is None else f"  gap {gap:.4%}"
    return f"  {t:8.3f} s  incumbent {objective:.10g}  bound {_fmt(bound)}{shown}  ({source})"


class ProgressLine:
    """The live line; a context manager. Off (does nothing) unless the console is a terminal.

    Args:
        console: where to draw.
        label: what is running (a problem name, a job id).
        started: ``time.monotonic()`` when it started (default: now).
    """

    def __init__(self, console: Console, label: str, started: float | None = None) -> None:
        self.label = label
        self.state = "running"
        self.started = time.monotonic() if started is None else started
        self.objective: float | None = None
        self.bound: float | None = None
        self.source = ""
        self._live = (
            Live(console=console, transient=True, refresh_per_second=4, get_renderable=self.render)
            if console.is_terminal
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._live is not None

    def incumbent(self, objective: float, bound: float | None, source: str) -> None:
        """A new incumbent (and the bound known with it)."""
        self.objective, self.source = objective, source
        if bound is not None:
            self.bound = bound

    def render(self) -> Text:
        """The line as it reads now."""
        elapsed = time.monotonic() - self.started
        gap = relative_gap(self.objective, self.bound)
        parts = [f"{self.label}  {self.state}  {elapsed:7.1f} s"]
        if self.objective is None:
            parts.append("no incumbent yet")
        else:
            parts.append(f"incumbent {self.objective:.10g}  bound {_fmt(self.bound)}")
            parts.append("gap -" if gap is None else f"gap {gap:.4%}")
            parts.append(f"({self.source})")
        return Text("  ".join(parts), style="cyan", no_wrap=True, overflow="ellipsis")

    def __enter__(self) -> ProgressLine:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
