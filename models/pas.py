"""PaS predictor: bipartite GNN, BipartiteData -> P(x_j = 1) for each binary variable.

Architecture (after Gasse et al. 2019 and Han et al. 2023): variable and constraint features are
embedded to ``hidden`` (64) with LayerNorm; ``rounds`` (2) full rounds of message passing
variable -> constraint -> variable, each message a function of the target, the edge coefficient
and the source, summed over neighbours, LayerNorm on the sum; a sigmoid head on the variables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from models.data import EDGE_INPUTS
from service.pipeline.features import RowFeature, VarFeature


@dataclass(frozen=True)
class PaSConfig:
    """Shape of the network; stored as config.json in the registry."""

    var_dim: int = len(VarFeature)
    row_dim: int = len(RowFeature)
    edge_dim: int = len(EDGE_INPUTS)
    hidden: int = 64
    rounds: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _embed(din: int, h: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(din, h), nn.LayerNorm(h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())


class BipartiteConv(MessagePassing):
    """One half-round: messages from source nodes to target nodes along weighted edges."""

    def __init__(self, hidden: int, edge_dim: int) -> None:
        super().__init__(aggr="sum")
        self.target = nn.Linear(hidden, hidden)
        self.edge = nn.Linear(edge_dim, hidden, bias=False)
        self.source = nn.Linear(hidden, hidden, bias=False)
        self.message_mlp = nn.Sequential(nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.post_norm = nn.LayerNorm(hidden)
        self.update_mlp = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)
        )

    def forward(self, src: Tensor, dst: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """edge_index[0] indexes ``src``, edge_index[1] indexes ``dst``."""
        agg = self.propagate(
            edge_index, x=(src, dst), edge_attr=edge_attr, size=(src.size(0), dst.size(0))
        )
        return self.update_mlp(torch.cat([self.post_norm(agg), dst], dim=-1))

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        return self.message_mlp(self.target(x_i) + self.edge(edge_attr) + self.source(x_j))


class PaSNet(nn.Module):
    """The PaS bipartite GNN; ``forward`` gives one logit per variable."""

    def __init__(self, config: PaSConfig | None = None) -> None:
        super().__init__()
        self.config = config or PaSConfig()
        h = self.config.hidden
        self.var_embed = _embed(self.config.var_dim, h)
        self.row_embed = _embed(self.config.row_dim, h)
        self.to_rows = nn.ModuleList(
            BipartiteConv(h, self.config.edge_dim) for _ in range(self.config.rounds)
        )
        self.to_vars = nn.ModuleList(
            BipartiteConv(h, self.config.edge_dim) for _ in range(self.config.rounds)
        )
        self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))

    def forward(self, data: Any) -> Tensor:
        """Logits (num_vars_in_batch,) for every variable; use ``bin_mask`` to pick binaries."""
        v = self.var_embed(data.x_v)
        c = self.row_embed(data.x_c)
        row_to_var = data.edge_index
        var_to_row = row_to_var.flip(0)
        for to_rows, to_vars in zip(self.to_rows, self.to_vars, strict=True):
            c = to_rows(v, c, var_to_row, data.edge_attr)
            v = to_vars(c, v, row_to_var, data.edge_attr)
        return self.head(v).squeeze(-1)

    @torch.no_grad()
    def predict_proba(self, data: Any) -> Tensor:
        """P(x_j = 1) for the binaries, in variable order (batch order for batches)."""
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self(data)[data.bin_mask])
        finally:
            self.train(was_training)


def pas_loss(logits: Tensor, data: Any, pos_weight: float | None = None) -> Tensor:
    """Weighted BCE on the binaries against the energy-weighted marginals ``data.y``.

    BCE is linear in the target, so BCE against the marginal sum_k w_k x_k equals the
    w-weighted sum of BCEs against each pool solution (the PaS objective). ``pos_weight``
    optionally up-weights the ones (sparse solutions such as set cover).
    """
    mask = data.bin_mask
    pw = None if pos_weight is None else torch.tensor(pos_weight, device=logits.device)
    return nn.functional.binary_cross_entropy_with_logits(logits[mask], data.y[mask], pos_weight=pw)
