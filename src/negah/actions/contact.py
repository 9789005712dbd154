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

POSITIVE = (
    "answered",
    "opened",
    "replied",
    "responded",
    "clicked",
    "converted",
    "read",
    "yes",
    "success",
    "accepted",
    "true",
    "1",
)
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


def _cells(t: Any, positive: Iterable[str]) -> Any:
    """Ibis expression: contacts with an outcome counted per (customer, channel, hour,
    weekday): ``n`` contacts and ``s`` responses. Text clean-up and the hour/weekday come
    from the engine, so only small integer cells leave it."""
    import ibis

    from negah.errors import InputError

    for col in ("customer_id", "contacted_at", "channel"):
        if col not in t.columns:
            raise InputError(f"contacts: missing column {col!r}; received {list(t.columns)}")
    if "outcome" not in t.columns:
        raise InputError("contacts: no outcome column; contact-plan needs outcome (answered / no_response / ...)")
    pos = sorted({p.strip().lower() for p in positive})
    t = t.filter(t.outcome.notnull())
    ts = t.contacted_at.cast("timestamp")
    r = t.select(
        customer_id=t.customer_id.cast("string"),
        channel=t.channel.cast("string").strip().lower(),
        hour=ts.hour().cast("int64"),
        wd=ts.day_of_week.index().cast("int64"),
        y=ibis.ifelse(t.outcome.cast("string").strip().lower().isin(pos), 1, 0),
    )
    return r.group_by(["customer_id", "channel", "hour", "wd"]).aggregate(n=r.count(), s=r.y.sum())


def contact_plan(
    source: Any,
    *,
    positive: Iterable[str] = POSITIVE,
    hour_bandwidth: float = 1.5,
    min_contacts: int = 0,
    contacts: "pd.DataFrame | None" = None,
    parts: Iterable[str] = ("channel", "hour", "weekday"),
) -> "pd.DataFrame":
    """Per customer: the best channel, hour and weekday, with shrunk response rates.

    Returns columns ``customer_id``, ``contacts``, ``responses``, ``best_channel``,
    ``channel_rate`` (shrunk), ``channel_contacts`` (the customer's contacts on it),
    ``second_channel``, ``best_hour``, ``hour_rate``, ``best_weekday``, ``weekday_rate``,
    ``confidence`` (``low`` under 5 contacts, ``medium`` under 15, else ``high``),
    sorted by customer_id. ``contacts``: a frame to use instead of the store's table;
    ``parts``: leave out ``hour`` and/or ``weekday`` when only the channel is needed.
    """
    import ibis
    import numpy as np
    import pandas as pd

    if contacts is None:
        with opened(source) as store:
            t = store.table("contacts")
            if t is None:
                table_frame(store, "contacts", what="contact-plan")  # raises the missing-table error
            c = store.execute(_cells(t, positive))
    else:
        c = _cells(ibis.memtable(contacts), positive).to_pandas()
    parts = set(parts)
    if c.empty:
        return pd.DataFrame(
            columns=[
                "customer_id",
                "contacts",
                "responses",
                "best_channel",
                "channel_rate",
                "channel_contacts",
                "second_channel",
                "best_hour",
                "hour_rate",
                "best_weekday",
                "weekday_rate",
                "confidence",
            ]
        )
    c["customer_id"] = c["customer_id"].astype(str)
    c["channel"] = c["channel"].fillna("").astype(str)
    w = c["n"].to_numpy(dtype=float)
    y = c["s"].to_numpy(dtype=float)
    codes, ids = pd.factorize(c["customer_id"], sort=True)
    ncu = len(ids)
    rows = np.arange(ncu)

    def table(col: Any, width: int, weights: Any) -> Any:
        return np.bincount(codes * width + col, weights=weights, minlength=ncu * width).reshape(ncu, width)

    out = {"customer_id": ids.astype(str)}
    # channel
    chans = sorted(c["channel"].unique())
    ch = pd.Categorical(c["channel"], categories=chans).codes.astype(np.int64)
    S, N = table(ch, len(chans), y), table(ch, len(chans), w)
    R = np.zeros_like(S)
    for j in range(len(chans)):
        mu = S[:, j].sum() / max(N[:, j].sum(), 1)
        k = _kappa(S[:, j], N[:, j], mu)
        R[:, j] = (S[:, j] + k * mu) / (N[:, j] + k)
    order = np.argsort(-R, axis=1, kind="stable")
    best = order[:, 0]
    second = order[:, 1] if len(chans) > 1 else order[:, 0]
    n = N.sum(axis=1)
    out.update(
        {
            "contacts": n.astype(int),
            "responses": S.sum(axis=1).astype(int),
            "best_channel": np.array(chans, dtype=object)[best],
            "channel_rate": R[rows, best],
            "channel_contacts": N[rows, best].astype(int),
            "second_channel": np.array(chans, dtype=object)[second],
        }
    )
    if "hour" in parts:  # kernel-pooled hours
        hour = c["hour"].to_numpy(dtype=np.int64)
        Sh, Nh = table(hour, 24, y), table(hour, 24, w)
        hrs = np.arange(24)
        K = np.exp(-((hrs[:, None] - hrs[None, :]) ** 2) / (2 * hour_bandwidth**2))
        Sk, Nk = Sh @ K, Nh @ K
        used = Nh.sum(axis=0) > 0
        mu_h = Sk.sum(axis=0) / np.maximum(Nk.sum(axis=0), 1e-12)
        Rh = np.full_like(Sk, -1.0)
        for h in np.flatnonzero(used):
            k = _kappa(Sk[:, h], Nk[:, h], mu_h[h])
            Rh[:, h] = (Sk[:, h] + k * mu_h[h]) / (Nk[:, h] + k)
        bh = np.argmax(Rh, axis=1)
        out.update({"best_hour": bh.astype(int), "hour_rate": Rh[rows, bh]})
    if "weekday" in parts:
        wd = c["wd"].to_numpy(dtype=np.int64)
        Sw, Nw = table(wd, 7, y), table(wd, 7, w)
        Rw = np.full_like(Sw, -1.0)
        for d in np.flatnonzero(Nw.sum(axis=0) > 0):
            mu = Sw[:, d].sum() / Nw[:, d].sum()
            k = _kappa(Sw[:, d], Nw[:, d], mu)
            Rw[:, d] = (Sw[:, d] + k * mu) / (Nw[:, d] + k)
        bw = np.argmax(Rw, axis=1)
        out.update({"best_weekday": np.array(WEEKDAYS, dtype=object)[bw], "weekday_rate": Rw[rows, bw]})
    out["confidence"] = np.where(n < 5, "low", np.where(n < 15, "medium", "high"))
    res = pd.DataFrame(out)
    if min_contacts:
        res = res[res["contacts"] >= min_contacts]
    return res.reset_index(drop=True)


def plan_summary(plan: "pd.DataFrame") -> "pd.DataFrame":
    """Customers per best channel: ``best_channel, customers, share, channel_rate`` (mean
    shrunk rate), ``high``, ``medium`` and ``low`` (customers per confidence), most customers first."""
    import pandas as pd

    cols = ["best_channel", "customers", "share", "channel_rate", "high", "medium", "low"]
    if plan.empty:
        return pd.DataFrame(columns=cols)
    conf = pd.crosstab(plan["best_channel"], plan["confidence"]).reindex(
        columns=["high", "medium", "low"], fill_value=0
    )
    g = plan.groupby("best_channel").agg(customers=("customer_id", "size"), channel_rate=("channel_rate", "mean"))
    g = g.join(conf).reset_index()
    g.insert(2, "share", g["customers"] / g["customers"].sum())
    return g.sort_values(["customers", "best_channel"], ascending=[False, True], kind="mergesort")[cols].reset_index(
        drop=True
    )
