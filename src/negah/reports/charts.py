"""One chart definition for the dashboard and the report.

A chart spec is plain JSON::

    {"id": "churn_rate", "title": "churn_rate", "type": "line" | "bar" | "heatmap",
     "x": ["2011-01", ...], "series": [{"key": "churn_rate", "values": [...], "format": "pct"}]}

The dashboard draws specs with the vendored uPlot (``web/static/negah.js``); the report
draws the same specs as inline SVG (:func:`svg`), which needs no script and prints well.
A heatmap spec has ``x`` (columns), ``y`` (rows) and ``z`` (rows of values).
"""

from __future__ import annotations

from html import escape
from typing import Any, Callable

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"]


def series(key: str, values: list, fmt: str = "num") -> dict:
    return {"key": key, "values": values, "format": fmt}


def chart(cid: str, title: str, kind: str, x: list, series_: list[dict], x_format: str = "period") -> dict:
    """A chart spec; ``x_format`` says how to show the x labels (``period``, ``label``,
    ``segment``, ``text``)."""
    return {"id": cid, "title": title, "type": kind, "x": [str(v) for v in x], "series": series_, "x_format": x_format}


def histogram(cid: str, values: list[float], bins: int = 20) -> dict:
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / width), bins - 1)] += 1
    x = [f"{lo + i * width:,.0f}–{lo + (i + 1) * width:,.0f}" for i in range(bins)]
    return chart(cid, cid, "bar", x, [series("customers", counts, "int")], x_format="text")


def heatmap_from_records(cid: str, rows: list[dict]) -> dict:
    """Cohort records (``cohort``, ``age`` / ``period_index``, ``value`` / ``retention``) as a heatmap."""

    def pick(r: dict, names: tuple[str, ...]) -> Any:
        for n in names:
            if n in r:
                return r[n]
        return None

    ys: list[str] = []
    xs: list[Any] = []
    cells: dict[tuple[str, Any], Any] = {}
    for r in rows:
        y = str(pick(r, ("cohort", "cohort_period", "first_period")))
        x = pick(r, ("offset", "age", "period_index", "periods_since", "offset", "period_number"))
        v = pick(r, ("value", "retention", "retention_rate", "rate"))
        if y not in ys:
            ys.append(y)
        if x not in xs:
            xs.append(x)
        cells[(y, x)] = v
    try:
        xs.sort()
    except TypeError:
        pass
    z = [[cells.get((y, x)) for x in xs] for y in ys]
    return {"id": cid, "title": cid, "type": "heatmap", "x": [str(x) for x in xs], "y": ys, "z": z, "format": "pct"}


# ------------------------------------------------------------------------------------
# SVG (report)
# ------------------------------------------------------------------------------------


def svg(
    spec: dict,
    fmt: Callable[[Any, str], str],
    label: Callable[[str], str],
    width: int = 720,
    height: int = 260,
    rtl: bool = False,
) -> str:
    """The chart as an inline SVG string; ``fmt(value, format)`` and ``label(key)`` localise."""
    if spec["type"] == "heatmap":
        return _svg_heatmap(spec, fmt, label, rtl)
    x = spec["x"]
    ser = spec["series"]
    vals = [v for s in ser for v in s["values"] if isinstance(v, (int, float))]
    if not x or not vals:
        return ""
    lo, hi = min(0.0, min(vals)), max(vals)
    if hi == lo:
        hi = lo + 1
    left, right, top, bottom = 70, 15, 15, 60
    pw, ph = width - left - right, height - top - bottom
    n = len(x)
    fx = lambda i: left + (i + 0.5) * pw / n  # noqa: E731
    fy = lambda v: top + ph - (v - lo) / (hi - lo) * ph  # noqa: E731
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11">'
    ]
    f0 = ser[0]["format"]
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        y = fy(v)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{escape(fmt(v, f0))}</text>')
    step = max(1, n // 12)
    for i in range(0, n, step):
        out.append(
            f'<text x="{fx(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#555" '
            f'transform="rotate(30 {fx(i):.1f} {height - bottom + 16})">{escape(fmt(x[i], _x_kind(spec)))}</text>'
        )
    bw = pw / n / (len(ser) + 1)
    for si, s in enumerate(ser):
        color = PALETTE[si % len(PALETTE)]
        if spec["type"] == "bar":
            for i, v in enumerate(s["values"]):
                if isinstance(v, (int, float)):
                    x0 = left + i * pw / n + bw * (si + 0.5)
                    y0, y1 = fy(max(v, 0)), fy(min(v, 0))
                    out.append(
                        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{bw:.1f}" height="{max(y1 - y0, 0.5):.1f}" '
                        f'fill="{color}"/>'
                    )
        else:
            pts, path = [], []
            for i, v in enumerate(s["values"]):
                if isinstance(v, (int, float)):
                    pts.append(f"{fx(i):.1f},{fy(v):.1f}")
                elif pts:
                    path.append(pts)
                    pts = []
            if pts:
                path.append(pts)
            for pp in path:
                out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(pp)}"/>')
    lx = left
    for si, s in enumerate(ser):
        color = PALETTE[si % len(PALETTE)]
        out.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" fill="#333">{escape(label(s["key"]))}</text>'
        )
        lx += 30 + 7 * len(label(s["key"]))
    out.append("</svg>")
    return "".join(out)


def _x_kind(spec: dict) -> str:
    kind = spec.get("x_format", "text")
    return "period_short" if kind == "period" else kind


def _svg_heatmap(spec: dict, fmt, label, rtl: bool) -> str:
    rows = [
        "<table class='heatmap'><tr><th>"
        + escape(label("cohort"))
        + "</th>"
        + "".join(f"<th>{escape(fmt(x, 'text'))}</th>" for x in spec["x"])
        + "</tr>"
    ]
    for y, zs in zip(spec["y"], spec["z"]):
        cells = []
        for v in zs:
            if isinstance(v, (int, float)):
                a = max(0.0, min(1.0, float(v)))
                cells.append(
                    f"<td style='background:rgba(37,99,235,{a:.2f});color:{'#fff' if a > 0.5 else '#111'}'>"
                    f"{escape(fmt(v, spec.get('format', 'pct')))}</td>"
                )
            else:
                cells.append("<td></td>")
        rows.append(f"<tr><th>{escape(fmt(y, 'period'))}</th>{''.join(cells)}</tr>")
    return "".join(rows) + "</table>"
