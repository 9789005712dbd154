"""Data access shared by the action modules: small pandas frames pulled from the store.

The heavy group-bys (order lines → customer-day) run in the store's engine through Ibis;
the actions then work on per-customer or per-event frames, which are small compared with
the order lines. Everything here is deterministic: frames are sorted before they leave.
"""

from __future__ import annotations

import datetime as _dt
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.store.connect import Store


@contextmanager
def opened(source: Any) -> Iterator["Store"]:
    """A store for ``source`` (a Store, a DuckDB path, a URL or a folder), closed when negah opened it."""
    from negah.metrics.base import open_source

    store, owned = open_source(source)
    try:
        yield store
    finally:
        if owned:
            store.close()


def table_frame(store: "Store", name: str, *, required: bool = True, what: str = "") -> "pd.DataFrame | None":
    """The canonical table ``name`` as a pandas frame (ids as text), or None when absent."""
    t = store.table(name)
    if t is None:
        if required:
            raise InputError(
                f"table {name!r} is missing from {store.location}: {what or 'this action'} needs it "
                f"(add {name}.csv / .parquet to the data folder or `negah import` it)"
            )
        return None
    df = store.execute(t)
    if "customer_id" in df.columns:
        df["customer_id"] = df["customer_id"].astype(str)
    return df


def purchase_days(store: "Store") -> "pd.DataFrame":
    """One row per (customer_id, day) with ``rev`` (net revenue that day, float) and
    ``purchases`` (purchase lines that day), computed in the engine.

    The spec's purchase/return rule comes from :func:`negah.metrics.base.normalize_orders`.
    """
    import pandas as pd

    from negah.metrics.base import normalize_orders

    orders = store.table("orders")
    if orders is None:
        raise InputError(f"table 'orders' is missing from {store.location}: this action needs orders")
    n = normalize_orders(orders)
    g = n.group_by(["customer_id", "day"]).aggregate(
        rev=n.amount.sum(),
        purchases=(~n.is_return).cast("int64").sum(),
    )
    df = store.execute(g)
    df["customer_id"] = df["customer_id"].astype(str)
    df["day"] = pd.to_datetime(df["day"]).dt.normalize()
    df["rev"] = df["rev"].astype(float)
    df["purchases"] = df["purchases"].astype("int64")
    return df.sort_values(["customer_id", "day"], kind="mergesort").reset_index(drop=True)


def last_date(store: "Store", tables: tuple[str, ...] = ("orders", "responses", "complaints", "contacts", "campaigns")) -> _dt.date:
    """The last date of any activity in ``tables``: the default observation end (as_of)."""
    from negah.metrics.base import date_range

    r = date_range(store, tuple(t for t in tables if store.has(t)))
    if r is None:
        raise InputError(f"{store.location}: no dated rows in {', '.join(tables)}; nothing to analyse")
    return r[1]


def first_date(store: "Store", tables: tuple[str, ...] = ("orders", "responses", "complaints")) -> _dt.date:
    from negah.metrics.base import date_range

    r = date_range(store, tuple(t for t in tables if store.has(t)))
    if r is None:
        raise InputError(f"{store.location}: no dated rows in {', '.join(tables)}; nothing to analyse")
    return r[0]


def as_timestamp(d: Any) -> "pd.Timestamp":
    import pandas as pd

    from negah.calendars import to_date

    return pd.Timestamp(to_date(d))


def customer_summary(days: "pd.DataFrame", as_of: Any) -> "pd.DataFrame":
    """Per-customer BTYD summary in days from purchase days up to ``as_of`` (inclusive).

    Columns (the pymc-marketing / lifelines contract): ``customer_id``, ``frequency``
    (repeat purchase days), ``recency`` (days from first to last purchase day), ``T`` (days
    from first purchase day to ``as_of``), ``monetary_value`` (mean revenue of the repeat
    purchase days, 0 without repeats), plus ``first``, ``last`` (dates), ``revenue``
    (all net revenue) and ``days_since`` (``as_of`` − last purchase day).
    """
    import numpy as np
    import pandas as pd

    end = as_timestamp(as_of)
    d = days[(days["day"] <= end)]
    rev_all = d.groupby("customer_id", sort=True)["rev"].sum()
    p = d[d["purchases"] > 0]
    if p.empty:
        return pd.DataFrame(columns=["customer_id", "frequency", "recency", "T", "monetary_value",
                                     "first", "last", "revenue", "days_since"])
    g = p.groupby("customer_id", sort=True)
    first = g["day"].min()
    last = g["day"].max()
    n = g["day"].count()
    total = g["rev"].sum()
    first_rev = p.drop_duplicates("customer_id", keep="first").set_index("customer_id")["rev"]
    freq = (n - 1).astype(float)
    mon = np.where(freq > 0, (total - first_rev.reindex(total.index)) / freq.replace(0, np.nan), 0.0)
    out = pd.DataFrame({
        "customer_id": first.index.astype(str),
        "frequency": freq.values,
        "recency": (last - first).dt.days.astype(float).values,
        "T": (end - first).dt.days.astype(float).values,
        "monetary_value": np.nan_to_num(np.asarray(mon, dtype=float)),
        "first": first.values,
        "last": last.values,
        "revenue": rev_all.reindex(first.index).fillna(0.0).values,
        "days_since": (end - last).dt.days.astype(float).values,
    })
    return out.reset_index(drop=True)


def period_label(d: Any, period: str = "month", calendar: str = "gregorian") -> str:
    from negah.calendars import period_of

    return period_of(d, period, calendar).label


def complete_periods(first: Any, last: Any, period: str, calendar: str = "gregorian"):
    """The periods of ``[first, last]`` with a flag telling whether the data covers each fully."""
    from negah.calendars import Calendar, to_date

    f, l_ = to_date(first), to_date(last)
    cal = Calendar(f, l_, period, calendar)
    return [(p, p.start >= f and p.end <= l_ + _dt.timedelta(days=1)) for p in cal.periods]


def to_records(df: "pd.DataFrame") -> list[dict[str, Any]]:
    """JSON-ready records: NaN → None, numpy scalars → Python, dates → ISO strings."""
    import math

    import numpy as np
    import pandas as pd

    out = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row):
            rec[c] = json_value(v)
        out.append(rec)
    return out


def json_value(v: Any) -> Any:
    import math

    import numpy as np
    import pandas as pd

    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f) or math.isinf(f):
            return None
        return float(f"{f:.12g}")
    if isinstance(v, pd.Timestamp):
        if pd.isna(v):
            return None
        return v.date().isoformat() if v == v.normalize() else v.isoformat()
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v
