"""The best verified solution of a guided solve so far (updated by every stage)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mipguide.problem.model import Problem
from mipguide.problem.verify import verify


@dataclass
class Best:
    """The best verified solution so far (original problem), and up to ``keep`` of the ones it
    replaced (``earlier``, oldest first: each better than the one before), which a job archives
    as more labelled solutions (``SolveOptions.keep_solutions``)."""

    x: np.ndarray | None = None
    objective: float | None = None
    keep: int = 0
    earlier: list[np.ndarray] = field(default_factory=list)

    def consider(self, problem: Problem, x: np.ndarray | None) -> bool:
        """Keep ``x`` when it is complete, feasible and better; True when it was kept."""
        if x is None or np.isnan(x).any() or not verify(problem, x).feasible:
            return False
        obj = problem.objective_value(x)
        if self.objective is not None and problem.sense * obj >= problem.sense * self.objective:
            return False
        if self.x is not None and self.keep > 0:
            self.earlier.append(self.x)
            del self.earlier[: -self.keep]
        self.x, self.objective = np.asarray(x, dtype=np.float64), obj
        return True
