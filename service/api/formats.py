"""Result renderings: JSON (as stored), .sol (SCIP-style text) and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any


def to_sol(result: dict[str, Any]) -> str:
    """``# status``, ``objective value:`` and one ``name value`` line per variable."""
    lines = [f"# status {result.get('status')} termination {result.get('termination')}"]
    if result.get("objective") is not None:
        lines.append(f"objective value: {result['objective']!r}")
    for name, value in (result.get("values") or {}).items():
        lines.append(f"{name} {value!r}")
    return "\n".join(lines) + "\n"


def to_csv(result: dict[str, Any]) -> str:
    """``variable,value`` rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variable", "value"])
    for name, value in (result.get("values") or {}).items():
        writer.writerow([name, repr(value)])
    return out.getvalue()
