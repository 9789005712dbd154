"""The customer summary the BTYD models take: frequency, recency, T, monetary_value.

One column contract, named once (as in pymc-marketing's clv module)::

    customer_id, frequency, recency, T, monetary_value
    [, frequency_holdout, monetary_value_holdout, duration_holdout]

Conventions (Fader & Hardie; the same as BTYD's ``dc.ElogToCbsCbt`` and lifetimes'
``summary_data_from_transaction_data``):

* only purchase rows count: a row is a return when kind = 'return', quantity < 0 or
  amount < 0 (``../shared/spec/metrics.md``); the purchase lines of one customer on one
  calendar day are merged into one *purchase day* whose value is the sum of its lines;
* the first purchase day is the trial: ``frequency`` counts the repeat purchase days in
  the calibration period (through ``calibration_end``, inclusive);
* ``recency`` = last repeat purchase day − first purchase day (0 when frequency = 0);
* ``T`` = calibration_end − first purchase day;
* ``monetary_value`` = mean value of the repeat purchase days (0 when frequency = 0);
* times in days, or days / 7 with ``time_unit="week"``;
* customers whose first purchase is after ``calibration_end`` are left out;
* with ``observation_end`` after ``calibration_end``: ``frequency_holdout`` (purchase days
  in (calibration_end, observation_end]), ``monetary_value_holdout`` (their mean value)
  and ``duration_holdout`` (observation_end − calibration_end).

On a store the per-customer-day roll-up (one GROUP BY) runs in the engine through Ibis;
the (much smaller) roll-up is finished in pandas/numpy.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import numpy as np

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "summary_from_orders",
    "summary_from_store",
    "summary_from_days",
    "day_rollup_expr",
    "read_summary",
    "TIME_UNITS",
]

TIME_UNITS = {"day": 1.0, "week": 7.0}
COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]
HOLDOUT_COLUMNS = ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]


def _as_date(value: Any, name: str) -> _dt.date | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InputError(f"{name}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _unit(time_unit: str) -> float:
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise InputError(f"time_unit {time_unit!r}: expected one of {sorted(TIME_UNITS)}") from None


# ------------------------------------------------------------------------------------
# from a pandas DataFrame of orders
# ------------------------------------------------------------------------------------


def summary_from_orders(
    orders: "pd.DataFrame",
    *,
    calibration_end: Any = None,
    observation_end: Any = None,
    time_unit: str = "day",
    customer_id: str = "customer_id",
    order_date: str = "order_date",
    amount: str = "amount",
) -> "pd.DataFrame":
    """The summary from a DataFrame of order lines (canonical ``orders`` columns).

    Parameters
    ----------
    orders
        One row per order line with ``customer_id``, ``order_date``, ``amount`` and
        optional ``kind`` and ``quantity`` (other column names via the keyword arguments).
    calibration_end
        Last day of the calibration period, inclusive (default: the last purchase day).
    observation_end
        Last day of the holdout period (default: the last purchase day in the data);
        holdout columns are added when it is after ``calibration_end``.
    time_unit
        ``"day"`` or ``"week"`` (days / 7).
    """
    import pandas as pd

    for c in (customer_id, order_date, amount):
        if c not in orders.columns:
            raise InputError(f"orders: missing column {c!r}; received {list(orders.columns)}")
    amt = pd.to_numeric(orders[amount], errors="coerce")
    if amt.isna().any():
        i = int(np.flatnonzero(amt.isna().to_numpy())[0])
        raise InputError(f"orders row {i}, column {amount!r}: {orders[amount].iloc[i]!r} is not a number")
    is_return = amt < 0
    if "quantity" in orders.columns:
        q = pd.to_numeric(orders["quantity"], errors="coerce")
        is_return |= q.fillna(0) < 0
    if "kind" in orders.columns:
        is_return |= orders["kind"].astype("string").str.strip().str.lower().eq("return").fillna(False)
    keep = ~is_return.to_numpy()
    try:
        day = pd.to_datetime(orders[order_date]).dt.normalize()
    except (ValueError, TypeError) as e:
        raise InputError(f"orders column {order_date!r}: not dates ({e})") from None
    if getattr(day.dt, "tz", None) is not None:
        day = day.dt.tz_localize(None)
    df = pd.DataFrame(
        {
            "customer_id": orders[customer_id].astype("string").to_numpy()[keep],
            "day": day.to_numpy()[keep],
            "amount": amt.to_numpy(dtype=float)[keep],
        }
    )
    days = df.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()
    return summary_from_days(
        days, calibration_end=calibration_end, observation_end=observation_end, time_unit=time_unit
    )


# ------------------------------------------------------------------------------------
# from a store (Ibis)
# ------------------------------------------------------------------------------------


def day_rollup_expr(orders: Any, observation_end: Any = None):
    """Ibis expression: purchase days per customer, ``customer_id, day, amount`` (exact sum, then float64)."""
    t = orders
    cols = set(t.columns)
    pred = t.amount >= 0
    if "quantity" in cols:
        pred &= t.quantity.isnull() | (t.quantity >= 0)
    if "kind" in cols:
        pred &= t.kind.isnull() | (t.kind.strip().lower() != "return")
    t = t.filter(pred)
    end = _as_date(observation_end, "observation_end")
    if end is not None:
        t = t.filter(t.order_date <= end)
    return t.group_by([t.customer_id.cast("string").name("customer_id"), t.order_date.name("day")]).aggregate(
        amount=t.amount.sum().cast("float64")
    )


def summary_from_store(
    store: Any, *, calibration_end: Any = None, observation_end: Any = None, time_unit: str = "day"
) -> "pd.DataFrame":
    """The summary from a negah Store (or an Ibis orders table): roll-up in the engine, finish in pandas."""
    import pandas as pd

    if hasattr(store, "table") and hasattr(store, "execute"):
        orders = store.table("orders")
        if orders is None:
            raise InputError(
                f"store {getattr(store, 'location', store)!r} has no orders table: "
                "import orders first (negah import orders.csv)"
            )
        days = store.execute(day_rollup_expr(orders, observation_end))
    else:  # an Ibis table
        days = day_rollup_expr(store, observation_end).execute()
    days["day"] = pd.to_datetime(days["day"])
    days = days.sort_values(["customer_id", "day"], kind="mergesort").reset_index(drop=True)
    return summary_from_days(
        days, calibration_end=calibration_end, observation_end=observation_end, time_unit=time_unit
    )


# ------------------------------------------------------------------------------------
# the shared finish
# ------------------------------------------------------------------------------------


def summary_from_days(
    days: "pd.DataFrame", *, calibration_end: Any = None, observation_end: Any = None, time_unit: str = "day"
) -> "pd.DataFrame":
    """Finish the summary from purchase days ``customer_id, day, amount`` (one row per customer-day)."""
    import pandas as pd

    unit = _unit(time_unit)
    if len(days) == 0:
        raise InputError("orders: no purchase rows to summarise")
    day = pd.to_datetime(days["day"]).to_numpy().astype("datetime64[D]")
    last_day = day.max()
    cal_end = _as_date(calibration_end, "calibration_end")
    obs_end = _as_date(observation_end, "observation_end")
    cal = np.datetime64(cal_end, "D") if cal_end is not None else last_day
    obs = np.datetime64(obs_end, "D") if obs_end is not None else max(last_day, cal)
    if obs < cal:
        raise InputError(f"observation_end {obs} is before calibration_end {cal}")
    first_day = day.min()
    if cal < first_day:
        raise InputError(
            f"calibration_end {cal} is before the first purchase ({first_day}; the purchases run "
            f"to {last_day}): choose a calibration end inside that range"
        )
    cust = days["customer_id"].astype(str).to_numpy()
    amount = days["amount"].to_numpy(dtype=float)
    order = np.lexsort((day, cust))
    cust, day, amount = cust[order], day[order], amount[order]
    codes, ids = pd.factorize(cust, sort=True)
    in_cal = day <= cal
    # per customer, calibration: first day, last day, count, sum and first-day amount
    n = len(ids)
    first = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    c_cal = codes[in_cal]
    d_cal = day[in_cal].astype(np.int64)
    a_cal = amount[in_cal]
    count = np.bincount(c_cal, minlength=n)
    present = count > 0
    first_i = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_i, c_cal, d_cal)
    last_i = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_i, c_cal, d_cal)
    total = np.bincount(c_cal, weights=a_cal, minlength=n)
    # rows are sorted by (customer, day): the first calibration row of each customer is the trial
    is_first = np.r_[True, c_cal[1:] != c_cal[:-1]] if len(c_cal) else np.zeros(0, bool)
    first_amt = np.zeros(n)
    first_amt[c_cal[is_first]] = a_cal[is_first]
    freq = (count - 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, (total - first_amt) / np.maximum(freq, 1), 0.0)
    cal_i = cal.astype(np.int64)
    out = pd.DataFrame(
        {
            "customer_id": ids[present],
            "frequency": freq[present],
            "recency": (last_i - first_i)[present] / unit,
            "T": (cal_i - first_i)[present] / unit,
            "monetary_value": monetary[present],
        }
    )
    out.attrs.update({"calibration_end": str(cal), "time_unit": time_unit})
    if obs > cal:
        hold = (day > cal) & (day <= obs)
        hc = codes[hold]
        hcount = np.bincount(hc, minlength=n).astype(float)
        htotal = np.bincount(hc, weights=amount[hold], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            hmon = np.where(hcount > 0, htotal / np.maximum(hcount, 1), 0.0)
        out["frequency_holdout"] = hcount[present]
        out["monetary_value_holdout"] = hmon[present]
        out["duration_holdout"] = float(obs.astype(np.int64) - cal_i) / unit
        out.attrs["observation_end"] = str(obs)
    del first
    return out.reset_index(drop=True)


def read_summary(path: str) -> "pd.DataFrame":
    """Read a summary CSV with customer_id, frequency, recency, T and optional monetary_value."""
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype={"customer_id": str})
    except FileNotFoundError:
        raise InputError(f"summary file {path!r} does not exist") from None
    missing = [c for c in ("customer_id", "frequency", "recency", "T") if c not in df.columns]
    if missing:
        raise InputError(
            f"summary file {path!r}: missing column(s) {missing}; expected customer_id, frequency, "
            f"recency, T and optional monetary_value; received {list(df.columns)}"
        )
    return df
