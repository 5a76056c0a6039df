"""Sample stage (SRG): (graph, guidance rows, score model, params, seed) -> K candidates.

The reverse VP-SDE (``mipguide.models.sde``) is run for K states at once, from y_1 ~ N(0, I) to y_0,
with ``steps`` ancestral steps on a uniform time grid. Each step:

1. the network predicts the clean state y0_hat from (graph, y_t, t) (one forward for all K);
2. with guidance, the rounding x^ = [y0_hat > 0] of the denoised estimate is scored on the
   normalized problem
   (``mipguide.guidance.rows``): lambda <- max(0, lambda + rho h(x^)) with h the signed row
   residual (projected subgradient ascent on the dual, one multiplier per row and candidate),
   and
   y0_hat <- clip(y0_hat - eta grad_y L(x^, lambda), -1, 1) with
   grad_y L = 1/2 (objective * c~ + A'^T (lambda * s)), s = +1 above / -1 below the row's bounds.
   This is the score gaining -eta(t) grad_y L with eta(t) = eta alpha(t) / sigma(t)^2 (the
   reverse drift gets -beta(t) eta(t) grad_y L). The rows are scored at the rounding, the
   point a candidate would be, not at the fractional estimate (which satisfies a covering row
   with many small values that all round to 0); the gradient is the straight-through one (the
   rows are linear: only which rows are violated depends on the point), and it is taken
   through the rows only, not through the network (whose Jacobian is treated as the
   identity): one sparse product per step instead of a backward pass;
3. the ancestral step to the next time with the (guided) y0_hat.

The last step lands on y0_hat itself; candidates are its signs (x = 1 where y > 0). Same code on
CPU and CUDA (the model's device); the noise comes from a ``torch.Generator`` seeded by ``seed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from mipguide.features import BipartiteGraph
from mipguide.guidance.params import SamplingParams
from mipguide.guidance.rows import GuidanceRows
from mipguide.models.data import graph_to_data
from mipguide.models.registry import LoadedModel, ModelError
from mipguide.models.sde import ancestral_step
from mipguide.models.srg import SrgContext, SrgNet, sparse_matrix


@dataclass(frozen=True, eq=False)
class Samples:
    """K candidates for the binaries.

    Attributes:
        x: (K, nb) float64 0/1, the rounded candidates (order of ``binary_index``).
        probs: (K, nb) float64 in [0, 1], the final soft estimates (x = probs > 0.5).
        binary_index: (nb,) variable indices of the binaries.
        lambdas: (K, m') final multipliers of the guidance rows (zeros without guidance).
        lambda_min: the smallest multiplier seen during sampling (>= 0 by construction).
        model, device: what ran where.
        seconds: sampling time (network and guidance).
        seed: the sampling seed.
        steps: reverse steps run (fewer than asked when the budget was short or sampling
            was stopped).
    """

    x: np.ndarray
    probs: np.ndarray
    binary_index: np.ndarray
    lambdas: np.ndarray
    lambda_min: float
    model: str
    device: str
    seconds: float
    seed: int
    steps: int = 0

    @property
    def k(self) -> int:
        return int(self.x.shape[0])


class _Rows:
    """The guidance rows as tensors on the device."""

    def __init__(
        self, rows: GuidanceRows, device: torch.device, rho: float, aggregate_rho: float
    ) -> None:
        a = rows.A.tocoo()
        index = torch.from_numpy(np.vstack([a.row, a.col]).astype(np.int64)).to(device)
        values = torch.from_numpy(a.data.astype(np.float32)).to(device)
        m, nb = rows.A.shape
        self.A = sparse_matrix(index, values, (m, nb))
        self.At = sparse_matrix(index.flip(0), values, (nb, m))
        self.lower = torch.as_tensor(rows.lower, dtype=torch.float32, device=device)
        self.upper = torch.as_tensor(rows.upper, dtype=torch.float32, device=device)
        self.c = torch.as_tensor(rows.c, dtype=torch.float32, device=device)
        self.m = m
        # the step of each row's multiplier: an aggregate row's (rows == -1) has its own
        step = np.where(rows.rows == -1, aggregate_rho, rho)
        self.rho = torch.as_tensor(step, dtype=torch.float32, device=device)

    def step(self, x: Tensor, lam: Tensor, objective: float) -> tuple[Tensor, Tensor]:
        """(new lambda, grad_x L at x with the new lambda) for x (K, nb), lambda (K, m').

        The multiplier update is the projected subgradient step of the dual: lambda grows on a
        violated row and shrinks on a slack one (h_i(x) = max(l_i - a_i x, a_i x - u_i) is the
        signed residual), by the row's step (``rho``, or ``aggregate_rho`` on an aggregate
        row), and is projected on lambda >= 0.
        """
        if self.m == 0:
            return lam, (objective * self.c).expand_as(x)
        ax = (self.A @ x.T).T
        below = self.lower - ax  # -inf where the row has no lower bound
        above = ax - self.upper
        residual = torch.maximum(below, above)
        lam = torch.clamp(lam + self.rho * residual, min=0.0)
        side = (above > 0).float() - (below > 0).float()
        grad = objective * self.c + (self.At @ (lam * side).T).T
        return lam, grad


def score_model(loaded: LoadedModel) -> SrgNet:
    """The loaded model's network, which must be an SRG score model.

    Raises:
        ModelError: it is another kind of model (e.g. a PaS predictor).
    """
    if not isinstance(loaded.model, SrgNet):
        kind = loaded.config.get("kind")
        raise ModelError(f"model {loaded.ref} is a {kind} model; mode srg needs an srg model")
    return loaded.model


@torch.no_grad()
def sample_candidates(
    graph: BipartiteGraph,
    rows: GuidanceRows | Callable[[], GuidanceRows],
    loaded: LoadedModel,
    params: SamplingParams,
    seed: int,
    budget: float | None = None,
    on_first: Callable[[np.ndarray], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Samples:
    """Sample ``params.k`` candidates with the reverse SDE (see module docstring).

    Args:
        graph: the problem's graph (``build_graph``).
        rows: its guidance rows (``guidance_rows``), used when ``params.guidance``; or a
            function that builds them, called once after the first step (and ``on_first``),
            so that the first estimate does not wait for rows that take long to build (the
            aggregate rows' LP). Its time counts in ``budget``.
        loaded: an SRG model (``kind = srg``), on its device.
        params: k, steps, guidance, eta, rho, aggregate_rho, objective (``seed`` and
            ``share`` are the caller's: see ``seed`` and ``budget``).
        seed: seed of the noise (same seed, same device and threads: same candidates).
        budget: seconds the sampling may take, or None. The first step (at t = 1, the same in
            every grid) is timed, and when ``params.steps`` steps would not fit, the grid gets
            as many as fit (at least one): big graphs get fewer, coarser steps rather than
            eating the solve's time.
        on_first: called after the first step with the mean of the K first estimates as
            (nb,) probabilities: the network's one-step guess of the clean state from pure
            noise, available long before the last step (SRG's first incumbent comes from it).
            Its time counts in ``budget``.
        stop: polled after the first estimate and before each step (a cooperative
            interrupt): once it is true no more steps run (nor ``rows``' builder), and the
            candidates are the last estimate of the clean state; ``steps`` says how many ran.

    Raises:
        ModelError: not an SRG model.
    """
    t0 = time.perf_counter()
    net = score_model(loaded)
    net.eval()
    dev = loaded.device
    bidx = np.flatnonzero(graph.binary_mask)
    k, nb = params.k, int(bidx.size)
    guide = params.guidance and params.eta > 0
    g_rows = None
    lam = torch.zeros(k, 0, device=dev)
    lam_min = float("inf")
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    y = torch.randn(k, nb, generator=gen, device=dev)
    steps = params.steps
    if nb:
        ctx = net.context(graph_to_data(graph).to(dev))
        t_step = time.perf_counter()
        y0_first = _first_step(net, ctx, y, on_first)
        step_seconds = time.perf_counter() - t_step
        if guide and not (stop is not None and stop()):  # (a stop: no rows to build)
            built = rows() if callable(rows) else rows
            g_rows = _Rows(built, dev, params.rho, params.aggregate_rho)
            lam = torch.zeros(k, g_rows.m, device=dev)
        steps = _steps_that_fit(steps, t0, budget, step_seconds)
        times = torch.linspace(1.0, 0.0, steps + 1, device=dev)
        y0 = y0_first
        for i in range(steps):
            if stop is not None and stop():
                y, steps = y0, i  # the last estimate of the clean state stands for the end
                break
            t, s = times[i], times[i + 1]
            if i:
                y0 = torch.tanh(0.5 * net(ctx, y, t.expand(k)))
            if g_rows is not None:
                lam, grad = g_rows.step((y0 > 0).float(), lam, params.objective)
                lam_min = min(lam_min, float(lam.min())) if lam.numel() else lam_min
                y0 = torch.clamp(y0 - params.eta * 0.5 * grad, -1.0, 1.0)
            last = i == steps - 1
            noise = None if last else torch.randn(k, nb, generator=gen, device=dev)
            y = ancestral_step(y, y0, t, s, noise)
    return _samples(y, lam, lam_min, bidx, loaded, seed, steps, time.perf_counter() - t0)


def _first_step(
    net: SrgNet,
    ctx: SrgContext,
    y: torch.Tensor,
    on_first: Callable[[np.ndarray], None] | None,
) -> torch.Tensor:
    """The first estimate (at t = 1), reported to ``on_first`` (whose time counts as the
    step's)."""
    y0_first = torch.tanh(0.5 * net(ctx, y, torch.ones(y.shape[0], device=y.device)))
    if on_first is not None:
        mean = y0_first.mean(dim=0).double().cpu().numpy()
        on_first(np.clip(0.5 * (mean + 1.0), 0.0, 1.0))
    return y0_first


def _steps_that_fit(steps: int, t0: float, budget: float | None, step_seconds: float) -> int:
    """As many of ``steps`` as fit in what is left of ``budget`` (from ``t0``) at
    ``step_seconds`` each, at least one."""
    if budget is None:
        return steps
    fit = int((budget - (time.perf_counter() - t0)) / max(step_seconds, 1e-9))
    return max(1, min(steps, fit))


def _samples(
    y: torch.Tensor,
    lam: torch.Tensor,
    lam_min: float,
    bidx: np.ndarray,
    loaded: LoadedModel,
    seed: int,
    steps: int,
    seconds: float,
) -> Samples:
    final = y.double().cpu().numpy()
    return Samples(
        x=(final > 0).astype(np.float64),
        probs=np.clip(0.5 * (final + 1.0), 0.0, 1.0),
        binary_index=bidx,
        lambdas=lam.double().cpu().numpy(),
        lambda_min=lam_min if np.isfinite(lam_min) else 0.0,
        model=str(loaded.ref),
        device=str(loaded.device),
        seconds=seconds,
        seed=int(seed),
        steps=steps,
    )
