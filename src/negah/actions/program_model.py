"""A purchase model with a switch, for the effect of a program on being alive at ``as_of``.

Being alive (not yet dropped out) is latent: no comparison of members' and non-members'
purchases shows it without a model of drop-out. This module extends the MBG/NBD
(Batislam, Denizel & Filiztekin 2007; :mod:`negah.models.mbgnbd`) with a *switch*: from
the day a customer joins, their purchase rate λ is multiplied by κ and their drop-out
probability after each purchase p becomes p' = 1 − (1 − p)^θ (θ < 1: members drop out
less; for small p, p' ≈ θp, so θ is close to the odds ratio of dropping out). Everything
else is the MBG/NBD: while alive a customer buys at rate λ ~ Gamma(r, α); after every
purchase, the first included, they drop out with probability p ~ Beta(a, b).

*Fit.* One model on every customer's whole history (first purchase to ``as_of``): the
purchases before joining at rate λ with drop-out p, the purchases after it at κλ with p'
(a join that is itself a purchase is the first treated drop-out). Joining may depend on
the purchases so far (frequent buyers join more): the likelihood conditions on each
customer's own history through λ and p, and a join decided on the observed past is
ignorable for it. With u untreated and n treated drop-out chances (u + n = x + 1),
exposure E(t) = min(t, s) + κ·max(t − s, 0) (s: the join time) and x_t purchases after
the join, the likelihood is closed-form::

    L = Γ(r+x)/Γ(r) α^r κ^{x_t} · [ B(a, b+u+θn) (α+E(T))^{−(r+x)}
        + (B(a, b+u+θn−θ_l) − B(a, b+u+θn)) (α+E(t_x))^{−(r+x)} ] / B(a, b)

(θ_l = θ when the last drop-out chance is treated, else 1), maximised with its exact
gradient (L-BFGS-B on the logs of r, α, a, b, θ, κ).

*Effect on the treated.* For each member, the probability of being alive at ``as_of``
given all their purchases (the model's P(alive)), and the probability had they not
joined given their purchases up to the join day: alive after the join day's purchase
(1 − p), then no drop-out before ``as_of``. Averaged over the members, the difference is
the effect on the treated on being alive at ``as_of`` — what ``negah synth`` reports as
``loyalty.effect_on_treated_alive_at_end``. The integral over p is taken on a grid in
logit p (λ is integrated in closed form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln

NAMES = ("r", "alpha", "a", "b", "theta", "kappa")
_BOUNDS = [(-7.0, 7.0), (-7.0, 12.0), (-7.0, 9.0), (-7.0, 12.0), (-5.0, 3.0), (-4.0, 4.0)]


@dataclass
class Histories:
    """One row per customer (times in days from their first purchase).

    ``x`` repeat purchase days, ``tx`` the last, ``T`` observed length; ``s`` join time
    (``T`` for non-members), ``tl`` the last purchase day up to the join day, ``u`` drop-out
    chances before the join day, ``n`` on or after it (``u + n = x + 1``), ``xt`` purchases
    after the join day, ``at_purchase`` whether the join day is a purchase day, ``member``.
    """

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    s: np.ndarray
    tl: np.ndarray
    u: np.ndarray
    n: np.ndarray
    xt: np.ndarray
    at_purchase: np.ndarray
    member: np.ndarray

    def take(self, idx: np.ndarray) -> "Histories":
        return Histories(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def histories(days: "Any", joined: "Any", as_of: "Any") -> tuple["Any", Histories]:
    """Per-customer histories from ``purchase_days`` rows (``customer_id, day, purchases``).

    ``joined``: a Series customer_id → join day (normalised Timestamps). Returns the
    customer ids (sorted) and their :class:`Histories`; customers first seen on ``as_of``
    (nothing observed after the first purchase) are left out.
    """
    import pandas as pd

    p = days[(days["purchases"] > 0) & (days["day"] <= as_of)][["customer_id", "day"]]
    jd = p["customer_id"].map(joined)
    upto = p["day"].where(p["day"] <= jd)
    g = p.assign(
        before=(p["day"] < jd).astype(int),
        on=(p["day"] == jd).astype(int),
        after=(p["day"] > jd).astype(int),
        upto=upto,
    ).groupby("customer_id", sort=True)
    c = g.agg(
        first=("day", "min"),
        last=("day", "max"),
        k=("day", "size"),
        before=("before", "sum"),
        on=("on", "sum"),
        after=("after", "sum"),
        upto=("upto", "max"),
    )
    j = pd.to_datetime(c.index.to_series().map(joined))
    member = j.notna().values & (j <= as_of).values
    T = (as_of - c["first"]).dt.days.values.astype(float)
    keep = T > 0
    x = c["k"].values - 1.0
    tx = (c["last"] - c["first"]).dt.days.values.astype(float)
    s = np.where(member, np.clip((j - c["first"]).dt.days.values.astype(float), 0.0, None), T)
    u = np.where(member, c["before"].values, c["k"].values).astype(float)
    n = x + 1.0 - u
    xt = np.where(member, c["after"].values, 0).astype(float)
    at = member & (c["on"].values > 0)
    tl = np.where(member, (c["upto"] - c["first"]).dt.days.values.astype(float), tx)
    h = Histories(x, tx, T, np.nan_to_num(s, nan=0.0), np.nan_to_num(tl, nan=0.0), u, n, xt, at, member)
    return c.index.values[keep], h.take(np.flatnonzero(keep))


def _terms(lp: np.ndarray, h: Histories, grad: bool):
    """Per-row log-likelihood terms (alive, dead) and, with ``grad``, their derivatives in lp."""
    r, alpha, a, b, theta, kappa = np.exp(lp)
    x, u, n = h.x, h.u, h.n
    treated_last = n >= 1
    A = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + h.xt * np.log(kappa)
    extra_T = np.maximum(h.T - h.s, 0.0)
    extra_tx = np.maximum(h.tx - h.s, 0.0)
    ET = np.minimum(h.T, h.s) + kappa * extra_T
    Etx = np.minimum(h.tx, h.s) + kappa * extra_tx
    cA = b + u + theta * n
    thl = np.where(treated_last, theta, 1.0)
    cP = cA - thl
    lB0 = betaln(a, b)
    lBA = betaln(a, cA)
    lBP = betaln(a, cP)
    q = np.exp(lBA - lBP)  # B(a, cA) / B(a, cP) < 1
    alive = A - (r + x) * np.log(alpha + ET) + lBA - lB0
    dead = A - (r + x) * np.log(alpha + Etx) + lBP + np.log1p(-q) - lB0
    if not grad:
        return alive, dead, None, None
    m = len(x)
    dal = np.empty((6, m))
    dde = np.empty((6, m))
    common_r = digamma(r + x) - digamma(r) + np.log(alpha)
    dal[0] = r * (common_r - np.log(alpha + ET))
    dde[0] = r * (common_r - np.log(alpha + Etx))
    dal[1] = alpha * (r / alpha - (r + x) / (alpha + ET))
    dde[1] = alpha * (r / alpha - (r + x) / (alpha + Etx))
    dal[5] = kappa * (h.xt / kappa - (r + x) * extra_T / (alpha + ET))
    dde[5] = kappa * (h.xt / kappa - (r + x) * extra_tx / (alpha + Etx))
    psa = digamma(a)
    d0a, d0b = psa - digamma(a + b), digamma(b) - digamma(a + b)
    dAa, dAc = psa - digamma(a + cA), digamma(cA) - digamma(a + cA)
    dPa, dPc = psa - digamma(a + cP), digamma(cP) - digamma(a + cP)
    dal[2] = a * (dAa - d0a)
    dal[3] = b * (dAc - d0b)
    dal[4] = theta * (n * dAc)
    inv = 1.0 / (1.0 - q)
    n_p = np.where(treated_last, n - 1.0, 0.0)  # θ-multiplier of cP
    dde[2] = a * ((dPa - q * dAa) * inv - d0a)
    dde[3] = b * ((dPc - q * dAc) * inv - d0b)
    dde[4] = theta * (n_p * dPc - q * n * dAc) * inv
    return alive, dead, dal, dde


def _negll(lp: np.ndarray, h: Histories, w: np.ndarray, total: float):
    alive, dead, dal, dde = _terms(lp, h, True)
    ll = np.logaddexp(alive, dead)
    pi = expit(alive - dead)
    g = dal * pi + dde * (1.0 - pi)
    # einsum, not a BLAS product: BLAS threads spin-wait on a busy machine (negah.models.base.wsum)
    return -float(np.einsum("i,i->", w, ll)) / total, -np.einsum("ki,i->k", g, w) / total


@dataclass
class SwitchFit:
    """Fitted parameters (``params``: r, alpha, a, b, theta, kappa) and the log-likelihood."""

    params: dict[str, float]
    log_likelihood: float
    converged: bool

    @property
    def lp(self) -> np.ndarray:
        return np.log([self.params[k] for k in NAMES])


def fit(h: Histories, weights: np.ndarray | None = None, start: SwitchFit | None = None) -> SwitchFit:
    """Maximum likelihood (exact gradient, L-BFGS-B on the logs; two starts, the better kept;
    from ``start`` alone when given, e.g. the full-sample fit for a bootstrap resample)."""
    from scipy.optimize import minimize

    from negah.errors import ConvergenceError

    w = np.ones(len(h.x)) if weights is None else np.asarray(weights, dtype=float)
    keep = w > 0
    h, w = h.take(np.flatnonzero(keep)), w[keep]
    total = float(w.sum())
    rate = max(float(w @ h.x) / max(float(w @ h.T), 1e-9), 1e-6)
    starts = [np.log([1.0, 1.0 / rate, 1.0, 3.0, 1.0, 1.0]), np.log([0.5, 0.5 / rate, 0.5, 5.0, 0.6, 1.0])]
    if start is not None:
        starts = [start.lp]
    best = None
    for x0 in starts:
        res = minimize(
            _negll,
            x0,
            args=(h, w, total),
            jac=True,
            method="L-BFGS-B",
            bounds=_BOUNDS,
            options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-8},
        )
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ConvergenceError(
            "program model: the likelihood is not finite at any start; too few "
            "members or non-members with repeat purchases?"
        )
    params = dict(zip(NAMES, np.exp(best.x).tolist()))
    return SwitchFit(params, -float(best.fun) * total, bool(best.success))


def p_alive(f: SwitchFit, h: Histories) -> np.ndarray:
    """P(alive at the end of each row's observation | its purchases)."""
    alive, dead, _, _ = _terms(f.lp, h, False)
    return expit(alive - dead)


def _grid(a: float, b: float, k: int = 121) -> np.ndarray:
    """A grid in logit p spanning the Beta(a, b) prior's 1e-12 .. 1 − 1e-12 quantiles.

    The integrands are smooth in logit p and the posteriors lie within the prior's range,
    so the trapezoid rule on ``k`` equal steps is accurate to about 1e-6 for a wide prior
    (a < 1: steps of ~0.3) and a narrow one alike (a, b in the thousands: steps of ~0.1 SD).
    """
    from scipy.stats import beta as beta_dist

    lo, hi = beta_dist.ppf([1e-12, 1 - 1e-12], a, b)
    zl = np.log(lo) - np.log1p(-lo) if lo > 0 else -40.0
    zh = np.log(hi) - np.log1p(-hi) if hi < 1 else 40.0
    return np.linspace(max(zl, -40.0), min(zh, 40.0), k)


def survival_from_join(f: SwitchFit, h: Histories, treated: bool, chunk: int = 20_000) -> np.ndarray:
    """P(alive at T | purchases up to the join day) for members, joined (``treated``) or not.

    Join day a purchase day: alive after its drop-out chance, then no drop-out in the
    τ = T − s days after (drop-out at rate k·λ·p', k = κ or 1). Otherwise: alive after the
    last purchase before the join and no purchase up to it, then the same. λ ~ its
    posterior Gamma is integrated exactly, p on a grid in logit p under its prior.
    """
    r, alpha, a, b, theta, kappa = (f.params[k] for k in NAMES)
    z = _grid(a, b)
    p = expit(z)
    l1p = -np.logaddexp(0.0, z)  # ln(1 − p)
    lw = a * (z + l1p) + b * l1p  # prior density in z: p^a (1 − p)^b
    lw = lw - np.logaddexp.reduce(lw)
    if treated:
        ls, pk, k = theta * l1p, -np.expm1(theta * l1p), kappa
    else:
        ls, pk, k = l1p, p, 1.0
    out = np.empty(len(h.x))
    for i in range(0, len(h.x), chunk):
        sl = slice(i, i + chunk)
        u, s, tl, at = h.u[sl, None], h.s[sl, None], h.tl[sl, None], h.at_purchase[sl, None]
        rx = r + np.maximum(u - np.where(at, 0.0, 1.0), 0.0)  # r + repeat purchases up to the join day
        tau = np.maximum(h.T[sl, None] - s, 0.0)
        surv = -rx * np.log(alpha + s + k * pk[None, :] * tau)
        num_a = lw + u * l1p + ls + surv
        den_a = lw + u * l1p - rx * np.log(alpha + s)
        num_b = lw + u * l1p + surv
        den_b = lw + (u - 1.0) * l1p + np.logaddexp(l1p - rx * np.log(alpha + s), z + l1p - rx * np.log(alpha + tl))
        num = np.where(at, num_a, num_b)
        den = np.where(at, den_a, den_b)
        out[sl] = np.exp(np.logaddexp.reduce(num, axis=1) - np.logaddexp.reduce(den, axis=1))
    return out
