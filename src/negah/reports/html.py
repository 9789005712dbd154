"""``negah report``: one self-contained HTML file with every KPI and chart.

The report renders the same page payloads as the dashboard (:mod:`negah.reports.pages`)
as static HTML with inline SVG charts: no script, no network, the Persian font embedded
as a data URL, and print styles (A4, no page breaks inside a chart).
"""

from __future__ import annotations

import base64
import datetime as _dt
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from negah.reports import charts as C
from negah.reports import i18n
from negah.reports import pages as P

REPORT_PAGES = [
    "overview",
    "trends",
    "cohorts",
    "revenue",
    "growth",
    "nps",
    "clv",
    "at_risk",
    "complaints",
    "contact_plan",
]

CSS = """
body{font-family:%(font)s;color:#111827;margin:24px auto;max-width:980px;padding:0 16px}
h1{margin:0 0 4px} h2{margin:28px 0 8px;border-bottom:2px solid #2563eb;padding-bottom:4px}
.meta{color:#6b7280;font-size:.9em}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px;margin:10px 0}
.kpi{border:1px solid #e5e7eb;border-radius:6px;padding:8px 10px}
.kpi .label{color:#6b7280;font-size:.82em;display:block}.kpi .value{font-size:1.45em;font-weight:700;display:block;unicode-bidi:isolate;direction:ltr}
[dir=rtl] .kpi .value{text-align:right} svg.chart{direction:ltr} td.num{unicode-bidi:isolate;direction:ltr}
[dir=rtl] td.num{text-align:left} .caption{color:#6b7280;font-size:.85em;margin:2px 0}
.kpi .period{color:#6b7280;font-size:.78em}
.alert-alert{border-color:#dc2626}.alert-warn{border-color:#d97706}.alert-ok{border-color:#16a34a}
.note{background:#fffbeb;border:1px solid #fde68a;padding:4px 8px;margin:4px 0;font-size:.85em}
figure{margin:10px 0;break-inside:avoid} figcaption{font-weight:700;margin-bottom:4px}
table{border-collapse:collapse;font-size:.82em;margin:6px 0 12px} th,td{border:1px solid #e5e7eb;padding:3px 6px;text-align:start}
td.num{text-align:end} table.heatmap{font-size:.7em} table.heatmap td{text-align:center;padding:2px 3px}
@page{size:A4;margin:14mm} @media print{body{margin:0;max-width:none} section{break-inside:auto} h2{break-after:avoid}}
"""


def _font_face() -> str:
    base = resources.files("negah.web") / "static" / "vendor" / "vazirmatn"
    out = []
    for weight, name in ((400, "Vazirmatn-Regular.woff2"), (700, "Vazirmatn-Bold.woff2")):
        data = base64.b64encode((base / name).read_bytes()).decode()
        out.append(
            f"@font-face{{font-family:'Vazirmatn';font-weight:{weight};"
            f"src:url(data:font/woff2;base64,{data}) format('woff2')}}"
        )
    return "".join(out)


def render_report(
    store: Any,
    *,
    lang: str = "en",
    period: str = "month",
    calendar: str = "gregorian",
    generated: _dt.datetime | None = None,
) -> str:
    """The report as an HTML string."""
    lang = i18n.check_lang(lang)
    tr = lambda k: i18n.t(k, lang)  # noqa: E731

    def fmt(v: Any, kind: str) -> str:
        if v is None:
            return "—"
        if kind in ("text", "label", "customer"):
            return i18n.plain_digits(tr(v) if kind == "label" else v, lang)
        if kind == "segment":
            return i18n.ui("seg", v, lang)
        if kind == "reasons":
            return ("، " if lang == "fa" else ", ").join(
                i18n.ui("reason", r.split(":")[0], lang) + (f" ({tr(r.split(':', 1)[1])})" if ":" in r else "")
                for r in str(v).split("; ")
                if r
            )
        if kind in ("period", "period_short"):
            return i18n.period_label(v, lang, calendar, compact=kind == "period_short")
        if kind == "hour":
            return i18n.plain_digits(f"{int(v):02d}:00", lang)
        if kind == "date":
            return i18n.fmt_date(v, lang)
        return i18n.fmt(v, kind, lang)

    params = P.Params(period=period, calendar=calendar)
    gen = generated or _dt.datetime.now().replace(microsecond=0)
    body: list[str] = [
        f"<h1>{escape(tr('report_title'))}</h1>",
        f"<p class='meta'>{escape(tr('store'))}: <bdi>{escape(str(store.location))}</bdi> · "
        f"{escape(tr('generated'))}: {escape(i18n.fmt_date(gen.date(), lang))} · "
        f"{escape(tr('period'))}: {escape(tr(period))} · {escape(tr('calendar'))}: {escape(tr(calendar))}</p>",
    ]
    for name in REPORT_PAGES:
        page = P.PAGES[name](store, params)
        body.append(f"<section id='{name}'><h2>{escape(tr(name))}</h2>")
        for n in page["notes"]:
            body.append(f"<div class='note'>{escape(n)}</div>")
        if page["kpis"]:
            body.append("<div class='kpis'>")
            for k in page["kpis"]:
                cls = f" alert-{k['alert']}" if k.get("alert") else ""
                body.append(
                    f"<div class='kpi{cls}' data-key='{escape(k['key'])}'><span class='label'>{escape(tr(k['key']))}"
                    f"</span><span class='value'>{escape(fmt(k['value'], k['format']))}</span>"
                    + (f"<span class='period'>{escape(fmt(k['period'], 'period'))}</span>" if k.get("period") else "")
                    + "</div>"
                )
            body.append("</div>")
        for ch in page["charts"]:
            body.append(
                f"<figure><figcaption>{escape(i18n.ui('chart', ch['title'], lang))}</figcaption>"
                f"{C.svg(ch, fmt, tr, rtl=lang == 'fa')}</figure>"
            )
        for tb in page["tables"]:
            body.append(_table(tb, fmt, lang))
        body.append("</section>")
    font = "'Vazirmatn',Tahoma,sans-serif" if lang == "fa" else "system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
    css = (_font_face() if lang == "fa" else "") + CSS % {"font": font}
    return (
        f"<!doctype html><html lang='{lang}' dir='{'rtl' if lang == 'fa' else 'ltr'}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{escape(tr('report_title'))}</title>"
        f"<style>{css}</style></head><body>{''.join(body)}</body></html>"
    )


def _table(tb: dict, fmt, lang: str, max_rows: int = 60) -> str:
    """A table: columns empty in every row left out, a label the same in every row said
    once above it (as the dashboard does)."""
    rows = tb["rows"]
    cols, notes = [], []
    for c in tb["columns"]:
        vals = [r.get(c["key"]) for r in rows]
        if rows and all(v is None or v == "" for v in vals):
            continue
        if c["format"] == "label" and len(rows) > 3 and all(v == vals[0] for v in vals):
            notes.append(
                f"<p class='caption'>{escape(i18n.ui('col', c['key'], lang))}: {escape(fmt(vals[0], 'label'))}</p>"
            )
            continue
        cols.append(c)
    out = [
        f"<h3>{escape(i18n.ui('table', tb['id'], lang))}</h3>{''.join(notes)}<table><tr>"
        + "".join(f"<th>{escape(i18n.ui('col', c['key'], lang))}</th>" for c in cols)
        + "</tr>"
    ]
    for row in tb["rows"][:max_rows]:
        cells = []
        for c in cols:
            v = row.get(c["key"])
            kind = c["format"]
            if kind == "auto":
                kind = (
                    ("pct" if P.fmt_of(row["metric"]) == "pct" else P.fmt_of(row["metric"]))
                    if c["key"] == "value" and row.get("metric")
                    else ("num" if isinstance(v, (int, float)) and not isinstance(v, bool) else "text")
                )
            num = kind not in ("text", "label", "date", "customer", "segment", "reasons", "period")
            cells.append(
                f"<td{' class=num' if num else ''}>{escape(fmt(v, kind)) if not isinstance(v, (dict, list)) else escape(str(v))}</td>"
            )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def write_report(store: Any, out: str | Path, **kw: Any) -> Path:
    """Write the report to ``out`` (UTF-8) and return its path."""
    path = Path(out)
    path.write_text(render_report(store, **kw), encoding="utf-8")
    return path
