"""Campaign report: response, conversion and retained revenue by offer (and campaign).

Per offer: sends, responses, conversions, response and conversion rates with Wilson
intervals, and the revenue of the recipients in the ``window_days`` after the send,
split into all recipients and converted ones. A recipient is *retained* when they bought
within ``window_days`` after the send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from negah.actions._data import opened, purchase_days, table_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def campaign_report(
    source: Any, *, by: str = "offer", window_days: int = 30, confidence: float = 0.95
) -> "pd.DataFrame":
    import numpy as np
    import pandas as pd
    from scipy.stats import norm

    from negah.actions.reasons import wilson
    from negah.errors import InputError

    z = float(norm.ppf(0.5 + confidence / 2))
    with opened(source) as store:
        c = table_frame(store, "campaigns", what="negah campaigns")
        days = purchase_days(store) if store.has("orders") else None
    keys = ["offer", "campaign_id"] if by == "both" else [by]
    for k in keys:
        if k not in c.columns:
            raise InputError(f"campaigns: no {k!r} column to group by; columns are {list(c.columns)}")
    c = c.copy()
    for k in keys:
        c[k] = c[k].fillna("(none)").astype(str)
    c["sent_day"] = pd.to_datetime(c["sent_at"]).dt.normalize()
    c["responded"] = c["responded_at"].notna() if "responded_at" in c.columns else False
    c["converted"] = c["converted_at"].notna() if "converted_at" in c.columns else False
    c["_row"] = np.arange(len(c))
    if days is not None:
        m = c[["_row", "customer_id", "sent_day"]].merge(days[days["purchases"] > 0], on="customer_id")
        dd = (m["day"] - m["sent_day"]).dt.days
        inw = m[(dd > 0) & (dd <= window_days)]
        rev = inw.groupby("_row")["rev"].sum()
        c["revenue_after"] = c["_row"].map(rev).fillna(0.0)
        c["retained"] = c["_row"].isin(rev.index)
    else:
        c["revenue_after"] = np.nan
        c["retained"] = np.nan
    rows = []
    for key, g in c.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        n, k_r, k_c = len(g), int(g["responded"].sum()), int(g["converted"].sum())
        rl, rh = wilson(k_r, n, z)
        cl, ch = wilson(k_c, n, z)
        rec = dict(zip(keys, key))
        rec.update(
            {
                "sent": n,
                "responses": k_r,
                "response_rate": k_r / n,
                "response_low": rl,
                "response_high": rh,
                "conversions": k_c,
                "conversion_rate": k_c / n,
                "conversion_low": cl,
                "conversion_high": ch,
                "retained_rate": float(g["retained"].mean()) if days is not None else None,
                "revenue_after": float(g["revenue_after"].sum()),
                "revenue_after_converted": float(g.loc[g["converted"], "revenue_after"].sum()),
            }
        )
        rows.append(rec)
    return pd.DataFrame(rows)
