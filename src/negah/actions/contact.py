"""How to reach each customer: the channel, hour and weekday with the best response in
their own contact history, shrunk toward the population when they have few contacts.

Empirical Bayes (beta-binomial): for channel c the population response rate μ_c and a
prior strength κ_c (method of moments over customers: the between-customer variance of
the rates is μ(1−μ)/(κ+1)) give each customer the posterior mean

    rate(customer, c) = (responses + κ_c μ_c) / (contacts + κ_c),

so a customer with two contacts gets close to the population rate and one with fifty gets
close to their own. Hours are pooled with their neighbours (a Gaussian kernel of
``hour_bandwidth`` hours) before the same shrinkage; weekdays are shrunk without pooling.
A contact counts as a response when its ``outcome`` is in ``positive`` (case-insensitive);
contacts without an outcome are skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from negah.actions._data import opened, table_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

POSITIVE = ("answered", "opened", "replied", "responded", "clicked", "converted", "read", "yes", "success",
            "accepted", "true", "1")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _kappa(s: "Any", n: "Any", mu: float, lo: float = 1.0, hi: float = 200.0) -> float:
    """Method-of-moments prior strength of a beta-binomial from per-customer (s, n)."""
    import numpy as np

    ok = n >= 2
    if ok.sum() < 5 or mu <= 0 or mu >= 1:
        return 10.0
    s, n = s[ok], n[ok]
    r = s / n
    w = n / n.sum()
    var = float(np.sum(w * (r - mu) ** 2))
    # E[var of observed rates] = mu(1-mu)[1/(k+1) + E(1/n) k/(k+1)]  -> solve for rho = 1/(k+1)
    inv_n = float(np.sum(w / n))
    base = mu * (1 - mu)
    rho = (var / base - inv_n) / (1 - inv_n) if inv_n < 1 else 0.0
    if rho <= 0:
        return hi
    return float(np.clip(1 / rho - 1, lo, hi))


def contact_plan(source: Any, *, positive: Iterable[str] = POSITIVE, hour_bandwidth: float = 1.5,
                 min_contacts: int = 0, contacts: "pd.DataFrame | None" = None) -> "pd.DataFrame":
    """Per customer: the best channel, hour and weekday, with shrunk response rates.

    Returns columns ``customer_id``, ``contacts``, ``responses``, ``best_channel``,
    ``channel_rate`` (shrunk), ``channel_contacts`` (the customer's contacts on it),
    ``second_channel``, ``best_hour``, ``hour_rate``, ``best_weekday``, ``weekday_rate``,
    ``confidence`` (``low`` under 5 contacts, ``medium`` under 15, else ``high``),
    sorted by customer_id.
    """
    import numpy as np
    import pandas as pd

    if contacts is None:
        with opened(source) as store:
            contacts = table_frame(store, "contacts", what="contact-plan")
    c = contacts.copy()
    c["customer_id"] = c["customer_id"].astype(str)
    pos = {p.strip().lower() for p in positive}
    if "outcome" in c.columns:
        c = c[c["outcome"].notna()]
        c["y"] = c["outcome"].astype(str).str.strip().str.lower().isin(pos).astype(float)
    else:
        raise_missing = True
        from negah.errors import InputError

        if raise_missing:
            raise InputError("contacts: no outcome column; contact-plan needs outcome (answered / no_response / ...)")
    c["channel"] = c["channel"].astype(str).str.strip().str.lower()
    ts = pd.to_datetime(c["contacted_at"])
    c["hour"] = ts.dt.hour
    c["wd"] = ts.dt.weekday
    if c.empty:
        return pd.DataFrame(columns=["customer_id", "contacts", "responses", "best_channel", "channel_rate",
                                     "channel_contacts", "second_channel", "best_hour", "hour_rate",
                                     "best_weekday", "weekday_rate", "confidence"])
    codes, ids = pd.factorize(c["customer_id"], sort=True)
    ncu = len(ids)
    chans = sorted(c["channel"].unique())
    ch = pd.Categorical(c["channel"], categories=chans).codes
    y = c["y"].values
    # channel
    S = np.zeros((ncu, len(chans)))
    N = np.zeros((ncu, len(chans)))
    np.add.at(S, (codes, ch), y)
    np.add.at(N, (codes, ch), 1.0)
    R = np.zeros_like(S)
    for j in range(len(chans)):
        mu = S[:, j].sum() / max(N[:, j].sum(), 1)
        k = _kappa(S[:, j], N[:, j], mu)
        R[:, j] = (S[:, j] + k * mu) / (N[:, j] + k)
    order = np.argsort(-R, axis=1, kind="stable")
    best = order[:, 0]
    second = order[:, 1] if len(chans) > 1 else order[:, 0]
    # hours (kernel-pooled)
    Sh = np.zeros((ncu, 24))
    Nh = np.zeros((ncu, 24))
    np.add.at(Sh, (codes, c["hour"].values), y)
    np.add.at(Nh, (codes, c["hour"].values), 1.0)
    hrs = np.arange(24)
    K = np.exp(-((hrs[:, None] - hrs[None, :]) ** 2) / (2 * hour_bandwidth ** 2))
    Sk, Nk = Sh @ K, Nh @ K
    used = Nh.sum(axis=0) > 0
    mu_h = Sk.sum(axis=0) / np.maximum(Nk.sum(axis=0), 1e-12)
    Rh = np.full_like(Sk, -1.0)
    for h in np.flatnonzero(used):
        k = _kappa(Sk[:, h], Nk[:, h], mu_h[h])
        Rh[:, h] = (Sk[:, h] + k * mu_h[h]) / (Nk[:, h] + k)
    bh = np.argmax(Rh, axis=1)
    # weekdays
    Sw = np.zeros((ncu, 7))
    Nw = np.zeros((ncu, 7))
    np.add.at(Sw, (codes, c["wd"].values), y)
    np.add.at(Nw, (codes, c["wd"].values), 1.0)
    Rw = np.full_like(Sw, -1.0)
    for d in np.flatnonzero(Nw.sum(axis=0) > 0):
        mu = Sw[:, d].sum() / Nw[:, d].sum()
        k = _kappa(Sw[:, d], Nw[:, d], mu)
        Rw[:, d] = (Sw[:, d] + k * mu) / (Nw[:, d] + k)
    bw = np.argmax(Rw, axis=1)
    n = N.sum(axis=1)
    rows = np.arange(ncu)
    out = pd.DataFrame({
        "customer_id": ids.astype(str),
        "contacts": n.astype(int),
        "responses": S.sum(axis=1).astype(int),
        "best_channel": np.array(chans, dtype=object)[best],
        "channel_rate": R[rows, best],
        "channel_contacts": N[rows, best].astype(int),
        "second_channel": np.array(chans, dtype=object)[second],
        "best_hour": bh.astype(int),
        "hour_rate": Rh[rows, bh],
        "best_weekday": np.array(WEEKDAYS, dtype=object)[bw],
        "weekday_rate": Rw[rows, bw],
        "confidence": np.where(n < 5, "low", np.where(n < 15, "medium", "high")),
    })
    if min_contacts:
        out = out[out["contacts"] >= min_contacts]
    return out.reset_index(drop=True)
