"""CLI: actions (at-risk), segments, reasons, contact-plan, evaluate-program, campaigns,
check, whatif — thin shells over :mod:`negah.actions`."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Callable, Optional

import typer

from negah.cli.common import (
    Calendar,
    DataOption,
    Format,
    FormatOption,
    Lang,
    Period,
    PeriodOption,
    StoreOption,
    handle_errors,
    open_source,
    write_out,
)

MarginOption = Annotated[
    float, typer.Option("--margin", min=0.0, help="Profit margin applied to CLV (a share of revenue, e.g. 0.3).")
]


def _emit(df: Any, fmt: Format, title: str = "", lang: str = "en", names: Optional[dict] = None) -> None:
    from negah.actions._data import to_records

    if fmt == Format.json:
        write_out(json.dumps(to_records(df), ensure_ascii=False, indent=1))
    elif fmt == Format.csv:
        from pandas.api.types import infer_dtype

        d = df.copy()
        for c in d.columns:
            # only a column of mixed Python objects can hold lists (infer_dtype is one C pass)
            if d[c].dtype == object and infer_dtype(d[c], skipna=True) == "mixed":
                d[c] = d[c].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
        write_out(d.to_csv(index=False, lineterminator="\n"))
    else:
        _table(df, title, lang, names)


def _emit_summary(
    df: Any,
    summarise: Callable[[Any], Any],
    summary: Optional[bool],
    fmt: Format,
    title: str,
    lang: str = "en",
    names: Optional[dict] = None,
) -> None:
    """``--summary/--per-customer``: the summary by default in the table view, one row per customer in csv/json."""
    if summary is None:
        summary = fmt == Format.table
    _emit(summarise(df) if summary else df, fmt, title, lang, names)
    if summary and fmt == Format.table:
        if lang == "fa":
            from negah.reports.i18n import digits

            _note(f"{digits(f'{len(df):,}', 'fa')} مشتری؛ برای یک ردیف برای هر مشتری --per-customer (یا --format csv)")
        else:
            _note(f"{len(df):,} customers; --per-customer (or --format csv) for one row per customer")


MONEY = re.compile(r"revenue|clv|value_at_risk|gain|arpu|mrr")
TABLE_ROWS = 20


def cell(column: str, v: Any) -> str:
    """One table cell: money with thousands separators and two decimals, never scientific
    notation for large numbers; small p-values keep their exponent."""
    from negah.actions._data import json_value

    v = json_value(v)
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, float):
        if MONEY.search(column):
            return f"{v:,.2f}"
        if column.startswith("customers"):
            return f"{v:,.1f}"
        if abs(v) >= 1000:
            return f"{v:,.1f}"
        if v != 0 and abs(v) < 1e-4:
            return f"{v:.2e}"
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(map(str, v[:5])) + (" …" if len(v) > 5 else "")
    return str(v)


# Persian headers of the command line's own columns (the rest are the dashboard's, ui("col", …))
FA_COLUMNS = {
    "share": "سهم",
    "profitable_share": "سهم سودآور",
    "profitable": "سودآور",
    "recency_days": "روز از آخرین خرید",
    "purchase_days": "روزهای خرید",
    "tenure_days": "روز از نخستین خرید",
    "revenue_180d": "درآمد ۱۸۰ روز اخیر",
    "revenue_prior_180d": "درآمد ۱۸۰ روز پیش از آن",
    "R": "R (تازگی)",
    "F": "F (دفعات)",
    "M": "M (مبلغ)",
    "rfm": "RFM",
    "clv_decile": "دهک ارزش طول عمر",
    "clv_method": "روش ارزش طول عمر",
    "p_alive": "احتمال فعال بودن",
}
# the contact plan's summary counts customers per confidence level in columns high/medium/low
# (elsewhere low/high are the bounds of an interval)
FA_CONFIDENCE = {"high": "اطمینان زیاد", "medium": "اطمینان متوسط", "low": "اطمینان کم"}


def _table(df: Any, title: str = "", lang: str = "en", names: Optional[dict] = None) -> None:
    """A table that never cuts a header or a value (split to fit the terminal, long text
    wrapped): :func:`negah.metrics.output.render_grid`. In Persian the headers, segment and
    channel names are the dashboard's words and numbers are in Persian typography."""
    from negah.metrics.output import render_grid

    cols = [str(c) for c in df.columns]
    body = [[cell(c, v) for c, v in zip(cols, row)] for row in df.itertuples(index=False, name=None)]
    heads = cols
    if lang == "fa":
        from negah.reports.i18n import digits, t, ui

        names = {**FA_COLUMNS, **(names or {})}
        heads = [names.get(c) or ui("col", c, "fa") for c in cols]
        words = {
            "segment": "seg",
            "channel": None,
            "best_channel": None,
            "second_channel": None,
            "best_weekday": None,
            "confidence": None,
        }
        for r in body:
            for i, c in enumerate(cols):
                if c in words:
                    r[i] = ui(words[c], r[i], "fa") if words[c] else t(r[i], "fa")
                elif df[c].dtype.kind == "b":
                    r[i] = {"True": "بله", "False": "خیر"}.get(r[i], r[i])
                elif df[c].dtype.kind in "iuf" or c == "rfm":  # the RFM code is digits too
                    r[i] = digits(r[i], "fa")
        title = ui("table", title.replace(" ", "_"), "fa") if title else title
    write_out(
        render_grid(heads, body, keys=1, right=[df[c].dtype.kind in "if" for c in df.columns], title=title or None)
    )


def _note(message: str) -> None:
    from negah.cli.common import err_console

    err_console().print(message, highlight=False, markup=False)


def _json(obj: Any) -> None:
    import json

    write_out(json.dumps(obj, ensure_ascii=False, indent=1))


def register(app: typer.Typer) -> None:
    actions = typer.Typer(help="Action lists for CRM campaigns.", no_args_is_help=True)
    app.add_typer(actions, name="actions")

    @actions.command("at-risk")
    @handle_errors
    def at_risk_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        top: Optional[int] = typer.Option(
            None, "--top", help=f"Only the first N customers (table view: {TABLE_ROWS} unless given)."
        ),
        segment: Optional[list[str]] = typer.Option(None, "--segment", help="Only these RFM segments (repeat)."),
        model: str = typer.Option(
            "auto",
            "--model",
            help="Churn model: auto (newest stored store-mode model, else BTYD), btyd, a model FILE or a stored model ID/name.",
        ),
        scores: Optional[str] = typer.Option(
            None,
            "--scores",
            help="CSV/Parquet of classifier scores: customer_id, churn_probability[, reasons or reason_1..3], e.g. the output of negah predict score.",
        ),
        as_of: Optional[str] = typer.Option(
            None, "--as-of", help="Last day of data to use (inclusive; default: the last order)."
        ),
        margin: MarginOption = 1.0,
        lang: Lang = typer.Option(Lang.en, "--lang", help="Language of reasons and next steps: en or fa."),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Customers ranked by value at risk = churn probability × CLV, with reasons and next step."""
        from negah.actions.at_risk import at_risk

        sc = _read_frame(scores) if scores else None
        limit = top if top or fmt != Format.table else TABLE_ROWS
        with open_source(store, data) as s:
            df = at_risk(
                s,
                top=limit,
                segment=segment or None,
                scores=sc,
                model=model,
                as_of=as_of,
                margin=margin,
                lang=lang.value,
            )
        if fmt == Format.table:
            fa = lang == Lang.fa
            if len(df):
                if fa:
                    from negah.reports.i18n import t

                    _note(f"احتمال ریزش: {t(df['method'].iloc[0], 'fa')}")
                else:
                    _note(f"churn probability: {df['method'].iloc[0]}")
            _emit(df.drop(columns=["method", "signals"]), fmt, "at risk", lang.value)
            if not top:
                from negah.calendars import persian_digits

                _note(
                    persian_digits(f"{TABLE_ROWS} مشتری نخست؛ برای بیشتر --top N و برای فهرست کامل --format csv")
                    if fa
                    else f"the first {TABLE_ROWS} customers; --top N for more, --format csv for the whole list"
                )
        else:
            _emit(df, fmt)

    @app.command("segments")
    @handle_errors
    def segments_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        summary: Optional[bool] = typer.Option(
            None,
            "--summary/--per-customer",
            help="One row per segment (the table view's default) or one per customer (csv/json's default).",
        ),
        margin: MarginOption = 1.0,
        min_clv: Optional[float] = typer.Option(
            None, "--min-clv", help="CLV at or above which a customer is profitable (default: median)."
        ),
        as_of: Optional[str] = typer.Option(
            None, "--as-of", help="Last day of data to use (inclusive; default: the last date of the data)."
        ),
        lang: Lang = typer.Option(
            Lang.en, "--lang", help="Language of the table view: en or fa (csv/json keep codes)."
        ),
        fmt: FormatOption = Format.table,
    ) -> None:
        """RFM scores, named segments, CLV deciles and profitable customers."""
        from negah.actions.segments import rfm, segment_summary

        with open_source(store, data) as s:
            df = rfm(s, as_of=as_of, margin=margin, min_clv=min_clv)
        _emit_summary(df, segment_summary, summary, fmt, "segments", lang.value)

    @app.command("reasons")
    @handle_errors
    def reasons_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        period: PeriodOption = Period.month,
        calendar: Calendar = typer.Option(Calendar.gregorian, "--calendar", "-c", help="gregorian or jalali."),
        window: int = typer.Option(180, "--window", min=1, help="Days without a purchase that count as churned."),
        fdr: float = typer.Option(0.05, "--fdr", help="False discovery rate of spike detection."),
        exposure: str = typer.Option(
            "auto",
            "--exposure",
            help="Spike baseline per: orders (the product's purchase lines), time, complaints, or auto (orders when there are orders).",
        ),
        pick_list: Optional[str] = typer.Option(
            None, "--pick-list", help="Comma-separated configured reasons (listed first; not a whitelist)."
        ),
        as_of: Optional[str] = typer.Option(
            None, "--as-of", help="Last day of data to use (inclusive; default: the last date of the data)."
        ),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Why customers leave: complaints by reason/product, churn vs comparable customers, spikes."""
        from negah.actions.reasons import analyse

        picks = [p for p in (pick_list or "").split(",") if p.strip()]
        with open_source(store, data) as s:
            rep = analyse(
                s,
                period=period.value,
                calendar=calendar.value,
                window_days=window,
                fdr=fdr,
                exposure=exposure,
                pick_list=picks,
                as_of=as_of,
            )
        if fmt == Format.json:
            _json(rep.to_dict())
        elif fmt == Format.csv:
            _emit(rep.spikes, fmt)
        else:
            _table(rep.by_reason, "complaints by reason")
            _table(rep.churn_by_reason, f"churn within {window} days after a complaint")
            if rep.churn_by_nps is not None:
                _table(rep.churn_by_nps, "churn by NPS group")
            _table(rep.spikes.drop(columns=["customers"]), "spikes")

    @app.command("contact-plan")
    @handle_errors
    def contact_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        min_contacts: int = typer.Option(
            0, "--min-contacts", min=0, help="List only customers with at least this many contacts (0: every customer)."
        ),
        summary: Optional[bool] = typer.Option(
            None,
            "--summary/--per-customer",
            help="Customers per best channel (the table view's default) or one row per customer (csv/json's default).",
        ),
        lang: Lang = typer.Option(
            Lang.en, "--lang", help="Language of the table view: en or fa (csv/json keep codes)."
        ),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Best channel, hour and weekday per customer, shrunk toward the population."""
        from negah.actions.contact import contact_plan, plan_summary

        with open_source(store, data) as s:
            df = contact_plan(s, min_contacts=min_contacts)
        _emit_summary(df, plan_summary, summary, fmt, "contact plan", lang.value, FA_CONFIDENCE)

    @app.command("evaluate-program")
    @handle_errors
    def program_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        members: Optional[str] = typer.Option(
            None, "--members", help="CSV/Parquet customer_id, joined (default: customers.loyalty_joined)."
        ),
        horizon: int = typer.Option(180, "--horizon", min=1, help="Follow-up days for retention and revenue."),
        bootstrap: int = typer.Option(
            200, "--bootstrap", min=0, help="Bootstrap resamples for the confidence intervals (0: none)."
        ),
        seed: int = typer.Option(
            0, "--seed", help="Random seed of the bootstrap (the same seed gives the same output)."
        ),
        as_of: Optional[str] = typer.Option(
            None, "--as-of", help="Last day of data to use (inclusive; default: the last date of the data)."
        ),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Members against comparable non-members (weighted on pre-join behaviour), with CIs and a log-rank test."""
        from negah.actions.programs import evaluate_program

        import sys

        mem = _read_frame(members) if members else None
        with open_source(store, data) as s:
            rep = evaluate_program(
                s,
                members=mem,
                horizon_days=horizon,
                bootstrap=bootstrap,
                seed=seed,
                as_of=as_of,
                progress=sys.stderr.isatty(),
            )
        if fmt == Format.json:
            _json(rep.to_dict())
        elif fmt == Format.csv:
            _emit(rep.effects, fmt)
        else:
            _table(rep.effects.drop(columns="estimand"), "effects on the treated (members − counterfactual)")
            for o, text in zip(rep.effects["outcome"], rep.effects["estimand"]):
                write_out(f"{o}: {text}")
            _table(rep.balance, "balance before / after weighting")
            from negah.actions._data import json_value

            write_out(f"log-rank: {json_value(rep.logrank)}")

    @app.command("campaigns")
    @handle_errors
    def campaigns_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        by: str = typer.Option("offer", "--by", help="offer, campaign_id or both."),
        window: int = typer.Option(30, "--window", min=1, help="Days after the send for revenue and retention."),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Response, conversion and retained revenue by offer."""
        from negah.actions.campaigns import campaign_report

        with open_source(store, data) as s:
            df = campaign_report(s, by=by, window_days=window)
        _emit(df, fmt, "campaigns")

    @app.command("check")
    @handle_errors
    def check_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        config: Optional[str] = typer.Option(
            None, "--config", help="Alert config (TOML); default negah.toml next to the store."
        ),
        repeat: bool = typer.Option(False, "--repeat", help="Send alerts again even if already delivered."),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Evaluate alert rules on complete periods and deliver them (exit 3 if something was not delivered)."""
        from pathlib import Path

        from negah import config as nconfig
        from negah.actions.alerts import check
        from negah.cli.common import err_console

        if config is None:
            base = Path(data) if data else Path(store or nconfig.default_store()).resolve().parent
            config = str(base / "negah.toml")
        con = err_console()
        # machine-readable output keeps stdout to itself: the deliveries' echo goes to stderr
        echo = (
            (lambda m: con.print(m, highlight=False, markup=False)) if fmt != Format.table else (lambda m: write_out(m))
        )
        with open_source(store, data) as s:
            res = check(s, config, repeat=repeat, echo=echo)
        if fmt == Format.json:
            _json(res.to_dict())
        elif fmt == Format.csv:
            from negah.metrics.output import to_csv

            # one row per rule result; lists (e.g. periods) as JSON text
            write_out(
                to_csv(
                    [
                        {
                            k: (json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, (list, dict)) else v)
                            for k, v in a.items()
                        }
                        for a in res.alerts
                    ]
                )
                or "\n"
            )
        else:
            fired = [a for a in res.alerts if a.get("fired")]
            con.print(
                f"{len(res.alerts)} rule result(s), {len(fired)} fired, "
                f"{sum(1 for d in res.deliveries if d.get('delivered'))} delivered, {len(res.pending)} pending",
                highlight=False,
            )
            for p in res.pending:
                con.print(f"[red]not delivered[/]: {p['id']} → {p['channel']}: {p.get('error')}", highlight=False)
        if not res.ok:
            raise typer.Exit(3)

    @app.command("whatif")
    @handle_errors
    def whatif_cmd(
        store: StoreOption = None,
        data: DataOption = None,
        churn: float = typer.Option(..., "--churn", help="Target churn per period, e.g. 0.05."),
        periods: int = typer.Option(24, "--periods", min=1, help="Periods to project ahead."),
        period: PeriodOption = Period.month,
        new: Optional[float] = typer.Option(
            None,
            "--new",
            help="Customers starting per period: new ones and those coming back after a lapse, each a new spell (default: the recent mean).",
        ),
        model: str = typer.Option("sbg", "--model", help="sbg (fitted retention model) or constant."),
        basis: str = typer.Option("auto", "--basis", help="orders, subscriptions or auto (orders when present)."),
        window: int = typer.Option(
            90, "--window", min=1, help="Orders: days without a purchase after which a customer has lapsed."
        ),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day of data to use (inclusive)."),
        fmt: FormatOption = Format.table,
    ) -> None:
        """Customers and revenue over N periods at the current churn and at --churn."""
        from negah.actions.whatif import whatif

        with open_source(store, data) as s:
            df = whatif(
                s,
                churn=churn,
                periods=periods,
                period=period.value,
                new_per_period=new,
                model=model,
                basis=basis,
                window_days=window,
                as_of=as_of,
            )
        if fmt == Format.table:
            a = df.attrs
            fit = f", alpha {a['alpha']:.4g}, beta {a['beta']:.4g}" if "alpha" in a else ""
            _note(
                f"{a['basis']}: {a['customers']:,.0f} customers on {a['as_of']}, churn {a['current_churn']:.4f} → "
                f"{a['target_churn']:.4f} per {a['period']} (model {a['model']}{fit}), {a['new_per_period']:,.1f} starting "
                f"(new or back) per {a['period']}, revenue per customer {a['arpu']:,.2f}"
            )
        if fmt == Format.json:
            from negah.actions._data import json_value, to_records

            _json({"settings": json_value(dict(df.attrs)), "projection": to_records(df)})
        else:
            _emit(df, fmt, "what if")


def _read_frame(path: str):
    import pandas as pd

    from negah.errors import InputError

    if path.lower().endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if path.lower().endswith(".csv"):
        return pd.read_csv(path, dtype={"customer_id": str})
    raise InputError(f"{path}: expected a .csv or .parquet file")
