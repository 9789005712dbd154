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

from negah.models.base import PurchaseModel, RFMData

__all__ = ["BGNBD", "sample"]


def bg_family_negll(theta: np.ndarray, d: RFMData, modified: bool) -> tuple[float, np.ndarray]:
    """Total negative log-likelihood of BG/NBD (or MBG/NBD) and its gradient in log-params."""
    r, alpha, a, b = np.exp(theta)
    ux, wx = d.ux, d.wx
    k = 1.0 if modified else 0.0  # MBG: b+x+1 where BG has b+x
    # terms per distinct x
    A1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    A2 = gammaln(a + b) + gammaln(b + ux + k) - gammaln(b) - gammaln(a + b + ux + k)
    x = d.x
    xr = r + x
    la_T = np.log(alpha + d.uT)[d.iT]
    la_tx = np.log(alpha + d.utx)[d.itx]
    A3 = -xr * la_T
    if modified:
        bx = b + x
        A4 = np.log(a) - np.log(bx) - xr * la_tx
        has4 = np.ones(len(x), dtype=bool)
    else:
        has4 = x > 0
        bx = np.where(has4, b + x - 1.0, 1.0)
        A4 = np.where(has4, np.log(a) - np.log(bx) - xr * la_tx, -np.inf)
    lse = np.logaddexp(A3, A4)
    w = d.w
    ll = float(np.dot(wx, A1 + A2) + np.dot(w, lse))
    p3 = np.exp(A3 - lse)
    p4 = np.where(has4, np.exp(A4 - lse), 0.0)
    # gradient (natural scale)
    psi_rx = digamma(r + ux)
    g_r = np.dot(wx, psi_rx - digamma(r) + np.log(alpha)) - np.dot(w, p3 * la_T + p4 * la_tx)
    g_alpha = d.total * r / alpha - np.dot(w, xr * (p3 / (alpha + d.T) + p4 / (alpha + d.tx)))
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + ux + k)
    g_a = np.dot(wx, psi_ab - psi_abx) + np.dot(w, p4) / a
    g_b = np.dot(wx, psi_ab + digamma(b + ux + k) - digamma(b) - psi_abx) - np.dot(w, p4 / bx)
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
    rate = max(float(np.dot(d.w, d.x) / max(np.dot(d.w, d.T), 1e-12)), 1e-6)
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
