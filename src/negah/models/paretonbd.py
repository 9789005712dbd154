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

h depends on (x, τ) only, so it is computed once per distinct (x, t_x) and (x, T) pair.
The ₂F₁(1, b; c; z) factor is summed as its power series together with its derivatives in
b, c and z (:func:`f21_series`), which gives the exact gradient of log h and, by the chain
rule, of the log-likelihood (:func:`_negll_and_grad`); only points where the series would
need more than 5,000 terms fall back to scipy's ``hyp2f1`` and central differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from negah.models.base import PurchaseModel, RFMData, collapse, wsum

__all__ = ["ParetoNBD", "sample", "log_h", "log_h_and_grad", "log_integral", "f21_series"]


def log_h(tau: np.ndarray, x: np.ndarray, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """log h(τ) of the module docstring (so that I = (h(t_x) − h(T)) / (r+s+x)).

    The ₂F₁ factor by its series (:func:`f21_series`), which stays accurate where scipy's
    ``hyp2f1`` gives up (large r + x and s together); scipy's value where the series would
    need more than 5,000 terms.
    """
    tau, x = np.broadcast_arrays(np.asarray(tau, dtype=float), np.asarray(x, dtype=float))
    return log_h_and_grad(tau.reshape(-1), x.reshape(-1), r, alpha, s, beta, grad=False)[0].reshape(tau.shape)


def _log_h_scipy(tau: np.ndarray, x: np.ndarray, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """log h(τ) with scipy's ``hyp2f1`` (the fallback where the series is too long)."""
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


def f21_series(b: np.ndarray, c: np.ndarray, z: np.ndarray, *, tol: float = 1e-17, max_terms: int = 5000):
    """₂F₁(1, b; c; z) and its partial derivatives in b, c and z, from the power series.

    Here 0 < b < c and 0 <= z < 1, so the terms t_k = t_{k−1}·(b+k−1)/(c+k−1)·z are
    positive and their ratios below z: the sum stops once the remaining tail (bounded by
    a geometric series) is below ``tol`` relative to the sum, for the value and for the
    derivatives alike. Derivatives of each term: ∂t_k/∂b = t_k Σ_{j<k} 1/(b+j),
    ∂t_k/∂c = −t_k Σ_{j<k} 1/(c+j), ∂t_k/∂z = k t_k / z. Returns (F, F_b, F_c, F_z, ok);
    ``ok`` is False where ``max_terms`` did not reach the tolerance (z very close to 1).
    """
    m = len(z)
    F = np.ones(m)
    Fb = np.zeros(m)
    Fc = np.zeros(m)
    Fz = np.zeros(m)
    ok = np.zeros(m, dtype=bool)
    act = np.arange(m)
    bb, cc, zz = (np.array(np.broadcast_to(v, (m,)), dtype=np.float64) for v in (b, c, z))
    t = np.ones(m)
    S, Sb, Sc, Sz = np.ones(m), np.zeros(m), np.zeros(m), np.zeros(m)
    hb, hc = np.zeros(m), np.zeros(m)
    geo = 1.0 / (1.0 - zz) ** 2
    for k in range(1, max_terms + 1):
        ratio = (bb + (k - 1)) / (cc + (k - 1))
        Sz += k * t * ratio
        t = t * ratio * zz
        hb += 1.0 / (bb + (k - 1))
        hc += 1.0 / (cc + (k - 1))
        S += t
        Sb += t * hb
        Sc -= t * hc
        # tail of Σ t_j·(poly factor) after k is below t_k·(k+1)·(1 + h)·z/(1−z)² in all four sums
        done = t * (k + 1) * (1.0 + hb + hc) * geo <= tol * S
        if k % 8 == 0 or k == max_terms or done.all():
            if done.any():
                idx = act[done]
                F[idx], Fb[idx], Fc[idx], Fz[idx] = S[done], Sb[done], Sc[done], Sz[done]
                ok[idx] = True
                keep = ~done
                act, bb, cc, zz, t = act[keep], bb[keep], cc[keep], zz[keep], t[keep]
                S, Sb, Sc, Sz, hb, hc, geo = S[keep], Sb[keep], Sc[keep], Sz[keep], hb[keep], hc[keep], geo[keep]
            if len(act) == 0:
                break
    return F, Fb, Fc, Fz, ok


def log_h_and_grad(tau: np.ndarray, x: np.ndarray, r: float, alpha: float, s: float, beta: float, grad: bool = True):
    """log h(τ) (module docstring) and its gradient in (r, α, s, β), shape (4, len(τ)).

    Exact: the ₂F₁ factor and its parameter derivatives come from :func:`f21_series`.
    Where the series does not reach full precision in 5,000 terms (argument within about
    1e-3 of 1, i.e. one of α, β hundreds of times the other) the value falls back to
    scipy's ``hyp2f1`` and the gradient to central differences of it, on those points only.
    """
    rx = r + x
    la = np.log(alpha + tau)
    lb = np.log(beta + tau)
    ia = 1.0 / (alpha + tau)
    ib = 1.0 / (beta + tau)
    G = np.empty((4, len(tau)))
    if alpha >= beta:
        b_, c_ = rx, rx + s + 1.0
        z = (alpha - beta) * ia
        F, Fb, Fc, Fz, ok = f21_series(b_, c_, z)
        lh = -rx * la - s * lb + np.log(F)
        G[0] = -la + (Fb + Fc) / F
        G[1] = -rx * ia + Fz / F * (beta + tau) * ia * ia
        G[2] = -lb + Fc / F
        G[3] = -s * ib - Fz / F * ia
    else:
        b_, c_ = s + 1.0, rx + s + 1.0
        z = (beta - alpha) * ib
        F, Fb, Fc, Fz, ok = f21_series(b_, c_, z)
        lh = (1.0 - rx) * la - (s + 1.0) * lb + np.log(F)
        G[0] = -la + Fc / F
        G[1] = (1.0 - rx) * ia - Fz / F * ib
        G[2] = -lb + (Fb + Fc) / F
        G[3] = -(s + 1.0) * ib + Fz / F * (alpha + tau) * ib * ib
    if not ok.all():
        bad = ~ok
        tb, xb = tau[bad], x[bad]
        p0 = np.array([r, alpha, s, beta])
        lh[bad] = _log_h_scipy(tb, xb, *p0)
        for i in range(4 if grad else 0):
            e = 1e-6 * p0[i]
            up, dn = p0.copy(), p0.copy()
            up[i] += e
            dn[i] -= e
            G[i, bad] = (_log_h_scipy(tb, xb, *up) - _log_h_scipy(tb, xb, *dn)) / (2 * e)
    return lh, G


class _Pairs:
    """Distinct (x, t_x) and (x, T) pairs of collapsed data, for one h() call each."""

    def __init__(self, d: RFMData):
        (self.x1, self.t1), _, self.i1 = collapse(d.x, d.tx)
        (self.x2, self.t2), _, self.i2 = collapse(d.x, d.T)


def _negll_and_grad(theta: np.ndarray, d: RFMData, pairs: _Pairs) -> tuple[float, np.ndarray]:
    """Total negative log-likelihood and its exact gradient in log-parameters."""
    r, alpha, s, beta = np.exp(theta)
    x = d.x
    ux = d.ux
    A0 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    dA0 = np.array(
        [
            wsum(d.wx, digamma(r + ux)) - d.total * (digamma(r) - np.log(alpha)),
            d.total * r / alpha,
            d.total * np.log(beta),
            d.total * s / beta,
        ]
    )
    lh1, G1 = log_h_and_grad(pairs.t1, pairs.x1, r, alpha, s, beta)
    lh2, G2 = log_h_and_grad(pairs.t2, pairs.x2, r, alpha, s, beta)
    h1, h2 = lh1[pairs.i1], lh2[pairs.i2]
    dlt = np.minimum(h2 - h1, 0.0)
    q = np.exp(dlt)  # h(T) / h(t_x) in [0, 1]
    one_q = -np.expm1(dlt)
    n = r + s + x
    with np.errstate(divide="ignore"):
        logI = h1 + np.log(one_q) - np.log(n)
    B = np.log(s) + logI  # log(s · I)
    laT = np.log(alpha + d.uT)[d.iT]
    lbT = np.log(beta + d.uT)[d.iT]
    logS = -(r + x) * laT - s * lbT
    lse = np.logaddexp(logS, B)
    ll = wsum(d.wx, A0) + wsum(d.w, lse)
    pS = np.exp(logS - lse)
    wI = d.w * np.exp(B - lse)  # weight × share of "died in (t_x, T]"
    safe = one_q > 0
    inv1q = np.where(safe, 1.0 / np.where(safe, one_q, 1.0), 0.0)
    wS = d.w * pS
    g = dA0.copy()
    # d log S
    g[0] -= wsum(wS, laT)
    g[1] -= wsum(wS * (r + x), 1.0 / (alpha + d.uT)[d.iT])
    g[2] -= wsum(wS, lbT)
    g[3] -= s * wsum(wS, 1.0 / (beta + d.uT)[d.iT])
    # d log(s I) = (dh1 − q dh2) / (1 − q) − dn/n  (+ 1/s for s)
    wIq = wI * inv1q
    wIqq = wIq * q
    for i in range(4):
        g[i] += wsum(wIq, G1[i][pairs.i1]) - wsum(wIqq, G2[i][pairs.i2])
    winv_n = wsum(wI, 1.0 / n)
    g[0] -= winv_n
    g[2] += wI.sum() / s - winv_n
    return -float(ll), -g * np.array([r, alpha, s, beta])


def _loglik_parts(theta: np.ndarray, d: RFMData, pairs: _Pairs) -> float:
    return -_negll_and_grad(theta, d, pairs)[0]


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
        rate = max(wsum(d.w, d.x) / max(wsum(d.w, d.T), 1e-12), 1e-6)
        return {"r": 1.0, "alpha": 1.0 / rate, "s": 1.0, "beta": float(np.average(d.T, weights=d.w))}

    def _restarts(self) -> list[list[float]]:
        return [[0.5, 10.0, 0.5, 10.0], [1.0, 1.0, 1.0, 1.0]]

    def _negll(self, theta, d):
        pairs = d.cache.get("pnbd_pairs")
        if pairs is None:
            pairs = d.cache["pnbd_pairs"] = _Pairs(d)
        return _negll_and_grad(theta, d, pairs)

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
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": x.astype(float),
            "recency": tx,
            "T": TT,
            "lambda_": lam,
            "mu_": mu,
            "alive": tau > TT,
        }
    )
