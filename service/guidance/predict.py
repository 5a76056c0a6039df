"""Predict stage (PaS): (BipartiteGraph, loaded model) -> Prediction, P(x_j = 1) per binary.

The model is loaded once by the caller (``mipguide.models.registry.load_model(ref,
settings.model_dir, settings.device)``); this stage only moves the graph to the model's device
and runs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mipguide.features import BipartiteGraph
from mipguide.models.data import graph_to_data
from mipguide.models.pas import PaSNet
from mipguide.models.registry import LoadedModel, ModelError


@dataclass(frozen=True, eq=False)
class Prediction:
    """Attributes:
    probs: (num_binaries,) float64 P(x_j = 1), in the order of ``binary_index``.
    binary_index: (num_binaries,) variable indices of the binaries.
    model: ``name@version`` of the model that predicted.
    device: where it ran.
    seconds: inference time.
    """

    probs: np.ndarray
    binary_index: np.ndarray
    model: str
    device: str
    seconds: float


def pas_network(loaded: LoadedModel) -> PaSNet:
    """The loaded model's network, which must be a PaS predictor.

    Raises:
        ModelError: it is another kind of model (e.g. an SRG score model).
    """
    if not isinstance(loaded.model, PaSNet):
        kind = loaded.config.get("kind")
        raise ModelError(f"model {loaded.ref} is a {kind} model; mode pas needs a pas model")
    return loaded.model


def predict(graph: BipartiteGraph, loaded: LoadedModel) -> Prediction:
    """Run the PaS network on one graph.

    Raises:
        ModelError: the model is not a PaS predictor (e.g. an SRG score model).
    """
    t0 = time.perf_counter()
    net = pas_network(loaded)
    data = graph_to_data(graph).to(loaded.device)
    probs = net.predict_proba(data).double().cpu().numpy()
    return Prediction(
        probs=probs,
        binary_index=np.flatnonzero(graph.binary_mask),
        model=str(loaded.ref),
        device=str(loaded.device),
        seconds=time.perf_counter() - t0,
    )
