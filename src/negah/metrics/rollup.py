"""The shared roll-up, computed once in the engine, that feeds every orders metric.

At 100M order lines the cost is in the passes over the lines and in the large hash
aggregations, so there are as few as exactness allows:

1. **Lines → customer-period** (``cp``: one row per ``customer_id``, ``pkey``) in ONE
   aggregation of the lines joined to the calendar table: revenue (``rev``), the first
   and last purchase day, and the customer's **day mask** of the period: the calendar
   gives every day a bit (day *k* of its period is bit *k mod 62* of word *k div 62*),
   and ``BIT_OR`` of the purchase lines' bits is the set of distinct purchase days, whose
   count (a branch-free popcount in SQL) is ``pdays``. No customer-day group-by.
2. **Orders** (only with an ``order_id`` column): a purchase order's date is the
   earliest day of its purchase lines, which needs one group-by of the purchase lines by
   (``customer_id``, ``order_id``) — the one pass exactness cannot avoid: an order may
   have purchase lines in two periods, and counting distinct orders per period would
   count it twice. Each order then adds 1 to ``norders`` of its (customer, period) in the
   same aggregation as 1 (the order rows are a ``UNION ALL`` into it). A purchase line
   without an ``order_id`` is an order of its own, dated on its day, so it counts in
   step 1 like every purchase line of data without the column: the group-by keys only
   the lines with an id.

   The lines and the order branch read the same normalized lines, which the SQL
   compiles to one CTE read twice: DuckDB (and PostgreSQL) materialize it, so the
   orders are scanned ONCE. At 100M lines this beat proving first, in a query of its
   own, that no order spans two periods and then rolling up without the branch (two
   scans of the lines): 53–56 s instead of 60–65 s for the roll-up.
3. **Customer chunks**: every fact is a sum over customers, so data clustered by
   customer (row groups with disjoint ``customer_id`` ranges in the Parquet footers, see
   :meth:`~negah.store.connect.Store.customer_chunks`) is computed one customer range at
   a time and added up; the ranges run side by side, one DuckDB thread each
   (:meth:`~negah.store.connect.Store.side_by_side`). Small hash tables and no sorting
   of tens of millions of rows: faster, and ~1 GB of memory instead of ~13 GB at 100M.

Then ONE query over ``cp`` gives every fact the metric families need
(:func:`facts_expr`): a single window pass per customer, ordered by period, with three
narrow values — the last purchase day before the row's period (a running maximum), and
the customer's next row (its period and whether active there, packed in one integer,
and its revenue) — then ONE aggregate by (``seg``, ``pkey``, ``ngaps``):

* N(P): P holds the customer's first purchase day (no earlier one); gaps: the purchase
  days of P minus 1, plus 1 with an earlier day (see below);
* S(P + 1) = A(P): every fact of the customers in S comes from their row in P and their
  next row: R0 = their revenue in P; kept and lost compare it with the revenue of the next
  row when that row is P + 1 (else 0); |S ∩ A(P + 1)| counts those active there. These
  columns (``…x``) are summed per row's own period and added to the next period in Python,
  so no self-join or shifted copy of ``cp`` is needed; |S(P)| = |A(P − 1)|.
* Units sold and returned are summed per period straight from the lines
  (:func:`units_expr`: per day, then per period) when there is no segment, so the window
  carries no more columns than it must.

Times between purchases telescope: the gaps whose later day lies in P sum to
``last_day(P) − last purchase day before P`` (or ``− first_day(P)`` without one), and
their number is ``purchase days in P − 1`` (+1 with an earlier day); so no per-day
window is needed. The sum over customers of their mean gap is Σ_k (Σ gap sums of
customers with k gaps) / k, added up exactly in Python.

Everything stays exact: counts are integers and money is DECIMAL; the same Ibis
expressions run on DuckDB, PostgreSQL, MySQL/MariaDB and Spark (``BIT_OR`` is each
engine's built-in aggregate).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from negah.metrics.base import MONEY, calendar_table, normalize_orders, segment_table
from negah.metrics.base import flag as _flag

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

    from negah.calendars import Calendar
    from negah.store.connect import Store


Chunk = "tuple[str | None, str | None] | None"


def orders_table(store: "Store", chunk: Chunk = None) -> "ir.Table":
    """The canonical orders, restricted to the customers of ``chunk`` (``[lo, hi)``, see
    :meth:`~negah.store.connect.Store.customer_chunks`; None = all)."""
    t = store.table("orders")
    if chunk is None:
        return t
    lo, hi = chunk
    c = t.customer_id
    if lo is not None and hi is not None:
        return t.filter((c >= lo) & (c < hi))
    if lo is not None:
        return t.filter(c >= lo)
    # the first range also takes a missing customer_id (which validation does not let through)
    return t.filter((c < hi) | c.isnull()) if hi is not None else t


def customer_periods(
    store: "Store",
    cal: "Calendar",
    segment: str | None = None,
    order_days: bool = False,
    units: bool = False,
    day_masks: bool = True,
    chunk: Chunk = None,
) -> "ir.Table":
    """Lines → one row per (``customer_id``, ``pkey``) [+ ``seg``]: ONE aggregation.

    Columns: ``rev`` (DECIMAL), ``norders`` (purchase orders dated in the period),
    ``pdays`` (distinct purchase days), ``first_pday``/``last_pday`` (day numbers since
    1970-01-01, null without a purchase day), with ``units`` ``sold``/``returned``
    (DECIMAL) and with ``order_days`` ``last_oday`` (the last day with a purchase order
    dated on it). Without ``day_masks`` there is no ``pdays`` (nor the day masks behind it:
    cohorts and the activity window do not need them).

    ``chunk`` restricts the roll-up to a range of customers.
    """
    import ibis

    from negah.metrics.base import bit_or, mask_words, popcount

    orders = orders_table(store, chunk)
    branch = "order_id" in orders.columns
    # the lines and the order branch below read the same normalized lines: ONE scan of
    # the orders (DuckDB and PostgreSQL materialize a CTE read twice)
    n = normalize_orders(
        orders, only=("customer_id", "order_id", "day", "is_return", "amount") + (("units",) if units else ())
    )
    words = mask_words(cal) if day_masks else 0
    days = calendar_table(store, cal, words)
    bits = [f"b{w}" for w in range(words)]
    zero = ibis.literal(0).cast(MONEY)
    no_day = ibis.null().cast("int64")
    j = n.inner_join(days, n.day == days.d)
    purchase = ~j.is_return
    rows: dict[str, Any] = dict(customer_id=j.customer_id, pkey=j.pkey, rev=j.amount)
    if units:
        rows["sold"] = ibis.ifelse(purchase, j.units, zero)
        rows["returned"] = ibis.ifelse(j.is_return, j.units, zero)
    rows["pdn"] = ibis.ifelse(purchase, j.dn, no_day)
    # a purchase line without an order_id (or without the column) is an order of its own,
    # dated on its own day; those with one are counted by the order branch
    own = (purchase & j.order_id.isnull()) if branch else purchase
    rows["o"] = ibis.ifelse(own, 1, 0).cast("int64")
    if order_days:
        rows["odn"] = ibis.ifelse(own, j.dn, no_day)
    for b in bits:
        rows[b] = ibis.ifelse(purchase, j[b], 0).cast("int64")
    lines = j.select(**rows)
    if branch:
        # each order with an id once, at its date (the earliest day of its purchase lines);
        # its (customer, period) always has that purchase line, so it only adds to the count
        p = n.filter(~n.is_return & n.order_id.notnull())
        firsts = p.group_by(["customer_id", "order_id"]).aggregate(day=p.day.min())
        fj = firsts.inner_join(days.select("d", "dn", "pkey"), firsts.day == days.d)
        orows: dict[str, Any] = dict(customer_id=fj.customer_id, pkey=fj.pkey, rev=ibis.null().cast(MONEY))
        if units:
            orows["sold"] = orows["returned"] = ibis.null().cast(MONEY)
        orows["pdn"] = no_day
        orows["o"] = ibis.literal(1).cast("int64")
        if order_days:
            orows["odn"] = fj.dn
        for b in bits:
            orows[b] = ibis.literal(0).cast("int64")
        lines = ibis.union(lines, fj.select(**orows), distinct=False)
    aggs: dict[str, Any] = dict(rev=lines.rev.sum())
    if units:
        aggs.update(sold=lines.sold.sum(), returned=lines.returned.sum())
    aggs.update(norders=lines.o.sum(), first_pday=lines.pdn.min(), last_pday=lines.pdn.max())
    if order_days:
        aggs["last_oday"] = lines.odn.max()
    for w, b in enumerate(bits):
        aggs[f"m{w}"] = bit_or(lines[b])
    cp = lines.group_by(["customer_id", "pkey"]).aggregate(**aggs)
    if words:
        cp = popcount(cp, {"pdays": [f"m{w}" for w in range(words)]})
        cp = cp.drop(*[f"m{w}" for w in range(words)])
    seg = segment_table(store, segment)
    if seg is not None:
        cp = cp.left_join(seg, "customer_id").select(*cp.columns, "seg")
    return cp


def facts_expr(cp: "ir.Table", segmented: bool) -> "ir.Table":
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
    """Compute :class:`OrderFacts`: one query over the roll-up per customer chunk (plus one
    light query over the lines for the units when unsegmented).

    Data clustered by customer is cut into customer ranges
    (:meth:`~negah.store.connect.Store.customer_chunks`) whose facts add up; the ranges
    run side by side (:meth:`~negah.store.connect.Store.side_by_side`).
    """
    import pandas as pd

    segmented = segment is not None
    chunks: list[Any] = store.customer_chunks("orders") or [None]
    # every expression is built here: building one reads table schemas through the
    # store's connection, which the worker threads of side_by_side must not share
    plans = [
        facts_expr(customer_periods(store, cal, segment, units=segmented, chunk=chunk), segmented) for chunk in chunks
    ]
    tasks = [partial(store.execute, e) for e in plans]
    units_task = None if segmented else partial(store.execute, units_expr(store, cal))
    chunked = len(chunks) > 1
    if units_task is not None and chunked:
        # the units query as one more task, first: a worker that would wait for the last
        # chunk runs it instead
        tasks.insert(0, units_task)
    with store.light() if chunked else nullcontext():
        dfs = store.side_by_side(tasks)
    units = None if units_task is None else dfs.pop(0) if chunked else units_task()
    df = dfs[0] if len(dfs) == 1 else pd.concat(dfs, ignore_index=True)
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
