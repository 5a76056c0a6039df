"""mipguide.problem: the solver-neutral model, its readers and writers, and verification."""

from mipguide.problem.io import read_problem, write_problem

__all__ = ["read_problem", "write_problem"]
