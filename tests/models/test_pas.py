"""PaS GNN: output shape and range, variable-permutation equivariance, batching = one by one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from mipguide.features import build_graph
from mipguide.instances.registry import Family, Size, generate
from mipguide.models.data import collate, graph_to_data
from mipguide.models.pas import BipartiteConv, PaSConfig, PaSNet, pas_loss
from mipguide.problem.model import make_problem


def _net(seed: int = 0) -> PaSNet:
    torch.manual_seed(seed)
    return PaSNet().eval()


def _mixed_problem():  # noqa: ANN202
    rng = np.random.default_rng(3)
    A = rng.normal(size=(6, 8)) * (rng.random((6, 8)) < 0.5)
    integ = np.array([1, 1, 0, 1, 0, 1, 1, 1], dtype=bool)
    upper = np.where(integ, 1.0, 5.0)
    upper[3] = 7.0  # a general integer
    return make_problem(
        A,
        np.full(6, -np.inf),
        np.ones(6),
        rng.normal(size=8),
        col_lower=np.zeros(8),
        col_upper=upper,
        integrality=integ,
    )


def test_output_shape_and_range() -> None:
    p = generate(Family.COMBINATORIAL_AUCTION, Size.EASY, 0)
    prob = _net().predict_proba(graph_to_data(build_graph(p)))
    assert prob.shape == (p.num_binaries,)
    assert ((prob > 0) & (prob < 1)).all()
    q = _mixed_problem()
    assert _net().predict_proba(graph_to_data(build_graph(q))).shape == (q.num_binaries,) == (5,)


def test_permuting_variables_permutes_outputs() -> None:
    p = _mixed_problem()
    perm = np.random.default_rng(0).permutation(p.num_vars)
    q = make_problem(
        p.A[:, perm],
        p.row_lower,
        p.row_upper,
        p.c[perm],
        col_lower=p.col_lower[perm],
        col_upper=p.col_upper[perm],
        integrality=p.integrality[perm],
    )
    net = _net()
    with torch.no_grad():
        out_p = net(graph_to_data(build_graph(p)))
        out_q = net(graph_to_data(build_graph(q)))
    torch.testing.assert_close(out_q, out_p[torch.from_numpy(perm)], rtol=1e-5, atol=1e-5)
    # and the output does depend on the structure (a test that cannot fail is a defect)
    assert out_p.std() > 0


def test_a_network_reads_the_feature_columns_it_was_trained_with() -> None:
    # feature columns are only appended: a network from before them (the shipped ones read 13
    # variable and 14 row columns) gives on today's graph what it gave on its own columns
    old = PaSConfig(var_dim=13, row_dim=14)
    torch.manual_seed(0)
    net = PaSNet(old).eval()
    data = graph_to_data(build_graph(_mixed_problem()))
    assert data.x_v.size(1) > old.var_dim and data.x_c.size(1) > old.row_dim
    narrow = replace(data, x_v=data.x_v[:, : old.var_dim], x_c=data.x_c[:, : old.row_dim])
    torch.testing.assert_close(net.predict_proba(data), net.predict_proba(narrow))


def test_batch_equals_one_by_one() -> None:
    graphs = [build_graph(generate(Family.INDEPENDENT_SET, Size.EASY, s)) for s in (0, 1)]
    graphs.append(build_graph(_mixed_problem()))
    datas = [graph_to_data(g) for g in graphs]
    net = _net()
    batched = net.predict_proba(collate(datas))
    single = torch.cat([net.predict_proba(d) for d in datas])
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)


def test_loss_is_soft_bce_on_binaries_only() -> None:
    g = build_graph(_mixed_problem())
    labels = np.linspace(0, 1, int(g.binary_mask.sum()))
    d = graph_to_data(g, labels)
    logits = torch.zeros(g.num_vars)
    # sigmoid(0) = 0.5 everywhere: BCE = log 2 whatever the soft labels
    assert float(pas_loss(logits, d)) == np.float32(np.log(2.0))
    assert float(d.y[~d.bin_mask].abs().sum()) == 0.0


def test_node_side_messages_equal_the_per_edge_formula() -> None:
    """The convolution moves its linear maps from the edges to the nodes; the result must be
    the PaS message function: sum over edges j -> i of message_mlp(T h_i + E e_ij + S h_j)."""
    torch.manual_seed(1)
    conv = BipartiteConv(hidden=16, edge_dim=1)
    with torch.no_grad():  # non-trivial LayerNorm parameters and output bias
        for p in conv.parameters():
            p.add_(0.3 * torch.randn_like(p))
    src, dst = torch.randn(7, 16), torch.randn(5, 16)
    # every target but the last has edges; target 0 has three, one repeated source
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 6, 4], [0, 0, 1, 2, 3, 3, 0]])
    edge_attr = torch.randn(7, 1)
    j, i = edge_index
    per_edge = conv.message_mlp(conv.target(dst[i]) + conv.edge(edge_attr) + conv.source(src[j]))
    agg = torch.zeros(5, 16).index_add_(0, i, per_edge)
    want = conv.update_mlp(torch.cat([conv.post_norm(agg), dst], dim=-1))
    got = conv(src, dst, edge_index, edge_attr)
    assert torch.allclose(got, want, atol=1e-5)
    # the target without edges gets the message sum 0
    assert torch.allclose(agg[4], torch.zeros(16))
