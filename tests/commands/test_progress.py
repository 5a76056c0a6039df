"""The live progress line: what it shows on a terminal, and that it is off elsewhere."""

from __future__ import annotations

import io
import time

from rich.console import Console

from mipguide.commands.progress import ProgressLine, incumbent_line


def test_the_line_shows_elapsed_incumbent_bound_gap_and_source() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    line = ProgressLine(console, "p0033", started=time.monotonic() - 12.5)
    assert line.enabled
    assert "no incumbent yet" in line.render().plain
    line.incumbent(3100.0, 3000.0, "solver")
    line.incumbent(3089.0, None, "gnn")  # a bound-less incumbent keeps the last bound
    text = line.render().plain
    assert text.startswith("p0033  running")
    assert "incumbent 3089  bound 3000  gap 2.8812%  (gnn)" in text
    assert 12.5 <= float(text.split()[2]) < 60


def test_the_line_is_off_when_not_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    with ProgressLine(console, "x") as line:
        assert not line.enabled
        line.incumbent(1.0, 0.0, "solver")
    assert out.getvalue() == ""


def test_a_terminal_sees_the_line_drawn_and_removed() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with ProgressLine(console, "job") as line:
        line.incumbent(5.0, 4.0, "srg")
        time.sleep(0.6)
    assert "incumbent 5  bound 4  gap 20.0000%  (srg)" in out.getvalue()


def test_incumbent_lines_carry_the_gap_when_a_bound_is_known() -> None:
    assert incumbent_line(1.5, 10.0, 8.0, "solver").endswith("gap 20.0000%  (solver)")
    assert incumbent_line(1.5, 10.0, None, "dmmv").endswith("bound -  (dmmv)")
