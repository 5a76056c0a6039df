"""SRG score network and VP-SDE: shapes, the sparse convolution against a dense reference,
permutation equivariance, coupling="none", and the SDE's closed forms."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from mipguide.features import build_graph
from mipguide.instances.registry import Family, Size, generate
from mipguide.models.data import graph_to_data
from mipguide.models.sde import alpha, ancestral_step, noised, score, sigma2
from mipguide.models.srg import Adjacency, SparseConv, SrgConfig, SrgNet


def _net(config: SrgConfig | None = None, seed: int = 0) -> SrgNet:
    torch.manual_seed(seed)
    return SrgNet(config or SrgConfig(hidden=16)).eval()


@torch.no_grad()
def test_one_forward_gives_logits_for_k_states() -> None:
    p = generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 0)
    net = _net()
    ctx = net.context(graph_to_data(build_graph(p)))
    y = torch.randn(5, p.num_binaries)
    out = net(ctx, y, torch.linspace(0.1, 0.9, 5))
    assert out.shape == (5, p.num_binaries) and torch.isfinite(out).all()
    # each state is independent of the others in the batch
    single = net(ctx, y[2:3], torch.tensor([0.5]))
    torch.testing.assert_close(single[0], out[2], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("nd", "ns"), [(7, 4), (3, 6)], ids=["linear-first", "sums-first"])
def test_sparse_conv_matches_a_dense_reference(nd: int, ns: int) -> None:
    torch.manual_seed(1)
    h, k = 8, 3
    mask = torch.rand(nd, ns) < 0.5
    coef = torch.randn(nd, ns) * mask
    index = mask.nonzero().T
    adj = Adjacency.build(index, coef[mask], (nd, ns))
    conv = SparseConv(h)
    src, dst = torch.randn(ns, k, h), torch.randn(nd, k, h)
    got = conv(src, dst, adj)
    pattern = mask.float()
    msg_a = torch.einsum("ds,skh->dkh", coef, conv.coef_map(src))
    msg_p = torch.einsum("ds,skh->dkh", pattern, conv.plain_map(src))
    expected = dst + torch.relu(conv.update(conv.norm(msg_a + msg_p)))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    # without autograd (sampling) the fused path: the same values up to float rounding, and
    # the inputs untouched
    src_before, dst_before = src.clone(), dst.clone()
    with torch.no_grad():
        fused = conv(src, dst, adj)
    torch.testing.assert_close(fused, got.detach(), rtol=1e-5, atol=1e-5)
    assert torch.equal(src, src_before) and torch.equal(dst, dst_before)
    # a broadcast target (the first round's constraint embeddings): the same values too
    row = dst[:, :1, :]
    with torch.no_grad():
        assert torch.equal(conv(src, row, adj), conv(src, row.expand(nd, k, h).clone(), adj))


@pytest.mark.parametrize("family", [Family.INDEPENDENT_SET, Family.FACILITY_LOCATION])
def test_sampling_forward_equals_the_training_forward(family: Family) -> None:
    """Every variable binary (independent set) and not (facility location's continuous
    flows): the no-autograd CPU path gives the training path's logits."""
    p = generate(family, Size.EASY, 3)
    net = _net(SrgConfig(hidden=16, rounds=2))
    data = graph_to_data(build_graph(p))
    y, t = torch.randn(4, p.num_binaries), torch.tensor([0.1, 0.4, 0.7, 0.95])
    with torch.enable_grad():
        ctx = net.context(data)
        expected = net(ctx, y, t).detach()
    with torch.no_grad():
        got = net(net.context(data), y, t)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_permuting_the_variables_permutes_the_logits() -> None:
    p = generate(Family.INDEPENDENT_SET, Size.EASY, 1)
    g = build_graph(p)
    perm = np.random.default_rng(0).permutation(p.num_vars)
    inv = np.argsort(perm)
    data = graph_to_data(g)
    pdata = replace(
        data,
        x_v=data.x_v[perm],
        bin_mask=data.bin_mask[perm],
        edge_index=torch.stack([data.edge_index[0], torch.from_numpy(inv)[data.edge_index[1]]]),
    )
    net = _net()
    y = torch.randn(2, p.num_binaries)
    t = torch.tensor([0.3, 0.7])
    out = net(net.context(data), y, t)
    out_p = net(net.context(pdata), y[:, perm], t)  # all variables are binary here
    torch.testing.assert_close(out_p, out[:, perm], rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_coupling_none_ignores_the_other_variables() -> None:
    p = generate(Family.INDEPENDENT_SET, Size.EASY, 2)
    net = _net(SrgConfig(hidden=16, coupling="none"))
    assert len(net.to_rows) == 0 and len(net.to_vars) == 0
    ctx = net.context(graph_to_data(build_graph(p)))
    y = torch.randn(1, p.num_binaries)
    changed = y.clone()
    changed[0, 1:] = -changed[0, 1:]
    a, b = net(ctx, y, torch.tensor([0.5])), net(ctx, changed, torch.tensor([0.5]))
    assert a[0, 0] == b[0, 0]  # variable 0 sees only its own state
    coupled = _net()
    ctx = coupled.context(graph_to_data(build_graph(p)))
    a, b = coupled(ctx, y, torch.tensor([0.5])), coupled(ctx, changed, torch.tensor([0.5]))
    assert a[0, 0] != b[0, 0]


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(ValueError, match="coupling"):
        SrgConfig(coupling="dense")
    with pytest.raises(ValueError):
        SrgConfig(time_dim=7)


def test_vp_sde_closed_forms() -> None:
    t = torch.linspace(0.0, 1.0, 11)
    torch.testing.assert_close(alpha(t) ** 2 + sigma2(t), torch.ones(11))
    assert float(alpha(torch.tensor(1.0))) < 0.01  # y_1 is (almost) pure noise
    y0 = torch.tensor([[1.0, -1.0]])
    zero = torch.zeros(1, 2)
    torch.testing.assert_close(noised(y0, torch.tensor([0.0]), zero), y0)
    s = torch.tensor(0.4)
    y = noised(y0, s.reshape(1), zero)
    torch.testing.assert_close(score(y, y0, s), torch.zeros(1, 2))  # the mean has zero score


def test_ancestral_step_lands_on_the_estimate_and_is_exact_without_noise() -> None:
    y0 = torch.tensor([[0.8, -0.3]])
    t, s = torch.tensor(0.6), torch.tensor(0.3)
    yt = alpha(t) * y0  # the mean of y_t given y0
    torch.testing.assert_close(ancestral_step(yt, y0, t, s, None), alpha(s) * y0)
    torch.testing.assert_close(ancestral_step(yt, y0, t, torch.tensor(0.0), torch.ones(1, 2)), y0)
