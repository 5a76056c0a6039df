"""The normalized problem stored with a job round-trips exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.jobs.files import JobFiles
from mipguide.jobs.logs import JobLogs
from mipguide.problem.model import Sense, make_problem
from mipguide.problem.npz import load_problem, save_problem


@settings(max_examples=20, deadline=None)
@given(
    m=st.integers(0, 4),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    sense=st.sampled_from(list(Sense)),
)
def test_problem_round_trip(tmp_path_factory, m: int, n: int, seed: int, sense: Sense) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, size=(m, n)).astype(float)
    problem = make_problem(
        A,
        np.full(m, -np.inf),
        rng.integers(0, 5, size=m).astype(float),
        rng.normal(size=n),
        col_upper=np.where(rng.random(n) < 0.5, np.inf, 1.0),
        integrality=rng.random(n) < 0.5,
        sense=sense,
        offset=1.5,
        name="rt",
        var_names=[f"v é{j}" for j in range(n)],
        warnings=("w",),
    )
    path = tmp_path_factory.mktemp("rt") / "p.npz"
    save_problem(problem, path)
    back = load_problem(path)
    assert back.same_as(problem)
    assert back.name == "rt" and back.warnings == ("w",) and back.offset == 1.5


def test_log_offsets(tmp_path: Path) -> None:
    logs = JobLogs(JobFiles(tmp_path))
    logs.append("j", "first")
    logs.append("j", "second é")
    text, nxt = logs.read("j")
    assert text == "first\nsecond é\n" and nxt == len(text.encode())
    assert logs.read("j", 6) == ("second é\n", nxt)
    logs.close_all()
    assert logs.read("missing") == ("", 0)
