"""Survival views of churn: Kaplan–Meier retention per segment, log-rank tests, a Cox model.

A survival frame has one row per customer: ``duration`` (days), ``event`` (1 = churned,
0 = still a customer at the cut-off: censored) and segment or covariate columns.

From a store, at a cut-off ``as_of`` (reading only rows before it, like the features):

* ``orders`` — a customer starts at the first purchase; they have churned when their last
  purchase is at least ``horizon`` days before ``as_of`` (event = 1, duration = last −
  first purchase); otherwise they are censored at ``as_of`` (duration = as_of − first);
* ``subscriptions`` — a customer starts at their first subscription's start; churned when
  no subscription is active on the day before ``as_of`` (duration to the last known end),
  otherwise censored at ``as_of``.

Segments are the customer attributes (``country``, ``acquisition_channel``, ``plan``,
``loyalty_member``) or any extra column of the customers table.

From a table (snapshot mode): name the duration column (e.g. ``tenure``) and the event
column (e.g. ``Churn``, Yes/No).

Estimators are lifelines': ``KaplanMeierFitter``, ``multivariate_logrank_test`` /
``pairwise_logrank_test`` and ``CoxPHFitter`` (with a small ridge penalty, 0.01, so that
a segment without events does not make the fit diverge).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from negah.errors import InputError, ModelError
from negah.predict.features import _purchases_returns, label_kind, parse_date
from negah.predict.prepare import Preparer, as_text, parse_labels, parse_numbers

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.store.connect import Store

DEFAULT_TIMES = (30, 90, 180, 365)


def survival_frame(
    store: "Store", as_of: Any, *, horizon: int = 90, label: str = "auto", segments: Sequence[str] = ()
) -> "pd.DataFrame":
    """customer_id, duration, event and the ``segments`` columns (see the module docstring)."""
    import ibis

    as_of = parse_date(as_of)
    kind = label_kind(store, label)
    d0 = ibis.date(as_of)
    if kind == "orders":
        o = store.table("orders")
        o = o.filter(o.order_date < as_of)
        o, ret = _purchases_returns(o)
        o = o.filter(~ret)
        g = o.group_by("customer_id").aggregate(first=o.order_date.min(), last=o.order_date.max())
        churned = d0.delta(g["last"], unit="day") >= horizon
        t = g.select(
            "customer_id",
            event=ibis.ifelse(churned, 1, 0),
            duration=ibis.ifelse(churned, g["last"].delta(g["first"], unit="day"), d0.delta(g["first"], unit="day")),
        )
    else:
        s = store.table("subscriptions")
        s = s.filter(s.start_date < as_of)
        end = s.end_date if "end_date" in s.columns else ibis.null().cast("date")
        s = s.mutate(_end=ibis.ifelse(end < as_of, end, ibis.null().cast("date")))
        g = s.group_by("customer_id").aggregate(
            first=s.start_date.min(), active=s._end.isnull().sum(), last_end=s._end.max()
        )
        churned = g.active == 0
        t = g.select(
            "customer_id",
            event=ibis.ifelse(churned, 1, 0),
            duration=ibis.ifelse(churned, g.last_end.delta(g["first"], unit="day"), d0.delta(g["first"], unit="day")),
        )
    segs = list(segments)
    if segs:
        c = store.table("customers")
        if c is None:
            raise InputError(f"segments {', '.join(segs)} need the customers table, which the store lacks")
        missing = [s for s in segs if s not in c.columns]
        if missing:
            raise InputError(
                f"segment column(s) {', '.join(missing)} not in the customers table; columns: {', '.join(c.columns)}"
            )
        cc = c.select("customer_id", *[c[s].cast("string").name(s) for s in segs])
        cc = cc.group_by("customer_id").aggregate(**{s: cc[s].min() for s in segs})
        t = t.left_join(cc, "customer_id")
        if "customer_id_right" in t.columns:
            t = t.drop("customer_id_right")
    df = store.execute(t)
    if df.empty:
        from negah.predict.features import no_population

        raise InputError(no_population(store, as_of, kind))
    df["customer_id"] = df["customer_id"].astype(str)
    df["duration"] = df["duration"].astype("float64")
    df["event"] = df["event"].astype("int8")
    for s in segs:
        df[s] = df[s].astype(object).where(df[s].notna(), "(blank)").astype(str)
    return df.sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def table_frame(
    df: "pd.DataFrame", duration: str, event: str, segments: Sequence[str] = (), positive: str | None = None
) -> "pd.DataFrame":
    """A survival frame from a one-row-per-customer table (duration column, event column)."""
    import pandas as pd

    for c in [duration, event, *segments]:
        if c not in df.columns:
            raise InputError(f"column {c!r} is not in the table; columns: {', '.join(map(str, df.columns[:30]))}")
    dur = parse_numbers(as_text(df[duration]))
    bad = dur.isna() | (dur < 0)
    out = pd.DataFrame({"duration": dur, "event": parse_labels(df[event], event, positive)})
    for s in segments:
        out[s] = as_text(df[s]).fillna("(blank)").astype(str).to_numpy()
    if bad.any():
        out = out[~bad.to_numpy()].reset_index(drop=True)
    if out.empty:
        raise InputError(f"duration column {duration!r} has no usable non-negative numbers")
    return out


def kaplan_meier(
    frame: "pd.DataFrame", segment: str | None = None, times: Sequence[float] = DEFAULT_TIMES
) -> list[dict[str, Any]]:
    """Per segment (or overall): customers, churned, median lifetime and retention at ``times``."""
    from lifelines import KaplanMeierFitter

    groups = (
        [("all", frame)]
        if segment is None
        else [(str(k), g) for k, g in sorted(frame.groupby(segment, sort=False), key=lambda kv: str(kv[0]))]
    )
    rows = []
    for name, g in groups:
        km = KaplanMeierFitter().fit(g["duration"], g["event"])
        med = km.median_survival_time_
        row = {
            "segment": name,
            "customers": int(len(g)),
            "churned": int(g["event"].sum()),
            "median_days": None if not np.isfinite(med) else float(med),
        }
        sf = km.survival_function_at_times(list(times)).to_numpy()
        for t, v in zip(times, sf):
            row[f"retained_{int(t)}d"] = round(float(v), 6)
        rows.append(row)
    return rows


def survival_curve(frame: "pd.DataFrame", segment: str | None = None) -> "pd.DataFrame":
    """The whole Kaplan–Meier curve: segment, day, retained (one row per event time)."""
    import pandas as pd
    from lifelines import KaplanMeierFitter

    groups = [("all", frame)] if segment is None else sorted(frame.groupby(segment), key=lambda kv: str(kv[0]))
    parts = []
    for name, g in groups:
        km = KaplanMeierFitter().fit(g["duration"], g["event"])
        sf = km.survival_function_
        parts.append(
            pd.DataFrame(
                {
                    "segment": str(name),
                    "day": sf.index.to_numpy(dtype=float),
                    "retained": np.round(sf.iloc[:, 0].to_numpy(), 6),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def logrank(frame: "pd.DataFrame", segment: str) -> dict[str, Any]:
    """Log-rank test of equal survival across the segments, and every pair of them."""
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test

    if frame[segment].nunique() < 2:
        raise InputError(f"segment {segment!r} has one value only; a log-rank test needs two or more groups")
    res = multivariate_logrank_test(frame["duration"], frame[segment], frame["event"])
    pw = pairwise_logrank_test(frame["duration"], frame[segment], frame["event"])
    pairs = []
    for (a, b), r in pw.summary.sort_index().iterrows():
        pairs.append(
            {
                "a": str(a),
                "b": str(b),
                "statistic": round(float(r["test_statistic"]), 6),
                "p_value": float(f"{float(r['p']):.6g}"),
            }
        )
    return {
        "segment": segment,
        "statistic": round(float(res.test_statistic), 6),
        "degrees_of_freedom": int(res.degrees_of_freedom),
        "p_value": float(f"{float(res.p_value):.6g}"),
        "pairs": pairs,
    }


def cox(frame: "pd.DataFrame", covariates: Sequence[str], penalizer: float = 0.01) -> list[dict[str, Any]]:
    """Cox proportional-hazards model of churn; one row per (dummy-coded) covariate.

    Text covariates are one-hot coded against their most frequent value; numbers stored as
    text are read as numbers (through :class:`~negah.predict.prepare.Preparer`).
    """
    import pandas as pd
    from lifelines import CoxPHFitter

    if not covariates:
        raise InputError("a Cox model needs at least one covariate (--covariate COL)")
    X = pd.DataFrame(index=frame.index)
    prep = Preparer().fit(frame[list(covariates)])
    for spec in prep.columns_:
        if spec.kind == "dropped":
            continue
        if spec.kind == "categorical":
            text = as_text(frame[spec.name]).fillna("(blank)")
            counts = text.value_counts()
            base = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for level in sorted(set(text) - {base}):
                X[f"{spec.name}={level}"] = (text == level).astype(float).to_numpy()
        else:
            v = prep.column_values(spec, frame[spec.name])
            X[spec.name] = np.where(np.isnan(v), np.nanmedian(v), v)
    if X.shape[1] == 0:
        raise InputError(f"no usable covariates among {', '.join(covariates)}")
    # a churn on the first day (duration 0) is counted as half a day: Cox needs durations > 0
    X["duration"] = np.maximum(frame["duration"].to_numpy(dtype=float), 0.5)
    X["event"] = frame["event"].to_numpy()
    try:
        m = CoxPHFitter(penalizer=penalizer).fit(X, duration_col="duration", event_col="event")
    except Exception as e:  # lifelines ConvergenceError and friends
        raise ModelError(
            f"the Cox model did not converge ({str(e).splitlines()[0]}); try fewer covariates, "
            "merge rare segment values, or a larger penalizer"
        ) from None
    s = m.summary
    rows = []
    for name, r in s.iterrows():
        rows.append(
            {
                "covariate": str(name),
                "coef": round(float(r["coef"]), 6),
                "hazard_ratio": round(float(r["exp(coef)"]), 6),
                "hr_lower_95": round(float(r["exp(coef) lower 95%"]), 6),
                "hr_upper_95": round(float(r["exp(coef) upper 95%"]), 6),
                "p_value": float(f"{float(r['p']):.6g}"),
            }
        )
    return rows
