"""The best verified solution of a guided solve so far (updated by every stage)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mipguide.problem.model import Problem
from mipguide.problem.verify import verify


@dataclass
class Best:
    """The best verified solution so far (original problem)."""

    x: np.ndarray | None = None
    objective: float | None = None

    def consider(self, problem: Problem, x: np.ndarray | None) -> bool:
        """Keep ``x`` when it is complete, feasible and better; True when it was kept."""
        if x is None or np.isnan(x).any() or not verify(problem, x).feasible:
            return False
        obj = problem.objective_value(x)
        if self.objective is not None and problem.sense * obj >= problem.sense * self.objective:
            return False
        self.x, self.objective = np.asarray(x, dtype=np.float64), obj
        return True
