"""A small, obviously-correct pandas/Python oracle written straight from spec/metrics.md.

Slow on purpose: sets and loops, no cleverness. Values are exact Fractions (or None).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from negah.calendars import Calendar


def _r(num, den, scale=1):
    if num is None or den is None or den == 0:
        return None
    return scale * Fraction(num) / Fraction(den)


def oracle(
    orders: pd.DataFrame, responses: pd.DataFrame | None = None, period: str = "month", calendar: str = "gregorian"
) -> dict[tuple[str, str], tuple]:
    """{(metric, period label): (value, numerator, denominator)} for every spec metric."""
    dates = list(pd.to_datetime(orders["order_date"]).dt.date)
    if responses is not None and len(responses):
        dates += list(pd.to_datetime(responses["response_date"]).dt.date)
    cal = Calendar(min(dates), max(dates), period, calendar)
    P = lambda d: cal.index_of(d)  # noqa: E731

    rows = []
    for i, r in enumerate(orders.to_dict("records")):
        amount = Decimal(str(r["amount"]))
        q = r.get("quantity")
        q = None if q is None or (isinstance(q, float) and q != q) else Decimal(str(q))
        kind = r.get("kind")
        is_ret = amount < 0 or (q is not None and q < 0) or (isinstance(kind, str) and kind.strip().lower() == "return")
        if is_ret:
            amount = -abs(amount)
        units = abs(q) if q is not None else Decimal(1)
        oid = r.get("order_id")
        if oid is None or (isinstance(oid, float) and oid != oid):
            key = ("row", i)
        else:
            key = (str(r["customer_id"]), str(oid))
        d = pd.Timestamp(r["order_date"]).date()
        rows.append(dict(c=str(r["customer_id"]), d=d, p=P(d), ret=is_ret, amount=amount, units=units, key=key))

    order_date: dict = {}
    order_cust: dict = {}
    for r in rows:
        if not r["ret"]:
            k = r["key"]
            order_date[k] = min(order_date.get(k, r["d"]), r["d"])
            order_cust[k] = r["c"]
    first: dict = {}
    for k, d in order_date.items():
        c = order_cust[k]
        first[c] = min(first.get(c, d), d)
    norders = defaultdict(int)  # (c, p) -> purchase orders dated in p
    A = defaultdict(set)
    for k, d in order_date.items():
        c = order_cust[k]
        A[P(d)].add(c)
        norders[(c, P(d))] += 1
    N = defaultdict(set)
    for c, d in first.items():
        N[P(d)].add(c)
    rev = defaultdict(lambda: Decimal(0))
    revenue = defaultdict(lambda: Decimal(0))
    sold = defaultdict(lambda: Decimal(0))
    returned = defaultdict(lambda: Decimal(0))
    pdays = defaultdict(set)
    for r in rows:
        rev[(r["c"], r["p"])] += r["amount"]
        revenue[r["p"]] += r["amount"]
        if r["ret"]:
            returned[r["p"]] += r["units"]
        else:
            sold[r["p"]] += r["units"]
            pdays[r["c"]].add(r["d"])
    # gaps: customer -> period -> list of gaps (later day in period)
    gaps = defaultdict(lambda: defaultdict(list))
    for c, ds in pdays.items():
        ds = sorted(ds)
        for a, b in zip(ds, ds[1:]):
            gaps[P(b)][c].append((b - a).days)
    resp = defaultdict(list)
    if responses is not None:
        for r in responses.to_dict("records"):
            resp[P(pd.Timestamp(r["response_date"]).date())].append(int(r["score"]))

    out = {}
    for per in cal.periods:
        p = per.index
        lab = per.label
        has_prev = p > 0
        a = A[p]
        n = N[p]
        s = A[p - 1] if has_prev else set()
        churned = s - a
        sa = s & a
        react = a - (s | n)
        R = {c for c in a if norders[(c, p)] - (1 if c in n else 0) >= 1}
        ln = {c for c in n if norders[(c, p)] >= 2}
        R0 = sum((rev[(c, p - 1)] for c in s), Decimal(0))
        kept = sum((rev[(c, p)] for c in s), Decimal(0))
        lost = sum((max(Decimal(0), rev[(c, p - 1)] - rev[(c, p)]) for c in s), Decimal(0))
        g = gaps[p]
        means = sum((Fraction(sum(v), len(v)) for v in g.values()), Fraction(0))
        sc = resp[p]
        prom = sum(1 for x in sc if x >= 9)
        det = sum(1 for x in sc if x <= 6)
        arpu = _r(revenue[p], len(a))
        churn = _r(len(churned), len(s)) if has_prev else None
        nul = (None, None, None)
        m = {
            "active_customers": (len(a), None, None),
            "new_customers": (len(n), None, None),
            "churned_customers": (len(churned), None, None) if has_prev else nul,
            "churn_rate": (churn, len(churned), len(s)) if has_prev else nul,
            "retention_rate": (_r(len(sa), len(s)), len(sa), len(s)) if has_prev else nul,
            "revenue_churn_gross": (_r(lost, R0), lost, R0) if has_prev else nul,
            "revenue_churn_net": (_r(R0 - kept, R0), R0 - kept, R0) if has_prev else nul,
            "net_revenue_retention": (_r(kept, R0), kept, R0) if has_prev else nul,
            "repeat_purchase_rate": (_r(len(R), len(a)), len(R), len(a)),
            "loyal_customer_rate": (
                (_r(len(sa) + len(ln), len(s) + len(n)), len(sa) + len(ln), len(s) + len(n)) if has_prev else nul
            ),
            "product_return_rate": (_r(returned[p], sold[p]), returned[p], sold[p]),
            "time_between_purchases_days": (_r(means, len(g)), means, len(g)),
            "nps": (_r(prom - det, len(sc), 100), prom - det, len(sc)),
            "arpu": (arpu, revenue[p], len(a)),
            "clv": (_r(arpu, churn), arpu, churn),
            "customer_growth_rate": (
                (_r(len(a) - len(A[p - 1]), len(A[p - 1])), len(a) - len(A[p - 1]), len(A[p - 1])) if has_prev else nul
            ),
            "reactivated_customers": (len(react), None, None) if has_prev else nul,
        }
        for k, v in m.items():
            out[(k, lab)] = v
    return out
