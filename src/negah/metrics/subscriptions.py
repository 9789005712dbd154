"""Contractual metrics from subscriptions (spec: "Contractual data").

A customer is active at instant t when one of their subscriptions has
start_date ≤ t < end_date (or no end); MRR(c,t) sums the mrr of those subscriptions.
For P = [s, e): S = active at s; C = customers of S not active at e; N = customers
active at e whose first subscription starts in P.

Beyond the spec's table, the MRR movements are completed so that
``mrr(e) = mrr(s) + new + reactivated + expansion − contraction − churned``:
``mrr_new`` sums MRR(c, e) over customers active at e, not at s, whose first
subscription started after s; ``mrr_reactivated`` over those whose first subscription
started on or before s (they had left and came back). ``active_customers`` counts the
customers active at e. Every instant is known from the contracts, so the first period
has values too.
"""

from __future__ import annotations

from negah.metrics.base import flag as _flag

import datetime as _dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from negah.errors import InputError
from negah.metrics.facts import Value, count, ratio

if TYPE_CHECKING:  # pragma: no cover
    from negah.store.connect import Store

SUBSCRIPTION_METRICS = [
    "active_customers",
    "new_customers",
    "churned_customers",
    "churn_rate",
    "retention_rate",
    "mrr",
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churned",
    "mrr_reactivated",
    "revenue_churn_gross",
    "revenue_churn_net",
    "net_revenue_retention",
]


class SubFacts:
    def __init__(self) -> None:
        self.S = 0
        self.C = 0
        self.N = 0
        self.active_e = 0
        self.mrr_s = Decimal(0)
        self.mrr_e = Decimal(0)
        self.churned = Decimal(0)
        self.contraction = Decimal(0)
        self.expansion = Decimal(0)
        self.new = Decimal(0)
        self.reactivated = Decimal(0)


def _value(name: str, x: SubFacts) -> Value:
    lostc = x.churned + x.contraction
    net = lostc - x.expansion
    table = {
        "active_customers": lambda: count(x.active_e),
        "new_customers": lambda: count(x.N),
        "churned_customers": lambda: count(x.C),
        "churn_rate": lambda: Value(ratio(x.C, x.S), x.C, x.S),
        "retention_rate": lambda: Value(ratio(x.S - x.C, x.S), x.S - x.C, x.S),
        "mrr": lambda: count(x.mrr_e),
        "mrr_new": lambda: count(x.new),
        "mrr_expansion": lambda: count(x.expansion),
        "mrr_contraction": lambda: count(x.contraction),
        "mrr_churned": lambda: count(x.churned),
        "mrr_reactivated": lambda: count(x.reactivated),
        "revenue_churn_gross": lambda: Value(ratio(lostc, x.mrr_s), lostc, x.mrr_s),
        "revenue_churn_net": lambda: Value(ratio(net, x.mrr_s), net, x.mrr_s),
        "net_revenue_retention": lambda: Value(ratio(x.mrr_s - net, x.mrr_s), x.mrr_s - net, x.mrr_s),
    }
    return table[name]()


def subscription_facts(store: "Store", cal, segment: str | None) -> dict[tuple[Any, int], SubFacts]:
    import ibis
    import pandas as pd

    from negah.metrics.base import MONEY, segment_table
    from negah.metrics.engine import _dec, _int, _py

    subs = store.table("subscriptions")
    n = len(cal)
    bdates = [p.start for p in cal.periods] + [cal.end]
    bounds = pd.DataFrame(
        {"q": list(range(n + 1)), "b": bdates, "bprev": [bdates[0] - _dt.timedelta(days=1)] + bdates[:-1]}
    )
    if store.kind == "spark":
        from negah.store.spark import temp_table

        B = temp_table(store, bounds, "negah_sub_bounds")
    else:
        B = ibis.memtable(bounds, schema={"q": "int64", "b": "date", "bprev": "date"})
    mrr = subs.mrr.cast(MONEY) if "mrr" in subs.columns else ibis.literal(0).cast(MONEY)
    end = subs.end_date if "end_date" in subs.columns else ibis.null().cast("date")
    s = subs.select(customer_id=subs.customer_id.cast("string"), sd=subs.start_date, ed=end, mrr=mrr)
    first = s.group_by("customer_id").aggregate(first_start=s.sd.min())
    j = s.inner_join(B, [s.sd <= B.b, (s.ed > B.b) | s.ed.isnull()])
    cb = j.group_by(["customer_id", "q", "b", "bprev"]).aggregate(m=j.mrr.sum())
    cb = cb.inner_join(first, "customer_id")
    keys = ["q"]
    seg = segment_table(store, segment)
    if seg is not None:
        cb = cb.left_join(seg, "customer_id").select(*cb.columns, "seg")
        keys = ["seg", "q"]
    w = ibis.window(group_by="customer_id", order_by="q")
    cb = cb.mutate(nq=cb.q.lead().over(w), nm=cb.m.lead().over(w), pq=cb.q.lag().over(w))
    zero = ibis.literal(0).cast(MONEY)
    stay = (cb.nq == cb.q + 1).fill_null(False)
    came = ~(cb.pq == cb.q - 1).fill_null(False)
    agg = cb.group_by(keys).aggregate(
        # as the start instant s = b_q of period q
        S=cb.count(),
        C=_flag(~stay).sum(),
        mrr_s=cb.m.sum(),
        churned=ibis.ifelse(stay, zero, cb.m).sum(),
        contraction=ibis.ifelse(stay, ibis.greatest(zero, cb.m - cb.nm), zero).sum(),
        expansion=ibis.ifelse(stay, ibis.greatest(zero, cb.nm - cb.m), zero).sum(),
        # as the end instant e = b_q of period q - 1
        N=_flag((cb.first_start >= cb.bprev) & (cb.first_start < cb.b)).sum(),
        new=ibis.ifelse(came & (cb.first_start > cb.bprev), cb.m, zero).sum(),
        reactivated=ibis.ifelse(came & (cb.first_start <= cb.bprev), cb.m, zero).sum(),
    )
    df = store.execute(agg)
    grid: dict[tuple[Any, int], SubFacts] = {}
    segs: set[Any] = {None} if segment is None else set()
    for r in df.to_dict("records"):
        sg = _py(r.get("seg")) if segment is not None else None
        segs.add(sg)
        q = _int(r["q"])
        if q < n:  # the start instant of period q
            x = grid.setdefault((sg, q), SubFacts())
            x.S, x.C = _int(r["S"]), _int(r["C"])
            x.mrr_s = _dec(r["mrr_s"])
            x.churned, x.contraction, x.expansion = _dec(r["churned"]), _dec(r["contraction"]), _dec(r["expansion"])
        if q > 0:  # the end instant of period q - 1
            x = grid.setdefault((sg, q - 1), SubFacts())
            x.active_e = _int(r["S"])
            x.mrr_e = _dec(r["mrr_s"])
            x.N = _int(r["N"])
            x.new, x.reactivated = _dec(r["new"]), _dec(r["reactivated"])
    for sg in segs:
        for p in cal.periods:
            grid.setdefault((sg, p.index), SubFacts())
    return grid


def subscription_records(
    store: "Store",
    period: str,
    calendar: str,
    names: list[str],
    segment: str | None,
    lo: _dt.date | None,
    hi: _dt.date | None,
) -> list[dict[str, Any]]:
    from negah.calendars import Calendar
    from negah.metrics.base import date_range
    from negah.metrics.engine import build_records

    if store.table("subscriptions") is None:
        raise InputError(
            f"{store.location}: --basis subscriptions needs a subscriptions table "
            "(subscription_id, customer_id, start_date, end_date, mrr)"
        )
    rng = date_range(store, ("subscriptions",))
    if rng is None:
        return []
    cal = Calendar(rng[0], rng[1], period, calendar)
    grid = subscription_facts(store, cal, segment)
    return build_records(
        cal, grid, names, rng, segment is not None, lo, hi, funcs=lambda name: lambda x, _n=name: _value(_n, x)
    )
