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
                     order_days: bool = False, days: "ir.Table | None" = None) -> "ir.Table":
    """Passes 1 and 2: lines → customer-day → one row per (customer_id, pkey) [+ ``seg``].

    Columns: ``rev``, ``sold``, ``returned`` (DECIMAL), ``norders`` (purchase orders dated
    in the period), ``pdays`` (distinct purchase days), ``first_pday``/``last_pday`` (day
    numbers since 1970-01-01, null without a purchase day) and, with ``order_days``,
    ``last_oday`` (the last day with a purchase order dated on it).
    """
    import ibis

    n = normalize_orders(store.table("orders"))
    if days is None:
        days = calendar_table(store, cal)
    zero = ibis.literal(0).cast(MONEY)
    purchase = ~n.is_return
    has_oid = "order_id" in n.columns
    own = purchase & n.order_id.isnull() if has_oid else purchase  # purchase lines that are their own order
    cd = n.group_by(["customer_id", "day"]).aggregate(
        rev=n.amount.sum(),
        sold=ibis.ifelse(purchase, n.units, zero).sum(),
        returned=ibis.ifelse(n.is_return, n.units, zero).sum(),
        plines=_flag(purchase).sum(),
        norders=_flag(own).sum(),
    )
    j = cd.inner_join(days, cd.day == days.d)
    has_p = j.plines > 0
    aggs: dict[str, Any] = dict(
        rev=j.rev.sum(),
        sold=j.sold.sum(),
        returned=j.returned.sum(),
        norders=j.norders.sum(),
        pdays=_flag(has_p).sum(),
        first_pday=ibis.cases((has_p, j.dn)).min(),
        last_pday=ibis.cases((has_p, j.dn)).max(),
    )
    if order_days:
        aggs["last_oday"] = ibis.cases((j.norders > 0, j.dn)).max()
    cp = j.group_by(["customer_id", "pkey"]).aggregate(**aggs)
    if has_oid:
        # read the lines again rather than share ``n``: a shared subquery would be
        # materialised (a copy of every line) by engines that materialise CTEs
        r = normalize_orders(store.table("orders"), only=("customer_id", "order_id", "day", "is_return"))
        p = r.filter(~r.is_return & r.order_id.notnull())
        firsts = p.group_by(["customer_id", "order_id"]).aggregate(day=p.day.min())
        fj = firsts.inner_join(days, firsts.day == days.d)
        oaggs: dict[str, Any] = {"n2": fj.count()}
        if order_days:
            oaggs["o2"] = fj.dn.max()
        op = fj.group_by(["customer_id", "pkey"]).aggregate(**oaggs)
        # every order's period holds one of its purchase lines, so cp has that row
        k = cp.left_join(op, [cp.customer_id == op.customer_id, cp.pkey == op.pkey])
        sel: dict[str, Any] = {c: k[c] for c in ("customer_id", "pkey", "rev", "sold", "returned")}
        sel["norders"] = k.norders + k.n2.fill_null(0)
        for c in ("pdays", "first_pday", "last_pday"):
            sel[c] = k[c]
        if order_days:
            sel["last_oday"] = ibis.greatest(k.last_oday.fill_null(k.o2), k.o2.fill_null(k.last_oday))
        cp = k.select(**sel)
    seg = segment_table(store, segment)
    if seg is not None:
        cp = cp.left_join(seg, "customer_id").select(*cp.columns, "seg")
    return cp


def facts_expr(cp: "ir.Table", nperiods: int, segmented: bool) -> "ir.Table":
    """ONE aggregate over ``cp``: facts per (``seg``, ``pkey``, ``ngaps``).

    Columns: ``A``, ``N``, ``SA``, ``LN``, ``S`` (counts), ``kept``, ``lost``, ``R0``,
    ``revenue``, ``sold``, ``returned`` (DECIMAL), ``gk`` (customers with ``ngaps`` gaps
    ending in P) and ``gsum`` (their gap days). Sum the rows of a (seg, pkey) for its
    facts; the rows with ``ngaps`` > 0 are the gap groups.
    """
    import ibis

    zero = ibis.literal(0).cast(MONEY)
    # the last purchase day before the row's period (one narrow running maximum)
    before = ibis.window(group_by="customer_id", order_by="pkey", rows=(None, -1))
    cur = cp.mutate(prev_last=cp.last_pday.max().over(before))
    # the same customers' active rows one period later: S(P) = A(P⁻)
    a = cp.filter((cp.norders > 0) & (cp.pkey < nperiods - 1))
    prev = {"pc": a.customer_id, "pp": a.pkey + 1, "prev_rev": a.rev}
    if segmented:
        prev["pseg"] = a.seg
    prev = a.select(**prev)
    j = cur.outer_join(prev, [cur.customer_id == prev.pc, cur.pkey == prev.pp])
    has_p = (j.pdays > 0).fill_null(False)
    ngaps = ibis.ifelse(has_p, j.pdays - 1 + _flag(j.prev_last.notnull()), 0)
    sel: dict[str, Any] = {
        "pkey": j.pkey.fill_null(j.pp),
        "ngaps": ngaps,
        "active": (j.norders > 0).fill_null(False),
        "new": has_p & j.prev_last.isnull(),
        "many": (j.norders >= 2).fill_null(False),
        "in_s": j.pp.notnull(),
        "rev": j.rev,
        "rev0": j.rev.fill_null(zero),
        "prev_rev": j.prev_rev,
        "sold": j.sold,
        "returned": j.returned,
        "has_p": has_p,
        "gap": ibis.ifelse(has_p, j.last_pday - j.prev_last.fill_null(j.first_pday), 0),
    }
    keys = ["pkey", "ngaps"]
    if segmented:
        sel["seg"] = ibis.ifelse(j.pp.notnull() & j.pkey.isnull(), j.pseg, j.seg)
        keys = ["seg", "pkey", "ngaps"]
    t = j.select(**sel)
    return t.group_by(keys).aggregate(
        A=_flag(t.active).sum(),
        N=_flag(t.new).sum(),
        LN=_flag(t.new & t.many).sum(),
        S=_flag(t.in_s).sum(),
        SA=_flag(t.in_s & t.active).sum(),
        R0=ibis.ifelse(t.in_s, t.prev_rev, zero).sum(),
        kept=ibis.ifelse(t.in_s, t.rev0, zero).sum(),
        lost=ibis.ifelse(t.in_s, ibis.greatest(zero, t.prev_rev - t.rev0), zero).sum(),
        revenue=t.rev.sum(),
        sold=t.sold.sum(),
        returned=t.returned.sum(),
        gk=_flag(t.has_p).sum(),
        gsum=t.gap.sum(),
    )


@dataclass
class OrderFacts:
    """Per (segment, period, gap count) exact aggregates (see :func:`facts_expr`)."""

    facts: "pd.DataFrame"
    segmented: bool = False
    extra: dict = field(default_factory=dict)


def order_facts(store: "Store", cal: "Calendar", segment: str | None = None,
                cp: "ir.Table | None" = None) -> OrderFacts:
    """Compute :class:`OrderFacts` with one query (``cp`` computed once inside it)."""
    if cp is None:
        cp = customer_periods(store, cal, segment)
    df = store.execute(facts_expr(cp, len(cal), segment is not None))
    return OrderFacts(df, segmented=segment is not None)


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
