"""mipguide.problem: the solver-neutral model, its readers and writers, and verification.

``read_problem`` and ``write_problem`` are re-exported lazily: importing a light submodule
(``mipguide.problem.compression`` for the settings) must not load the readers (scipy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mipguide.problem.io import read_problem, write_problem

__all__ = ["read_problem", "write_problem"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mipguide.problem import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
