"""Churn labels: what happened in the ``horizon`` days after a cut-off.

For a cut-off ``as_of`` and a horizon of H days, the label window is [as_of, as_of + H):

* ``orders`` — a customer of the population (a purchase before ``as_of``) *churned* when
  they have no purchase line in the window;
* ``subscriptions`` — a customer of the population (a subscription active on the day before
  ``as_of``) *churned* when no subscription of theirs is active on the window's last day,
  as_of + H − 1 (a subscription that ends and is renewed inside the window is not churn).

Labels need the data to reach the window's end; :func:`data_end` gives the last date the
store holds so that callers can refuse incomplete windows.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from negah.errors import InputError
from negah.predict.features import _purchases_returns, label_kind, parse_date, population

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

    from negah.store.connect import Store


def label_expr(store: "Store", as_of: Any, horizon: int, label: str = "auto") -> "ir.Table":
    """customer_id, churned (0/1) for the population at ``as_of``."""
    import ibis

    as_of = parse_date(as_of)
    if horizon < 1:
        raise InputError(f"horizon must be at least 1 day, received {horizon}")
    kind = label_kind(store, label)
    end = as_of + _dt.timedelta(days=horizon)
    pop = population(store, as_of, kind)
    if kind == "orders":
        o = store.table("orders")
        o, ret = _purchases_returns(o)
        o = o.filter((o.order_date >= as_of) & (o.order_date < end) & ~ret)
        stayed = o.select("customer_id").distinct().mutate(_stayed=ibis.literal(1))
    else:
        last = end - _dt.timedelta(days=1)
        s = store.table("subscriptions")
        s = s.filter(s.start_date <= last)
        if "end_date" in s.columns:
            s = s.filter(s.end_date.isnull() | (s.end_date > last))
        stayed = s.select("customer_id").distinct().mutate(_stayed=ibis.literal(1))
    t = pop.left_join(stayed, "customer_id")
    if "customer_id_right" in t.columns:
        t = t.drop("customer_id_right")
    return t.select("customer_id", churned=ibis.ifelse(t._stayed.isnull(), 1, 0).cast("int8"))


def build_labels(store: "Store", as_of: Any, horizon: int, label: str = "auto") -> "pd.DataFrame":
    """Labels as a DataFrame ordered by customer_id."""
    df = store.execute(label_expr(store, as_of, horizon, label))
    df["customer_id"] = df["customer_id"].astype(str)
    df["churned"] = df["churned"].astype("int8")
    return df.sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def data_end(store: "Store", label: str = "auto") -> _dt.date | None:
    """The last date in the table the labels come from (orders or subscription starts/ends)."""
    import pandas as pd

    kind = label_kind(store, label)
    if kind == "orders":
        t = store.table("orders")
        v = store.execute(t.order_date.max())
    else:
        t = store.table("subscriptions")
        cands = [store.execute(t.start_date.max())]
        if "end_date" in t.columns:
            cands.append(store.execute(t.end_date.max()))
        cands = [c for c in cands if c is not None and not pd.isna(c)]
        v = max(cands) if cands else None
    if v is None or pd.isna(v):
        return None
    return pd.Timestamp(v).date()
