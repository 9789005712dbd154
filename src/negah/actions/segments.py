"""Profitable customers and segments: RFM scores, named RFM segments, CLV deciles and a
user definition of "profitable".

RFM scores are quintiles 1–5 (5 = best) of recency (days since the last purchase; fewer is
better), frequency (purchase days) and monetary value (net revenue), computed with ranks so
ties never split arbitrarily. Named segments follow the common R × (F+M)/2 grid:

============== ======================== =====================================
segment        rule                     meaning
============== ======================== =====================================
champions      R ≥ 4 and FM ≥ 4.5       bought recently, often, much
loyal          R ≥ 3 and FM ≥ 3.5       regular buyers
potential      R ≥ 4 and FM ≥ 2         recent, could grow
new            R ≥ 4 and FM < 2         recent first purchases
promising      R = 3 and FM < 3.5       recent-ish, low value
need attention R = 3 (others)           —
cant_lose      R ≤ 2 and FM ≥ 4.5       were the best, slipping away
at_risk        R ≤ 2 and FM ≥ 3         valuable, not seen lately
hibernating    R = 2 and FM < 3         low and lapsing
lost           R = 1 and FM < 3         gone
============== ======================== =====================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from negah.actions._data import customer_summary, last_date, opened, purchase_days

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SEGMENTS = ("champions", "loyal", "potential", "new", "promising", "need_attention", "cant_lose",
            "at_risk", "hibernating", "lost")


def _score(x: "Any", higher_is_better: bool = True) -> "Any":
    import numpy as np
    import pandas as pd

    r = pd.Series(x).rank(method="average", pct=True).values
    if not higher_is_better:
        r = 1 - r + 1 / len(r)
    return np.clip(np.ceil(r * 5), 1, 5).astype(int)


def name_segment(r: int, f: int, m: int) -> str:
    fm = (f + m) / 2
    if r >= 4:
        return "champions" if fm >= 4.5 else "loyal" if fm >= 3.5 else "potential" if fm >= 2 else "new"
    if r == 3:
        return "loyal" if fm >= 3.5 else "promising" if fm < 2.5 else "need_attention"
    if fm >= 4.5:
        return "cant_lose"
    if fm >= 3:
        return "at_risk"
    return "hibernating" if r == 2 else "lost"


def rfm(source: Any, *, as_of: Any = None, clv: "pd.DataFrame | None" = None, margin: float = 1.0,
        min_clv: float | None = None, horizon_days: int = 365) -> "pd.DataFrame":
    """Per customer: recency/frequency/monetary, scores 1–5, named segment, CLV, CLV decile
    (10 = top) and ``profitable``.

    CLV: ``clv`` (a frame ``customer_id, clv``) when given; otherwise the BG/NBD expected
    purchase days in ``horizon_days`` × the Gamma-Gamma expected spend × ``margin``
    (:mod:`negah.models`), falling back to the customer's mean spend when Gamma-Gamma cannot
    be fitted. ``profitable``: margin-adjusted CLV ≥ ``min_clv`` (default: the median CLV).
    """
    import numpy as np
    import pandas as pd

    from negah.calendars import to_date

    with opened(source) as store:
        days = purchase_days(store)
        end = to_date(as_of) if as_of is not None else last_date(store, ("orders",))
    s = customer_summary(days, end)
    s["recency_days"] = s["days_since"]
    s["purchase_days"] = s["frequency"] + 1
    s["R"] = _score(-s["days_since"].values)
    s["F"] = _score(s["purchase_days"].values)
    s["M"] = _score(s["revenue"].values)
    s["rfm"] = s["R"].astype(str) + s["F"].astype(str) + s["M"].astype(str)
    s["segment"] = [name_segment(r, f, m) for r, f, m in zip(s["R"], s["F"], s["M"])]
    if clv is not None:
        v = s["customer_id"].map(clv.set_index(clv["customer_id"].astype(str))["clv"])
        s["clv"] = v.astype(float).values
        s["clv_method"] = "given"
    else:
        s["clv"], s["p_alive"], method = model_clv(s, horizon_days=horizon_days, margin=margin)
        s["clv_method"] = method
    s["clv_decile"] = np.clip(np.ceil(s["clv"].rank(method="first", pct=True) * 10), 1, 10).astype(int)
    thr = float(np.nanmedian(s["clv"])) if min_clv is None else float(min_clv)
    s["profitable"] = s["clv"] >= thr
    cols = ["customer_id", "recency_days", "purchase_days", "revenue", "R", "F", "M", "rfm", "segment",
            "clv", "clv_decile", "profitable", "clv_method"] + (["p_alive"] if "p_alive" in s.columns else [])
    return s[cols].sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def model_clv(s: "pd.DataFrame", *, horizon_days: int = 365, margin: float = 1.0):
    """(clv, p_alive, method) per row of a customer summary (days)."""
    import numpy as np

    from negah.models.bgnbd import BGNBD

    x, tx, T = s["frequency"].values, s["recency"].values, s["T"].values
    m = BGNBD().fit(x, tx, T)
    pa = m.probability_alive(x, tx, T)
    ep = m.expected_purchases(float(horizon_days), x, tx, T)
    method = "bgnbd+gammagamma"
    try:
        from negah.models.gammagamma import GammaGamma

        ok = (x > 0) & (s["monetary_value"].values > 0)
        gg = GammaGamma().fit(x[ok], s["monetary_value"].values[ok])
        spend = gg.expected_spend(x, np.where(x > 0, s["monetary_value"].values, 0.0)) \
            if hasattr(gg, "expected_spend") else None
    except Exception:
        spend = None
    if spend is None:
        method = "bgnbd+mean_spend"
        spend = np.where(s["frequency"] + 1 > 0, s["revenue"] / (s["frequency"] + 1), 0.0)
    return margin * np.asarray(spend, dtype=float) * ep, pa, method


def segment_summary(table: "pd.DataFrame") -> "pd.DataFrame":
    """Customers, revenue, mean CLV and profitable share per named segment."""
    g = table.groupby("segment", sort=False).agg(customers=("customer_id", "size"), revenue=("revenue", "sum"),
                                                 clv_mean=("clv", "mean"), clv_total=("clv", "sum"),
                                                 profitable=("profitable", "mean")).reset_index()
    order = {s: i for i, s in enumerate(SEGMENTS)}
    return g.sort_values("segment", key=lambda c: c.map(order), kind="mergesort").reset_index(drop=True)
