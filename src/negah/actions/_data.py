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
    import ibis
    import pandas as pd

    from negah.metrics.base import normalize_orders

    orders = store.table("orders")
    if orders is None:
        raise InputError(f"table 'orders' is missing from {store.location}: this action needs orders")
    n = normalize_orders(orders)
    # sums are exact (DECIMAL) in the engine and leave it as float64: converting Decimal
    # objects one by one in Python cost more than the whole query
    g = n.group_by(["customer_id", "day"]).aggregate(
        rev=n.amount.sum().cast("float64"),
        purchases=ibis.ifelse(n.is_return, 0, 1).sum(),  # (no bool → int cast in PostgreSQL)
    )
    df = store.execute(g)
    df["customer_id"] = df["customer_id"].astype(str)
    df["day"] = pd.to_datetime(df["day"]).dt.normalize()
    df["rev"] = df["rev"].astype(float)
    df["purchases"] = df["purchases"].astype("int64")
    return df.sort_values(["customer_id", "day"], kind="mergesort").reset_index(drop=True)


def last_date(
    store: "Store", tables: tuple[str, ...] = ("orders", "responses", "complaints", "contacts", "campaigns")
) -> _dt.date:
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


ROLLUP_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "first",
    "last",
    "revenue",
    "days_since",
    "revenue_recent",
    "revenue_prior",
]


def customer_rollup(store: "Store", as_of: Any, *, recent_days: int = 180) -> "pd.DataFrame":
    """One row per customer with a purchase up to ``as_of`` (inclusive), in one engine query.

    Columns: the BTYD summary in days (``frequency`` = repeat purchase days, ``recency`` =
    last − first purchase day, ``T`` = ``as_of`` − first purchase day, ``monetary_value`` =
    mean purchase value of the repeat purchase days, 0 without repeats — the conventions of
    :mod:`negah.models.summary`), ``first`` and ``last`` purchase day, ``revenue`` (net:
    purchases minus returns, all rows up to ``as_of``), ``days_since`` (``as_of`` − last
    purchase day), ``revenue_recent`` (net revenue in the last ``recent_days`` days) and
    ``revenue_prior`` (the ``recent_days`` before those). Sorted by customer_id.

    The roll-up (order lines → customer-days → customers) runs in the store's engine
    through Ibis; only the per-customer rows come back. Sums are exact in the engine and
    returned as float64.
    """
    import ibis
    import numpy as np
    import pandas as pd

    from negah.calendars import to_date
    from negah.metrics.base import normalize_orders

    orders = store.table("orders")
    if orders is None:
        raise InputError(f"table 'orders' is missing from {store.location}: this action needs orders")
    end = to_date(as_of)
    recent = _dt.timedelta(days=int(recent_days))
    n = normalize_orders(orders, only=("customer_id", "day", "is_return", "amount"))
    n = n.filter(n.day <= end)
    d = n.group_by(["customer_id", "day"]).aggregate(
        net=n.amount.sum(),
        bought=n.amount.sum(where=~n.is_return),
        lines=ibis.ifelse(n.is_return, 0, 1).sum(),
    )
    d = d.mutate(pday=ibis.ifelse(d.lines > 0, d.day, ibis.null().cast(d.day.type())))
    if store.kind == "mysql":  # no arg_min in MySQL/MariaDB: the first purchase day from a window
        d = d.mutate(fday=d.pday.min().over(group_by=d.customer_id))
        first_bought = d.bought.sum(where=d.day == d.fday)
    else:  # arg_min costs half the window in DuckDB
        first_bought = d.bought.argmin(d.pday)
    g = d.group_by("customer_id").aggregate(
        first=d.pday.min(),
        last=d.pday.max(),
        n=ibis.ifelse(d.lines > 0, 1, 0).sum(),
        bought=d.bought.sum().cast("float64"),
        first_bought=first_bought.cast("float64"),
        revenue=d.net.sum().cast("float64"),
        revenue_recent=d.net.sum(where=d.day > end - recent).cast("float64"),
        revenue_prior=d.net.sum(where=(d.day > end - 2 * recent) & (d.day <= end - recent)).cast("float64"),
    )
    g = g.filter(g.n > 0)
    df = store.execute(g)
    if df.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    df["customer_id"] = df["customer_id"].astype(str)
    df = df.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    e = np.datetime64(end, "D")
    first = pd.to_datetime(df["first"]).to_numpy().astype("datetime64[D]")
    last = pd.to_datetime(df["last"]).to_numpy().astype("datetime64[D]")
    freq = df["n"].to_numpy(dtype=float) - 1
    bought = df["bought"].fillna(0.0).to_numpy(dtype=float)
    fb = df["first_bought"].fillna(0.0).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mon = np.where(freq > 0, (bought - fb) / np.maximum(freq, 1), 0.0)
    return pd.DataFrame(
        {
            "customer_id": df["customer_id"].to_numpy(),
            "frequency": freq,
            "recency": (last - first).astype(np.int64).astype(float),
            "T": (e - first).astype(np.int64).astype(float),
            "monetary_value": mon,
            "first": pd.to_datetime(first),
            "last": pd.to_datetime(last),
            "revenue": df["revenue"].fillna(0.0).to_numpy(dtype=float),
            "days_since": (e - last).astype(np.int64).astype(float),
            "revenue_recent": df["revenue_recent"].fillna(0.0).to_numpy(dtype=float),
            "revenue_prior": df["revenue_prior"].fillna(0.0).to_numpy(dtype=float),
        }
    )


def end_date(store: "Store", as_of: Any = None) -> _dt.date:
    """``as_of`` as a date, or the last order date when None (the actions' observation end, inclusive)."""
    from negah.calendars import to_date
    from negah.metrics.base import date_range

    if as_of is None:
        return last_date(store, ("orders",))
    d = to_date(as_of)
    r = date_range(store, ("orders",)) if store.has("orders") else None
    if r is not None and d < r[0]:
        raise InputError(
            f"--as-of {d.isoformat()} is before the first order (the orders run from "
            f"{r[0].isoformat()} to {r[1].isoformat()}): nobody is a customer yet; "
            "choose a date inside that range"
        )
    return d


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
