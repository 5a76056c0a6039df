"""The min-max MILP baseline: level indices and t encode to a feasible point exactly when
t covers the max violation; decode inverts encode; the integer-scaled model agrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.heuristics.dmmv.evaluate import evaluate, start_indices, values_of
from mipguide.heuristics.dmmv.milp import build_minmax_milp, integer_scaled, is_uniform
from mipguide.heuristics.dmmv.types import DmmvInstance
from mipguide.problem.verify import verify
from tests.heuristics.dmmv_cases import random_instance


def _uniform_instance(seed: int) -> DmmvInstance:
    base = random_instance(seed, m=9, n=6)
    return DmmvInstance(base.A, base.lower, base.upper, np.arange(-3.0, 4.0) * 0.5, base.x0)


@pytest.mark.parametrize("make", [_uniform_instance, random_instance])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encoding_is_feasible_iff_t_covers_the_violation(make, seed: int) -> None:
    inst = make(seed)
    batch = inst.as_batch()
    milp = build_minmax_milp(batch)
    assert milp.encoding == ("index" if is_uniform(batch.levels) else "binary")
    idx = start_indices(batch)[0]
    viol = evaluate(inst.A, values_of(batch.levels, idx), inst.lower, inst.upper).max_violation
    point = milp.encode(idx, viol + 1e-9)
    assert verify(milp.problem, point).feasible
    assert milp.problem.objective_value(point) == pytest.approx(viol + 1e-9)
    np.testing.assert_array_equal(milp.decode(point), idx)
    if viol > 1e-3:
        assert not verify(milp.problem, milp.encode(idx, viol * 0.9)).feasible


def test_integer_scaled_model_has_integer_data_and_keeps_the_encoding() -> None:
    inst = _uniform_instance(3)
    batch = inst.as_batch()
    scaled = integer_scaled(build_minmax_milp(batch))
    p = scaled.problem
    assert p.integrality.all()
    assert np.array_equal(p.A.data, np.rint(p.A.data))
    idx = start_indices(batch)[0]
    viol = evaluate(inst.A, values_of(batch.levels, idx), inst.lower, inst.upper).max_violation
    point = np.rint(scaled.encode(idx, viol)) + np.append(np.zeros(len(idx)), 10.0)
    assert verify(p, point).feasible
