"""Tensors for the graph networks: BipartiteGraph (+ labels) -> BipartiteData, batched by PyG.

``BipartiteData`` keeps variable and constraint nodes apart (``x_v``, ``x_c``); when graphs are
batched, ``edge_index`` row 0 is offset by the constraint count and row 1 by the variable count,
so one batch is one big disconnected bipartite graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from service.features import BipartiteGraph, EdgeFeature

# Edge inputs of the networks: the row-normalized coefficient (scale-free, in [-1, 1]).
EDGE_INPUTS: tuple[EdgeFeature, ...] = (EdgeFeature.COEF_NORM,)


class BipartiteData(Data):  # type: ignore[misc]
    """One variable-constraint graph: x_v (n, Fv), x_c (m, Fr), edge_index (2, E) (row, var),
    edge_attr (E, Fe), bin_mask (n,) bool, and optionally y (n,) float targets (0 off binaries)."""

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "edge_index":
            return torch.tensor([[self.x_c.size(0)], [self.x_v.size(0)]])
        return super().__inc__(key, value, *args, **kwargs)

    def __cat_dim__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "edge_index":
            return 1
        return super().__cat_dim__(key, value, *args, **kwargs)


def graph_to_data(graph: BipartiteGraph, labels: np.ndarray | None = None) -> BipartiteData:
    """Convert a graph (and the labels of its binaries, in variable order) to tensors.

    Args:
        graph: from ``build_graph``.
        labels: (num_binaries,) targets in [0, 1] for the binaries, or None.
    """
    mask = torch.from_numpy(graph.binary_mask.copy())
    data = BipartiteData(
        x_v=torch.from_numpy(graph.var_features.copy()),
        x_c=torch.from_numpy(graph.row_features.copy()),
        edge_index=torch.from_numpy(graph.edge_index.copy()),
        edge_attr=torch.from_numpy(graph.edge_attr[:, list(EDGE_INPUTS)].copy()),
        bin_mask=mask,
        num_nodes=graph.num_vars,
    )
    if labels is not None:
        y = torch.zeros(graph.num_vars, dtype=torch.float32)
        lab = torch.as_tensor(np.asarray(labels, dtype=np.float32))
        if lab.shape != (int(mask.sum()),):
            raise ValueError(f"labels have shape {tuple(lab.shape)}, expected ({int(mask.sum())},)")
        y[mask] = lab
        data.y = y
    return data


def collate(items: list[BipartiteData]) -> Batch:
    """Batch several graphs into one (node and edge offsets applied)."""
    return Batch.from_data_list(items)
