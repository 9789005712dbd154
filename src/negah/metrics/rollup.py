"""The shared roll-up, computed once in the engine, that feeds every orders metric.

Passes over the order lines (the expensive part at 100M rows):

1. lines → **customer-day** (``customer_id``, ``day``): revenue, units sold and returned,
   purchase lines, and purchase orders whose date is that day. With ``order_id`` a second
   group-by finds each order's date (the earliest date of its purchase lines).
2. customer-day ⋈ calendar → **customer-period** (``cp``: ``customer_id``, ``pkey``): the
   same sums, plus the first/last purchase day and the number of purchase days.
3. One window over ``cp`` (partition by customer, order by period) gives each row its
   customer's previous row, next row and first active period. Every set of the spec is a
   condition on that row: S(P) = A(P⁻) means "the previous row is P⁻ and active".

Times between purchases telescope: the gaps whose later day lies in P sum to
``last_day(P) − last purchase day before P`` (or ``− first_day(P)`` without one), and
their number is ``purchase days in P − 1`` (+1 with an earlier day); so no per-day
window is needed.

Everything stays exact: counts are integers and money is DECIMAL; the per-customer mean
gaps are returned as (gap count, gap sum, customers) triples and summed exactly in Python.
"""

from __future__ import annotations

from negah.metrics.base import flag as _flag

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from negah.metrics.base import MONEY, calendar_table, normalize_orders, segment_table

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

    from negah.calendars import Calendar
    from negah.store.connect import Store


def customer_days(orders: "ir.Table") -> "ir.Table":
    """Pass 1: lines → one row per (customer_id, day)."""
    import ibis

    n = normalize_orders(orders)
    zero = ibis.literal(0).cast(MONEY)
    purchase = ~n.is_return
    aggs: dict[str, Any] = {
        "rev": n.amount.sum(),
        "sold": ibis.ifelse(purchase, n.units, zero).sum(),
        "returned": ibis.ifelse(n.is_return, n.units, zero).sum(),
        "plines": _flag(purchase).sum(),
    }
    if "order_id" in n.columns:
        # rows without an order_id are each their own order
        aggs["norders"] = _flag(purchase & n.order_id.isnull()).sum()
        lines = n.group_by(["customer_id", "day"]).aggregate(**aggs)
        p = n.filter(purchase & n.order_id.notnull())
        firsts = p.group_by(["customer_id", "order_id"]).aggregate(day=p.day.min())
        per_day = firsts.group_by(["customer_id", "day"]).aggregate(norders2=firsts.count())
        j = lines.left_join(per_day, ["customer_id", "day"])
        return j.select(
            "customer_id", "day", "rev", "sold", "returned", "plines",
            norders=j.norders + j.norders2.fill_null(0),
        )
    aggs["norders"] = _flag(purchase).sum()
    return n.group_by(["customer_id", "day"]).aggregate(**aggs)


def customer_periods(store: "Store", cal: "Calendar", segment: str | None = None) -> "ir.Table":
    """Pass 2: customer-day ⋈ calendar → one row per (customer_id, pkey) [+ ``seg``]."""
    import ibis

    orders = store.table("orders")
    cd = customer_days(orders)
    days = calendar_table(store, cal)
    j = cd.inner_join(days, cd.day == days.d)
    has_p = j.plines > 0
    has_o = j.norders > 0
    cp = j.group_by(["customer_id", "pkey"]).aggregate(
        rev=j.rev.sum(),
        sold=j.sold.sum(),
        returned=j.returned.sum(),
        norders=j.norders.sum(),
        pdays=_flag(has_p).sum(),
        first_pday=ibis.cases((has_p, j.dn)).min(),
        last_pday=ibis.cases((has_p, j.dn)).max(),
        last_oday=ibis.cases((has_o, j.dn)).max(),
    )
    seg = segment_table(store, segment)
    if seg is not None:
        cp = cp.left_join(seg, "customer_id").select(*cp.columns, "seg")
    return cp


def with_neighbours(cp: "ir.Table") -> "ir.Table":
    """Pass 3: each cp row with its previous/next row and the first active period."""
    import ibis

    w = ibis.window(group_by="customer_id", order_by="pkey")
    whole = ibis.window(group_by="customer_id")
    cum = ibis.cumulative_window(group_by="customer_id", order_by="pkey")
    active = cp.norders > 0
    x = cp.mutate(
        active=active,
        prev_pkey=cp.pkey.lag().over(w),
        prev_active=active.lag().over(w),
        prev_rev=cp.rev.lag().over(w),
        next_pkey=cp.pkey.lead().over(w),
        first_pkey=ibis.cases((active, cp.pkey)).min().over(whole),
        cum_last_pday=cp.last_pday.max().over(cum),
    )
    return x.mutate(prev_last_pday=x.cum_last_pday.lag().over(w))


@dataclass
class OrderFacts:
    """Per (segment, period) exact aggregates; metrics are computed from these in Python."""

    current: "pd.DataFrame"   # seg?, pkey, A, N, SA, R, LN, kept, lost_cur, revenue, sold, returned
    previous: "pd.DataFrame"  # seg?, pkey (= P), S, R0, lost_next   (from rows of P⁻)
    gaps: "pd.DataFrame"      # seg?, pkey, ngaps, sumgaps, k
    segmented: bool = False
    extra: dict = field(default_factory=dict)


def order_facts(store: "Store", cal: "Calendar", segment: str | None = None,
                cp: "ir.Table | None" = None) -> OrderFacts:
    """Compute :class:`OrderFacts` with one materialised roll-up and three small queries."""
    import ibis

    if cp is None:
        cp = customer_periods(store, cal, segment)
    x = with_neighbours(cp)
    cached = _cache(store, x)
    try:
        keys = ["seg", "pkey"] if segment is not None else ["pkey"]
        t = cached
        zero = ibis.literal(0).cast(MONEY)
        in_s = ((t.prev_pkey == t.pkey - 1) & t.prev_active).fill_null(False)
        new = (t.active & (t.first_pkey == t.pkey)).fill_null(False)
        repeat = t.active & ((t.norders - _flag(new)) >= 1)
        cur = t.group_by(keys).aggregate(
            A=_flag(t.active).sum(),
            N=_flag(new).sum(),
            SA=_flag(in_s & t.active).sum(),
            R=_flag(repeat).sum(),
            LN=_flag(new & (t.norders >= 2)).sum(),
            kept=ibis.ifelse(in_s, t.rev, zero).sum(),
            lost_cur=ibis.ifelse(in_s, ibis.greatest(zero, t.prev_rev - t.rev), zero).sum(),
            revenue=t.rev.sum(),
            sold=t.sold.sum(),
            returned=t.returned.sum(),
        )
        a = t.filter(t.active)
        gone = (a.next_pkey != a.pkey + 1).fill_null(True)
        prev_keys = {"pkey": a.pkey + 1}
        if segment is not None:
            prev_keys = {"seg": a.seg, "pkey": a.pkey + 1}
        prev = a.group_by(**prev_keys).aggregate(
            S=a.count(),
            R0=a.rev.sum(),
            lost_next=ibis.ifelse(gone, ibis.greatest(zero, a.rev), zero).sum(),
        )
        g = t.filter(t.pdays > 0)
        has_prev = g.prev_last_pday.notnull()
        g = g.mutate(
            ngaps=g.pdays - 1 + _flag(has_prev),
            sumgaps=g.last_pday - ibis.ifelse(has_prev, g.prev_last_pday, g.first_pday),
        )
        g = g.filter(g.ngaps > 0)
        gaps = g.group_by([*keys, "ngaps", "sumgaps"]).aggregate(k=g.count())
        current = store.execute(cur)
        previous = store.execute(prev)
        gapdf = store.execute(gaps)
    finally:
        _release(cached)
    return OrderFacts(current, previous, gapdf, segmented=segment is not None)


def _cache(store: "Store", expr: "ir.Table") -> "ir.Table":
    try:
        return expr.cache()
    except Exception:  # pragma: no cover - a backend without temp tables: recompute
        return expr


def _release(t: Any) -> None:
    rel = getattr(t, "release", None)
    if rel is not None:
        try:
            rel()
        except Exception:  # pragma: no cover
            pass


def nps_facts(store: "Store", cal: "Calendar", segment: str | None = None) -> "pd.DataFrame | None":
    """responses ⋈ calendar → (seg?, pkey, responses, promoters, detractors)."""
    r = store.table("responses")
    if r is None:
        return None
    days = calendar_table(store, cal)
    r = r.select(customer_id=r.customer_id.cast("string"), day=r.response_date, score=r.score)
    keys = ["pkey"]
    seg = segment_table(store, segment)
    if seg is not None:
        r = r.left_join(seg, "customer_id").select(*r.columns, "seg")
        keys = ["seg", "pkey"]
    j = r.inner_join(days, r.day == days.d)
    agg = j.group_by(keys).aggregate(
        responses=j.count(),
        promoters=_flag(j.score >= 9).sum(),
        detractors=_flag(j.score <= 6).sum(),
    )
    return store.execute(agg)
