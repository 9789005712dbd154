"""Rendering records: JSON (the spec's "Output"), CSV and a terminal table.

JSON and CSV are byte-stable: fixed key order, floats written with ``repr`` (shortest
round-trip form), ``null``/empty where undefined, labels with ASCII digits. The table
shows periods as rows and metrics as columns, rates as percents; with ``lang="fa"``
the columns carry the metrics' Persian names (:mod:`negah.i18n`) and numbers are written
in Persian typography: Persian digits, ``٫`` as the decimal and ``٬`` as the thousands
separator.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Sequence

from negah.calendars import persian_digits
from negah.i18n import fa_number, metric_name

RATES = {"churn_rate", "retention_rate", "revenue_churn_gross", "revenue_churn_net",
         "net_revenue_retention", "repeat_purchase_rate", "loyal_customer_rate",
         "product_return_rate", "customer_growth_rate"}

# Table headers besides the metrics (whose names come from negah.i18n).
FA_HEADERS = {"period": "دوره", "segment": "بخش"}


def header(column: str, lang: str = "en") -> str:
    """A table column's header: the metric's display name in Persian, its name in English."""
    if lang != "fa":
        return column
    return FA_HEADERS.get(column) or metric_name(column, "fa")


def is_rate(metric: str) -> bool:
    return metric in RATES or metric.startswith(("churn_rate_", "retention_rate_"))


def to_json(records: Sequence[dict[str, Any]]) -> str:
    """One JSON array, one record per line; byte-identical for identical records."""
    lines = [json.dumps(r, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")) for r in records]
    if not lines:
        return "[]\n"
    return "[\n" + ",\n".join(lines) + "\n]\n"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def to_csv(records: Sequence[dict[str, Any]]) -> str:
    if not records:
        return ""
    cols: list[str] = []
    for r in records:
        for k in r:
            if k not in cols:
                cols.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in records:
        w.writerow([_cell(r.get(c)) for c in cols])
    return buf.getvalue()


def fmt_value(metric: str, v: Any, lang: str = "en") -> str:
    if v is None:
        s = "—"
    elif is_rate(metric):
        s = f"{100 * v:.1f}%"
    elif isinstance(v, int):
        s = f"{v:,}"
    elif isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        s = str(v)
    elif isinstance(v, float):
        s = f"{v:,.2f}" if abs(v) < 1e15 else f"{v:.4g}"
    else:
        s = str(v)
    return fa_number(s) if lang == "fa" else s


def wide(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """(columns, rows): one row per (period[, segment]), one column per metric."""
    metrics: list[str] = []
    rows: dict[tuple, dict[str, Any]] = {}
    seg = any("segment" in r for r in records)
    for r in records:
        if r["metric"] not in metrics:
            metrics.append(r["metric"])
        key = (r["period"], r.get("segment")) if seg else (r["period"],)
        rows.setdefault(key, {"_complete": r.get("complete", True)})[r["metric"]] = r["value"]
    cols = ["period"] + (["segment"] if seg else []) + metrics
    out = []
    for key, vals in rows.items():
        out.append(list(key) + [vals.get(m) for m in metrics] + [vals["_complete"]])
    return cols, out


def render_table(records: Sequence[dict[str, Any]], lang: str = "en", title: str | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    cols, rows = wide(records)
    n_keys = 2 if "segment" in cols else 1
    t = Table(title=title, show_lines=False)
    for c in cols:
        t.add_column(header(c, lang), justify="left" if cols.index(c) < n_keys else "right")
    for row in rows:
        complete = row[-1]
        cells = []
        for i, c in enumerate(cols):
            v = row[i]
            if i < n_keys:
                s = "" if v is None else str(v)
                if i == 0 and not complete:
                    s += "*"
                cells.append(persian_digits(s) if lang == "fa" else s)
            else:
                cells.append(fmt_value(c, v, lang))
        t.add_row(*cells)
    buf = io.StringIO()
    Console(file=buf, width=max(100, 16 * len(cols)), force_terminal=False, color_system=None).print(t)
    note = "* period only partly covered by the data" if lang != "fa" else "* دوره‌ای که داده فقط بخشی از آن را پوشش می‌دهد"
    return buf.getvalue() + (note + "\n" if any(not r[-1] for r in rows) else "")
