"""The content of each dashboard page (and of the report), as JSON-ready dicts.

One function per page; each takes an open store and :class:`Params` and returns::

    {"page": "trends", "params": {...},
     "kpis":   [{"key", "value", "format", "period", "band", "alert"}],
     "charts": [chart specs from negah.reports.charts],
     "tables": [{"id", "columns": [{"key", "format"}], "rows": [...]}],
     "notes":  ["not available yet: ..."]}

Labels are i18n keys (:mod:`negah.reports.i18n`); values are plain numbers with ASCII
digits, so the same payload serves the English and the Persian page, the REST API and
the HTML report.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass
from typing import Any, Callable

from negah.reports import charts as C
from negah.reports.shared import shared
from negah.reports.sources import Unavailable, attempt, frame_records, metric_records, py, records

RATE = "pct"
FORMATS = {
    "active_customers": "int",
    "new_customers": "int",
    "churned_customers": "int",
    "reactivated_customers": "int",
    "net_customer_adds": "int",
    "nps": "pts",
    "arpu": "money",
    "clv": "money",
    "time_between_purchases_days": "num",
    "mrr": "money",
    "mrr_new": "money",
    "mrr_expansion": "money",
    "mrr_contraction": "money",
    "mrr_churned": "money",
    "quick_ratio": "num",
}


def fmt_of(metric: str) -> str:
    return FORMATS.get(metric, RATE)


@dataclass(frozen=True)
class Params:
    period: str = "month"
    calendar: str = "gregorian"
    segment: str | None = None
    start: str | None = None
    end: str | None = None
    industry: str = "retail"

    def key(self) -> tuple:
        return tuple(asdict(self).items())


def _page(name: str, params: Params) -> dict[str, Any]:
    return {"page": name, "params": asdict(params), "kpis": [], "charts": [], "tables": [], "notes": []}


def _note(page: dict, u: Unavailable) -> None:
    if u.message not in page["notes"]:
        page["notes"].append(u.message)


def metric_records_for(
    store, p: Params, names: list[str] | None = None, basis: str = "orders"
) -> list[dict] | Unavailable:
    """The metric records ``names`` (default: the spec's set) for ``p``.

    Every page reads them from one computation of the whole default set per (store
    version, period, calendar, segment, range, basis), shared by the pages
    (:func:`negah.reports.shared.shared`); a name outside the default set is computed
    on its own."""
    if basis == "orders" and not (store.has("orders") or store.has("responses")):
        return Unavailable("metrics", "no orders yet: import orders (customer_id, order_date, amount)")
    args = dict(period=p.period, calendar=p.calendar, segment=p.segment, start=p.start, end=p.end, basis=basis)
    recs = shared(store, "records", tuple(args.items()), lambda: metric_records(store, **args))
    if isinstance(recs, Unavailable) or names is None:
        return recs
    have = {r["metric"] for r in recs}
    missing = [n for n in names if n not in have]
    if missing:
        more = shared(
            store,
            "records",
            tuple(args.items()) + (("metrics", tuple(missing)),),
            lambda: metric_records(store, metrics=missing, **args),
        )
        if not isinstance(more, Unavailable):
            recs = recs + more
    want = set(names)
    return [r for r in recs if r["metric"] in want]


def _by_metric(recs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in recs:
        if r.get("segment") is None:
            out.setdefault(r["metric"], []).append(r)
    return out


def _latest(rows: list[dict]) -> dict | None:
    """The last complete period with a value (else the last with a value)."""
    done = [r for r in rows if r.get("value") is not None and r.get("complete", True)]
    if done:
        return done[-1]
    anyv = [r for r in rows if r.get("value") is not None]
    return anyv[-1] if anyv else None


def _series_chart(cid: str, recs: dict[str, list[dict]], names: list[str], kind: str = "line") -> dict | None:
    names = [n for n in names if n in recs]
    if not names:
        return None
    x = [r["period"] for r in recs[names[0]]]
    series = []
    for n in names:
        vals = {r["period"]: py(r["value"]) for r in recs[n]}
        series.append(C.series(n, [vals.get(k) for k in x], fmt_of(n)))
    return C.chart(cid, cid, kind, x, series)


def _add_charts(page: dict, bm: dict[str, list[dict]], specs: list[tuple[str, list[str], str]]) -> None:
    """One series chart per ``(chart id, metric names, kind)`` that has data."""
    for cid, names, kind in specs:
        ch = _series_chart(cid, bm, names, kind)
        if ch:
            page["charts"].append(ch)


def _add_latest_kpis(page: dict, bm: dict[str, list[dict]], names: list[str] | tuple[str, ...]) -> None:
    """A KPI per metric that has a value: the latest (:func:`_latest`), with its period."""
    for name in names:
        last = _latest(bm.get(name, []))
        if last:
            page["kpis"].append(
                {"key": name, "value": py(last["value"]), "format": fmt_of(name), "period": last["period"]}
            )


# ------------------------------------------------------------------------------------
# store summary (computed here: counts and sums of the store's own tables)
# ------------------------------------------------------------------------------------


def store_summary(store) -> dict[str, Any]:
    """Customers, order lines, revenue and date range of the store (the header KPIs)."""
    out: dict[str, Any] = {
        "tables": {},
        "customers": None,
        "orders": None,
        "revenue": None,
        "first": None,
        "last": None,
    }
    for name in store.list_tables():
        out["tables"][name] = store.row_count(name)
    o = store.table("orders")
    if o is not None:
        row = store.execute(
            o.aggregate(
                n=o.count(), c=o.customer_id.nunique(), rev=o.amount.sum(), lo=o.order_date.min(), hi=o.order_date.max()
            )
        ).iloc[0]
        out.update(
            orders=int(row["n"]),
            customers=int(row["c"]),
            revenue=py(row["rev"]),
            first=(py(row["lo"]) or "")[:10] or None,
            last=(py(row["hi"]) or "")[:10] or None,
        )
    return out


# ------------------------------------------------------------------------------------
# pages
# ------------------------------------------------------------------------------------

HEADLINE = [
    "churn_rate",
    "retention_rate",
    "active_customers",
    "new_customers",
    "revenue_churn_net",
    "repeat_purchase_rate",
    "nps",
    "arpu",
    "clv",
]


def overview(store, p: Params) -> dict:
    page = _page("overview", p)
    s = store_summary(store)
    page["summary"] = s
    page["kpis"] += [
        {"key": "store_customers", "value": s["customers"], "format": "int"},
        {"key": "store_orders", "value": s["orders"], "format": "int"},
        {"key": "store_revenue", "value": s["revenue"], "format": "money"},
    ]
    if s["orders"] is None and "responses" not in s["tables"]:
        page["notes"].append("no orders yet: import orders (customer_id, order_date, amount)")
        return page
    recs = metric_records_for(store, p)
    if isinstance(recs, Unavailable):
        _note(page, recs)
        return page
    bm = _by_metric(recs)
    _add_latest_kpis(page, bm, HEADLINE)
    # yearly churn (and the return rate) against the industry ranges, with the alert state
    from negah.metrics import benchmark

    bench = attempt("benchmark", benchmark, store, p.industry, calendar=p.calendar)
    if isinstance(bench, Unavailable):
        _note(page, bench)
    else:
        for b in bench:
            kpi = {
                "key": "yearly_churn" if b["metric"] == "yearly_churn" else b["metric"],
                "value": py(b["value"]),
                "format": RATE,
                "period": b.get("period"),
                "band": {"low": b.get("range_low"), "high": b.get("range_high"), "industry": b.get("industry")},
                "alert": None
                if b["value"] is None
                else ("alert" if b.get("alert") else "warn" if b.get("position") == "above" else "ok"),
                "message": b.get("message"),
            }
            page["kpis"].append(kpi)
    _add_charts(page, bm, [("churn_rate", ["churn_rate", "retention_rate"], "line")])
    return page


def trends(store, p: Params) -> dict:
    page = _page("trends", p)
    recs = metric_records_for(
        store,
        p,
        [
            "churn_rate",
            "retention_rate",
            "active_customers",
            "new_customers",
            "churned_customers",
            "repeat_purchase_rate",
            "loyal_customer_rate",
            "product_return_rate",
        ],
    )
    if isinstance(recs, Unavailable):
        _note(page, recs)
        return page
    bm = _by_metric(recs)
    _add_charts(
        page,
        bm,
        [
            ("churn_rate", ["churn_rate", "retention_rate"], "line"),
            ("active_customers", ["active_customers", "new_customers", "churned_customers"], "bar"),
            ("repeat_purchase_rate", ["repeat_purchase_rate", "loyal_customer_rate", "product_return_rate"], "line"),
        ],
    )
    _add_latest_kpis(page, bm, ("churn_rate", "retention_rate", "active_customers"))
    page["tables"].append(_metric_table("metrics", recs))
    return page


def _metric_table(tid: str, recs: list[dict]) -> dict:
    """Periods as rows, metrics as columns (as ``negah metrics`` prints them)."""
    names: list[str] = []
    rows: dict[str, dict] = {}
    for r in recs:
        if r.get("segment") is not None:
            continue
        if r["metric"] not in names:
            names.append(r["metric"])
        rows.setdefault(r["period"], {"period": r["period"]})[r["metric"]] = py(r["value"])
    return {
        "id": tid,
        "columns": [{"key": "period", "format": "period"}] + [{"key": n, "format": fmt_of(n)} for n in names],
        "rows": list(rows.values()),
    }


def cohorts(store, p: Params) -> dict:
    page = _page("cohorts", p)
    if not store.has("orders"):
        page["notes"].append("no orders yet: import orders (customer_id, order_date, amount)")
        return page
    from negah.metrics.cohorts import cohort_records

    got = attempt("cohorts", cohort_records, store, period=p.period, calendar=p.calendar, start=p.start, end=p.end)
    rows = records(got)
    if isinstance(rows, Unavailable):
        _note(page, rows)
        return page
    page["records"] = rows
    if rows:
        page["charts"].append(C.heatmap_from_records("cohorts", rows))
    return page


def revenue(store, p: Params) -> dict:
    page = _page("revenue", p)
    recs = metric_records_for(store, p, ["revenue_churn_gross", "revenue_churn_net", "net_revenue_retention", "arpu"])
    if isinstance(recs, Unavailable):
        _note(page, recs)
    else:
        bm = _by_metric(recs)
        _add_charts(
            page,
            bm,
            [("revenue_churn_net", ["revenue_churn_gross", "revenue_churn_net", "net_revenue_retention"], "line")],
        )
        _add_latest_kpis(page, bm, ("revenue_churn_gross", "revenue_churn_net", "net_revenue_retention", "arpu"))
    if store.has("subscriptions"):
        mrr = metric_records_for(
            store, p, ["mrr", "mrr_new", "mrr_expansion", "mrr_contraction", "mrr_churned"], basis="subscriptions"
        )
        if isinstance(mrr, Unavailable):
            _note(page, mrr)
        else:
            _add_charts(
                page,
                _by_metric(mrr),
                [
                    ("mrr", ["mrr"], "line"),
                    ("mrr_movements", ["mrr_new", "mrr_expansion", "mrr_contraction", "mrr_churned"], "bar"),
                ],
            )
    return page


def growth(store, p: Params) -> dict:
    page = _page("growth", p)
    recs = metric_records_for(store, p, ["new_customers", "churned_customers", "customer_growth_rate", "churn_rate"])
    if isinstance(recs, Unavailable):
        _note(page, recs)
        return page
    bm = _by_metric(recs)
    _add_charts(
        page,
        bm,
        [
            ("new_customers", ["new_customers", "churned_customers"], "bar"),
            ("customer_growth_rate", ["customer_growth_rate", "churn_rate"], "line"),
        ],
    )
    _add_latest_kpis(page, bm, ("customer_growth_rate", "churn_rate"))
    return page


def nps(store, p: Params) -> dict:
    page = _page("nps", p)
    r = store.table("responses")
    if r is None:
        page["notes"].append("no survey answers yet: import responses or create a survey")
        return page
    recs = metric_records_for(store, p, ["nps"])
    if isinstance(recs, Unavailable):
        _note(page, recs)
    else:
        bm = _by_metric(recs)
        _add_charts(page, bm, [("nps", ["nps"], "line")])
        _add_latest_kpis(page, bm, ["nps"])
    dist = store.execute(r.group_by("score").aggregate(n=r.count()).order_by("score"))
    counts = {int(s): int(n) for s, n in zip(dist["score"], dist["n"])}
    page["charts"].append(
        C.chart(
            "score_distribution",
            "score_distribution",
            "bar",
            [str(i) for i in range(11)],
            [C.series("responses", [counts.get(i, 0) for i in range(11)], "int")],
            x_format="text",
        )
    )
    page["kpis"].append({"key": "responses", "value": sum(counts.values()), "format": "int"})
    if "comment" in r.columns:
        q = r.filter(r.comment.notnull()).order_by([r.response_date.desc(), r.customer_id]).limit(20)
        rows = frame_records(store.execute(q.select("response_date", "customer_id", "score", "comment")))
        page["tables"].append(
            {
                "id": "comments",
                "columns": [
                    {"key": "response_date", "format": "date"},
                    {"key": "customer_id", "format": "customer"},
                    {"key": "score", "format": "int"},
                    {"key": "comment", "format": "text"},
                ],
                "rows": rows,
            }
        )
    return page


def clv(store, p: Params) -> dict:
    page = _page("clv", p)
    recs = metric_records_for(store, p, ["clv", "arpu"])
    if isinstance(recs, Unavailable):
        _note(page, recs)
    else:
        bm = _by_metric(recs)
        _add_charts(page, bm, [("clv", ["clv"], "line")])
        _add_latest_kpis(page, bm, ["clv"])
    table = rfm_table(store)
    if isinstance(table, Unavailable):
        _note(page, table)
        return page
    vals = [float(v) for v in table["clv"] if v == v]
    if vals:
        page["charts"].append(C.histogram("clv_distribution", vals))
    from negah.actions.segments import segment_summary

    summary = attempt("segments", segment_summary, table)
    segs = records(summary)
    if isinstance(segs, Unavailable):
        _note(page, segs)
    else:
        page["tables"].append({"id": "segments", "columns": _columns(segs), "rows": segs})
        page["charts"].append(
            C.chart(
                "segments",
                "segments",
                "bar",
                [r["segment"] for r in segs],
                [C.series("customers", [r["customers"] for r in segs], "int")],
                x_format="segment",
            )
        )
    return page


def rfm_table(store):
    """Per customer RFM scores, segment and CLV (negah.actions.segments.rfm), computed once
    per store version for the pages and every customer profile."""
    if not store.has("orders"):
        return Unavailable("segments", "no orders yet: import orders (customer_id, order_date, amount)")
    from negah.actions.segments import rfm

    return shared(store, "rfm", (), lambda: attempt("segments", rfm, store))


def at_risk_table(store):
    """The ranked at-risk list (negah.actions.at_risk.at_risk), once per store version."""
    if not store.has("orders"):
        return Unavailable("at-risk", "no orders yet: import orders (customer_id, order_date, amount)")
    from negah.actions.at_risk import at_risk as build

    def make():
        # the RFM/CLV table (and its model fits) and the contact plan are shared with other pages
        table = rfm_table(store)
        plan = contact_plan_table(store) if store.has("contacts") else None
        return attempt(
            "at-risk",
            build,
            store,
            rfm_table=None if isinstance(table, Unavailable) else table,
            plan=None if isinstance(plan, Unavailable) else plan,
        )

    return shared(store, "at_risk", (), make)


def contact_plan_table(store):
    """Best channel and time per customer (negah.actions.contact.contact_plan), once per
    store version for both calendars' pages and /api/contact-plan."""
    if not store.has("contacts"):
        return Unavailable("contacts", "no contacts yet: import contacts (customer_id, contacted_at, channel)")
    from negah.actions.contact import contact_plan as build

    return shared(store, "contact_plan", (), lambda: attempt("contact plan", build, store))


def at_risk(store, p: Params, limit: int = 100) -> dict:
    page = _page("at_risk", p)
    got = records(at_risk_table(store))
    if isinstance(got, Unavailable):
        _note(page, got)
        return page
    rows = [_neutral_reasons(r) for r in got[:limit]]
    page["tables"].append({"id": "at_risk", "columns": _columns(rows), "rows": rows})
    page["kpis"].append({"key": "customers", "value": len(got), "format": "int"})
    return page


def _neutral_reasons(row: dict) -> dict:
    """An at-risk row for the dashboard, whose pages are language-neutral (the browser
    translates): where the reasons come from the data, they are the signal codes
    (``overdue; complaint:late_delivery``), which the page phrases in either language;
    a classifier's own reasons stay as the library phrased them. ``signals`` is folded in."""
    out = {k: v for k, v in row.items() if k != "signals"}
    if str(row.get("method") or "").startswith("btyd") and row.get("signals") is not None:
        out["reasons"] = row.get("signals") or None
    return out


def complaints(store, p: Params) -> dict:
    page = _page("complaints", p)
    c = store.table("complaints")
    if c is None:
        page["notes"].append("no complaints yet: import complaints or log one on a customer's page")
        return page
    keys = ["reason"] + (["product_id"] if "product_id" in c.columns else [])
    q = c.group_by(keys).aggregate(count=c.count()).order_by([C_desc("count")] + keys)
    rows = frame_records(store.execute(q))
    page["tables"].append(
        {
            "id": "reasons",
            "columns": [{"key": k, "format": "label" if k == "reason" else "text"} for k in keys]
            + [{"key": "count", "format": "int"}],
            "rows": rows,
        }
    )
    by_reason: dict[str, int] = {}
    for r in rows:
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + int(r["count"])
    labels = sorted(by_reason, key=lambda k: (-by_reason[k], str(k)))
    page["charts"].append(
        C.chart(
            "complaints",
            "complaints",
            "bar",
            labels,
            [C.series("count", [by_reason[k] for k in labels], "int")],
            x_format="label",
        )
    )
    from negah.actions.reasons import spikes as find_spikes

    spikes = records(attempt("complaint spikes", find_spikes, store, period=p.period, calendar=p.calendar))
    if isinstance(spikes, Unavailable):
        _note(page, spikes)
    else:
        page["tables"].append({"id": "spikes", "columns": _columns(spikes), "rows": spikes})
    return page


def C_desc(col: str):
    import ibis

    return ibis.desc(col)


def contact_plan(store, p: Params) -> dict:
    page = _page("contact_plan", p)
    if not store.has("contacts"):
        page["notes"].append("no contacts yet: import contacts (customer_id, contacted_at, channel)")
        return page
    got = records(contact_plan_table(store))
    if isinstance(got, Unavailable):
        _note(page, got)
        return page
    if not got:
        page["notes"].append("the contact history gives no plan yet (too few contacts per customer)")
        return page
    page["tables"].append({"id": "contact_plan", "columns": _columns(got), "rows": got[:500]})
    return page


# display formats of the library's table columns (anything else: "auto", by value)
COLUMN_FORMATS = {
    "customer_id": "customer",
    "rank": "int",
    "churn_probability": "pct",
    "clv": "money",
    "value_at_risk": "money",
    "revenue": "money",
    "clv_mean": "money",
    "clv_total": "money",
    "profitable": "pct",
    "segment": "segment",
    "reasons": "reasons",
    "next_step": "label",
    "method": "label",
    "channel": "label",
    "best_channel": "label",
    "second_channel": "label",
    "channel_rate": "pct",
    "hour_rate": "pct",
    "weekday_rate": "pct",
    "best_weekday": "label",
    "best_hour": "hour",
    "confidence": "label",
    "customers": "int",
    "contacts": "int",
    "responses": "int",
    "channel_contacts": "int",
    "count": "int",
    "reason": "label",
    "period": "period",
    "response_date": "date",
    "complaint_date": "date",
}


def _columns(rows: list[dict]) -> list[dict]:
    cols: list[str] = []
    for r in rows[:50]:
        for k in r:
            if k not in cols:
                cols.append(k)
    return [{"key": k, "format": COLUMN_FORMATS.get(k, "auto")} for k in cols]


PAGES: dict[str, Callable[..., dict]] = {
    "overview": overview,
    "trends": trends,
    "cohorts": cohorts,
    "revenue": revenue,
    "growth": growth,
    "nps": nps,
    "clv": clv,
    "at_risk": at_risk,
    "complaints": complaints,
    "contact_plan": contact_plan,
}


# ------------------------------------------------------------------------------------
# customer profile
# ------------------------------------------------------------------------------------

TIMELINE = [  # table, date column, kind, detail columns
    ("orders", "order_date", "order", ("order_id", "product_id", "amount", "quantity", "kind")),
    ("complaints", "complaint_date", "complaint", ("reason", "product_id", "status", "text", "channel")),
    ("contacts", "contacted_at", "contact", ("channel", "direction", "outcome", "campaign_id")),
    ("responses", "response_date", "nps", ("score", "comment", "survey_id")),
    ("campaigns", "sent_at", "campaign", ("campaign_id", "offer", "responded_at", "converted_at")),
]


def customer_profile(store, customer_id: str, limit: int = 500) -> dict | None:
    """The customer's timeline (orders, returns, complaints, contacts, NPS) with risk, CLV
    and reasons; None when the customer appears in no table."""
    import ibis

    cid = ibis.literal(str(customer_id), type="string")
    events: list[dict] = []
    found = False
    info: dict[str, Any] = {}
    cust = store.table("customers")
    if cust is not None:
        rows = frame_records(store.execute(cust.filter(cust.customer_id == cid).limit(1)))
        if rows:
            found = True
            info = rows[0]
    for tname, dcol, kind, cols in TIMELINE:
        t = store.table(tname)
        if t is None:
            continue
        keep = [c for c in cols if c in t.columns]
        q = t.filter(t.customer_id == cid).select(dcol, *keep).order_by([ibis.desc(dcol)]).limit(limit)
        for r in frame_records(store.execute(q)):
            found = True
            k = kind
            if kind == "order":
                amt, qty = r.get("amount"), r.get("quantity")
                if (
                    (r.get("kind") or "").lower() == "return"
                    or (amt is not None and amt < 0)
                    or (qty is not None and qty < 0)
                ):
                    k = "return"
            when = str(r.pop(dcol))[:19]
            events.append(
                {
                    "date": when[:10] if when.endswith("00:00:00") else when,
                    "kind": k,
                    "detail": {c: v for c, v in r.items() if v is not None},
                }
            )
    if not found:
        return None
    events.sort(key=lambda e: (e["date"], e["kind"]), reverse=True)
    out: dict[str, Any] = {"customer_id": str(customer_id), "customer": info, "timeline": events[:limit], "notes": []}
    orders = [e for e in events if e["kind"] in ("order", "return")]
    out["summary"] = {
        "orders": len({(e["detail"].get("order_id") or e["date"]) for e in orders if e["kind"] == "order"}),
        "revenue": round(sum(float(e["detail"].get("amount") or 0) for e in orders), 4),
        "first": min((e["date"] for e in orders), default=None),
        "last": max((e["date"] for e in orders), default=None),
    }
    out["risk"] = out["clv"] = None
    out["reasons"] = []
    risk = at_risk_table(store)
    if isinstance(risk, Unavailable):
        out["notes"].append(risk.message)
    else:
        hit = _customer_rows(risk, customer_id)
        if len(hit):
            row = frame_records(hit.head(1))[0]
            out["risk"] = {
                "risk": row.get("churn_probability"),
                "rank": row.get("rank"),
                "value_at_risk": row.get("value_at_risk"),
                "next_step": row.get("next_step"),
                "segment": row.get("segment"),
                "method": row.get("method"),
            }
            reasons = _neutral_reasons(row).get("reasons")
            out["reasons"] = (
                [{"reason": r} for r in reasons]
                if isinstance(reasons, list)
                else ([{"reason": reasons}] if reasons else [])
            )
    table = rfm_table(store)
    if not isinstance(table, Unavailable):
        hit = _customer_rows(table, customer_id)
        if len(hit):
            row = frame_records(hit.head(1))[0]
            out["clv"] = {"clv": row.get("clv"), "segment": row.get("segment"), "decile": row.get("clv_decile")}
    return out


_INDEX: dict[int, tuple[Any, dict[str, int]]] = {}


def _customer_rows(table, customer_id: str):
    """The rows of a per-customer table for one customer, by an index built once per table
    (a profile on a store with a million customers must not scan them all)."""
    got = _INDEX.get(id(table))
    if got is None or got[0] is not table:
        index: dict[str, int] = {}
        for i, c in enumerate(table["customer_id"].astype(str)):
            index.setdefault(c, i)
        if len(_INDEX) >= 8:
            _INDEX.clear()
        got = _INDEX[id(table)] = (table, index)
    i = got[1].get(str(customer_id))
    return table.iloc[0:0] if i is None else table.iloc[i : i + 1]


def complaint_reasons(store) -> list[str]:
    """The complaint pick-list: the common reasons, then every other reason in the store."""
    base = ["price", "quality", "delivery", "service", "billing", "product_missing", "other"]
    c = store.table("complaints")
    if c is not None:
        seen = store.execute(c.select("reason").distinct().order_by("reason"))["reason"].tolist()
        base += [str(s) for s in seen if s is not None and str(s) not in base]
    return base


def today() -> str:
    return _dt.date.today().isoformat()
