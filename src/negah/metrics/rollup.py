"""The shared roll-up, computed once in the engine, that feeds every orders metric.

Passes over the order lines (the expensive part at 100M rows):

1. lines → **customer-day** (``customer_id``, ``day``): revenue, units sold and returned,
   purchase lines, and purchase orders without an ``order_id`` (each its own order).
2. customer-day ⋈ calendar → **customer-period** (``cp``: ``customer_id``, ``pkey``): the
   same sums, plus the first/last purchase day and the number of purchase days. With
   ``order_id`` a second group-by over the purchase lines finds each order's date (the
   earliest date of its purchase lines) and counts orders per customer-period; that count
   is joined to ``cp`` (so the order count never touches the customer-day level).

Then ONE query over ``cp`` gives every fact the metric families need
(:func:`facts_expr`), with ``cp`` computed once (a common table expression, which DuckDB,
PostgreSQL and MySQL materialise and Spark reuses as one exchange):

* a **shifted hash self-join**: ``cp`` full-outer-joined with its own active rows keyed
  ``(customer_id, pkey + 1)``. Every set of the spec is then a condition on one joined
  row: S(P) = A(P⁻) is "the shifted side is present", C = S \\ A, kept/lost revenue
  compare the two sides (a customer of S without a row in P has revenue 0 in P);
* one narrow **running maximum** per customer (the last purchase day before P) for the
  purchase-day gaps and for N(P): a customer is new in P exactly when P holds their
  first purchase day (the first purchase order's date is their earliest purchase line),
  i.e. when there is no earlier purchase day;
* a single ``GROUP BY (seg, pkey, ngaps)`` of those rows: every fact is a sum or a
  count, so the groups by gap count add up to the per-period facts in Python, and the
  gap groups give the exact mean-gap sums.

Times between purchases telescope: the gaps whose later day lies in P sum to
``last_day(P) − last purchase day before P`` (or ``− first_day(P)`` without one), and
their number is ``purchase days in P − 1`` (+1 with an earlier day); so no per-day
window is needed. The sum over customers of their mean gap is Σ_k (Σ gap sums of
customers with k gaps) / k, added up exactly in Python.

Everything stays exact: counts are integers and money is DECIMAL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from negah.metrics.base import MONEY, calendar_table, normalize_orders, segment_table
from negah.metrics.base import flag as _flag

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

    from negah.calendars import Calendar
    from negah.store.connect import Store


def customer_periods(store: "Store", cal: "Calendar", segment: str | None = None,
                     order_days: bool = False, units: bool = True) -> "ir.Table":
    """Lines → one row per (``customer_id``, ``pkey``) [+ ``seg``]: ONE aggregation.

    Columns: ``rev`` (DECIMAL), ``norders`` (purchase orders dated in the period),
    ``pdays`` (distinct purchase days), ``first_pday``/``last_pday`` (day numbers since
    1970-01-01, null without a purchase day), with ``units`` ``sold``/``returned``
    (DECIMAL) and with ``order_days`` ``last_oday`` (the last day with a purchase order
    dated on it).
    """
    import ibis

    from negah.metrics.base import bit_or, mask_words, popcount

    n = normalize_orders(store.table("orders"))
    words = mask_words(cal)
    days = calendar_table(store, cal, words)
    bits = [f"b{w}" for w in range(words)]
    zero = ibis.literal(0).cast(MONEY)
    no_day = ibis.null().cast("int64")
    has_oid = "order_id" in n.columns
    j = n.inner_join(days, n.day == days.d)
    purchase = ~j.is_return
    own = purchase & j.order_id.isnull() if has_oid else purchase  # purchase lines that are their own order
    rows: dict[str, Any] = dict(customer_id=j.customer_id, pkey=j.pkey, rev=j.amount)
    if units:
        rows["sold"] = ibis.ifelse(purchase, j.units, zero)
        rows["returned"] = ibis.ifelse(j.is_return, j.units, zero)
    rows["pdn"] = ibis.ifelse(purchase, j.dn, no_day)
    rows["o"] = own
    if order_days:
        rows["odn"] = ibis.ifelse(own, j.dn, no_day)
    for b in bits:
        rows[b] = ibis.ifelse(purchase, j[b], 0).cast("int64")
    lines = j.select(**rows)
    if has_oid:
        # each order once, at its date (the earliest day of its purchase lines); its
        # (customer, period) always has that purchase line, so it only adds to the count
        r = normalize_orders(store.table("orders"), only=("customer_id", "order_id", "day", "is_return"))
        p = r.filter(~r.is_return & r.order_id.notnull())
        firsts = p.group_by(["customer_id", "order_id"]).aggregate(day=p.day.min())
        fj = firsts.inner_join(days.select("d", "dn", "pkey"), firsts.day == days.d)
        orows: dict[str, Any] = dict(customer_id=fj.customer_id, pkey=fj.pkey, rev=ibis.null().cast(MONEY))
        if units:
            orows["sold"] = orows["returned"] = ibis.null().cast(MONEY)
        orows["pdn"] = no_day
        orows["o"] = ibis.literal(True)
        if order_days:
            orows["odn"] = fj.dn
        for b in bits:
            orows[b] = ibis.literal(0).cast("int64")
        lines = ibis.union(lines, fj.select(**orows), distinct=False)
    aggs: dict[str, Any] = dict(rev=lines.rev.sum())
    if units:
        aggs.update(sold=lines.sold.sum(), returned=lines.returned.sum())
    aggs.update(norders=lines.count(where=lines.o), first_pday=lines.pdn.min(), last_pday=lines.pdn.max())
    if order_days:
        aggs["last_oday"] = lines.odn.max()
    for w, b in enumerate(bits):
        aggs[f"m{w}"] = bit_or(lines[b])
    cp = lines.group_by(["customer_id", "pkey"]).aggregate(**aggs)
    cp = popcount(cp, {"pdays": [f"m{w}" for w in range(words)]})
    cp = cp.drop(*[f"m{w}" for w in range(words)])
    seg = segment_table(store, segment)
    if seg is not None:
        cp = cp.left_join(seg, "customer_id").select(*cp.columns, "seg")
    return cp


def facts_expr(cp: "ir.Table", nperiods: int, segmented: bool) -> "ir.Table":
    """ONE window pass and ONE aggregate over ``cp``: facts per (``seg``, ``pkey``, ``ngaps``).

    Columns of the row's own period P: ``A``, ``N``, ``LN`` (counts), ``revenue`` (and
    ``sold``/``returned`` when ``cp`` has them), ``gk`` (customers with ``ngaps`` gaps
    ending in P) and ``gsum`` (their gap days). Columns of the *next* period P + 1, from
    the customers active in P, i.e. S(P + 1): ``R0x``, ``keptx``, ``lostx`` (DECIMAL) and
    ``SAx`` (those also active in P + 1). Sum the rows of a (seg, pkey), plus the ``…x``
    columns of (seg, pkey − 1), for its facts; the rows with ``ngaps`` > 0 are the gap
    groups; |S(P)| = |A(P − 1)|.
    """
    import ibis

    zero = ibis.literal(0).cast(MONEY)
    w = ibis.window(group_by="customer_id", order_by="pkey")
    before = ibis.window(group_by="customer_id", order_by="pkey", rows=(None, -1))
    active = cp.norders > 0
    cur = cp.mutate(
        prev_last=cp.last_pday.max().over(before),  # the last purchase day before the row's period
        # the customer's next row: 2 × its period + 1 when active there (one window value)
        lead_code=(cp.pkey * 2 + ibis.ifelse(active, 1, 0)).lead().over(w),
        lead_rev=cp.rev.lead().over(w),
    )
    has_p = cur.first_pday.notnull()
    active = cur.norders > 0
    nxt = ((cur.lead_code >= cur.pkey * 2 + 2) & (cur.lead_code <= cur.pkey * 2 + 3)).fill_null(False)
    rev0 = cur.rev.fill_null(zero)
    next_rev = ibis.ifelse(nxt, cur.lead_rev.fill_null(zero), zero)
    sel: dict[str, Any] = {
        "pkey": cur.pkey,
        "ngaps": ibis.ifelse(has_p, cur.pdays - 1 + ibis.ifelse(cur.prev_last.notnull(), 1, 0), 0),
        "active": active,
        "new": has_p & cur.prev_last.isnull(),
        "many": cur.norders >= 2,
        "has_p": has_p,
        "rev": rev0,
        "gap": ibis.ifelse(has_p, cur.last_pday - cur.prev_last.fill_null(cur.first_pday), 0),
        "next_rev": next_rev,
        "next_active": (cur.lead_code == cur.pkey * 2 + 3).fill_null(False),
    }
    units = "sold" in cp.columns
    if units:
        sel.update(sold=cur.sold, returned=cur.returned)
    keys = ["pkey", "ngaps"]
    if segmented:
        sel["seg"] = cur.seg
        keys = ["seg", "pkey", "ngaps"]
    t = cur.select(**sel)
    aggs: dict[str, Any] = dict(
        A=t.count(where=t.active),
        N=t.count(where=t.new),
        LN=t.count(where=t.new & t.many),
        revenue=t.rev.sum(),
        gk=t.count(where=t.has_p),
        gsum=t.gap.sum(),
        R0x=t.rev.sum(where=t.active),
        keptx=t.next_rev.sum(where=t.active),
        lostx=ibis.greatest(zero, t.rev - t.next_rev).sum(where=t.active),
        SAx=t.count(where=t.active & t.next_active),
    )
    if units:
        aggs.update(sold=t.sold.sum(), returned=t.returned.sum())
    return t.group_by(keys).aggregate(**aggs)


def units_expr(store: "Store", cal: "Calendar") -> "ir.Table":
    """Units sold and returned per period (``pkey``, ``sold``, ``returned``), straight from
    the lines: they are summed over all customers, so they need no customer roll-up."""
    import ibis

    n = normalize_orders(store.table("orders"), only=("day", "is_return", "units"))
    # per day first (a few thousand groups), then the calendar join on those few rows
    d = n.group_by("day").aggregate(sold=n.units.sum(where=~n.is_return), returned=n.units.sum(where=n.is_return))
    days = calendar_table(store, cal)
    j = d.inner_join(days, d.day == days.d)
    return j.group_by("pkey").aggregate(sold=j.sold.sum(), returned=j.returned.sum())


@dataclass
class OrderFacts:
    """Per (segment, period, gap count) exact aggregates (see :func:`facts_expr`), and,
    unsegmented, the units per period (:func:`units_expr`)."""

    facts: "pd.DataFrame"
    segmented: bool = False
    units: "pd.DataFrame | None" = None


def order_facts(store: "Store", cal: "Calendar", segment: str | None = None) -> OrderFacts:
    """Compute :class:`OrderFacts`: one query over the roll-up (plus one light query over
    the lines for the units when unsegmented)."""
    segmented = segment is not None
    cp = customer_periods(store, cal, segment, units=segmented)
    df = store.execute(facts_expr(cp, len(cal), segmented))
    units = None if segmented else store.execute(units_expr(store, cal))
    return OrderFacts(df, segmented=segmented, units=units)


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
