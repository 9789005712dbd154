"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive, a customer buys at Poisson rate λ ~ Gamma(r, α); after each repeat purchase
they drop out with probability p ~ Beta(a, b). For a customer with x repeat purchases,
the last at t_x, observed until T (equation 6 of the paper):

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + δ(x>0) · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

computed in log space as A1 + A2 + logaddexp(A3, A4), with
A1 = lnΓ(r+x) − lnΓ(r) + r ln α, A2 = ln B(a, b+x) − ln B(a, b),
A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x) (x > 0 only),
and the exact gradient and Hessian (Newton steps in a trust region; standard errors from
the exact Hessian). Gamma-function terms are evaluated once per distinct x. Where the
maximum lies on the boundary a, b → ∞ the fixed-drop-out-probability limit is reported
(:class:`BGNBD`, :func:`boundary_score`).

The MBG/NBD (Batislam, Denizel & Filiztekin 2007) differs in that a customer may also
drop out right after the first purchase; it shares this code with ``modified=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1, zeta

from negah.errors import BoundaryWarning, ConvergenceError
from negah.models.base import FitResult, PurchaseModel, RFMData, wsum

__all__ = ["BGNBD", "sample"]


class _BGIndex:
    """Precomputed index arrays of collapsed data for the BG/NBD-family likelihood.

    With z = A4 − A3 = c_x + (r + x)·(ln(α+T) − ln(α+t_x)), c_x = ln a − ln(b + x − 1 + k)
    (k = 1 for the MBG/NBD), the row term is A3 + softplus(z). The A3 part is summed
    per distinct T (weights W_T and Σ w·x per T), so the only per-row work is z, its
    softplus and its logistic function, on the rows that have an A4 term at all (x > 0
    for the BG/NBD; every row for the MBG/NBD). Sums per distinct x of those rows (for
    the drop-out parameters, which enter through c_x only) are taken by ``reduceat``
    over runs of equal x (collapsed rows are sorted by x).
    """

    def __init__(self, d: RFMData, modified: bool):
        self.k = 1.0 if modified else 0.0
        pos = np.ones(d.n_rows, dtype=bool) if modified else d.x > 0
        self.WT = np.bincount(d.iT, weights=d.w, minlength=len(d.uT))
        self.WXT = np.bincount(d.iT, weights=d.w * d.x, minlength=len(d.uT))
        self.w = d.w[pos]
        self.x = d.x[pos]
        ix = d.ix[pos]
        self.itx = d.itx[pos]
        self.iT = d.iT[pos]
        if len(ix) == 0:
            ix = np.zeros(0, dtype=np.int64)
        if len(ix) > 1 and np.any(ix[1:] < ix[:-1]):  # not sorted by x: sort once
            order = np.argsort(ix, kind="stable")
            self.w, self.x, ix, self.itx, self.iT = (v[order] for v in (self.w, self.x, ix, self.itx, self.iT))
        self.starts = np.flatnonzero(np.r_[True, ix[1:] != ix[:-1]]) if len(ix) else np.zeros(0, dtype=np.int64)
        self.gx = d.ux[ix[self.starts]]  # x of each run
        self.ig = np.repeat(np.arange(len(self.starts)), np.diff(np.r_[self.starts, len(ix)]))  # run of each row

    def per_x(self, v: np.ndarray) -> np.ndarray:
        """Sums of a per-row array over each run of equal x."""
        return np.add.reduceat(v, self.starts) if len(v) else np.zeros(0)


def _bg_index(d: RFMData, modified: bool) -> _BGIndex:
    key = "bg_index_mbg" if modified else "bg_index_bg"
    idx = d.cache.get(key)
    if idx is None:
        idx = d.cache[key] = _BGIndex(d, modified)
    return idx


def _dropout_terms(phi: np.ndarray, ux: np.ndarray, gx: np.ndarray, k: float, limit: bool, order: int):
    """The drop-out part of the likelihood per distinct x, and its derivatives in φ.

    Returns (A2 per ux, c per gx, dA2 (m × ux), dc (m × gx), d2A2 (m × m × ux),
    d2c (m × m × gx)), the derivatives None below ``order``. φ = (ln a, ln b), or in the
    limit a, b → ∞ with a/(a+b) = p fixed, φ = (logit p,): then
    B(a, b+x+k)/B(a, b) → (1−p)^(x+k) and c_x → ln p − ln(1−p).
    """
    if limit:
        t = float(phi[0])
        p = expit(t)
        l1mp = -np.logaddexp(0.0, t)  # ln(1 − p)
        xk = ux + k
        A2 = xk * l1mp
        c = np.full(len(gx), t)
        if order == 0:
            return A2, c, None, None, None, None
        dA2 = (-xk * p)[None]
        dc = np.ones((1, len(gx)))
        d2A2 = (-xk * p * (1.0 - p))[None, None] if order >= 2 else None
        d2c = np.zeros((1, 1, len(gx))) if order >= 2 else None
        return A2, c, dA2, dc, d2A2, d2c
    a, b = np.exp(phi)
    ab = a + b
    A2 = gammaln(ab) + gammaln(b + ux + k) - gammaln(b) - gammaln(ab + ux + k)
    bx = b + gx - 1.0 + k  # > 0: x >= 1 for the BG/NBD
    c = np.log(a) - np.log(bx)
    if order == 0:
        return A2, c, None, None, None, None
    da = digamma(ab) - digamma(ab + ux + k)
    db = da + digamma(b + ux + k) - digamma(b)
    dA2 = np.array([a * da, b * db])
    beta_x = b / bx
    dc = np.array([np.ones(len(gx)), -beta_x])
    if order < 2:
        return A2, c, dA2, dc, None, None
    ta = zeta(2.0, ab) - zeta(2.0, ab + ux + k)  # trigamma differences
    tb = ta + zeta(2.0, b + ux + k) - zeta(2.0, b)
    d2A2 = np.array([[a * a * ta + a * da, a * b * ta], [a * b * ta, b * b * tb + b * db]])
    zero = np.zeros(len(gx))
    d2c = np.array([[zero, zero], [zero, -beta_x * (1.0 - beta_x)]])
    return A2, c, dA2, dc, d2A2, d2c


def bg_family_negll(theta: np.ndarray, d: RFMData, modified: bool, order: int = 1, limit: bool = False):
    """Total negative log-likelihood of BG/NBD (or MBG/NBD), with derivatives in θ.

    θ = (ln r, ln α, ln a, ln b), or with ``limit`` (a, b → ∞, a fixed drop-out
    probability p) θ = (ln r, ln α, logit p). ``order`` 0 gives the value, 1 (value,
    gradient), 2 (value, gradient, Hessian) — all exact: with u = ∂z/∂θ per row and
    π = logistic(z), the row term softplus(z) contributes π u to the gradient and
    π(1−π) u uᵀ + π ∂²z/∂θ² to the Hessian.
    """
    theta = np.asarray(theta, dtype=float)
    r, alpha = np.exp(theta[:2])
    ux, wx = d.ux, d.wx
    g = _bg_index(d, modified)
    A2, c, dA2, dc, d2A2, d2c = _dropout_terms(theta[2:], ux, g.gx, g.k, limit, order)
    A1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    # A3 summed per distinct T
    laT_u = np.log(alpha + d.uT)
    RW = r * g.WT + g.WXT  # Σ w (r + x) per distinct T
    A3sum = -wsum(RW, laT_u)
    # per row with an A4 term: z = c_x + (r + x) D, D = ln(α+T) − ln(α+t_x) >= 0
    D = laT_u[g.iT] - np.log(alpha + d.utx)[g.itx]
    xr = g.x + r
    z = c[g.ig] + xr * D
    e = np.exp(-np.abs(z))
    sp = np.maximum(z, 0.0) + np.log1p(e)  # softplus(z) = ln(1 + e^z)
    ll = float(wsum(wx, A1 + A2) + A3sum + wsum(g.w, sp))
    if order == 0:
        return -ll
    inv1e = 1.0 / (1.0 + e)
    p = np.where(z >= 0, 1.0, e) * inv1e  # logistic(z): the share of the "dropped out" term
    wp = g.w * p
    iaT_u = 1.0 / (alpha + d.uT)
    iaT = iaT_u[g.iT]
    iatx = 1.0 / (alpha + d.utx)[g.itx]
    E = iatx - iaT  # 1/(α+t_x) − 1/(α+T) >= 0
    u1 = r * D  # ∂z/∂ln r
    u2 = -alpha * xr * E  # ∂z/∂ln α
    m = len(theta)
    grad = np.empty(m)
    psi_rx = digamma(r + ux)
    dA1r = r * (psi_rx - digamma(r) + np.log(alpha))
    grad[0] = wsum(wx, dA1r) - r * wsum(g.WT, laT_u) + wsum(wp, u1)
    grad[1] = r * d.total - alpha * wsum(RW, iaT_u) + wsum(wp, u2)
    P = g.per_x(wp)
    grad[2:] = dA2 @ wx + dc @ P
    if order == 1:
        return -ll, -grad
    q = e * inv1e * inv1e  # π(1 − π), stable for large |z|
    wq = g.w * q
    wqu1 = wq * u1
    wqu2 = wq * u2
    H = np.empty((m, m))
    H[0, 0] = (
        grad[0] - wsum(wp, u1) + r * r * wsum(wx, zeta(2.0, r + ux) - zeta(2.0, r)) + wsum(wqu1, u1) + wsum(wp, u1)
    )
    H[0, 1] = r * d.total - r * alpha * wsum(g.WT, iaT_u) + wsum(wqu1, u2) - r * alpha * wsum(wp, E)
    H[1, 1] = (
        -alpha * wsum(RW, iaT_u)
        + alpha * alpha * wsum(RW, iaT_u * iaT_u)
        + wsum(wqu2, u2)
        + wsum(wp, u2)
        + alpha * alpha * wsum(wp * xr, E * (iatx + iaT))
    )
    H[1, 0] = H[0, 1]
    Q = g.per_x(wq)
    H[0, 2:] = H[2:, 0] = dc @ g.per_x(wqu1)
    H[1, 2:] = H[2:, 1] = dc @ g.per_x(wqu2)
    H[2:, 2:] = d2A2 @ wx + (dc * Q) @ dc.T + d2c @ P
    return -ll, -grad, -H


def bg_family_loglik_rows(theta, x, tx, T, modified: bool, limit: bool = False) -> np.ndarray:
    """Per-row log-likelihood; θ as in :func:`bg_family_negll`."""
    theta = np.asarray(theta, dtype=float)
    r, alpha = np.exp(theta[:2])
    k = 1.0 if modified else 0.0
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A3 = -(r + x) * np.log(alpha + T)
    pos = np.ones(len(x), dtype=bool) if modified else x > 0
    if limit:
        A2 = -(x + k) * np.logaddexp(0.0, theta[2])
        c = np.full(len(x), theta[2])
    else:
        a, b = np.exp(theta[2:])
        A2 = gammaln(a + b) + gammaln(b + x + k) - gammaln(b) - gammaln(a + b + x + k)
        c = np.log(a) - np.log(np.where(pos, b + x - 1 + k, 1.0))
    A4 = np.where(pos, c - (r + x) * np.log(alpha + tx), -np.inf)
    return A1 + A2 + np.logaddexp(A3, A4)


def boundary_score(theta: np.ndarray, d: RFMData, modified: bool) -> float:
    """∂ log L / ∂κ at κ = 0 in the limit model θ = (ln r, ln α, logit p).

    With the beta distribution of p written as mean p = a/(a+b) and κ = 1/(a+b), κ = 0 is
    the boundary a, b → ∞. Per row (m = x + k purchases that may end the life),
    ∂ ln B(a, b+m)/B(a, b) / ∂κ = m(m−1)/2 · p/(1−p) and
    ∂ ln B(a+1, b+m−1)/B(a, b) / ∂κ = (m−1)(m−2)/(2(1−p)) − m(m−1)/2 at κ = 0, mixed by
    the share π of the "dropped out" term. A score <= 0 at the limit model's maximum
    means that no interior point (finite a, b) nearby does better: the maximum is on
    the boundary (Karush–Kuhn–Tucker).
    """
    r, alpha = np.exp(theta[:2])
    p = expit(theta[2])
    g = _bg_index(d, modified)
    D = np.log(alpha + d.uT)[g.iT] - np.log(alpha + d.utx)[g.itx]
    pi = expit(theta[2] + (g.x + r) * D)
    m = g.x + g.k
    s1 = m * (m - 1.0) / 2.0 * p / (1.0 - p)
    s2 = (m - 1.0) * (m - 2.0) / (2.0 * (1.0 - p)) - m * (m - 1.0) / 2.0
    return float(wsum(g.w, (1.0 - pi) * s1 + pi * s2))


def _start_values(d: RFMData) -> dict[str, float]:
    """Method-of-moments-like start: purchase rate from buyers, drop-out from the share of x = 0."""
    rate = max(wsum(d.w, d.x) / max(wsum(d.w, d.T), 1e-12), 1e-6)
    return {"r": 1.0, "alpha": 1.0 / rate, "a": 1.0, "b": 3.0}


def _logit_params(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(r, α, p) from θ = (ln r, ln α, logit p), and their derivatives in θ."""
    r, alpha = np.exp(theta[:2])
    p = expit(theta[2])
    return np.array([r, alpha, p]), np.array([r, alpha, p * (1.0 - p)])


class BGNBD(PurchaseModel):
    """Beta-geometric/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    Parameters (after ``fit``): ``r_``, ``alpha_`` (gamma heterogeneity of the purchase
    rate λ, in purchases per time unit) and ``a_``, ``b_`` (beta heterogeneity of the
    drop-out probability p after each purchase).

    Fitted by Newton steps in a trust region with the exact gradient and Hessian; the
    standard errors come from that Hessian.

    **Boundary.** On some data the likelihood keeps rising as a, b → ∞ with a/(a+b)
    fixed: every customer has the same drop-out probability p. Then ``fit`` reports that
    limiting model instead of failing: ``a_`` and ``b_`` are ``inf``, ``p_`` is the
    fixed drop-out probability (with its standard error), ``boundary_`` says so (also in
    ``summary`` and ``to_dict()``), a :class:`negah.errors.BoundaryWarning` is issued,
    and every prediction uses the limit's closed forms. ``boundary_`` is None otherwise.

    Examples
    --------
    >>> m = BGNBD().fit(summary)            # doctest: +SKIP
    >>> m.probability_alive(summary)        # doctest: +SKIP
    """

    param_names = ("r", "alpha", "a", "b")
    name = "bgnbd"
    reference = "Fader, Hardie & Lee (2005), Marketing Science 24(2):275-284"
    alive_when_no_repeat = True
    has_hessian = True
    _modified = False
    #: a fit with a + b above this is checked against the boundary a, b → ∞
    boundary_check_above = 1e4

    def _start(self, d: RFMData) -> dict[str, float]:
        return _start_values(d)

    def _negll(self, theta, d):
        return bg_family_negll(theta, d, self._modified)

    def _negll_hess(self, theta, d):
        return bg_family_negll(theta, d, self._modified, order=2)

    def _fit_data(self, d: RFMData) -> FitResult:
        """The interior maximum, or the boundary a, b → ∞ where the maximum lies there.

        A fit that fails or ends with a + b above ``boundary_check_above`` is checked: the
        limiting model (r, α, p) is fitted, and its score in κ = 1/(a+b) decides
        (:func:`boundary_score`; comparing log-likelihoods would not do, as gamma-function
        differences at a + b ~ 1e7 carry rounding errors larger than the difference).
        """
        try:
            res, err = super()._fit_data(d), None
        except ConvergenceError as e:
            res, err = None, e
        if res is not None and res.params[2] + res.params[3] <= self.boundary_check_above:
            return res
        lim = self._fit_limit(d, res)
        if lim is None:
            if err is not None:
                raise err
            return res
        score = boundary_score(lim.theta, d, self._modified)
        if score > 0:
            # an interior maximum exists (the likelihood rises into finite a, b)
            if res is not None:
                return res
            r, alpha, p = lim.params
            try:
                return self._ml(d, np.log([r, alpha, 1e3 * p, 1e3 * (1.0 - p)]), [], subsample=False)
            except ConvergenceError:
                pass
        return self._boundary_result(lim, score)

    def _fit_limit(self, d: RFMData, res: FitResult | None) -> FitResult | None:
        """Fit the limit a, b → ∞ (θ = ln r, ln α, logit p); None when that fails too."""
        if res is not None:
            r, alpha, a, b = res.params
            start = np.array([np.log(r), np.log(alpha), np.log(a) - np.log(b)])
        else:
            s0 = _start_values(d)
            start = np.array([np.log(s0["r"]), np.log(s0["alpha"]), np.log(0.3 / 0.7)])
        restarts = [np.array([0.0, 0.0, 0.0]), np.array([np.log(0.5), np.log(5.0), -1.0])]
        mod = self._modified
        try:
            return self._ml(
                d,
                start,
                restarts,
                names=("r", "alpha", "p"),
                to_params=_logit_params,
                negll=lambda th, dd: bg_family_negll(th, dd, mod, order=1, limit=True),
                hessian=lambda th, dd: bg_family_negll(th, dd, mod, order=2, limit=True),
            )
        except ConvergenceError:
            return None

    def _boundary_result(self, lim: FitResult, score: float) -> FitResult:
        import warnings

        r, alpha, p = lim.params
        msg = (
            f"{type(self).__name__}: the likelihood is highest at the boundary a, b -> infinity "
            f"(no heterogeneity in the drop-out probability): every customer drops out after a "
            f"purchase with the same probability p = a/(a+b) = {p:.4g}. Reported: that limiting "
            f"model (a and b are inf; r, alpha and p with standard errors; log-likelihood "
            f"{lim.log_likelihood:.2f}); predictions use its closed forms."
        )
        if score > 0:  # the interior fit failed although the likelihood rises into finite a, b
            msg += (
                " The likelihood rises very slightly into finite a, b, but no interior maximum "
                "was found: the heterogeneity of p is not identified by these data."
            )
        warnings.warn(msg, BoundaryWarning, stacklevel=4)
        se = lim.std_errors
        inf = float("inf")
        return FitResult(
            theta=lim.theta,
            params=np.array([r, alpha, inf, inf]),
            log_likelihood=lim.log_likelihood,
            std_errors=np.array([se[0], se[1], np.nan, np.nan]),
            covariance=lim.covariance,
            converged=lim.converged,
            iterations=lim.iterations,
            message=lim.message,
            boundary={"params": {"p": float(p)}, "std_errors": {"p": float(se[2])}, "message": msg, "score": score},
        )

    def _boundary_note(self, name: str) -> str:
        return "fixed drop-out probability a/(a+b)" if name == "p" else "-> infinity (boundary)"

    def _theta_hat(self) -> np.ndarray:
        if self._at_boundary:
            r, alpha, p = self.params_["r"], self.params_["alpha"], self.params_["p"]
            return np.array([np.log(r), np.log(alpha), np.log(p) - np.log1p(-p)])
        return super()._theta_hat()

    def _loglik_rows(self, theta, x, tx, T):
        return bg_family_loglik_rows(theta, x, tx, T, self._modified, limit=self._at_boundary)

    def _log_odds(self, x: np.ndarray) -> np.ndarray:
        """ln of the odds factor a/(b + x − 1 + k) of P(alive) (ln p/(1−p) at the boundary)."""
        if self._at_boundary:
            p = self.params_["p"]
            return np.full(np.shape(x), np.log(p) - np.log1p(-p))
        _, _, a, b = self._p()
        k = 1.0 if self._modified else 0.0
        pos = (x >= 0) if self._modified else (x > 0)
        return np.log(a) - np.log(np.where(pos, b + x - 1 + k, 1.0))

    @property
    def _at_boundary(self) -> bool:
        return bool(getattr(self, "boundary_", None))

    def _p_alive(self, x, tx, T):
        r, alpha, _, _ = self._p()
        # P(alive) = 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x))   (FHL 2005, eq. 11)
        z = self._log_odds(x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return expit(-z) if self._modified else np.where(x > 0, expit(-z), 1.0)

    def _cond_expected(self, t, x, tx, T):
        r, alpha, a, b = self._p()
        if self._at_boundary:
            # limit of eq. 10 as a, b -> inf: (1/p) [1 - ((α+T)/(α+T+pt))^(r+x)] P(alive)
            p = self.params_["p"]
            first = 1.0 / p
            second = -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T)))
            return first * second * self._p_alive(x, tx, T)
        k = 1.0 if self._modified else 0.0
        # FHL 2005, eq. 10 (MBG/NBD: Batislam et al. 2007, with b + 1)
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x + k, a + b + x - 1 + k, z)
        first = (a + b + x - 1 + k) / (a - 1)
        second = 1 - hyp * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return first * second * self._p_alive(x, tx, T)

    def _uncond_expected(self, t):
        r, alpha, a, b = self._p()
        if self._at_boundary:
            p = self.params_["p"]
            share = (1.0 - p) if self._modified else 1.0  # MBG/NBD: may drop out at the first purchase
            return share / p * -np.expm1(-r * np.log1p(p * t / alpha))
        if self._modified:
            hyp = hyp2f1(r, b + 1, a + b, t / (alpha + t))
            return b / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)
        # FHL 2005, eq. 7
        hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)


def sample(
    n: int,
    T: Any,
    *,
    r: float,
    alpha: float,
    a: float | None = None,
    b: float | None = None,
    seed: int = 0,
    modified: bool = False,
    p: float | None = None,
):
    """Simulate ``n`` customers from the BG/NBD (or, ``modified=True``, the MBG/NBD).

    Each customer buys at Poisson rate λ ~ Gamma(r, scale 1/α) while alive and drops out
    after a repeat purchase with probability p ~ Beta(a, b) (MBG/NBD: also right after
    the first purchase); with ``p`` given instead, every customer has that drop-out
    probability (the limit a, b → ∞). ``T`` (a number or an array of length ``n``) is each customer's
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
    if p is not None:
        p = np.full(n, float(p))
    elif a is None or b is None:
        raise ValueError("give a and b (beta-distributed drop-out probability) or p (a fixed one)")
    else:
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
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": x.astype(float),
            "recency": tx,
            "T": TT,
            "lambda_": lam,
            "p_": p,
            "alive": alive,
        }
    )
