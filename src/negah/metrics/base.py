"""What every metric family shares: opening the source, the purchase/return rule,
the date range and the calendar table.

The spec's purchase/return rule lives in ONE function, :func:`normalize_orders`; the
store keeps the raw values (a company's own PostgreSQL table is read in place).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from negah.calendars import Calendar
    from negah.store.connect import Store

MONEY = "decimal(18,4)"


def open_source(source: Any, engine: str = "duckdb") -> tuple["Store", bool]:
    """A :class:`Store` for ``source`` and whether negah opened it (and must close it).

    ``source`` is a Store, a DuckDB file path, a database URL (``postgresql://``,
    ``mysql://``) or a folder of canonical files (read in place with
    :func:`negah.store.open_folder`).
    """
    from negah.store.connect import Store, open_store

    if isinstance(source, Store):
        return source, False
    if source is None:
        return open_store(None, read_only=True, create=False), True
    s = str(source)
    if "://" not in s and Path(s).is_dir():
        from negah.store import open_folder

        return open_folder(s, engine=engine), True
    return open_store(s, read_only=True, create=False), True


def normalize_orders(t: "ir.Table", only: tuple[str, ...] | None = None, keep: tuple[str, ...] = ()) -> "ir.Table":
    """The spec's purchase/return rule, applied once.

    A row is a return when ``kind`` = ``return`` (case and spaces ignored),
    ``quantity`` < 0 or ``amount`` < 0; ``kind`` = ``purchase`` does not override a
    negative value. A return row's amount and quantity are taken as −|value|; every
    other row (amount 0 included) is a purchase line. Missing quantity counts 1 unit.

    Returns ``customer_id``, ``order_id`` (only when the input has it), ``day`` (date),
    ``is_return`` (bool), ``amount`` (signed, DECIMAL) and ``units`` (|quantity|, DECIMAL);
    with ``only``, just those of them; ``keep`` passes other input columns through.
    """
    import ibis

    cols = set(t.columns)
    amount = t.amount.cast(MONEY)
    is_ret = (amount < 0).fill_null(False)
    if "quantity" in cols:
        qty = t.quantity.cast(MONEY)
        is_ret = is_ret | (qty < 0).fill_null(False)
        units = qty.abs().fill_null(ibis.literal(1).cast(MONEY))
    else:
        units = ibis.literal(1).cast(MONEY)
    if "kind" in cols:
        # the exact values first: lower() and strip() only run (on DuckDB, whose CASE
        # evaluates each branch on its own rows) for values that are neither
        k = t.kind
        is_ret = is_ret | ibis.cases(
            (k == "return", True), (k == "purchase", False), else_=(k.lower().strip() == "return").fill_null(False)
        )
    sel: dict[str, Any] = {"customer_id": t.customer_id.cast("string")}
    if "order_id" in cols:
        sel["order_id"] = t.order_id.cast("string")
    sel["day"] = t.order_date
    sel["is_return"] = is_ret
    sel["amount"] = ibis.ifelse(is_ret, -amount.abs(), amount)
    sel["units"] = units
    if only is not None:
        sel = {k: v for k, v in sel.items() if k in only}
    for c in keep:
        sel[c] = t[c]
    return t.select(**sel)


def date_range(store: "Store", tables: tuple[str, ...] = ("orders", "responses")) -> tuple[_dt.date, _dt.date] | None:
    """First and last date over the date columns of ``tables`` (all data), or None.

    One query for all the tables (a union of one small aggregate per table).
    """
    import ibis

    from negah.store import schema as S

    parts = []
    for name in tables:
        t = store.table(name)
        if t is None:
            continue
        col = t[S.table(name).date_column]
        if name == "subscriptions" and "end_date" in t.columns:
            # an end is an event of the day before it (the customer is gone at end_date)
            hi2 = t.end_date.max()
        else:
            hi2 = ibis.null().cast("date")
        parts.append(t.aggregate(lo=col.min().cast("date"), hi=col.max().cast("date"), hi2=hi2.cast("date")))
    if not parts:
        return None
    expr = parts[0] if len(parts) == 1 else ibis.union(*parts)
    lo: list[_dt.date] = []
    hi: list[_dt.date] = []
    for _, row in store.execute(expr).iterrows():
        for k, v in row.items():
            if is_missing(v):
                continue
            d = _as_date(v)
            if k == "lo":
                lo.append(d)
            elif k == "hi":
                hi.append(d)
            else:
                hi.append(d - _dt.timedelta(days=1))
    if not lo:
        return None
    return min(lo), max(hi)


def is_missing(v: Any) -> bool:
    """None, NaN, NaT or pandas' NA (an array is not missing)."""
    if v is None or (isinstance(v, float) and v != v):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _as_date(v: Any) -> _dt.date:
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime().date()
    return _dt.date.fromisoformat(str(v)[:10])


DAY_BITS = 62
"""Days per word of a period's day mask (bit ``k`` = the period's day ``k``; < 2**62)."""


def mask_words(cal: "Calendar") -> int:
    """Words of :data:`DAY_BITS` days a day mask of ``cal``'s longest period needs
    (1 for weeks and months, 2 for quarters, 6 for years)."""
    longest = max((p.end - p.start).days for p in cal.periods)
    return -(-longest // DAY_BITS)


def calendar_table(store: "Store", cal: "Calendar", words: int = 0) -> "ir.Table":
    """The calendar's day table (``d``, ``dn``, ``pkey``) inside the store's engine.

    With ``words`` > 0 it also has ``b0`` … ``b{words-1}``: the day's bit in its period's
    day mask (day ``k`` of the period is bit ``k mod 62`` of word ``k div 62``; 0 in the
    other words), so that ``bit_or`` collects a customer's distinct days of a period in
    one aggregate.
    """
    import ibis
    import numpy as np

    df = cal.days_frame()
    schema = {"d": "date", "dn": "int64", "pkey": "int64"}
    if words:
        dn = df["dn"].to_numpy()
        pk = df["pkey"].to_numpy()
        starts = dn[np.searchsorted(pk, pk, side="left")]  # first day number of each day's period
        off = dn - starts
        for w in range(words):
            df[f"b{w}"] = np.where(off // DAY_BITS == w, np.left_shift(1, off % DAY_BITS), 0).astype(np.int64)
            schema[f"b{w}"] = "int64"
    if store.kind == "spark":
        from negah.store.spark import temp_table

        return temp_table(store, df, "negah_calendar")
    return ibis.memtable(df, schema=schema)


def segment_table(store: "Store", segment: str | None) -> "ir.Table | None":
    """``customer_id`` → ``seg`` from the customers table (one value per customer)."""
    if segment is None:
        return None
    cust = store.table("customers")
    if cust is None:
        raise InputError(
            f"segment {segment!r}: there is no customers table; segments are columns of customers "
            "(add customers.csv with customer_id and the column)"
        )
    if segment not in cust.columns or segment == "customer_id":
        choices = [c for c in cust.columns if c != "customer_id"]
        raise InputError(
            f"segment {segment!r} is not a column of customers: expected one of {', '.join(choices) or '(none)'}"
        )
    return cust.select(customer_id=cust.customer_id.cast("string"), seg=cust[segment]).distinct()


def flag(cond: Any) -> Any:
    """1 where ``cond`` holds, else 0 (PostgreSQL cannot cast booleans to integers)."""
    import ibis

    return ibis.ifelse(cond.fill_null(False), 1, 0)


def bit_or(x: Any) -> Any:
    """The engine's ``BIT_OR`` aggregate of an int64 column (DuckDB, PostgreSQL, MySQL and
    Spark all have it; Ibis compiles its own ``bit_or`` for all but Spark)."""
    return _bit_or_udf()(x)


def _bit_or_udf():
    global _BIT_OR
    if _BIT_OR is None:
        import ibis

        @ibis.udf.agg.builtin(name="bit_or", signature=(("int64",), "int64"))
        def _bor(x):  # pragma: no cover - compiled, never called
            ...

        _BIT_OR = _bor
    return _BIT_OR


_BIT_OR = None

_M1, _M2, _M4 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F


def popcount(t: "ir.Table", cols: dict[str, list[str]]) -> "ir.Table":
    """``t`` plus, for each ``name: [mask columns]``, ``name`` = the number of set bits of
    those masks (each < 2**62). Branch-free bit arithmetic (no engine has a common
    popcount); one projection per step so that no expression is repeated."""
    steps = [
        lambda x: x - ((x >> 1) & _M1),
        lambda x: (x & _M2) + ((x >> 2) & _M2),
        lambda x: (x + (x >> 4)) & _M4,
        lambda x: x + (x >> 8),
        lambda x: x + (x >> 16),
        lambda x: (x + (x >> 32)) & 127,
    ]
    masks = [m for ms in cols.values() for m in ms]
    tmp = {m: f"_pc_{m}" for m in masks}
    t = t.mutate(**{tmp[m]: t[m] for m in masks})
    for step in steps:
        t = t.mutate(**{tmp[m]: step(t[tmp[m]]) for m in masks})
    out = {}
    for name, ms in cols.items():
        e = t[tmp[ms[0]]]
        for m in ms[1:]:
            e = e + t[tmp[m]]
        out[name] = e
    return t.mutate(**out).drop(*tmp.values())
