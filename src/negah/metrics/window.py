"""Activity-window churn (``--active-window 90d``), for customers who buy less often than
once a period.

A customer is *active at instant t* when they have a purchase order dated in the window
``[t − w, t)``. For P = [s, e): S = active at s, C = customers of S not active at e.
Metrics (the default names keep the spec's meaning; these carry the window in the name):

* ``active_customers_90d`` — customers active at e;
* ``churned_customers_90d`` — |C|;
* ``churn_rate_90d`` — |C| / |S|; ``retention_rate_90d`` — (|S| − |C|) / |S|.
"""

from __future__ import annotations

from negah.metrics.base import flag as _flag

from typing import TYPE_CHECKING, Any, Callable

from negah.errors import InputError
from negah.metrics.facts import PeriodFacts, Value, count, ratio

if TYPE_CHECKING:  # pragma: no cover
    from negah.calendars import Calendar
    from negah.store.connect import Store


def window_names(w: int) -> list[str]:
    return [f"active_customers_{w}d", f"churned_customers_{w}d", f"churn_rate_{w}d", f"retention_rate_{w}d"]


def window_function(name: str) -> Callable[[PeriodFacts], Value]:
    base = name.rsplit("_", 1)[0]

    def f(x: PeriodFacts) -> Value:
        wf = x.extra.get("window")
        if wf is None:
            return Value(None, None, None)
        s, c, a_end = wf
        if base == "active_customers":
            return count(a_end)
        if base == "churned_customers":
            return count(c if x.has_prev else None)
        if not x.has_prev:
            return Value(None, None, None)
        if base == "churn_rate":
            return Value(ratio(c, s), c, s)
        if base == "retention_rate":
            return Value(ratio(s - c, s), s - c, s)
        raise InputError(f"metric {name!r} is not known")

    return f


def add_window(
    store: "Store", cal: "Calendar", segment: str | None, grid: dict[tuple[Any, int], PeriodFacts], w: int
) -> None:
    """Compute (|S|, |C|, active at e) per (segment, period) into ``x.extra['window']``."""
    import ibis
    import pandas as pd

    from negah.calendars import EPOCH
    from negah.metrics.engine import _int, _py
    from negah.metrics.rollup import customer_periods

    cp = customer_periods(store, cal, segment, order_days=True, day_masks=False)
    a = cp.filter(cp.norders > 0)
    a = a.mutate(next_active=a.pkey.lead().over(ibis.window(group_by="customer_id", order_by="pkey")))
    n = len(cal)
    bounds = pd.DataFrame(
        {
            "q": list(range(1, n + 1)),
            "bn": [((cal.periods[q].start if q < n else cal.end) - EPOCH).days for q in range(1, n + 1)],
        }
    )
    if store.kind == "spark":
        from negah.store.spark import temp_table

        b = temp_table(store, bounds, "negah_bounds")
    else:
        b = ibis.memtable(bounds, schema={"q": "int64", "bn": "int64"})
    j = a.inner_join(
        b,
        [b.q > a.pkey, b.q <= a.next_active.fill_null(n), b.bn <= a.last_oday + w],
    )
    keep = ["customer_id", "q"] + (["seg"] if segment is not None else [])
    pairs = j.select(*keep)
    pairs = pairs.mutate(nq=pairs.q.lead().over(ibis.window(group_by="customer_id", order_by="q")))
    keys = ["seg", "q"] if segment is not None else ["q"]
    agg = pairs.group_by(keys).aggregate(
        active=pairs.count(),
        churn_next=_flag((pairs.nq != pairs.q + 1).fill_null(True)).sum(),
    )
    df = store.execute(agg)
    active: dict[tuple[Any, int], int] = {}
    churn: dict[tuple[Any, int], int] = {}
    for r in df.to_dict("records"):
        seg = _py(r.get("seg")) if segment is not None else None
        active[(seg, int(r["q"]))] = _int(r["active"])
        churn[(seg, int(r["q"]))] = _int(r["churn_next"])
    for (seg, pk), x in grid.items():
        # P = [b_pk, b_pk+1): S = active at b_pk (boundary index pk), active at e = boundary pk + 1
        s = active.get((seg, pk), 0)
        c = churn.get((seg, pk), 0)
        x.extra["window"] = (s, c, active.get((seg, pk + 1), 0))
