"""The VP-SDE of SRG: dy = -1/2 beta(t) y dt + sqrt(beta(t)) dW on t in [0, 1], beta linear.

Closed forms: alpha(t) = exp(-1/2 int_0^t beta), sigma(t)^2 = 1 - alpha(t)^2, so that
y_t = alpha(t) y_0 + sigma(t) z. With a network that predicts y_0 (x0-parametrization), the
score is (alpha(t) y0_hat - y_t) / sigma(t)^2.

Sampling discretizes the reverse SDE with the ancestral (DDPM posterior) step: for s < t,
y_s ~ N(m, v) with m = (alpha_ts sigma_s^2 y_t + alpha_s sigma_ts^2 y0_hat) / sigma_t^2 and
v = sigma_ts^2 sigma_s^2 / sigma_t^2 (alpha_ts = alpha_t / alpha_s, sigma_ts^2 = sigma_t^2 -
alpha_ts^2 sigma_s^2). It is exact when y0_hat is, and stays stable near t = 0 where the
Euler-Maruyama step overshoots (its drift coefficient beta dt / sigma^2 exceeds 2 there).
"""

from __future__ import annotations

import torch
from torch import Tensor

BETA_MIN = 0.1
BETA_MAX = 20.0
T_MIN = 1e-3  # training times are drawn from [T_MIN, 1]


def beta(t: Tensor) -> Tensor:
    return BETA_MIN + (BETA_MAX - BETA_MIN) * t


def alpha(t: Tensor) -> Tensor:
    """Signal rate exp(-1/2 int_0^t beta)."""
    integral = BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t
    return torch.exp(-0.5 * integral)


def sigma2(t: Tensor) -> Tensor:
    """Noise variance 1 - alpha(t)^2 (computed with expm1 for accuracy near 0)."""
    integral = BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t
    return -torch.expm1(-integral)


def noised(y0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
    """y_t = alpha(t) y0 + sigma(t) noise; t broadcasts over the last dimension of y0."""
    return alpha(t)[..., None] * y0 + sigma2(t).sqrt()[..., None] * noise


def score(y: Tensor, y0_hat: Tensor, t: Tensor) -> Tensor:
    """The score implied by a y0 prediction: (alpha(t) y0_hat - y) / sigma(t)^2."""
    return (alpha(t) * y0_hat - y) / sigma2(t)


def guidance_shift(t: Tensor) -> Tensor:
    """sigma(t)^2 / alpha(t): how far y0 moves when the score gains -grad L (see sampler)."""
    return sigma2(t) / alpha(t)


def ancestral_step(y: Tensor, y0_hat: Tensor, t: Tensor, s: Tensor, noise: Tensor | None) -> Tensor:
    """One reverse step from time t to s < t (s = 0 returns y0_hat)."""
    a_t, a_s = alpha(t), alpha(s)
    v_t, v_s = sigma2(t), sigma2(s)
    a_ts = a_t / a_s
    v_ts = v_t - a_ts * a_ts * v_s
    mean = (a_ts * v_s / v_t) * y + (a_s * v_ts / v_t) * y0_hat
    if noise is None or float(s) <= 0.0:
        return mean
    return mean + torch.sqrt(v_ts * v_s / v_t) * noise
