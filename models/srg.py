"""SRG score network: (bipartite graph, noisy states y_t of the binaries, t) -> x0 logits.

The network predicts the clean assignment (x0-parametrization); the score of the VP-SDE follows
from it (``mipguide.models.sde.score``). Variable input = [static features, y_t, time
embedding]: the static part goes through its own linear map, computed once per instance, and
the state and time parts are added before the LayerNorm (the same function as one linear layer
on the concatenation). ``rounds`` full rounds of message passing variable -> constraint ->
variable couple the variables (``SparseConv``: messages linear in the source node, so each
half-round is one sparse product); ``coupling="none"`` skips them (one MLP per variable: the
independent-variables ablation).

K states of one instance run in one forward: node tensors are laid out (nodes, K, hidden).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from mipguide.features import RowFeature, VarFeature
from mipguide.models.data import EDGE_INPUTS
from mipguide.models.pas import _embed

COUPLINGS = ("graph", "none")


@dataclass(frozen=True)
class SrgConfig:
    """Shape of the score network; stored as config.json in the registry."""

    var_dim: int = len(VarFeature)
    row_dim: int = len(RowFeature)
    edge_dim: int = len(EDGE_INPUTS)
    hidden: int = 32
    rounds: int = 2
    time_dim: int = 16
    coupling: str = "graph"

    def __post_init__(self) -> None:
        if self.coupling not in COUPLINGS:
            raise ValueError(f"coupling must be one of {COUPLINGS}, got {self.coupling!r}")
        if self.time_dim % 2 or self.time_dim <= 0 or self.hidden <= 0 or self.rounds < 0:
            raise ValueError("time_dim must be even and positive, hidden > 0, rounds >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def time_embedding(t: Tensor, dim: int) -> Tensor:
    """Sinusoidal embedding (..., dim) of times t in [0, 1] (frequencies 1 .. 1000)."""
    half = dim // 2
    freqs = torch.exp(torch.linspace(0.0, math.log(1000.0), half, device=t.device))
    angles = t[..., None].float() * freqs * (math.pi / 2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def sparse_matrix(index: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """A CSR matrix (rows index[0], columns index[1]); torch's beta note on CSR is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks")
        coo = torch.sparse_coo_tensor(index, values, shape, check_invariants=False)
        return coo.coalesce().to_sparse_csr()


@dataclass(frozen=True, eq=False)
class Adjacency:
    """One direction src -> dst of the graph, as sparse operators over a K-wide feature axis.

    Attributes:
        wide: (Nd, 2 Ns) = [coef | pattern], for sums of stacked source features.
        tall: (2 Nd, Ns) = [coef; pattern], for two sums of the same source features.
        coef_sum, plain_sum: (Nd, 1, 1) row sums of coef and pattern (for the biases).
    """

    wide: Tensor
    tall: Tensor
    coef_sum: Tensor
    plain_sum: Tensor

    @classmethod
    def build(cls, index: Tensor, coef: Tensor, shape: tuple[int, int]) -> Adjacency:
        """From edges index[0] (dst) <- index[1] (src) with coefficients ``coef``."""
        nd, ns = shape
        ones = torch.ones_like(coef)
        dst, src = index[0], index[1]
        wide = torch.stack([torch.cat([dst, dst]), torch.cat([src, src + ns])])
        tall = torch.stack([torch.cat([dst, dst + nd]), torch.cat([src, src])])
        values = torch.cat([coef, ones])
        zero = torch.zeros(nd, dtype=coef.dtype, device=coef.device)
        return cls(
            wide=sparse_matrix(wide, values, (nd, 2 * ns)),
            tall=sparse_matrix(tall, values, (2 * nd, ns)),
            coef_sum=zero.index_add(0, dst, coef).view(nd, 1, 1),
            plain_sum=zero.index_add(0, dst, ones).view(nd, 1, 1),
        )


class SparseConv(nn.Module):
    """One half-round of message passing with messages linear in the source node:

        agg_i = sum_j a_ij (W_a h_j + b_a) + sum_j (W_p h_j + b_p)     (a_ij: row-normalized coef)
        out_i = dst_i + ReLU(W_u LayerNorm(agg_i) + b_u)

    The sums are one sparse product over a K-wide feature dimension; the linear maps commute
    with them and run on the smaller side, so nothing is computed per edge and sample but the
    sparse product (PaS's ``BipartiteConv``, whose message is nonlinear in both ends, costs an
    MLP per edge and sample: several times slower at K = 16).
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.coef_map = nn.Linear(hidden, hidden)
        self.plain_map = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.update = nn.Linear(hidden, hidden)

    def forward(self, src: Tensor, dst: Tensor, adj: Adjacency) -> Tensor:
        """src (Ns, K, h); dst (Nd, K, h) or (Nd, 1, h)."""
        if not torch.is_grad_enabled() and src.device.type == "cpu":
            return self._sample_cpu(src, dst, adj)
        ns, k, h = src.shape
        nd = dst.shape[0]
        if ns <= nd:  # linear maps first, on the source side
            stacked = torch.cat([self.coef_map(src), self.plain_map(src)], dim=0)
            agg = (adj.wide @ stacked.reshape(2 * ns, k * h)).view(nd, k, h)
        else:  # sums first, then the linear maps on the target side
            sums = (adj.tall @ src.reshape(ns, k * h)).view(2, nd, k, h)
            agg = sums[0] @ self.coef_map.weight.T + sums[1] @ self.plain_map.weight.T
            agg = agg + adj.coef_sum * self.coef_map.bias + adj.plain_sum * self.plain_map.bias
        return dst + torch.relu(self.update(self.norm(agg)))

    def _sample_cpu(self, src: Tensor, dst: Tensor, adj: Adjacency) -> Tensor:
        """``forward`` without autograd on the CPU (sampling), with fewer passes over the large
        (N, K, h) tensors; the same values up to float rounding:

        - each product writes into a buffer of its own (``out=``, ``addmm_``): no temporaries,
          no concatenation, no bias copied into every row first;
        - the update's ReLU and the residual add run in place.

        Measured and not kept: the LayerNorm folded into the update's product, with the variance
        from two moments (1 % faster, and wrong where a row's mean is far above its spread).
        """
        ns, k, h = src.shape
        nd = dst.shape[0]
        if ns <= nd:  # linear maps first, on the source side, into the two halves of one buffer
            flat = src.reshape(ns * k, h)
            stacked = torch.empty(2, ns * k, h, dtype=src.dtype)
            for half, layer in zip(stacked, (self.coef_map, self.plain_map), strict=True):
                torch.mm(flat, layer.weight.T, out=half).add_(layer.bias)
            agg = _spmm(adj.wide, stacked.view(2 * ns, k * h)).view(nd * k, h)
        else:  # sums first, then the linear maps on the target side, accumulated in place
            sums = _spmm(adj.tall, src.reshape(ns, k * h)).view(2, nd * k, h)
            agg = torch.mm(sums[0], self.coef_map.weight.T)
            agg.addmm_(sums[1], self.plain_map.weight.T)
            bias = adj.coef_sum * self.coef_map.bias + adj.plain_sum * self.plain_map.bias
            agg.view(nd, k, h).add_(bias)
        return _linear(self.update, self.norm(agg)).view(nd, k, h).relu_().add_(dst)


def _spmm(a: Tensor, x: Tensor) -> Tensor:
    """a @ x for a sparse CSR ``a`` (no autograd, CPU), into a buffer of its own: torch's
    ``a @ x`` there fills and copies a temporary (measured: 4.9 ms against 2.3 ms for 6,348 x
    3,000 by 3,000 x 512), with the same values."""
    out = torch.empty(a.shape[0], x.shape[1], dtype=x.dtype)
    return torch.addmm(out, a, x, beta=0.0, out=out)


def _linear(layer: nn.Linear, x: Tensor) -> Tensor:
    """``layer(x)`` (no autograd, CPU): the product, then the bias in place. Torch's ``addmm``
    there first copies the bias into every output row (4.4 ms against 2.6 ms for 101,568 x 32),
    with the same values."""
    flat = x.reshape(-1, x.shape[-1])
    return torch.mm(flat, layer.weight.T).add_(layer.bias).view(*x.shape[:-1], -1)


@dataclass(frozen=True, eq=False)
class SrgContext:
    """Everything of one instance that does not depend on the state (computed once).

    Attributes:
        var_static: (n, h) static part of the variable input layer.
        rows: (m, h) constraint embeddings.
        to_rows, to_vars: the two directions of the graph.
        bin_index: (nb,) indices of the binaries.
    """

    var_static: Tensor
    rows: Tensor
    to_rows: Adjacency
    to_vars: Adjacency
    bin_index: Tensor

    @property
    def num_vars(self) -> int:
        return int(self.var_static.shape[0])


class SrgNet(nn.Module):
    """The SRG score network (x0-parametrization)."""

    def __init__(self, config: SrgConfig | None = None) -> None:
        super().__init__()
        self.config = config or SrgConfig()
        h, td = self.config.hidden, self.config.time_dim
        self.var_static = nn.Linear(self.config.var_dim, h)
        self.var_state = nn.Linear(1, h, bias=False)
        self.time_mlp = nn.Sequential(nn.Linear(td, h), nn.ReLU(), nn.Linear(h, h))
        self.var_post = nn.Sequential(nn.LayerNorm(h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        rounds = self.config.rounds if self.config.coupling == "graph" else 0
        self.row_embed = _embed(self.config.row_dim, h)
        self.to_rows = nn.ModuleList(SparseConv(h) for _ in range(rounds))
        self.to_vars = nn.ModuleList(SparseConv(h) for _ in range(rounds))
        self.head = nn.Sequential(nn.Linear(2 * h + 1, h), nn.ReLU(), nn.Linear(h, 1))

    def context(self, data: Any) -> SrgContext:
        """The state-independent part for one graph (``mipguide.models.data.graph_to_data``)."""
        n, m = data.x_v.size(0), data.x_c.size(0)
        index = data.edge_index
        coef = data.edge_attr[:, 0].float()
        return SrgContext(
            var_static=self.var_static(data.x_v[:, : self.config.var_dim]),
            rows=(
                self.row_embed(data.x_c[:, : self.config.row_dim])
                if len(self.to_rows)
                else data.x_c[:, :0]
            ),
            to_rows=Adjacency.build(index, coef, (m, n)),
            to_vars=Adjacency.build(index.flip(0), coef, (n, m)),
            bin_index=torch.nonzero(data.bin_mask).flatten(),
        )

    def forward(self, ctx: SrgContext, y: Tensor, t: Tensor) -> Tensor:
        """x0 logits (K, nb) of the binaries for states y (K, nb) at times t (K,)."""
        if not torch.is_grad_enabled() and y.device.type == "cpu":
            return self._sample_cpu(ctx, y, t)
        k = y.size(0)
        state = torch.zeros(ctx.num_vars, k, dtype=y.dtype, device=y.device)
        state[ctx.bin_index] = y.T
        temb = self.time_mlp(time_embedding(t, self.config.time_dim))  # (K, h)
        v0 = ctx.var_static[:, None, :] + self.var_state(state[..., None]) + temb[None, :, :]
        v = v0 = self.var_post(v0)
        if len(self.to_rows):
            c = ctx.rows[:, None, :]
            for to_rows, to_vars in zip(self.to_rows, self.to_vars, strict=True):
                c = to_rows(v, c, ctx.to_rows)
                v = to_vars(c, v, ctx.to_vars)
        vb = torch.cat([v[ctx.bin_index], v0[ctx.bin_index], state[ctx.bin_index, :, None]], -1)
        return self.head(vb).squeeze(-1).T

    def _sample_cpu(self, ctx: SrgContext, y: Tensor, t: Tensor) -> Tensor:
        """``forward`` without autograd on the CPU (sampling): the same values up to float
        rounding, with the elementwise steps in place, the head's input never concatenated (its
        first layer is three products into one buffer) and no copy of the binaries' rows when
        every variable is binary."""
        k, h = y.size(0), self.config.hidden
        n = ctx.num_vars
        every = ctx.bin_index.numel() == n  # every variable is binary (bin_index is sorted)
        if every:
            state = y.T.contiguous()
        else:
            state = torch.zeros(n, k, dtype=y.dtype)
            state[ctx.bin_index] = y.T
        temb = self.time_mlp(time_embedding(t, self.config.time_dim))  # (K, h)
        v0 = ctx.var_static[:, None, :] + temb[None, :, :]
        v0.addcmul_(state[..., None], self.var_state.weight[:, 0])
        norm, post = cast(nn.LayerNorm, self.var_post[0]), cast(nn.Linear, self.var_post[2])
        v0 = _linear(
            post, nn.functional.layer_norm(v0, (h,), norm.weight, norm.bias, norm.eps).relu_()
        )
        v = v0 = v0.relu_()
        if len(self.to_rows):
            c = ctx.rows[:, None, :]
            for to_rows, to_vars in zip(self.to_rows, self.to_vars, strict=True):
                c = to_rows(v, c, ctx.to_rows)
                v = to_vars(c, v, ctx.to_vars)
        if not every:
            v, v0, state = v[ctx.bin_index], v0[ctx.bin_index], state[ctx.bin_index]
        first, last = cast(nn.Linear, self.head[0]), cast(nn.Linear, self.head[2])
        w = first.weight  # (h, 2h + 1) over [v | v0 | state]
        hidden = torch.mm(v.reshape(-1, h), w[:, :h].T)
        hidden.addmm_(v0.reshape(-1, h), w[:, h : 2 * h].T)
        hidden.addcmul_(state.reshape(-1, 1), w[:, 2 * h]).add_(first.bias).relu_()
        return torch.mm(hidden, last.weight.T).add_(last.bias).view(-1, k).T


def srg_loss(logits: Tensor, x0: Tensor) -> Tensor:
    """BCE of the x0 prediction (K, nb) against the clean pool solutions (K, nb) in {0, 1}.

    With x0 drawn by energy weight, its expectation is the energy-weighted denoising loss.
    """
    return nn.functional.binary_cross_entropy_with_logits(logits, x0)
