"""The metrics engine: from a store to the spec's output records.

:func:`compute` runs the engine once (see :mod:`negah.metrics.rollup`) and evaluates the
requested metric definitions for every (segment, period), in the spec's order.
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from negah.errors import InputError
from negah.metrics import churn, clv, growth, nps, purchases, returns, revenue
from negah.metrics.base import is_missing
from negah.metrics.facts import PeriodFacts, Value

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.calendars import Calendar
    from negah.store.connect import Store

# The spec's metric table, in its order. nps only when there are responses.
SPEC_METRICS: dict[str, Callable[[PeriodFacts], Value]] = {
    "active_customers": churn.active_customers,
    "new_customers": churn.new_customers,
    "churned_customers": churn.churned_customers,
    "churn_rate": churn.churn_rate,
    "retention_rate": churn.retention_rate,
    "revenue_churn_gross": revenue.revenue_churn_gross,
    "revenue_churn_net": revenue.revenue_churn_net,
    "net_revenue_retention": revenue.net_revenue_retention,
    "repeat_purchase_rate": purchases.repeat_purchase_rate,
    "loyal_customer_rate": purchases.loyal_customer_rate,
    "product_return_rate": returns.product_return_rate,
    "time_between_purchases_days": purchases.time_between_purchases_days,
    "nps": nps.nps,
    "arpu": revenue.arpu,
    "clv": clv.clv,
    "customer_growth_rate": growth.customer_growth_rate,
}

# Further metrics on orders, reported when asked for by name (or by `negah growth`).
GROWTH_METRICS: dict[str, Callable[[PeriodFacts], Value]] = {
    "reactivated_customers": growth.reactivated_customers,
    "net_customer_adds": growth.net_customer_adds,
    "quick_ratio": growth.quick_ratio,
}

# Metrics whose value is a count or an amount: numerator/denominator print null.
COUNT_METRICS = {
    "active_customers",
    "new_customers",
    "churned_customers",
    "reactivated_customers",
    "net_customer_adds",
    "acquisition_spend",
    "mrr",
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churned",
    "mrr_reactivated",
}

RATE_METRICS = {
    "churn_rate",
    "retention_rate",
    "revenue_churn_gross",
    "revenue_churn_net",
    "net_revenue_retention",
    "repeat_purchase_rate",
    "loyal_customer_rate",
    "product_return_rate",
    "customer_growth_rate",
}

_WINDOW_RE = re.compile(r"^\s*(\d+)\s*(d|day|days|w|week|weeks)?\s*$", re.I)


def parse_window(value: Any) -> int | None:
    """``90d`` / ``12w`` / ``90`` → days (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        days = value
    else:
        m = _WINDOW_RE.match(str(value))
        if not m:
            raise InputError(
                f"active window {value!r} is not a duration: expected days such as 90d or weeks such as 12w"
            )
        days = int(m.group(1)) * (7 if (m.group(2) or "d").lower().startswith("w") else 1)
    if days <= 0:
        raise InputError(f"active window {value!r} must be at least one day")
    return days


def available_metrics(basis: str = "orders", window: int | None = None) -> list[str]:
    """Every metric name ``compute`` accepts for ``basis``."""
    if basis == "subscriptions":
        from negah.metrics.subscriptions import SUBSCRIPTION_METRICS

        return list(SUBSCRIPTION_METRICS)
    from negah.metrics.acquisition import ACQUISITION_METRICS
    from negah.metrics.window import window_names

    names = list(SPEC_METRICS) + list(GROWTH_METRICS) + list(ACQUISITION_METRICS)
    names += window_names(window or 90)
    return names


_WINDOW_NAME = re.compile(r"^(active_customers|churned_customers|churn_rate|retention_rate)_(\d+)d$")


def _window_of(requested: Sequence[str] | None, window: int | None) -> int | None:
    """The activity window of a run: ``--active-window``, or the one that requested names
    such as ``churn_rate_30d`` carry (they must agree: one window per run)."""
    named = sorted(
        {
            int(m.group(2))
            for m in (_WINDOW_NAME.match(str(n).strip().lower()) for n in requested or ())
            if m and int(m.group(2)) > 0
        }
    )
    if len(named) > 1 or (named and window is not None and named[0] != window):
        got = ", ".join(f"{d}d" for d in sorted({*named, *([window] if window else [])}))
        raise InputError(
            f"activity-window metrics for several windows ({got}) in one run: ask for one "
            "window at a time (the names' suffix and --active-window must agree)"
        )
    return window if window is not None else (named[0] if named else None)


def _select(
    requested: Sequence[str] | None, basis: str, has_responses: bool, has_spend: bool, window: int | None
) -> list[str]:
    from negah.metrics.acquisition import ACQUISITION_METRICS
    from negah.metrics.window import window_names

    allowed = available_metrics(basis, window)
    if requested:
        out: list[str] = []
        for name in requested:
            n = str(name).strip().lower()
            if n not in allowed:
                raise InputError(
                    f"metric {name!r} is not known for basis {basis!r}: expected one of {', '.join(allowed)}"
                )
            if n == "nps" and not has_responses:
                raise InputError(
                    "metric 'nps' needs survey answers: there is no responses table (responses.csv with customer_id, response_date, score)"
                )
            if n in ACQUISITION_METRICS and not has_spend:
                raise InputError(
                    f"metric {n!r} needs acquisition spend: there is no spend table (spend.csv with spend_date, amount[, channel])"
                )
            if n not in out:
                out.append(n)
        if window and not any(n in window_names(window) for n in out):
            # --active-window with a list of spec names: their activity-window variants too
            extra = [f"{n}_{window}d" for n in out if f"{n}_{window}d" in allowed]
            if not extra:
                raise InputError(
                    f"--active-window {window}d adds activity-window metrics, but none of the requested "
                    f"metrics has one: ask for {', '.join(window_names(window))} (or churn_rate, "
                    "retention_rate, active_customers, churned_customers with --active-window)"
                )
            out += extra
        # report in the canonical order
        return [m for m in allowed if m in out]
    if basis == "subscriptions":
        return allowed
    names = [m for m in SPEC_METRICS if m != "nps" or has_responses]
    if has_spend:
        names += list(ACQUISITION_METRICS)
    if window:
        names += window_names(window)
    return names


def compute_records(
    source: Any,
    period: str = "month",
    calendar: str = "gregorian",
    metrics: Sequence[str] | str | None = None,
    segment: str | None = None,
    start: Any = None,
    end: Any = None,
    basis: str = "orders",
    active_window: Any = None,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """The spec's output records (list of dicts, JSON-ready) — see :func:`compute`."""
    from negah.calendars import Calendar, check, to_date
    from negah.metrics.base import date_range, open_source

    period, calendar = check(period, calendar)
    basis = str(basis).lower().strip()
    if basis not in ("orders", "subscriptions"):
        raise InputError(f"basis {basis!r} is not known: expected orders or subscriptions")
    if isinstance(metrics, str):
        metrics = [metrics]
    window = _window_of(metrics, parse_window(active_window))
    if basis == "subscriptions" and window is not None:
        raise InputError(
            f"the activity window ({window}d) is for orders: subscriptions say by "
            "themselves who is a customer; drop --active-window or use --basis orders"
        )
    lo = to_date(start) if start is not None else None
    hi = to_date(end) if end is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"--from {lo.isoformat()} is after --to {hi.isoformat()}: swap them")
    store, opened = open_source(source, engine=engine)
    try:
        if basis == "subscriptions":
            from negah.metrics.subscriptions import subscription_records

            names = _select(metrics, basis, False, False, None)
            return subscription_records(store, period, calendar, names, segment, lo, hi)
        has_orders = store.table("orders") is not None
        has_resp = store.table("responses") is not None
        has_spend = store.table("spend") is not None
        if not has_orders and not has_resp:
            raise InputError(
                f"{store.location}: no orders and no responses table: import orders "
                "(customer_id, order_date, amount) first, or use --basis subscriptions"
            )
        names = _select(metrics, basis, has_resp, has_spend, window)
        rng = date_range(store, ("orders", "responses"))
        if rng is None:
            return []
        cal = Calendar(rng[0], rng[1], period, calendar)
        facts = period_facts(store, cal, segment, names, window)
        return build_records(cal, facts, names, rng, segment is not None, lo, hi)
    finally:
        if opened:
            store.close()


def period_facts(
    store: "Store", cal: "Calendar", segment: str | None, names: Iterable[str], window: int | None = None
) -> dict[tuple[Any, int], PeriodFacts]:
    """Run the engine and assemble one :class:`PeriodFacts` per (segment, period)."""
    from negah.metrics.rollup import nps_facts, order_facts

    names = list(names)
    grid: dict[tuple[Any, int], PeriodFacts] = {}
    segs: set[Any] = set()

    def get(seg: Any, pkey: int) -> PeriodFacts:
        key = (seg, pkey)
        if key not in grid:
            grid[key] = PeriodFacts(pkey=pkey, has_prev=pkey > 0)
        segs.add(seg)
        return grid[key]

    def rows(df: "pd.DataFrame"):
        cols = list(df.columns)
        for tup in df.itertuples(index=False, name=None):
            r = dict(zip(cols, tup))
            yield (_py(r.get("seg")) if segment is not None else None), int(r["pkey"]), r

    if store.table("orders") is not None:
        f = order_facts(store, cal, segment)
        for seg, pk, r in rows(f.facts):
            x = get(seg, pk)
            x.A += _int(r["A"])
            x.N += _int(r["N"])
            x.LN += _int(r["LN"])
            x.revenue += _dec(r["revenue"])
            if f.segmented:
                x.sold += _dec(r["sold"])
                x.returned += _dec(r["returned"])
            k, ng = _int(r["gk"]), _int(r["ngaps"])
            if ng > 0 and k > 0:
                # k customers with ng gaps ending in P, gsum gap days together: Σ of means = gsum / ng
                x.gap_customers += k
                x.gap_sum_of_means += Fraction(_int(r["gsum"]), ng)
            if pk + 1 < len(cal):
                # the customers active in P are S(P + 1)
                y = get(seg, pk + 1)
                y.R0 += _dec(r["R0x"])
                y.kept += _dec(r["keptx"])
                y.lost += _dec(r["lostx"])
                y.SA += _int(r["SAx"])
        if f.units is not None:
            for _, pk, r in rows(f.units):
                x = get(None, pk)
                x.sold += _dec(r["sold"])
                x.returned += _dec(r["returned"])
        for x in grid.values():
            # R(P): active customers that are not new, and new ones with a second order
            x.R = x.A - x.N + x.LN
    if "nps" in names:
        df = nps_facts(store, cal, segment)
        if df is not None:
            for seg, pk, r in rows(df):
                x = get(seg, pk)
                x.responses, x.promoters, x.detractors = (_int(r[k]) for k in ("responses", "promoters", "detractors"))
    if segment is None:
        segs.add(None)
    # the full grid: every period for every segment
    for seg in segs:
        for p in cal.periods:
            get(seg, p.index)
    for (seg, pk), x in grid.items():
        if pk > 0:
            x.prevA = grid[(seg, pk - 1)].A
            x.S = x.prevA  # S(P) = A(P⁻)
    from negah.metrics.acquisition import ACQUISITION_METRICS, add_spend
    from negah.metrics.window import add_window, window_names

    if any(n in ACQUISITION_METRICS for n in names):
        add_spend(store, cal, segment, grid)
    if window and any(n in window_names(window) for n in names):
        add_window(store, cal, segment, grid, window)
    return grid


def metric_function(name: str) -> Callable[[PeriodFacts], Value]:
    if name in SPEC_METRICS:
        return SPEC_METRICS[name]
    if name in GROWTH_METRICS:
        return GROWTH_METRICS[name]
    from negah.metrics.acquisition import ACQUISITION_METRICS

    if name in ACQUISITION_METRICS:
        return ACQUISITION_METRICS[name]
    from negah.metrics.window import window_function

    return window_function(name)


def build_records(
    cal: "Calendar",
    grid: dict[tuple[Any, int], PeriodFacts],
    names: list[str],
    rng: tuple[_dt.date, _dt.date],
    segmented: bool,
    lo: _dt.date | None,
    hi: _dt.date | None,
    funcs: Callable[[str], Callable] | None = None,
) -> list[dict[str, Any]]:
    """Records ordered by period, then segment, then the metric table's order."""
    funcs = funcs or metric_function
    segs = sorted({s for s, _ in grid}, key=_seg_key)
    fns = [(n, funcs(n)) for n in names]
    out: list[dict[str, Any]] = []
    for p in cal.periods:
        if lo is not None and p.end <= lo:
            continue
        if hi is not None and p.start > hi:
            continue
        complete = p.start >= rng[0] and p.end - _dt.timedelta(days=1) <= rng[1]
        for seg in segs:
            x = grid[(seg, p.index)]
            for name, fn in fns:
                v = fn(x)
                num, den = v.numerator, v.denominator
                if name in COUNT_METRICS:
                    num = den = None
                rec: dict[str, Any] = {
                    "metric": name,
                    "period": p.label,
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "value": _out(v.value),
                    "numerator": _out(num),
                    "denominator": _out(den),
                    "complete": bool(complete),
                }
                if segmented:
                    rec["segment"] = seg
                out.append(rec)
    return out


def _seg_key(v: Any) -> tuple:
    return (v is None, type(v).__name__, v if v is not None else 0)


def _out(v: Any) -> Any:
    """JSON-ready: ints stay ints, exact values become the nearest float, None stays None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    return float(v)  # Fraction and Decimal: the nearest float, correctly rounded


def _int(v: Any) -> int:
    return 0 if is_missing(v) else int(v)


def _dec(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return v if v.is_finite() else Decimal(0)
    if is_missing(v):
        return Decimal(0)
    if isinstance(v, float):
        return Decimal(repr(v))
    return Decimal(v)


def _py(v: Any) -> Any:
    """A segment value as a plain JSON-ready scalar (None for missing): dates and times as
    ISO text (a date column comes back from the engines as midnight timestamps), exact
    decimals as text."""
    import datetime as _dt
    from decimal import Decimal

    if is_missing(v):
        return None
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()
    elif hasattr(v, "item"):
        v = v.item()
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time(0) and v.tzinfo is None else v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def compute(
    source: Any,
    period: str = "month",
    calendar: str = "gregorian",
    metrics: Sequence[str] | str | None = None,
    segment: str | None = None,
    start: Any = None,
    end: Any = None,
    basis: str = "orders",
    active_window: Any = None,
    engine: str = "duckdb",
) -> "pd.DataFrame":
    """Retention metrics per period, as a DataFrame of the spec's output records.

    Parameters
    ----------
    source
        A :class:`~negah.store.connect.Store`, a DuckDB file, a database URL
        (``postgresql://…``, ``mysql://…``) or a folder of canonical files.
    period, calendar
        ``week|month|quarter|year`` and ``gregorian|jalali``.
    metrics
        Metric names (default: every metric of the spec's table; ``nps`` only with
        responses; acquisition metrics when a spend table exists).
    segment
        A column of ``customers``: every metric per value of it.
    start, end
        Only report periods overlapping ``[start, end]`` ("ever" and "first" still look
        at all the data).
    basis
        ``orders`` (default) or ``subscriptions`` (the spec's MRR table).
    active_window
        ``"90d"``: also report activity-window churn (``churn_rate_90d`` …).
    engine
        ``duckdb`` or ``spark``, for a folder source.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, period, start, end, value, numerator, denominator, complete``
        (+ ``segment``), ordered by period, then the spec's metric order.
    """
    import pandas as pd

    recs = compute_records(source, period, calendar, metrics, segment, start, end, basis, active_window, engine)
    cols = ["metric", "period", "start", "end", "value", "numerator", "denominator", "complete"]
    if segment is not None:
        cols.append("segment")
    df = pd.DataFrame({c: pd.Series([r.get(c) for r in recs], dtype=object) for c in cols})
    df["complete"] = df["complete"].astype(bool)
    return df
