"""A job's progress as a PNG (``GET /v1/jobs/{id}/plot.png``): primal and dual bound over time
with each incumbent marked by its source, and the relative gap; a DMMV job's max violation.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state: safe in the server's
thread pool). The figures are the job's own: its incumbents as stored, and once it has ended
the objective and bound of its verified result at its solve time.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from mipguide.jobs.records import IncumbentRecord, JobRecord
from mipguide.pipeline.result import relative_gap

# incumbent source -> marker colour (the dashboard uses the same)
SOURCE_COLORS = {
    "solver": "#1f77b4",
    "gnn": "#d62728",
    "srg": "#9467bd",
    "dmmv": "#ff7f0e",
    "start": "#2ca02c",
}
OTHER_COLOR = "#7f7f7f"


def _series(
    job: JobRecord, incumbents: Sequence[IncumbentRecord]
) -> tuple[list[float], list[float], list[float | None], list[str]]:
    """(t, objective, bound, source) per point; an ended job's result as the last point."""
    t = [i.t for i in incumbents]
    obj = [i.objective for i in incumbents]
    bound = [i.bound for i in incumbents]
    src = [i.source for i in incumbents]
    if job.state.terminal and job.objective is not None and job.solve_seconds is not None:
        t.append(max(job.solve_seconds, t[-1] if t else 0.0))
        obj.append(job.objective)
        bound.append(job.bound)
        src.append("result")
    return t, obj, bound, src


def job_plot_png(job: JobRecord, incumbents: Sequence[IncumbentRecord]) -> bytes:
    """The PNG bytes of the job's plot (a titled empty plot while it has no incumbent)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t, obj, bound, src = _series(job, incumbents)
    solve = job.kind.value == "solve"
    fig = Figure(figsize=(7.5, 5.0 if solve else 3.6), dpi=100)
    FigureCanvasAgg(fig)
    rows = 2 if solve else 1
    ax = fig.add_subplot(rows, 1, 1)
    title = f"{job.problem_name or job.filename} ({job.id[:8]}, {job.state.value})"
    ax.set_title(title, fontsize=10)
    if not t:
        ax.text(0.5, 0.5, "no incumbent yet", ha="center", va="center", transform=ax.transAxes)
    label = "objective" if solve else "max violation"
    if t:
        ax.step(t, obj, where="post", color="#333333", lw=1.2, label=label)
        for s in dict.fromkeys(src):
            pts = [(ti, oi) for ti, oi, si in zip(t, obj, src, strict=True) if si == s]
            ax.scatter(
                [p[0] for p in pts],
                [p[1] for p in pts],
                s=18,
                zorder=3,
                color=SOURCE_COLORS.get(s, OTHER_COLOR),
                label=s,
            )
    known = [(ti, b) for ti, b in zip(t, bound, strict=True) if b is not None and math.isfinite(b)]
    if solve and known:
        ax.step(
            [k[0] for k in known],
            [k[1] for k in known],
            where="post",
            color="#2ca02c",
            lw=1.0,
            ls="--",
            label="dual bound",
        )
    ax.set_ylabel(label)
    if t:
        ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    if solve:
        gx = fig.add_subplot(rows, 1, 2, sharex=ax)
        gaps = [(ti, relative_gap(o, b)) for ti, o, b in zip(t, obj, bound, strict=True)]
        shown = [(ti, 100.0 * g) for ti, g in gaps if g is not None]
        if shown:
            gx.step([s[0] for s in shown], [s[1] for s in shown], where="post", color="#d62728")
        gx.set_ylabel("gap (%)")
        gx.set_xlabel("seconds")
        gx.grid(alpha=0.3)
    else:
        ax.set_xlabel("seconds")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
