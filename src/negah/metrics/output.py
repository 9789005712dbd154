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

RATES = {
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


def table_width() -> int | None:
    """The width a terminal table must fit: ``COLUMNS`` when set, the terminal's width when
    stdout is one; None (no limit: one wide table) when the output goes to a file or a pipe."""
    import os
    import shutil
    import sys

    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def column_blocks(widths: Sequence[int], keys: int, limit: int | None) -> list[list[int]]:
    """Indexes of the columns of each block of a table too wide for ``limit`` characters:
    every block repeats the first ``keys`` columns and takes as many of the others as fit
    (at least one); one block when there is no limit or all fit. Rich's box takes 3
    characters per column and one more."""
    rest = list(range(keys, len(widths)))
    if limit is None:
        return [list(range(len(widths)))]
    base = 1 + sum(widths[i] + 3 for i in range(keys))
    blocks: list[list[int]] = []
    cur: list[int] = []
    used = base
    for i in rest:
        if cur and used + widths[i] + 3 > limit:
            blocks.append(cur)
            cur, used = [], base
        cur.append(i)
        used += widths[i] + 3
    if cur or not blocks:
        blocks.append(cur)
    return [list(range(keys)) + b for b in blocks]


def render_table(
    records: Sequence[dict[str, Any]], lang: str = "en", title: str | None = None, width: int | None = None
) -> str:
    """Periods as rows, metrics as columns, no header or value cut short: a table wider
    than ``width`` (default: :func:`table_width`) is printed as several tables one under
    the other, each with the period (and segment) columns and the metrics that fit."""
    cols, rows = wide(records)
    n_keys = 2 if "segment" in cols else 1
    heads = [header(c, lang) for c in cols]
    body: list[list[str]] = []
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
        body.append(cells)
    text = render_grid(
        heads, body, keys=n_keys, right=[i >= n_keys for i in range(len(cols))], title=title, width=width
    )
    return text + (partial_note(lang) if any(not r[-1] for r in rows) else "")


def partial_note(lang: str = "en") -> str:
    """The footnote of the ``*`` that marks a period the data cover only in part."""
    return (
        "* دوره‌ای که داده فقط بخشی از آن را پوشش می‌دهد" if lang == "fa" else "* period only partly covered by the data"
    ) + "\n"


def render_grid(
    heads: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    keys: int = 1,
    right: Sequence[bool] | None = None,
    title: str | None = None,
    width: int | None = None,
    wrap_over: int = 48,
) -> str:
    """A terminal table of ready-made cells that never cuts a header or a value: columns
    take their natural width (text longer than ``wrap_over`` wraps onto more lines), and
    a table wider than ``width`` (default: :func:`table_width`; None = no limit) becomes
    several tables one under the other, each repeating the first ``keys`` columns."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    n = len(heads)
    right = list(right) if right is not None else [False] * n
    natural = [max([cell_len(heads[i])] + [cell_len(r[i]) for r in body]) for i in range(n)]
    # a long text column wraps (at spaces) instead of making the table too wide
    widths = [
        w if w <= wrap_over else max(wrap_over, max((cell_len(x) for x in heads[i].split()), default=0))
        for i, w in enumerate(natural)
    ]
    limit = table_width() if width is None else width
    buf = io.StringIO()
    for k, idx in enumerate(column_blocks(widths, keys, limit)):
        if k:
            buf.write("\n")
        t = Table(title=title if k == 0 else None, show_lines=False)
        for i in idx:
            wraps = widths[i] < natural[i]
            t.add_column(
                heads[i],
                justify="right" if right[i] else "left",
                no_wrap=not wraps,
                min_width=widths[i],
                max_width=widths[i] if wraps else None,
                overflow="fold" if wraps else "ellipsis",
            )
        for r in body:
            t.add_row(*[r[i] for i in idx])
        need = 1 + sum(widths[i] + 3 for i in idx)
        Console(file=buf, width=max(need, cell_len(title or "")), force_terminal=False, color_system=None).print(t)
    return buf.getvalue()
