"""Labels: stable energy softmax, weights sum to 1, direction follows the objective sense."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipguide.models.labels import DEFAULT_TEMPERATURE_FRACTION, energy_weights, pool_labels
from mipguide.problem.model import Sense


def test_huge_objectives_are_stable() -> None:
    for objs in ([1e300, -1e300, 0.0], [1e15, 1e15 + 2, 1e15 + 4], [np.inf, 3.0, 5.0]):
        w, t = energy_weights(np.array(objs), Sense.MINIMIZE)
        assert np.isfinite(w).all() and np.isfinite(t) and t > 0
        assert w.sum() == pytest.approx(1.0)


def test_direction_minimize_vs_maximize() -> None:
    objs = np.array([10.0, 20.0, 30.0])
    w_min, _ = energy_weights(objs, Sense.MINIMIZE, temperature=1.0)
    w_max, _ = energy_weights(objs, Sense.MAXIMIZE, temperature=1.0)
    assert np.argmax(w_min) == 0 and np.argmax(w_max) == 2
    np.testing.assert_allclose(w_min, w_max[::-1])


def test_default_temperature_is_fraction_of_spread() -> None:
    w, t = energy_weights(np.array([100.0, 110.0, 150.0]), Sense.MINIMIZE)
    assert t == pytest.approx(DEFAULT_TEMPERATURE_FRACTION * 50.0)
    assert w[2] / w[0] == pytest.approx(np.exp(-1 / DEFAULT_TEMPERATURE_FRACTION))
    w1, t1 = energy_weights(np.array([4.0, 4.0]), Sense.MINIMIZE)
    assert t1 == 1.0 and np.allclose(w1, 0.5)


def test_a_smaller_temperature_fraction_sharpens_the_labels_towards_the_best_solution() -> None:
    x = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.uint8)
    objs = np.array([10.0, 11.0, 20.0])
    soft = pool_labels(x, objs, Sense.MINIMIZE, fraction=0.2)
    sharp = pool_labels(x, objs, Sense.MINIMIZE, fraction=0.02)
    assert soft.temperature == pytest.approx(2.0) and sharp.temperature == pytest.approx(0.2)
    # weights: exp(-(E - E_min) / T), T = fraction x spread (10)
    z = np.exp(-np.array([0.0, 1.0, 10.0]) / 0.2)
    np.testing.assert_allclose(sharp.labels, (z / z.sum()) @ x, rtol=1e-6)
    assert sharp.labels[0] > 0.99 > soft.labels[0]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        energy_weights(np.array([]), Sense.MINIMIZE)
    with pytest.raises(ValueError):
        energy_weights(np.array([1.0]), Sense.MINIMIZE, temperature=0.0)
    with pytest.raises(ValueError, match="fraction"):
        energy_weights(np.array([1.0, 2.0]), Sense.MINIMIZE, fraction=0.0)
    with pytest.raises(ValueError):
        pool_labels(np.zeros((2, 3)), np.zeros(3), Sense.MINIMIZE)


def test_labels_are_weighted_marginals() -> None:
    x = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0]], dtype=np.uint8)
    objs = np.array([5.0, 6.0, 9.0])
    lab = pool_labels(x, objs, Sense.MINIMIZE, temperature=2.0)
    z = np.exp(-(objs - 5.0) / 2.0)
    w = z / z.sum()
    np.testing.assert_allclose(lab.labels, w @ x, rtol=1e-6)
    assert lab.temperature == 2.0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-1e300, max_value=1e300, allow_nan=False), min_size=1, max_size=20
    ),
    st.sampled_from([Sense.MINIMIZE, Sense.MAXIMIZE]),
)
def test_weights_sum_to_one(objs, sense) -> None:  # noqa: ANN001
    w, _ = energy_weights(np.array(objs), sense)
    assert np.isfinite(w).all() and (w >= 0).all()
    assert w.sum() == pytest.approx(1.0)
    best = np.argmin(float(sense) * np.array(objs))
    assert w[best] == pytest.approx(w.max())
