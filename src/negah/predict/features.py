"""Point-in-time churn features: what was known about each customer at a cut-off date.

``as_of`` is the cut-off: the first day that is *not* observed. Every feature reads only
rows dated strictly before it (``order_date < as_of``, ``contacted_at < as_of 00:00``, ...),
a subscription's ``end_date`` counts only when it is before ``as_of`` (a later end was not
yet known), and the customer table's own dates (``signup_date``, ``loyalty_joined``) count
only when before ``as_of``. So changing or deleting any row dated on or after the cut-off
leaves every feature unchanged (``tests/predict/test_leakage.py`` checks this).
Nothing here reads today's date.

The population (who gets a row) is point-in-time too: for ``label="orders"``, customers
with a purchase before ``as_of``; for ``label="subscriptions"``, customers with a
subscription active on the day before ``as_of``.

Features (``window`` = w days, default 90; "recent" = [as_of − w, as_of), "prior" =
[as_of − 2w, as_of − w)):

=========================  ===========================================================
recency_days               days since the last purchase
frequency                  purchase orders (distinct order_id; a row when absent)
purchase_days              distinct days with a purchase
monetary_total             purchase revenue
avg_order_value            monetary_total / frequency
tenure_days                days since the first purchase, signup or subscription start
orders_recent/_prior       purchase orders in the recent / prior window
purchase_trend             orders_recent − orders_prior
spend_recent/_prior        purchase revenue in the recent / prior window
spend_change               (spend_recent − spend_prior) / spend_prior (NaN if prior = 0)
returns, return_rate       return lines; returned amount / purchase revenue
complaints_total/_recent   complaints ever / in the recent window
days_since_complaint       days since the last complaint
complaints_reason_<slug>   complaints about each of the most frequent reasons
nps_last, nps_change       last NPS score; last minus the one before
days_since_nps             days since the last survey answer
nps_responses              survey answers
contacts_recent            contacts in the recent window
contact_response_rate      share of contacts with a responsive outcome (answered,
                           opened, replied, clicked, responded, converted, read, yes)
days_since_contact         days since the last contact
subscriptions_active       subscriptions active on the day before as_of
mrr_now, mrr_change        MRR then; minus MRR on the day before as_of − w
subscription_tenure_days   days since the first subscription start
plan_changes               distinct plans ever − 1
plan_now                   plan of the active subscription with the highest MRR
loyalty_member             1 when a loyalty member (joined before as_of, if dated)
loyalty_days               days since joining the loyalty program
country, acquisition_channel, customer_plan   customer attributes (categories)
p_alive                    BG/NBD probability of being alive (fitted on this cut-off)
expected_purchases         BG/NBD expected purchases in the next ``horizon`` days
=========================  ===========================================================

Every column is always present (NaN when its table is absent), so that a model trained on
one store can score another. Counts are 0, not NaN, when a table is present but the
customer has no rows in it.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from negah.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

    from negah.store.connect import Store

RESPONSIVE_OUTCOMES = (
    "answered",
    "opened",
    "replied",
    "clicked",
    "responded",
    "converted",
    "read",
    "yes",
    "reached",
    "accepted",
)
BASE_FEATURES = [
    "recency_days",
    "frequency",
    "purchase_days",
    "monetary_total",
    "avg_order_value",
    "tenure_days",
    "orders_recent",
    "orders_prior",
    "purchase_trend",
    "spend_recent",
    "spend_prior",
    "spend_change",
    "returns",
    "return_rate",
    "complaints_total",
    "complaints_recent",
    "days_since_complaint",
    "nps_last",
    "nps_change",
    "days_since_nps",
    "nps_responses",
    "contacts_recent",
    "contact_response_rate",
    "days_since_contact",
    "subscriptions_active",
    "mrr_now",
    "mrr_change",
    "subscription_tenure_days",
    "plan_changes",
    "loyalty_member",
    "loyalty_days",
    "p_alive",
    "expected_purchases",
]
TEXT_FEATURES = ["plan_now", "country", "acquisition_channel", "customer_plan"]
LABEL_KINDS = ("orders", "subscriptions")


def parse_date(value: Any, what: str = "as_of") -> _dt.date:
    """A date from a ``date``, ``datetime`` or ``YYYY-MM-DD`` string."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{what} must be a date YYYY-MM-DD, received {value!r}") from None


def slug(text: str) -> str:
    """Letters and digits of any script, runs of anything else as ``_`` (``late_delivery``, ``تاخیر_ارسال``)."""
    s = re.sub(r"[\W_]+", "_", str(text).strip().lower()).strip("_")
    return s or "other"


def reason_key(text: str) -> str:
    """A complaint reason as negah compares it: trimmed and lower-cased (``"Price "`` is ``price``)."""
    return str(text).strip().lower()


def reason_feature(reason: str) -> str:
    return "complaints_reason_" + slug(reason)


def reason_features(reasons: Sequence[str]) -> list[str]:
    """The feature name of each reason, made unique (``late-delivery`` and ``late delivery``
    become ``complaints_reason_late_delivery`` and ``complaints_reason_late_delivery_2``)."""
    out: list[str] = []
    for r in reasons:
        name, k = reason_feature(r), 2
        while name in out:
            name, k = f"{reason_feature(r)}_{k}", k + 1
        out.append(name)
    return out


def label_kind(store: "Store", label: str = "auto") -> str:
    """``orders`` or ``subscriptions``: ``auto`` takes orders when the store has them."""
    if label == "auto":
        if store.has("orders"):
            return "orders"
        if store.has("subscriptions"):
            return "subscriptions"
        raise InputError("churn prediction needs an orders or a subscriptions table; the store has neither")
    if label not in LABEL_KINDS:
        raise InputError(f"label must be auto, orders or subscriptions, received {label!r}")
    if not store.has(label):
        raise InputError(f"label {label!r} needs the {label} table, which the store lacks")
    return label


# ------------------------------------------------------------------------------------
# Ibis pieces (each returns customer_id + columns, reading only rows before as_of)
# ------------------------------------------------------------------------------------


def _days(as_of: "ir.Value", d: "ir.Value") -> "ir.Value":
    return as_of.delta(d, unit="day").cast("float64")


def _purchases_returns(o: "ir.Table") -> tuple["ir.Table", "ir.BooleanValue"]:
    import ibis

    is_return = o.amount < 0
    if "quantity" in o.columns:
        is_return = is_return | (o.quantity.fill_null(0) < 0)
    if "kind" in o.columns:
        is_return = is_return | (o.kind.fill_null("").lower() == "return")
    return o, ibis.ifelse(is_return, True, False)


def order_features(store: "Store", as_of: _dt.date, window: int) -> "ir.Table | None":
    import ibis

    o = store.table("orders")
    if o is None:
        return None
    d0 = ibis.date(as_of)
    o = o.filter(o.order_date < as_of)
    o, ret = _purchases_returns(o)
    key = o.order_id if "order_id" in o.columns else None
    o = o.mutate(_ret=ret, _amt=o.amount.abs())
    recent_start = as_of - _dt.timedelta(days=window)
    prior_start = as_of - _dt.timedelta(days=2 * window)
    buy = ~o._ret
    rec = buy & (o.order_date >= recent_start)
    pri = buy & (o.order_date >= prior_start) & (o.order_date < recent_start)
    if key is not None:
        k = o.order_id.fill_null("")
        n_orders = k.nunique(where=buy)
        n_rec = k.nunique(where=rec)
        n_pri = k.nunique(where=pri)
    else:
        n_orders = buy.sum()
        n_rec = rec.sum()
        n_pri = pri.sum()
    agg = o.group_by("customer_id").aggregate(
        _first=o.order_date.min(where=buy),
        _last=o.order_date.max(where=buy),
        frequency=n_orders.cast("float64"),
        purchase_days=o.order_date.nunique(where=buy).cast("float64"),
        monetary_total=o._amt.sum(where=buy).cast("float64"),
        orders_recent=n_rec.cast("float64"),
        orders_prior=n_pri.cast("float64"),
        spend_recent=o._amt.sum(where=rec).cast("float64"),
        spend_prior=o._amt.sum(where=pri).cast("float64"),
        returns=o._ret.sum().cast("float64"),
        _returned=o._amt.sum(where=o._ret).cast("float64"),
    )
    agg = agg.filter(agg._first.notnull())
    agg = agg.mutate(
        recency_days=_days(d0, agg._last),
        spend_recent=agg.spend_recent.fill_null(0.0),
        spend_prior=agg.spend_prior.fill_null(0.0),
        monetary_total=agg.monetary_total.fill_null(0.0),
        _returned=agg._returned.fill_null(0.0),
        _T=_days(d0, agg._first),
        _tx=_days(agg._last, agg._first),
    )
    agg = agg.mutate(
        avg_order_value=ibis.ifelse(agg.frequency > 0, agg.monetary_total / agg.frequency, None),
        purchase_trend=agg.orders_recent - agg.orders_prior,
        spend_change=ibis.ifelse(agg.spend_prior > 0, (agg.spend_recent - agg.spend_prior) / agg.spend_prior, None),
        return_rate=ibis.ifelse(agg.monetary_total > 0, agg._returned / agg.monetary_total, None),
    )
    return agg.drop("_last", "_returned")


def complaint_features(store: "Store", as_of: _dt.date, window: int, reasons: Sequence[str]) -> "ir.Table | None":
    import ibis

    c = store.table("complaints")
    if c is None:
        return None
    c = c.filter(c.complaint_date < as_of)
    recent_start = as_of - _dt.timedelta(days=window)
    cols: dict[str, Any] = {
        "complaints_total": c.count().cast("float64"),
        "complaints_recent": (c.complaint_date >= recent_start).sum().cast("float64"),
        "_last_complaint": c.complaint_date.max(),
    }
    # reasons compare trimmed and lower-cased, in SQL as in Python: the same on every engine,
    # whatever the database's collation (MySQL's default one ignores case and trailing spaces)
    key = c.reason.strip().lower()
    for name, r in zip(reason_features(reasons), reasons):
        cols[name] = (key == reason_key(r)).sum().cast("float64")
    agg = c.group_by("customer_id").aggregate(**cols)
    return agg.mutate(days_since_complaint=_days(ibis.date(as_of), agg._last_complaint)).drop("_last_complaint")


def complaint_reasons(store: "Store", as_of: _dt.date, max_reasons: int = 8) -> list[str]:
    """The ``max_reasons`` most frequent complaint reasons before ``as_of``, as :func:`reason_key`
    gives them (ties by name)."""
    c = store.table("complaints")
    if c is None or max_reasons <= 0:
        return []
    c = c.filter(c.complaint_date < as_of).mutate(_key=c.reason.strip().lower())
    c = c.filter(c._key.notnull() & (c._key != ""))
    df = store.execute(c.group_by("_key").aggregate(n=c.count()))
    # MySQL's collation may return any spelling of a group: normalise again in Python
    df["_key"] = df["_key"].astype(str).map(reason_key)
    df = df.groupby("_key", as_index=False)["n"].sum()
    df = df.sort_values(["n", "_key"], ascending=[False, True], kind="mergesort")
    return df["_key"].head(max_reasons).tolist()


def response_features(store: "Store", as_of: _dt.date) -> "ir.Table | None":
    import ibis

    r = store.table("responses")
    if r is None:
        return None
    r = r.filter(r.response_date < as_of)
    w = ibis.window(group_by=r.customer_id, order_by=[ibis.desc(r.response_date), ibis.desc(r.score)])
    r = r.mutate(_rn=ibis.row_number().over(w))
    agg = r.group_by("customer_id").aggregate(
        nps_last=r.score.max(where=r._rn == 0).cast("float64"),
        _prev=r.score.max(where=r._rn == 1).cast("float64"),
        _last_date=r.response_date.max(),
        nps_responses=r.count().cast("float64"),
    )
    return agg.mutate(nps_change=agg.nps_last - agg._prev, days_since_nps=_days(ibis.date(as_of), agg._last_date)).drop(
        "_prev", "_last_date"
    )


def contact_features(store: "Store", as_of: _dt.date, window: int) -> "ir.Table | None":
    import ibis

    c = store.table("contacts")
    if c is None:
        return None
    day = c.contacted_at.date()
    c = c.mutate(_day=day).filter(day < as_of)
    recent_start = as_of - _dt.timedelta(days=window)
    if "outcome" in c.columns:
        responded = c.outcome.fill_null("").lower().isin(RESPONSIVE_OUTCOMES)
        # a ratio of counts in double precision: PostgreSQL casts no boolean to a float, and
        # MySQL averages 1.0/0.0 literals as decimals rounded to 4 places
        rate = ibis.ifelse(responded, 1, 0).sum().cast("float64") / c.count().cast("float64")
    else:
        rate = ibis.null().cast("float64")
    agg = c.group_by("customer_id").aggregate(
        contacts_recent=(c._day >= recent_start).sum().cast("float64"),
        contact_response_rate=rate,
        _last_contact=c._day.max(),
    )
    return agg.mutate(days_since_contact=_days(ibis.date(as_of), agg._last_contact)).drop("_last_contact")


def subscription_features(store: "Store", as_of: _dt.date, window: int) -> "ir.Table | None":
    import ibis

    s = store.table("subscriptions")
    if s is None:
        return None
    s = s.filter(s.start_date < as_of)
    # an end on or after the cut-off was not known at the cut-off
    end = s.end_date if "end_date" in s.columns else ibis.null().cast("date")
    known_end = ibis.ifelse(end < as_of, end, ibis.null().cast("date"))
    # MRR stays an exact decimal until summed, so every engine gives the same sums
    mrr = s.mrr.fill_null(0) if "mrr" in s.columns else ibis.literal(0).cast("decimal(18, 4)")
    plan = s.plan.cast("string") if "plan" in s.columns else ibis.null().cast("string")
    s = s.mutate(_end=known_end, _mrr=mrr, _plan=plan)
    before = as_of - _dt.timedelta(days=window + 1)  # the day before as_of − w
    active = s._end.isnull()
    active_before = (s.start_date <= before) & (s._end.isnull() | (s._end > before))
    w = ibis.window(
        group_by=s.customer_id,
        order_by=[
            ibis.desc(ibis.ifelse(active, 1, 0)),
            ibis.desc(s._mrr),
            ibis.desc(s.start_date),
            ibis.ifelse(s._plan.isnull(), 1, 0),
            s._plan,
        ],
    )  # NULLs sort differently per engine: said explicitly
    s = s.mutate(_rn=ibis.row_number().over(w), _active=active, _active_before=active_before)
    agg = s.group_by("customer_id").aggregate(
        subscriptions_active=s._active.sum().cast("float64"),
        mrr_now=s._mrr.sum(where=s._active).cast("float64"),
        _mrr_before=s._mrr.sum(where=s._active_before).cast("float64"),
        _first_start=s.start_date.min(),
        plan_changes=(s._plan.nunique() - 1).cast("float64"),
        plan_now=s._plan.max(where=(s._rn == 0) & s._active),
    )
    agg = agg.mutate(mrr_now=agg.mrr_now.fill_null(0.0), _mrr_before=agg._mrr_before.fill_null(0.0))
    return agg.mutate(
        mrr_change=agg.mrr_now - agg._mrr_before,
        subscription_tenure_days=_days(ibis.date(as_of), agg._first_start),
        plan_changes=ibis.greatest(agg.plan_changes, 0.0),
    ).drop("_mrr_before")


def customer_features(store: "Store", as_of: _dt.date) -> "ir.Table | None":
    import ibis

    c = store.table("customers")
    if c is None:
        return None
    d0 = ibis.date(as_of)
    cols: dict[str, Any] = {}
    if "signup_date" in c.columns:
        cols["_signup"] = ibis.ifelse(c.signup_date < as_of, c.signup_date, ibis.null().cast("date"))
    if "loyalty_joined" in c.columns:
        joined = c.loyalty_joined < as_of
        cols["loyalty_member"] = ibis.ifelse(joined, 1.0, 0.0)
        cols["loyalty_days"] = ibis.ifelse(joined, _days(d0, c.loyalty_joined), None)
    elif "loyalty_member" in c.columns:
        cols["loyalty_member"] = ibis.ifelse(c.loyalty_member, 1.0, 0.0)  # no boolean casts on PostgreSQL
    for src, dst in (("country", "country"), ("acquisition_channel", "acquisition_channel"), ("plan", "customer_plan")):
        if src in c.columns:
            cols[dst] = c[src].cast("string")
    if not cols:
        return None
    # one row per customer (the first row when a customer is listed twice)
    t = c.select("customer_id", **cols)
    agg = {k: t[k].max() if k in ("loyalty_member", "loyalty_days") else t[k].min() for k in cols}
    return t.group_by("customer_id").aggregate(**agg)


def no_population(store: "Store", as_of: _dt.date, label: str) -> str:
    """Why nobody is in the population at ``as_of``, with the data's dates to choose from."""
    from negah.calendars import to_date
    from negah.metrics.base import is_missing

    t, col, what = (
        (store.table("orders"), "order_date", "nobody bought before it")
        if label == "orders"
        else (store.table("subscriptions"), "start_date", "no subscription was running at it")
    )
    span = store.execute(t.aggregate(lo=t[col].min(), hi=t[col].max())).iloc[0]
    dates = (
        ""
        if is_missing(span["lo"])
        else f" (the data run from {to_date(span['lo']).isoformat()} to {to_date(span['hi']).isoformat()})"
    )
    return f"no customers at the cut-off {as_of.isoformat()}: {what}{dates}; choose a later --as-of"


def population(store: "Store", as_of: _dt.date, label: str) -> "ir.Table":
    """customer_id of everyone who gets a row at the cut-off (see the module docstring)."""
    if label == "orders":
        o = store.table("orders")
        o = o.filter(o.order_date < as_of)
        o, ret = _purchases_returns(o)
        o = o.filter(~ret)
        return o.select("customer_id").distinct()
    s = store.table("subscriptions")
    s = s.filter(s.start_date < as_of)
    if "end_date" in s.columns:
        s = s.filter(s.end_date.isnull() | (s.end_date >= as_of))
    return s.select("customer_id").distinct()


def feature_expr(
    store: "Store", as_of: Any, *, label: str = "auto", window: int = 90, reasons: Sequence[str] | None = None
) -> tuple["ir.Table", list[str]]:
    """The Ibis expression of the features at ``as_of`` (without the BTYD columns).

    Returns ``(expression, reasons)``: ``reasons`` is the complaint-reason vocabulary used
    (given, or the most frequent before ``as_of``).
    """
    import ibis

    as_of = parse_date(as_of)
    kind = label_kind(store, label)
    if window < 1:
        raise InputError(f"window must be at least 1 day, received {window}")
    if reasons is None:
        reasons = complaint_reasons(store, as_of)
    pop = population(store, as_of, kind)
    t = pop
    parts = [
        order_features(store, as_of, window),
        complaint_features(store, as_of, window, reasons),
        response_features(store, as_of),
        contact_features(store, as_of, window),
        subscription_features(store, as_of, window),
        customer_features(store, as_of),
    ]
    for part in parts:
        if part is None:
            continue
        t = t.left_join(part, "customer_id")
        if "customer_id_right" in t.columns:
            t = t.drop("customer_id_right")
    cols = t.columns
    d0 = ibis.date(as_of)
    mut: dict[str, Any] = {}
    zero_fill = [
        "frequency",
        "purchase_days",
        "monetary_total",
        "orders_recent",
        "orders_prior",
        "spend_recent",
        "spend_prior",
        "returns",
        "complaints_total",
        "complaints_recent",
        "nps_responses",
        "contacts_recent",
        "subscriptions_active",
        "mrr_now",
        "mrr_change",
        "plan_changes",
        "purchase_trend",
    ] + reason_features(reasons)
    for name in zero_fill:
        if name in cols:
            mut[name] = t[name].fill_null(0.0)
    if "loyalty_member" in cols:
        mut["loyalty_member"] = t["loyalty_member"].fill_null(0.0)
    starts = [t[c] for c in ("_first", "_signup", "_first_start") if c in cols]
    if starts:
        # the earliest known start; MySQL's LEAST is NULL when any argument is, so each
        # argument falls back to the others (DuckDB, PostgreSQL and Spark skip NULLs)
        first = (
            starts[0]
            if len(starts) == 1
            else ibis.least(*[ibis.coalesce(s, *[o for o in starts if o is not s]) for s in starts])
        )
        mut["tenure_days"] = _days(d0, first)
    t = t.mutate(**mut) if mut else t
    want = (
        ["customer_id"]
        + [c for c in BASE_FEATURES if c not in ("p_alive", "expected_purchases")]
        + reason_features(reasons)
        + TEXT_FEATURES
        + ["_T", "_tx"]
    )
    sel = {}
    for c in want:
        if c in t.columns:
            sel[c] = t[c]
        elif c in TEXT_FEATURES:
            sel[c] = ibis.null().cast("string")
        else:
            sel[c] = ibis.null().cast("float64")
    return t.select(**sel), list(reasons)


def build_features(
    store: "Store",
    as_of: Any,
    *,
    label: str = "auto",
    window: int = 90,
    horizon: int = 90,
    reasons: Sequence[str] | None = None,
    btyd: bool = True,
) -> tuple["pd.DataFrame", list[str]]:
    """Features at ``as_of`` as a pandas DataFrame ordered by customer_id; see :func:`feature_expr`.

    ``btyd=True`` adds ``p_alive`` and ``expected_purchases`` (next ``horizon`` days) from a
    BG/NBD model fitted on the purchases before ``as_of`` (NaN with a warning when
    :mod:`negah.models` is not available or the fit fails).
    """
    expr, reasons = feature_expr(store, as_of, label=label, window=window, reasons=reasons)
    df = store.execute(expr)
    if df.empty:
        raise InputError(no_population(store, parse_date(as_of), label_kind(store, label)))
    df["customer_id"] = df["customer_id"].astype(str)
    df = df.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    for c in df.columns:
        if c != "customer_id" and c not in TEXT_FEATURES:
            df[c] = df[c].astype("float64")
        elif c in TEXT_FEATURES:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    p_alive, expected = btyd_features(df, horizon) if btyd else (None, None)
    df["p_alive"] = np.nan if p_alive is None else p_alive
    df["expected_purchases"] = np.nan if expected is None else expected
    df = df.drop(columns=["_T", "_tx"])
    order = ["customer_id"] + BASE_FEATURES + reason_features(reasons) + TEXT_FEATURES
    return df[order], reasons


def btyd_features(df: "pd.DataFrame", horizon: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """BG/NBD P(alive) and expected purchases, fitted on this cut-off's purchase summary.

    Time is in weeks; frequency = purchase days − 1 (repeat days), recency = days between
    the first and last purchase day, T = days from the first purchase to the cut-off.
    """
    if "_T" not in df.columns or df["_T"].isna().all():
        return None, None
    try:
        from negah.models.bgnbd import BGNBD
    except ImportError:  # pragma: no cover - models land with the rest of negah
        warnings.warn(
            "negah.models.bgnbd is not available: p_alive and expected_purchases are left empty", stacklevel=2
        )
        return None, None
    ok = df["_T"].notna().to_numpy() & df["purchase_days"].notna().to_numpy()
    x = np.maximum(df["purchase_days"].to_numpy()[ok] - 1, 0)
    tx = df["_tx"].to_numpy()[ok] / 7.0
    T = (df["_T"].to_numpy()[ok]) / 7.0
    T = np.maximum(T, np.maximum(tx, 1 / 7.0))
    tx = np.where(x > 0, tx, 0.0)
    p_alive = np.full(len(df), np.nan)
    expected = np.full(len(df), np.nan)
    try:
        m = BGNBD().fit(x, tx, T)
        p_alive[ok] = m.probability_alive(x, tx, T)
        expected[ok] = m.expected_purchases(horizon / 7.0, x, tx, T)
    except Exception as e:  # ConvergenceError, too little data
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        warnings.warn(
            f"BG/NBD fit failed at this cut-off ({first}); p_alive and expected_purchases are left empty", stacklevel=2
        )
        return None, None
    return np.round(p_alive, 10), np.round(expected, 10)
