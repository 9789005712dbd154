"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys at Poisson rate λ ~ Gamma(r, α); their lifetime is
exponential with rate μ ~ Gamma(s, β). With the notation of Fader & Hardie (2005),
"A Note on Deriving the Pareto/NBD Model and Related Expressions", the likelihood of
(x, t_x, T) is

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s · I ],
    I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ,

(the second term is the chance of dying at τ ∈ (t_x, T]; it equals the paper's
s/(r+s+x) · A0). Writing n = r+s+x, I = (h(t_x) − h(T)) / n with, for α ≥ β,

    h(τ) = (α+τ)^-(r+x) (β+τ)^-s · ₂F₁(1, r+x; n+1; (α−β)/(α+τ)),

and for α < β

    h(τ) = (α+τ)^(1−r−x) (β+τ)^-(s+1) · ₂F₁(1, s+1; n+1; (β−α)/(β+τ)).

These follow from the paper's ₂F₁(n, s+1; n+1; z) (resp. ₂F₁(n, r+x; n+1; z)) by Euler's
transformation, which takes out the factor (1−z)^(c−a−b) that makes the naive form
overflow: the remaining series has positive terms, argument in [0, 1), and is bounded
by n/s (resp. n/(r+x−1) when r+x > 1), so h is evaluated in log space without
overflow, and the difference h(t_x) − h(T) > 0 is taken as
log h(t_x) + log(1 − exp(log h(T) − log h(t_x))). ``tests/models`` checks the result
against direct numerical quadrature of I over extreme parameters.

h depends on (x, τ) only, so it is computed once per distinct (x, t_x) and (x, T) pair;
the gradient is by central differences on those (there is no closed form for the
derivatives of ₂F₁ in its parameters).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from negah.models.base import PurchaseModel, RFMData, collapse

__all__ = ["ParetoNBD", "sample", "log_h", "log_integral"]


def log_h(tau: np.ndarray, x: np.ndarray, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """log h(τ) of the module docstring (so that I = (h(t_x) − h(T)) / (r+s+x))."""
    rx = r + x
    n = rx + s
    la = np.log(alpha + tau)
    lb = np.log(beta + tau)
    if alpha >= beta:
        z = (alpha - beta) / (alpha + tau)
        return -rx * la - s * lb + np.log(hyp2f1(1.0, rx, n + 1.0, z))
    z = (beta - alpha) / (beta + tau)
    return (1.0 - rx) * la - (s + 1.0) * lb + np.log(hyp2f1(1.0, s + 1.0, n + 1.0, z))


def log_integral(x, tx, T, r, alpha, s, beta) -> np.ndarray:
    """log I = log ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ (−inf when t_x = T)."""
    n = r + s + x
    h1 = log_h(tx, x, r, alpha, s, beta)
    h2 = log_h(T, x, r, alpha, s, beta)
    dlt = np.minimum(h2 - h1, 0.0)
    with np.errstate(divide="ignore"):
        return h1 + np.log(-np.expm1(dlt)) - np.log(n)


class _Pairs:
    """Distinct (x, t_x) and (x, T) pairs of collapsed data, for one h() call each."""

    def __init__(self, d: RFMData):
        (self.x1, self.t1), _, self.i1 = collapse(d.x, d.tx)
        (self.x2, self.t2), _, self.i2 = collapse(d.x, d.T)


def _loglik_parts(theta: np.ndarray, d: RFMData, pairs: _Pairs) -> float:
    r, alpha, s, beta = np.exp(theta)
    x = d.x
    A0 = gammaln(r + d.ux) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    h1 = log_h(pairs.t1, pairs.x1, r, alpha, s, beta)[pairs.i1]
    h2 = log_h(pairs.t2, pairs.x2, r, alpha, s, beta)[pairs.i2]
    dlt = np.minimum(h2 - h1, 0.0)
    with np.errstate(divide="ignore"):
        logI = h1 + np.log(-np.expm1(dlt)) - np.log(r + s + x)
    logS = -(r + x) * np.log(alpha + d.uT)[d.iT] - s * np.log(beta + d.uT)[d.iT]
    ll = np.dot(d.wx, A0) + np.dot(d.w, np.logaddexp(logS, np.log(s) + logI))
    return float(ll)


class ParetoNBD(PurchaseModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note).

    Parameters (after ``fit``): ``r_``, ``alpha_`` (gamma heterogeneity of the purchase
    rate) and ``s_``, ``beta_`` (gamma heterogeneity of the drop-out rate μ). s and β
    are often weakly identified separately (their ratio s/β, the mean drop-out rate, is
    well determined): look at ``summary``'s standard errors.
    """

    param_names = ("r", "alpha", "s", "beta")
    name = "paretonbd"
    reference = "Schmittlein, Morrison & Colombo (1987); Fader & Hardie (2005) note 008"
    alive_when_no_repeat = False

    def _start(self, d: RFMData) -> dict[str, float]:
        rate = max(float(np.dot(d.w, d.x) / max(np.dot(d.w, d.T), 1e-12)), 1e-6)
        return {"r": 1.0, "alpha": 1.0 / rate, "s": 1.0, "beta": float(np.average(d.T, weights=d.w))}

    def _restarts(self) -> list[list[float]]:
        return [[0.5, 10.0, 0.5, 10.0], [1.0, 1.0, 1.0, 1.0]]

    def _negll(self, theta, d):
        pairs = getattr(d, "_pnbd_pairs", None)
        if pairs is None:
            pairs = d._pnbd_pairs = _Pairs(d)
        f0 = -_loglik_parts(theta, d, pairs)
        g = np.empty(len(theta))
        h = 1e-6
        for i in range(len(theta)):
            e = np.zeros(len(theta))
            e[i] = h
            g[i] = (-_loglik_parts(theta + e, d, pairs) + _loglik_parts(theta - e, d, pairs)) / (2 * h)
        return f0, g

    def _loglik_rows(self, theta, x, tx, T):
        r, alpha, s, beta = np.exp(theta)
        A0 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        logS = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        return A0 + np.logaddexp(logS, np.log(s) + log_integral(x, tx, T, r, alpha, s, beta))

    def _p_alive(self, x, tx, T):
        r, alpha, s, beta = self._p()
        # P(alive) = S / (S + s I), the share of the likelihood from "alive at T"
        logS = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        logI = log_integral(x, tx, T, r, alpha, s, beta)
        return expit(logS - np.log(s) - logI)

    def _cond_expected(self, t, x, tx, T):
        r, alpha, s, beta = self._p()
        # E[X(T, T+t) | ...] = (r+x)(β+T) / ((α+T)(s−1)) [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)
        # written with expm1/log1p so that s -> 1 is the continuous limit (β+T) log(1 + t/(β+T))
        L = np.log1p(t / (beta + T))
        if abs(s - 1.0) < 1e-10:
            factor = L
        else:
            factor = -np.expm1(-(s - 1.0) * L) / (s - 1.0)
        return (r + x) * (beta + T) / (alpha + T) * factor * self._p_alive(x, tx, T)

    def _uncond_expected(self, t):
        r, alpha, s, beta = self._p()
        L = np.log1p(t / beta)
        factor = L if abs(s - 1.0) < 1e-10 else -np.expm1(-(s - 1.0) * L) / (s - 1.0)
        return r * beta / alpha * factor


def sample(n: int, T: Any, *, r: float, alpha: float, s: float, beta: float, seed: int = 0):
    """Simulate ``n`` customers from the Pareto/NBD.

    λ ~ Gamma(r, scale 1/α), μ ~ Gamma(s, scale 1/β), lifetime τ ~ Exponential(μ);
    x ~ Poisson(λ · min(τ, T)) and t_x = min(τ, T) · U^(1/x) (the largest of x uniform
    purchase times). Returns customer_id, frequency, recency, T, lambda_, mu_, alive.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    TT = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    tau = rng.exponential(1.0 / np.maximum(mu, 1e-300))
    span = np.minimum(tau, TT)
    x = rng.poisson(lam * span)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = span[pos] * rng.random(int(pos.sum())) ** (1.0 / x[pos])
    return pd.DataFrame({"customer_id": np.arange(n), "frequency": x.astype(float), "recency": tx,
                         "T": TT, "lambda_": lam, "mu_": mu, "alive": tau > TT})
