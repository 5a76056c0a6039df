"""The shape of a DMMV use case: a named batch plus what its max violation means."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mipguide.heuristics.dmmv.types import DmmvBatch


@dataclass(frozen=True, eq=False)
class DmmvCase:
    """One DMMV use case instance set.

    Attributes:
        name: short name (e.g. ``fir-n16-p10``).
        family: fir | quant | tomo.
        batch: the instances (sharing A).
        metric: what the max violation measures, in words.
        truth: (B, n) planted/reference assignment where one exists (tomography), else None.
        info: small facts for tables (sizes, bits, noise).
    """

    name: str
    family: str
    batch: DmmvBatch
    metric: str
    truth: np.ndarray | None = None
    info: dict[str, float | int | str] = field(default_factory=dict)
