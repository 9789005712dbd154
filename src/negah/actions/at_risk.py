"""Who to save first: customers ranked by expected value at risk = churn probability × CLV,
with their reasons and a suggested next step — a list ready for a CRM campaign.

Churn probability: a trained classifier's scores when given (``scores``: a frame with
``customer_id``, ``churn_probability`` and optionally ``reasons``; see
:mod:`negah.predict`), else the BTYD one, 1 − P(alive) from a BG/NBD fit (Fader, Hardie &
Lee 2005). The ``method`` column says which. CLV comes from :func:`negah.actions.segments.rfm`.

Reasons (when the classifier gives none) are read from the data, most urgent first:
``overdue`` (days since the last purchase above twice the customer's usual gap),
``complaint:<reason>`` (a complaint in the last 180 days), ``detractor`` (latest NPS 0–6),
``spend_down`` (last 180 days' revenue under half of the 180 days before). The next step
follows the first reason, and names the customer's best channel when contacts exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from negah.actions._data import opened, table_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NEXT_STEP = {
    "complaint": "resolve the open complaint and follow up personally",
    "detractor": "call to hear what went wrong (survey detractor)",
    "overdue": "send a win-back offer",
    "spend_down": "offer a loyalty reward to restore spend",
    "none": "keep in the regular campaign",
}


def at_risk(source: Any, *, top: int | None = None, segment: str | list[str] | None = None,
            scores: "pd.DataFrame | None" = None, as_of: Any = None, margin: float = 1.0,
            horizon_days: int = 365, min_value: float = 0.0) -> "pd.DataFrame":
    """The ranked list. Columns: ``rank, customer_id, churn_probability, clv, value_at_risk,
    segment, reasons, next_step, channel, method``."""
    import numpy as np
    import pandas as pd

    from negah.actions.segments import rfm

    with opened(source) as store:
        table = rfm(store, as_of=as_of, margin=margin, horizon_days=horizon_days)
        from negah.actions._data import last_date, purchase_days
        from negah.calendars import to_date

        end = pd.Timestamp(to_date(as_of) if as_of is not None else last_date(store, ("orders",)))
        days = purchase_days(store)
        comp = table_frame(store, "complaints", required=False)
        resp = table_frame(store, "responses", required=False)
        has_contacts = store.has("contacts")
        plan = None
        if has_contacts:
            from negah.actions.contact import contact_plan

            try:
                plan = contact_plan(store)
            except Exception:
                plan = None
    t = table.copy()
    if scores is not None:
        sc = scores.copy()
        sc["customer_id"] = sc["customer_id"].astype(str)
        t = t.merge(sc[["customer_id", "churn_probability"] + (["reasons"] if "reasons" in sc.columns else [])],
                    on="customer_id", how="inner")
        t["method"] = "classifier"
    else:
        t["churn_probability"] = 1.0 - t["p_alive"]
        t["method"] = "btyd (1 - P(alive), BG/NBD)"
    t["value_at_risk"] = t["churn_probability"] * t["clv"]
    # reasons from the data
    d = days[days["day"] <= end]
    p = d[d["purchases"] > 0]
    gaps = p.groupby("customer_id")["day"].agg(["min", "max", "count"])
    usual = ((gaps["max"] - gaps["min"]).dt.days / (gaps["count"] - 1).where(gaps["count"] > 1)).fillna(90.0)
    since = (end - gaps["max"]).dt.days
    rev_recent = d[d["day"] > end - pd.Timedelta(days=180)].groupby("customer_id")["rev"].sum()
    rev_before = d[(d["day"] <= end - pd.Timedelta(days=180)) & (d["day"] > end - pd.Timedelta(days=360))].groupby(
        "customer_id")["rev"].sum()
    recent_c: dict[str, str] = {}
    if comp is not None and len(comp):
        c = comp.copy()
        c["complaint_date"] = pd.to_datetime(c["complaint_date"])
        c = c[(c["complaint_date"] <= end) & (c["complaint_date"] > end - pd.Timedelta(days=180))]
        c = c.sort_values(["customer_id", "complaint_date"], kind="mergesort").drop_duplicates("customer_id", keep="last")
        recent_c = dict(zip(c["customer_id"].astype(str), c["reason"].astype(str)))
    detr: set[str] = set()
    if resp is not None and len(resp):
        r = resp.copy()
        r["response_date"] = pd.to_datetime(r["response_date"])
        r = r[r["response_date"] <= end].sort_values(["customer_id", "response_date"], kind="mergesort")
        r = r.drop_duplicates("customer_id", keep="last")
        detr = set(r.loc[r["score"] <= 6, "customer_id"].astype(str))
    reasons, steps = [], []
    for cid, given in zip(t["customer_id"], t["reasons"] if "reasons" in t.columns else [None] * len(t)):
        rs: list[str] = []
        if cid in recent_c:
            rs.append(f"complaint:{recent_c[cid]}")
        if cid in detr:
            rs.append("detractor")
        if cid in since.index and since[cid] > 2 * max(usual.get(cid, 90.0), 7.0):
            rs.append("overdue")
        rb = rev_before.get(cid, 0.0)
        if rb > 0 and rev_recent.get(cid, 0.0) < 0.5 * rb:
            rs.append("spend_down")
        if given is not None and not (isinstance(given, float) and np.isnan(given)):
            rs = ([str(given)] if isinstance(given, str) else [str(g) for g in given]) + rs
        reasons.append("; ".join(rs))
        first = rs[0].split(":")[0] if rs else "none"
        steps.append(NEXT_STEP.get(first, NEXT_STEP["overdue"]))
    t["reasons"] = reasons
    t["next_step"] = steps
    t["channel"] = t["customer_id"].map(plan.set_index("customer_id")["best_channel"]) if plan is not None else None
    if segment:
        segs = [segment] if isinstance(segment, str) else list(segment)
        t = t[t["segment"].isin(segs)]
    t = t[t["value_at_risk"] >= min_value]
    t = t.sort_values(["value_at_risk", "customer_id"], ascending=[False, True], kind="mergesort")
    if top:
        t = t.head(int(top))
    t = t.reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t[["rank", "customer_id", "churn_probability", "clv", "value_at_risk", "segment", "reasons",
              "next_step", "channel", "method"]]
