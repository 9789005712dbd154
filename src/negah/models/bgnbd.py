"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive, a customer buys at Poisson rate λ ~ Gamma(r, α); after each repeat purchase
they drop out with probability p ~ Beta(a, b). For a customer with x repeat purchases,
the last at t_x, observed until T (equation 6 of the paper):

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + δ(x>0) · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

computed in log space as A1 + A2 + logaddexp(A3, A4), with
A1 = lnΓ(r+x) − lnΓ(r) + r ln α, A2 = ln B(a, b+x) − ln B(a, b),
A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x) (x > 0 only),
and the analytic gradient. Gamma-function terms are evaluated once per distinct x.

The MBG/NBD (Batislam, Denizel & Filiztekin 2007) differs in that a customer may also
drop out right after the first purchase; it shares this code with ``modified=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from negah.models.base import PurchaseModel, RFMData, wsum

__all__ = ["BGNBD", "sample"]


class _BGIndex:
    """Precomputed index arrays of collapsed data for the BG/NBD-family likelihood.

    With z = A4 − A3 = ln a − ln(b + x − 1 + k) + (r + x)·(ln(α+T) − ln(α+t_x))
    (k = 1 for the MBG/NBD), the row term is A3 + softplus(z). The A3 part is summed
    per distinct T (weights W_T and Σ w·x per T), so the only per-row work is z, its
    softplus and its logistic function, on the rows that have an A4 term at all (x > 0
    for the BG/NBD; every row for the MBG/NBD).
    """

    def __init__(self, d: RFMData, modified: bool):
        self.k = 1.0 if modified else 0.0
        pos = np.ones(d.n_rows, dtype=bool) if modified else d.x > 0
        self.WT = np.bincount(d.iT, weights=d.w, minlength=len(d.uT))
        self.WXT = np.bincount(d.iT, weights=d.w * d.x, minlength=len(d.uT))
        self.w = d.w[pos]
        self.x = d.x[pos]
        self.ix = d.ix[pos]
        self.itx = d.itx[pos]
        self.iT = d.iT[pos]
        # b + x − 1 + k per distinct x (ux > 0 whenever it is used for the BG/NBD)
        self.cb = d.ux - 1.0 + self.k


def _bg_index(d: RFMData, modified: bool) -> _BGIndex:
    key = "bg_index_mbg" if modified else "bg_index_bg"
    idx = d.cache.get(key)
    if idx is None:
        idx = d.cache[key] = _BGIndex(d, modified)
    return idx


def bg_family_negll(theta: np.ndarray, d: RFMData, modified: bool) -> tuple[float, np.ndarray]:
    """Total negative log-likelihood of BG/NBD (or MBG/NBD) and its analytic gradient in log-params."""
    r, alpha, a, b = np.exp(theta)
    ux, wx = d.ux, d.wx
    g = _bg_index(d, modified)
    k = g.k
    # terms per distinct x: A1 + A2
    A12 = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
           + gammaln(a + b) + gammaln(b + ux + k) - gammaln(b) - gammaln(a + b + ux + k))
    # A3 summed per distinct T
    laT_u = np.log(alpha + d.uT)
    invT_u = 1.0 / (alpha + d.uT)
    A3sum = -(r * wsum(g.WT, laT_u) + wsum(g.WXT, laT_u))
    # per row with an A4 term: z = c_x + (r + x) D, D = ln(α+T) − ln(α+t_x) >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lbx_u = np.log(b + g.cb)
        c_u = np.log(a) - lbx_u
    D = laT_u[g.iT] - np.log(alpha + d.utx)[g.itx]
    xr = g.x + r
    z = c_u[g.ix] + xr * D
    e = np.exp(-np.abs(z))
    sp = np.maximum(z, 0.0) + np.log1p(e)          # softplus(z) = ln(1 + e^z)
    p = np.where(z >= 0, 1.0, e) / (1.0 + e)        # logistic(z): the share of the "dropped out" term
    wp = g.w * p
    ll = float(wsum(wx, A12) + A3sum + wsum(g.w, sp))
    # gradient (natural scale)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + ux + k)
    E = invT_u[g.iT]
    E = 1.0 / (alpha + d.utx)[g.itx] - E              # 1/(α+t_x) − 1/(α+T) >= 0
    g_r = (wsum(wx, digamma(r + ux)) - d.total * (digamma(r) - np.log(alpha))
           - wsum(g.WT, laT_u) + wsum(wp, D))
    g_alpha = (d.total * r / alpha - r * wsum(g.WT, invT_u) - wsum(g.WXT, invT_u)
               - wsum(wp * xr, E))
    sum_wp = float(wp.sum())
    g_a = wsum(wx, psi_ab - psi_abx) + sum_wp / a
    with np.errstate(divide="ignore"):
        inv_bx_u = 1.0 / (b + g.cb)
    g_b = (wsum(wx, psi_ab + digamma(b + ux + k) - digamma(b) - psi_abx)
           - wsum(np.bincount(g.ix, weights=wp, minlength=len(ux)), np.where(np.isfinite(inv_bx_u), inv_bx_u, 0.0)))
    grad = np.array([g_r, g_alpha, g_a, g_b]) * np.array([r, alpha, a, b])
    return -ll, -grad


def bg_family_loglik_rows(theta, x, tx, T, modified: bool) -> np.ndarray:
    r, alpha, a, b = np.exp(theta)
    k = 1.0 if modified else 0.0
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A2 = gammaln(a + b) + gammaln(b + x + k) - gammaln(b) - gammaln(a + b + x + k)
    A3 = -(r + x) * np.log(alpha + T)
    if modified:
        A4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + tx)
    else:
        A4 = np.where(x > 0, np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) - (r + x) * np.log(alpha + tx), -np.inf)
    return A1 + A2 + np.logaddexp(A3, A4)


def _start_values(d: RFMData) -> dict[str, float]:
    """Method-of-moments-like start: purchase rate from buyers, drop-out from the share of x = 0."""
    rate = max(wsum(d.w, d.x) / max(wsum(d.w, d.T), 1e-12), 1e-6)
    return {"r": 1.0, "alpha": 1.0 / rate, "a": 1.0, "b": 3.0}


class BGNBD(PurchaseModel):
    """Beta-geometric/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    Parameters (after ``fit``): ``r_``, ``alpha_`` (gamma heterogeneity of the purchase
    rate λ, in purchases per time unit) and ``a_``, ``b_`` (beta heterogeneity of the
    drop-out probability p after each purchase).

    Examples
    --------
    >>> m = BGNBD().fit(summary)            # doctest: +SKIP
    >>> m.probability_alive(summary)        # doctest: +SKIP
    """

    param_names = ("r", "alpha", "a", "b")
    name = "bgnbd"
    reference = "Fader, Hardie & Lee (2005), Marketing Science 24(2):275-284"
    alive_when_no_repeat = True
    _modified = False

    def _start(self, d: RFMData) -> dict[str, float]:
        return _start_values(d)

    def _negll(self, theta, d):
        return bg_family_negll(theta, d, self._modified)

    def _loglik_rows(self, theta, x, tx, T):
        return bg_family_loglik_rows(theta, x, tx, T, self._modified)

    def _p_alive(self, x, tx, T):
        r, alpha, a, b = self._p()
        # P(alive) = 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x))   (FHL 2005, eq. 11)
        pos = x > 0
        z = np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(pos, expit(-z), 1.0)

    def _cond_expected(self, t, x, tx, T):
        r, alpha, a, b = self._p()
        # FHL 2005, eq. 10
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - hyp * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return first * second * self._p_alive(x, tx, T)

    def _uncond_expected(self, t):
        r, alpha, a, b = self._p()
        # FHL 2005, eq. 7
        hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)


def sample(n: int, T: Any, *, r: float, alpha: float, a: float, b: float, seed: int = 0,
           modified: bool = False):
    """Simulate ``n`` customers from the BG/NBD (or, ``modified=True``, the MBG/NBD).

    Each customer buys at Poisson rate λ ~ Gamma(r, scale 1/α) while alive and drops out
    after a repeat purchase with probability p ~ Beta(a, b) (MBG/NBD: also right after
    the first purchase). ``T`` (a number or an array of length ``n``) is each customer's
    observation length. Returns a DataFrame with customer_id, frequency, recency, T,
    and the latent ``lambda_``, ``p_`` and ``alive`` (at T).

    Exact and vectorised: with N ~ Poisson(λT) purchase opportunities in (0, T] and
    J ~ Geometric(p) purchases until drop-out, x = min(N, J) and t_x is the x-th order
    statistic of N uniform points on (0, T]: T · Beta(x, N − x + 1).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    TT = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    N = rng.poisson(lam * TT)
    J = rng.geometric(p)  # purchases up to and including the one after which they drop out
    if modified:
        J = J - 1  # may drop out right after the first (trial) purchase
    x = np.minimum(N, J)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = TT[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1)
    alive = N < J
    return pd.DataFrame({"customer_id": np.arange(n), "frequency": x.astype(float), "recency": tx,
                         "T": TT, "lambda_": lam, "p_": p, "alive": alive})
