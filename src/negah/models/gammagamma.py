"""The Gamma-Gamma model of monetary value (Fader & Hardie 2013; Colombo & Jiang 1999).

Each transaction value z ~ Gamma(p, ν) (shape p, rate ν); across customers
ν ~ Gamma(q, γ). For a customer with x repeat transactions of mean value m_x
(Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value", eq. 3):

    ln L = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m_x + px ln x − (px+q) ln(γ + x m_x)

with its analytic gradient. Only customers with x > 0 carry information; ``fit`` drops
the others. The expected mean transaction value of a customer (eq. 5):

    E[M | p, q, γ, m_x, x] = (γ + x m_x) p / (px + q − 1),   (needs q > 1)

a weighted mean of the population mean pγ/(q−1) and the customer's own m_x.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from negah.errors import InputError, ModelError
from negah.models.base import BaseModel, as_float_array, collapse, maximise, wsum

__all__ = ["GammaGamma", "sample"]


def _arrays(frequency: Any, monetary_value: Any, weights: Any = None):
    if hasattr(frequency, "columns"):
        df = frequency
        for c in ("frequency", "monetary_value"):
            if c not in df.columns:
                raise InputError(f"summary table: missing column {c!r} for Gamma-Gamma; received {list(df.columns)}")
        frequency, monetary_value = df["frequency"], df["monetary_value"]
    if monetary_value is None:
        raise InputError("Gamma-Gamma needs frequency and monetary_value")
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise InputError(f"frequency and monetary_value differ in length: {len(x)} and {len(m)}")
    w = np.ones_like(x) if weights is None else as_float_array(weights, "weight")
    return x, m, w


class GammaGamma(BaseModel):
    """Gamma-Gamma model of average transaction value (Fader & Hardie 2013).

    Parameters (after ``fit``): ``p_``, ``q_``, ``gamma_``. Fit on customers with at least
    one repeat purchase and a positive mean repeat-purchase value.
    """

    param_names = ("p", "q", "gamma")
    name = "gammagamma"
    reference = "Fader & Hardie (2013), The Gamma-Gamma Model of Monetary Value"

    def fit(self, frequency: Any, monetary_value: Any = None, *, weights: Any = None) -> "GammaGamma":
        """Fit by maximum likelihood on the customers with frequency > 0.

        Parameters
        ----------
        frequency
            Repeat purchases x, or a DataFrame with ``frequency`` and ``monetary_value``.
        monetary_value
            Mean value of the repeat purchases (m_x); must be > 0 where x > 0.
        """
        x, m, w = _arrays(frequency, monetary_value, weights)
        keep = x > 0
        if not keep.any():
            raise InputError("Gamma-Gamma: no customer has frequency > 0; it needs repeat purchases with values")
        x, m, w = x[keep], m[keep], w[keep]
        bad = m <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"Gamma-Gamma: monetary_value must be > 0 for customers with frequency > 0; "
                f"{int(bad.sum())} customer(s) have {m[i]!r} (drop them or fix the amounts)"
            )
        (ux, um), uw, _ = collapse(x, m, weights=w)
        total = float(uw.sum())
        mean = float(np.average(um, weights=uw))
        var = float(np.average((um - mean) ** 2, weights=uw)) or mean**2
        # moment-style start: p from the spread of means, q a little above 1
        p0 = max(mean**2 / var, 0.5)
        q0 = 3.0
        start = self._theta0({"p": p0, "q": q0, "gamma": mean * (q0 - 1) / p0})

        def negll(theta):
            return _negll(theta, ux, um, uw)

        res = maximise(
            negll,
            start,
            names=self.param_names,
            model="GammaGamma",
            total_weight=total,
            restarts=[np.log([1.0, 1.0, 1.0]), np.log([5.0, 3.0, mean])],
        )
        self._set_result(res, total, len(ux))
        return self

    def expected_spend(self, frequency: Any, monetary_value: Any = None) -> np.ndarray:
        """E[mean transaction value] per customer; the population mean pγ/(q−1) when x = 0."""
        p, q, g = self._p()
        if q <= 1:
            raise ModelError(
                f"GammaGamma: q = {q:.4g} <= 1, so the mean spend is infinite; "
                "the data are too heavy-tailed for this model"
            )
        x, m, _ = _arrays(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return (g + x * m) * p / (p * x + q - 1)

    def population_mean_spend(self) -> float:
        p, q, g = self._p()
        return p * g / (q - 1) if q > 1 else float("inf")

    def log_likelihood(self, frequency: Any, monetary_value: Any = None) -> np.ndarray:
        x, m, _ = _arrays(frequency, monetary_value)
        p, q, g = self._p()
        return _ll_rows(p, q, g, x, m)

    def sample(self, frequency: Any, seed: int = 0):
        return sample(frequency, seed=seed, **self.params_)


def _ll_rows(p, q, g, x, m):
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + x * m)
    )


def _negll(theta, x, m, w):
    p, q, g = np.exp(theta)
    px = p * x
    lgm = np.log(g + x * m)
    ll = wsum(w, _ll_rows(p, q, g, x, m))
    psi = digamma(px + q)
    dp = wsum(w, x * psi - x * digamma(px) + x * np.log(m) + x * np.log(x) - x * lgm)
    dq = wsum(w, psi - digamma(q) + np.log(g) - lgm)
    dg = wsum(w, q / g - (px + q) / (g + x * m))
    return -float(ll), -np.array([dp * p, dq * q, dg * g])


def sample(frequency: Any, *, p: float, q: float, gamma: float, seed: int = 0):
    """Mean transaction values for customers with the given repeat-purchase counts.

    ν ~ Gamma(q, scale 1/γ) per customer; the mean of x values z ~ Gamma(p, rate ν) is
    Gamma(px, rate νx). Returns frequency, monetary_value (0 where x = 0) and nu_.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / gamma, size=len(x))
    pos = x > 0
    m = np.zeros(len(x))
    m[pos] = rng.gamma(p * x[pos], 1.0 / (nu[pos] * x[pos]))
    return pd.DataFrame({"frequency": x, "monetary_value": m, "nu_": nu})
