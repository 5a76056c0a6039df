"""The SRG sampler: deterministic under a seed, guidance lowers the violations of the raw
candidates, the multipliers stay non-negative, edge cases (K = 1, no binaries, wrong model)."""

from __future__ import annotations

import numpy as np
import pytest

from mipguide.features import build_graph
from mipguide.guidance.params import SamplingParams
from mipguide.guidance.rows import GuidanceRows, guidance_rows
from mipguide.guidance.sample import sample_candidates
from mipguide.instances.indset import IndependentSetParams
from mipguide.instances.registry import Family, generate_with
from mipguide.instances.setcover import SetCoverParams
from mipguide.models.registry import LoadedModel, ModelError
from mipguide.problem.model import Problem, make_problem


def _instance(family: Family) -> Problem:
    if family == Family.SET_COVER:
        return generate_with(family, SetCoverParams(n_rows=60, n_cols=80, density=0.08), 5)
    return generate_with(family, IndependentSetParams(n_nodes=80), 5)


def _sample(model: LoadedModel, problem: Problem, params: SamplingParams, seed: int = 0):  # noqa: ANN202
    return sample_candidates(build_graph(problem), guidance_rows(problem), model, params, seed)


def test_same_seed_same_candidates(tiny_srg_model: LoadedModel) -> None:
    p = _instance(Family.INDEPENDENT_SET)
    a = _sample(tiny_srg_model, p, SamplingParams(k=8, steps=10), seed=7)
    b = _sample(tiny_srg_model, p, SamplingParams(k=8, steps=10), seed=7)
    c = _sample(tiny_srg_model, p, SamplingParams(k=8, steps=10), seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.probs, b.probs)
    np.testing.assert_array_equal(a.lambdas, b.lambdas)
    assert not np.array_equal(a.probs, c.probs)
    assert a.x.shape == (8, p.num_binaries) and set(np.unique(a.x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a.x, (a.probs > 0.5).astype(float))


@pytest.mark.parametrize("seed", [5, 6])
def test_guidance_lowers_the_violation_of_raw_candidates(
    tiny_srg_model: LoadedModel, seed: int
) -> None:
    p = generate_with(Family.SET_COVER, SetCoverParams(n_rows=60, n_cols=80, density=0.08), seed)
    rows = guidance_rows(p)
    plain = _sample(tiny_srg_model, p, SamplingParams(eta=0.0))
    guided = _sample(tiny_srg_model, p, SamplingParams())
    v_plain = rows.violations(plain.x).max(axis=1).mean()
    v_guided = rows.violations(guided.x).max(axis=1).mean()
    assert v_plain > 0.5  # the untrained model alone is far from feasible
    assert v_guided < 0.5 * v_plain
    off = _sample(tiny_srg_model, p, SamplingParams(guidance=False))
    np.testing.assert_array_equal(off.x, plain.x)  # guidance=False is eta = 0


@pytest.mark.parametrize("family", [Family.SET_COVER, Family.INDEPENDENT_SET])
def test_multipliers_stay_non_negative(tiny_srg_model: LoadedModel, family: Family) -> None:
    """Slack rows (the untrained model's empty independent sets) have a negative residual
    that pulls lambda down at every step: only the projection keeps it at 0 or above;
    violated ones (its empty covers) make it grow."""
    p = _instance(family)
    s = _sample(tiny_srg_model, p, SamplingParams(rho=5.0, steps=15))
    assert s.lambda_min >= 0.0 and (s.lambdas >= 0).all()
    assert s.lambdas.shape == (16, guidance_rows(p).num_rows)
    if family == Family.SET_COVER:
        assert s.lambdas.max() > 0


def test_one_candidate_and_no_binaries(tiny_srg_model: LoadedModel) -> None:
    p = _instance(Family.SET_COVER)
    assert _sample(tiny_srg_model, p, SamplingParams(k=1)).x.shape == (1, p.num_binaries)
    lp = make_problem(np.ones((1, 3)), [1], [np.inf], [1, 2, 3])  # continuous only
    s = _sample(tiny_srg_model, lp, SamplingParams(k=4))
    assert s.x.shape == (4, 0) and s.binary_index.size == 0


def test_a_pas_model_is_refused(tiny_model: LoadedModel) -> None:
    with pytest.raises(ModelError, match="srg"):
        _sample(tiny_model, _instance(Family.SET_COVER), SamplingParams())


def test_a_short_budget_takes_fewer_steps(tiny_srg_model: LoadedModel) -> None:
    p = _instance(Family.SET_COVER)
    g, rows = build_graph(p), guidance_rows(p)
    full = sample_candidates(g, rows, tiny_srg_model, SamplingParams(steps=12), 0, budget=None)
    short = sample_candidates(g, rows, tiny_srg_model, SamplingParams(steps=12), 0, budget=1e-6)
    assert full.steps == 12 and short.steps == 1
    same = sample_candidates(g, rows, tiny_srg_model, SamplingParams(steps=12), 0, budget=1e6)
    np.testing.assert_array_equal(same.x, full.x)  # enough time: the same candidates


def test_the_first_estimate_is_handed_over_and_changes_nothing(
    tiny_srg_model: LoadedModel,
) -> None:
    p = _instance(Family.SET_COVER)
    got: list[np.ndarray] = []
    params = SamplingParams(k=8, steps=5)
    graph, rows = build_graph(p), guidance_rows(p)
    with_hook = sample_candidates(graph, rows, tiny_srg_model, params, 3, on_first=got.append)
    plain = sample_candidates(graph, rows, tiny_srg_model, params, 3)
    assert len(got) == 1 and got[0].shape == (p.num_binaries,)
    assert ((got[0] >= 0) & (got[0] <= 1)).all()
    np.testing.assert_array_equal(with_hook.probs, plain.probs)


def test_rows_built_later_are_built_after_the_first_estimate(
    tiny_srg_model: LoadedModel,
) -> None:
    """A builder of the rows (the aggregate rows' LP) runs once, after the first estimate was
    handed over, and guides exactly as the rows given at once."""
    p = _instance(Family.SET_COVER)
    graph, rows = build_graph(p), guidance_rows(p)
    events: list[str] = []

    def build() -> GuidanceRows:
        events.append("rows")
        return rows

    params = SamplingParams(k=8, steps=5)
    later = sample_candidates(
        graph, build, tiny_srg_model, params, 3, on_first=lambda _: events.append("first")
    )
    now = sample_candidates(graph, rows, tiny_srg_model, params, 3)
    assert events == ["first", "rows"]
    np.testing.assert_array_equal(later.probs, now.probs)
    np.testing.assert_array_equal(later.lambdas, now.lambdas)
    off = sample_candidates(graph, build, tiny_srg_model, SamplingParams(guidance=False), 3)
    assert events == ["first", "rows"] and off.lambdas.shape[1] == 0  # unguided: not built


def test_a_stop_ends_sampling_with_the_last_estimate(tiny_srg_model: LoadedModel) -> None:
    """``stop`` is polled after the first estimate and before each step: stopped at once, no
    step runs and the rows are never built; stopped later, the steps so far are kept."""
    p = _instance(Family.SET_COVER)
    graph, rows = build_graph(p), guidance_rows(p)
    built: list[int] = []

    def build() -> GuidanceRows:
        built.append(1)
        return rows

    params = SamplingParams(k=4, steps=12)
    now = sample_candidates(graph, build, tiny_srg_model, params, 0, stop=lambda: True)
    assert now.steps == 0 and not built and now.x.shape == (4, p.num_binaries)
    np.testing.assert_array_equal(now.x, (now.probs > 0.5).astype(float))
    polls: list[int] = []

    def after_four() -> bool:
        polls.append(1)
        return len(polls) >= 4  # the first estimate's poll, then before steps 0, 1 and 2

    later = sample_candidates(graph, build, tiny_srg_model, params, 0, stop=after_four)
    assert later.steps == 2 and built == [1]
    assert set(np.unique(later.x)) <= {0.0, 1.0}
