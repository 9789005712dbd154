"""``negah metrics``, ``negah cohorts``, ``negah growth`` and ``negah benchmark``.

Thin shells over :mod:`negah.metrics`; Ibis, pandas and engines load inside the commands.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, List, Optional

import typer

from negah.cli.common import (
    CalendarOption,
    DataOption,
    Format,
    FormatOption,
    FromOption,
    Lang,
    LangOption,
    Period,
    PeriodOption,
    StoreOption,
    ToOption,
    calendar_for,
    handle_errors,
    write_out,
)


class Basis(str, Enum):
    orders = "orders"
    subscriptions = "subscriptions"


class Engine(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


class CohortValue(str, Enum):
    customers = "customers"
    revenue = "revenue"


class Industry(str, Enum):
    saas = "saas"
    retail = "retail"
    finance = "finance"
    consulting = "consulting"


EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="Engine for --data: duckdb (default) or spark (Parquet/CSV, e.g. on a cluster)."),
]
SegmentOption = Annotated[
    Optional[str],
    typer.Option("--segment", help="A customers column (plan, country, acquisition_channel, loyalty_member, …)."),
]


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics_cmd)
    app.command("cohorts")(cohorts_cmd)
    app.command("growth")(growth_cmd)
    app.command("benchmark")(benchmark_cmd)


def _source(store: Optional[str], data: Optional[str], engine: Engine):
    from negah.cli.common import open_source

    return open_source(store, data, engine=engine.value)


def _title(what: str, period: str, cal: str, lang: Lang) -> str:
    """``negah metrics (month, jalali)``; in Persian, Persian words."""
    if lang != Lang.fa:
        return f"negah {what} ({period}, {cal})"
    from negah.reports.i18n import t

    name = {"metrics": "شاخص‌ها", "growth": t("growth", "fa")}[what]
    return f"{t('app', 'fa')}: {name} ({t(period, 'fa')}، {t(cal, 'fa')})"


def _emit(records: list, fmt: Format, lang: Lang, title: str) -> None:
    from negah.metrics import output

    if not records:
        from negah.cli.common import warn

        warn(
            "nothing to report: the data has no dated rows in the periods asked for "
            "(check --from/--to against the data's dates)"
        )

    if fmt == Format.json:
        write_out(output.to_json(records))
    elif fmt == Format.csv:
        write_out(output.to_csv(records) or "\n")
    else:
        write_out(output.render_table(records, lang=lang.value, title=title))


@handle_errors
def metrics_cmd(
    store: StoreOption = None,
    data: DataOption = None,
    period: PeriodOption = Period.month,
    calendar: CalendarOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    metric: List[str] = typer.Option(
        [], "--metric", "-m", help="Metric name (repeatable; default: every metric of the spec)."
    ),
    segment: SegmentOption = None,
    basis: Basis = typer.Option(Basis.orders, "--basis", help="orders (default) or subscriptions (MRR metrics)."),
    active_window: Optional[str] = typer.Option(
        None,
        "--active-window",
        help="Also report activity-window churn: active = bought in the window before an instant, e.g. 90d.",
    ),
    fmt: FormatOption = Format.table,
    lang: LangOption = Lang.en,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Retention metrics per period (churn, retention, revenue churn, repeat, loyal, returns, NPS, ARPU, CLV, growth).

    Definitions: docs/metrics.md. JSON/CSV go to stdout alone, byte-identical run after run.
    """
    from negah.metrics.engine import compute_records

    from negah.cli.common import chunk_progress

    cal = calendar_for(calendar, lang)
    src = _source(store, data, engine)
    with src, chunk_progress(src, "metrics"):
        recs = compute_records(src, period.value, cal, metric or None, segment, from_, to, basis.value, active_window)
    _emit(recs, fmt, lang, _title("metrics", period.value, cal, lang))


@handle_errors
def growth_cmd(
    store: StoreOption = None,
    data: DataOption = None,
    period: PeriodOption = Period.month,
    calendar: CalendarOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    segment: SegmentOption = None,
    fmt: FormatOption = Format.table,
    lang: LangOption = Lang.en,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Growth against churn per period: new, reactivated, churned, net adds, quick ratio."""
    from negah.metrics.engine import compute_records

    cal = calendar_for(calendar, lang)
    names = [
        "active_customers",
        "new_customers",
        "reactivated_customers",
        "churned_customers",
        "net_customer_adds",
        "quick_ratio",
    ]
    with _source(store, data, engine) as src:
        recs = compute_records(src, period.value, cal, names, segment, from_, to)
    _emit(recs, fmt, lang, _title("growth", period.value, cal, lang))


@handle_errors
def cohorts_cmd(
    store: StoreOption = None,
    data: DataOption = None,
    period: PeriodOption = Period.month,
    calendar: CalendarOption = None,
    value: CohortValue = typer.Option(
        CohortValue.customers, "--value", help="customers (share active) or revenue (vs the first period)."
    ),
    from_: FromOption = None,
    to: ToOption = None,
    fmt: FormatOption = Format.table,
    lang: LangOption = Lang.en,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Acquisition-cohort retention matrix (cohort = period of the first purchase)."""
    from negah.metrics.cohorts import cohort_records

    cal = calendar_for(calendar, lang)
    with _source(store, data, engine) as src:
        recs = cohort_records(src, period.value, cal, value.value, from_, to)
    if fmt != Format.table:
        _emit(recs, fmt, lang, "")
        return
    write_out(_cohort_table(recs, lang, value.value))


def _cohort_table(recs: list, lang: Lang, value: str) -> str:
    import io

    from rich.console import Console
    from rich.table import Table

    from negah.calendars import persian_digits
    from negah.i18n import fa_number

    fa = lang == Lang.fa
    offsets = sorted({r["offset"] for r in recs})
    size = "size" if value == "customers" else "revenue"
    if fa:
        from negah.reports.i18n import t as tr

        title = f"{tr('cohorts', 'fa')} ({tr('customers' if value == 'customers' else 'revenue_total', 'fa')})"
    else:
        title = f"cohorts ({value})"
    t = Table(title=title)
    t.add_column("کوهورت" if fa else "cohort")
    t.add_column({"size": "اندازه", "revenue": "درآمد"}[size] if fa else size, justify="right")
    for k in offsets:
        t.add_column(persian_digits(k) if fa else str(k), justify="right")
    rows: dict[str, dict[int, dict]] = {}
    for r in recs:
        rows.setdefault(r["cohort"], {})[r["offset"]] = r
    for cohort, cells in rows.items():
        den = cells[0]["denominator"]
        size = f"{den:,}" if isinstance(den, int) else f"{den:,.2f}"
        # a cell of a period the data covers only in part is marked, as in the metrics table
        vals = [
            (
                ("—" if cells[k]["value"] is None else f"{100 * cells[k]['value']:.1f}%")
                + ("" if cells[k].get("complete", True) else "*")
            )
            if k in cells
            else ""
            for k in offsets
        ]
        t.add_row(*([persian_digits(cohort)] + [fa_number(c) for c in [size] + vals] if fa else [cohort, size] + vals))
    buf = io.StringIO()
    Console(file=buf, width=max(100, 9 * (len(offsets) + 3)), force_terminal=False, color_system=None).print(t)
    if any(not r.get("complete", True) for r in recs):
        from negah.metrics.output import partial_note

        buf.write(partial_note("fa" if fa else "en"))
    return buf.getvalue()


@handle_errors
def benchmark_cmd(
    industry: Industry = typer.Option(..., "--industry", help="saas, retail, finance or consulting."),
    store: StoreOption = None,
    data: DataOption = None,
    basis: Basis = typer.Option(
        Basis.orders, "--basis", help="orders: yearly churn_rate; subscriptions: monthly churn compounded."
    ),
    calendar: CalendarOption = None,
    fmt: FormatOption = Format.table,
    lang: LangOption = Lang.en,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Yearly churn against the industry ranges; flags yearly churn above 10%."""
    from negah.metrics.benchmarks import benchmark, describe
    from negah.metrics.output import to_csv, to_json

    cal = calendar_for(calendar, lang)
    with _source(store, data, engine) as src:
        recs = benchmark(src, industry.value, basis.value, cal)
    if fmt == Format.json:
        write_out(to_json(recs))
    elif fmt == Format.csv:
        write_out(to_csv(recs))
    else:
        write_out("\n".join(describe(r, lang.value) for r in recs) + "\n")
