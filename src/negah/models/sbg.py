"""The shifted-beta-geometric (sBG) model of contractual retention.

Fader & Hardie (2007), "How to Project Customer Retention", Journal of Interactive
Marketing 21(1):76-90. Each customer renews at the end of every period with their own
churn probability θ ~ Beta(α, β); the time of churn T is geometric in θ. Then (eqs. 6-7):

    P(T = t) = B(α+1, β+t−1) / B(α, β),   t = 1, 2, …
    S(t)     = B(α, β+t) / B(α, β)
    r(t)     = S(t)/S(t−1) = (β+t−1)/(α+β+t−1)          (retention rate, rising in t)

Given the number of customers alive at the start of periods 0…k, N_0 … N_k, the
log-likelihood is Σ_{t=1..k} (N_{t−1} − N_t) ln P(T=t) + N_k ln S(k), maximised with the
analytic gradient.

Value (Fader & Hardie 2010, "Customer-Base Valuation in a Contractual Setting: The
Perils of Ignoring Heterogeneity", Marketing Science 29(1):85-93, eqs. 3 and 5):

    DEL(d)        = Σ_{t≥0} S(t) / (1+d)^t = ₂F₁(1, β; α+β; 1/(1+d))
    DERL(d | n)   = (β+n)/(α+β+n) · ₂F₁(1, β+n+1; α+β+n+1; 1/(1+d))

DEL is the discounted expected lifetime of a customer just acquired (the first payment
at t = 0 counts, undiscounted); DERL is the discounted expected *residual* lifetime of a
customer who has made n renewals (is active in period n), valued just before their
next renewal decision: Σ_{t>n} S(t)/S(n) · (1+d)^-(t−n−1), so the payment at that next
renewal is undiscounted and each later one is discounted by one more period
(tests/models check both closed forms against these sums).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma, hyp2f1

from negah.errors import InputError
from negah.models.base import BaseModel, maximise

__all__ = ["ShiftedBetaGeometric", "SBG", "sample"]


def _survivors(survivors: Any) -> list[np.ndarray]:
    """One or more survivor series as float arrays, validated."""
    if isinstance(survivors, str):
        try:
            survivors = [float(v) for v in survivors.replace(" ", "").split(",") if v != ""]
        except ValueError:
            raise InputError(
                f"survivors: expected comma-separated counts like 1000,631,468; received {survivors!r}"
            ) from None
    arr = survivors
    if hasattr(arr, "columns"):
        arr = [np.asarray(arr[c], dtype=float) for c in arr.columns]
    elif isinstance(arr, (list, tuple)) and len(arr) and np.ndim(arr[0]) == 1:  # series of any lengths
        arr = [np.asarray(a, dtype=float) for a in arr]
    elif np.ndim(arr) == 2:
        arr = [np.asarray(a, dtype=float) for a in arr]
    else:
        arr = [np.asarray(arr, dtype=float)]
    out = []
    for k, s in enumerate(arr):
        s = s[~np.isnan(s)]
        name = f"survivors series {k}" if len(arr) > 1 else "survivors"
        if len(s) < 2:
            raise InputError(
                f"{name}: need the counts at the start of at least 2 periods (N0,N1,...); received {s.tolist()}"
            )
        if np.any(s < 0) or np.any(np.diff(s) > 0):
            raise InputError(
                f"{name}: counts must be >= 0 and never increase (customers alive at the start "
                f"of each period); received {s.tolist()}"
            )
        if s[0] <= 0:
            raise InputError(f"{name}: the first count N0 must be > 0; received {s.tolist()}")
        out.append(s)
    return out


class ShiftedBetaGeometric(BaseModel):
    """Shifted-beta-geometric model of contractual retention (Fader & Hardie 2007).

    Parameters (after ``fit``): ``alpha_``, ``beta_`` of the Beta distribution of the
    per-period churn probability θ (mean churn α/(α+β)).
    """

    param_names = ("alpha", "beta")
    name = "sbg"
    reference = "Fader & Hardie (2007), Journal of Interactive Marketing 21(1):76-90"

    def fit(self, survivors: Any) -> "ShiftedBetaGeometric":
        """Fit to customers alive at the start of each period: ``[N0, N1, …, Nk]``.

        Several series (a list of them, or a DataFrame with one column per cohort) are
        fitted jointly with one (α, β); use :meth:`fit_cohorts` for one fit per cohort.
        """
        series = _survivors(survivors)
        churn_t, churn_n, cens_t, cens_n = [], [], [], []
        for s in series:
            lost = -np.diff(s)
            churn_t.append(np.arange(1, len(s)))
            churn_n.append(lost)
            cens_t.append(len(s) - 1)
            cens_n.append(s[-1])
        t = np.concatenate(churn_t).astype(float)
        n = np.concatenate(churn_n)
        ct = np.array(cens_t, dtype=float)
        cn = np.array(cens_n)
        self.survivors_ = [s.tolist() for s in series]
        total = float(sum(s[0] for s in series))

        def negll(theta):
            a, b = np.exp(theta)
            lab = betaln(a, b)
            ll = np.dot(n, betaln(a + 1, b + t - 1) - lab) + np.dot(cn, betaln(a, b + ct) - lab)
            pab = digamma(a + b)
            da = np.dot(n, digamma(a + 1) - digamma(a + b + t) - digamma(a) + pab) + np.dot(
                cn, -digamma(a + b + ct) + pab
            )
            db = np.dot(n, digamma(b + t - 1) - digamma(a + b + t) - digamma(b) + pab) + np.dot(
                cn, digamma(b + ct) - digamma(a + b + ct) - digamma(b) + pab
            )
            return -float(ll), -np.array([da * a, db * b])

        start = self._theta0({"alpha": 1.0, "beta": 1.0})
        res = maximise(
            negll,
            start,
            names=self.param_names,
            model="ShiftedBetaGeometric",
            total_weight=total,
            restarts=[np.log([0.5, 2.0]), np.log([5.0, 5.0])],
        )
        self._set_result(res, total, len(t))
        return self

    @classmethod
    def fit_cohorts(cls, table: Any, **kw: Any):
        """One fit per cohort: ``table`` maps cohort name -> survivor series (dict or DataFrame columns).

        Returns a DataFrame indexed by cohort with alpha, beta, their standard errors,
        log_likelihood and n_customers.
        """
        import pandas as pd

        items = table.items() if hasattr(table, "items") else enumerate(table)
        rows = []
        for name, series in items:
            s = np.asarray(series, dtype=float)
            m = cls(**kw).fit(s[~np.isnan(s)])
            rows.append(
                {
                    "cohort": name,
                    **m.params_,
                    **{f"{k}_se": v for k, v in m.std_errors_.items()},
                    "log_likelihood": m.log_likelihood_,
                    "n_customers": m.n_customers_,
                }
            )
        return pd.DataFrame(rows).set_index("cohort")

    # -- predictions ------------------------------------------------------------------
    def survival(self, t: Any) -> np.ndarray:
        """S(t) = B(α, β+t)/B(α, β): share of a cohort still active at the start of period t."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(a, b + t) - betaln(a, b))

    survival_function = survival

    def retention_rate(self, t: Any) -> np.ndarray:
        """r(t) = (β+t−1)/(α+β+t−1): share of those active in period t−1 who renew into t (t >= 1)."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        return (b + t - 1) / (a + b + t - 1)

    def churn_probability(self, t: Any) -> np.ndarray:
        """P(T = t): share of a new cohort that churns at the end of period t (t >= 1)."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(a + 1, b + t - 1) - betaln(a, b))

    def project(self, horizon: int, n0: float | None = None):
        """Retention curve projection for periods 0…horizon as a DataFrame.

        Columns: period, survival S(t), retention_rate r(t) (NaN at 0) and, with ``n0``
        (default: the first count of the fitted series), expected_alive = n0 · S(t).
        """
        import pandas as pd

        self._check_fitted()
        if n0 is None:
            n0 = self.survivors_[0][0] if getattr(self, "survivors_", None) else 1.0
        t = np.arange(0, int(horizon) + 1, dtype=float)
        rr = np.full(len(t), np.nan)
        rr[1:] = self.retention_rate(t[1:])
        S = self.survival(t)
        return pd.DataFrame({"period": t.astype(int), "survival": S, "retention_rate": rr, "expected_alive": n0 * S})

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL(d) = ₂F₁(1, β; α+β; 1/(1+d)): discounted expected periods paid by a new customer."""
        a, b = self._p()
        _check_rate(discount_rate)
        return float(hyp2f1(1.0, b, a + b, 1.0 / (1.0 + discount_rate)))

    def expected_residual_lifetime(self, renewals: Any, discount_rate: float) -> np.ndarray:
        """DERL(d | n) for a customer who has made ``renewals`` = n renewals (alive in period n)."""
        a, b = self._p()
        _check_rate(discount_rate)
        n = np.asarray(renewals, dtype=float)
        if np.any(n < 0):
            raise InputError("renewals must be >= 0")
        return (b + n) / (a + b + n) * hyp2f1(1.0, b + n + 1, a + b + n + 1, 1.0 / (1.0 + discount_rate))

    def clv(
        self, value_per_period: Any, discount_rate: float, *, renewals: Any = None, margin: float = 1.0
    ) -> np.ndarray:
        """CLV of a subscriber: margin × value per period × DEL (new) or × DERL (after n renewals)."""
        v = np.asarray(value_per_period, dtype=float)
        if renewals is None:
            return margin * v * self.discounted_expected_lifetime(discount_rate)
        return margin * v * self.expected_residual_lifetime(renewals, discount_rate)

    def sample(self, n: int, periods: int, seed: int = 0) -> np.ndarray:
        return sample(n, periods, seed=seed, **self.params_)


def _check_rate(d: float) -> None:
    if not d > 0:
        raise InputError(f"discount_rate must be > 0 for an infinite-horizon value (DEL/DERL); received {d}")


def sample(n: int, periods: int, *, alpha: float, beta: float, seed: int = 0) -> np.ndarray:
    """Simulate a cohort of ``n`` customers: counts alive at the start of periods 0…periods."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, size=n)
    T = rng.geometric(np.clip(theta, 1e-300, 1.0))  # period at whose end the customer churns
    t = np.arange(0, periods + 1)
    return np.array([(T > k).sum() for k in t], dtype=float)


SBG = ShiftedBetaGeometric
