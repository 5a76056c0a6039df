"""The plug-ins' shared models as plain data, and their optima computed without any modelling
layer or mipguide: a bounded knapsack (maximise; brute force), a min-cost flow (continuous;
SciPy's HiGHS through ``linprog``), an infeasible and an unbounded model (described in words:
each layer's test builds them)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class Knapsack:
    """maximise sum(value * q) s.t. sum(weight * q) <= capacity, q_i in {0, ..., upper_i};
    item ``binary`` is a binary variable, the others general integers."""

    values: tuple[int, ...] = (18, 15, 7, 10, 7)
    weights: tuple[int, ...] = (8, 2, 3, 4, 2)
    upper: tuple[int, ...] = (2, 1, 2, 2, 3)
    capacity: int = 23
    binary: int = 1

    @property
    def items(self) -> range:
        return range(len(self.values))

    def optimum(self) -> tuple[int, tuple[int, ...]]:
        """The best objective and its quantities, by enumeration; the optimum is unique."""
        feasible = [
            (sum(v * k for v, k in zip(self.values, q, strict=True)), q)
            for q in itertools.product(*(range(u + 1) for u in self.upper))
            if sum(w * k for w, k in zip(self.weights, q, strict=True)) <= self.capacity
        ]
        feasible.sort(reverse=True)
        assert feasible[0][0] > feasible[1][0], "the test knapsack must have one optimum"
        return feasible[0]


@dataclass(frozen=True)
class Flow:
    """Ship ``supply`` from node s to node t at least cost: arcs (tail, head, capacity, cost),
    flows continuous in [0, capacity], conservation at every node."""

    arcs: tuple[tuple[str, str, float, float], ...] = (
        ("s", "a", 8.0, 2.0),
        ("s", "b", 6.0, 4.0),
        ("a", "b", 3.5, 1.0),
        ("a", "c", 5.0, 5.0),
        ("b", "c", 7.0, 2.0),
        ("b", "t", 4.0, 6.0),
        ("c", "t", 9.0, 1.0),
    )
    supply: float = 10.5

    @property
    def nodes(self) -> tuple[str, ...]:
        return ("s", "a", "b", "c", "t")

    def balance(self, node: str) -> float:
        """Out-flow minus in-flow required at ``node``."""
        return {"s": self.supply, "t": -self.supply}.get(node, 0.0)

    def optimum(self) -> float:
        """The least cost, by SciPy's LP solver."""
        a_eq = np.array(
            [[(tail == n) - (head == n) for tail, head, _, _ in self.arcs] for n in self.nodes],
            dtype=float,
        )
        b_eq = [self.balance(n) for n in self.nodes]
        res = linprog(
            [cost for *_, cost in self.arcs],
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=[(0, cap) for _, _, cap, _ in self.arcs],
            method="highs",
        )
        assert res.status == 0
        return float(res.fun)


KNAPSACK = Knapsack()
FLOW = Flow()
# infeasible: x + y >= 5 and x + y <= 3, x, y integer in [0, 10]
# unbounded: maximise x + y s.t. x - y <= 1, x, y >= 0 continuous
