"""``negah predict``: churn models with reasons (train, score, evaluate) and survival views.

Two modes share the commands:

* snapshot — ``--table FILE``: a one-row-per-customer CRM export with a churn label column;
* store — ``--store S`` (or ``--data DIR``) with ``--as-of DATE``: point-in-time features
  and labels from the canonical tables, with a backtest over rolling cut-offs.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, List, Optional

import typer
from typer.core import TyperCommand

from negah.cli.common import (
    DataOption,
    Format,
    FormatCsvJson,
    FormatCsvJsonOption,
    FormatOption,
    FormatTableJson,
    FormatTableJsonOption,
    Lang,
    StoreOption,
    err_console,
    fail,
    handle_errors,
    write_out,
)

predict_app = typer.Typer(
    help="Churn prediction with reasons: train, score, evaluate; survival curves.", no_args_is_help=True
)

TableOption = Annotated[
    Optional[Path], typer.Option("--table", help="Snapshot mode: a one-row-per-customer table (.csv, .parquet, .xlsx).")
]
ModelRefOption = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="A model file, or the id or name of a model saved in --store "
        "(default: the store's newest store-mode model).",
    ),
]
LabelOption = Annotated[
    str, typer.Option("--label", help="Store mode: orders, subscriptions or auto (orders when present).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(predict_app, name="predict")


def _say(msg: str) -> None:
    err_console().print(msg, highlight=False, markup=False)


@contextmanager
def _steps(what: str):
    """A live progress line on stderr (a terminal only) for work whose steps are messages:
    a running bar with the current step and the elapsed time; each finished step stays
    printed above it. Elsewhere the messages are plain lines on stderr."""
    if not sys.stderr.isatty():
        yield _say
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    con = err_console()
    with Progress(
        SpinnerColumn(),
        TextColumn(f"{what}: {{task.description}}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=con,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def report(msg: str) -> None:
            bar.console.print(msg, highlight=False, markup=False)
            bar.update(task, description=msg[:60])

        yield report


class _OptionalSaveValue(TyperCommand):
    """``--save`` takes an optional NAME: alone (last, or before another option) it means the default name."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        fixed: list[str] = []
        for i, a in enumerate(args):
            fixed.append(a)
            if a == "--save" and (i + 1 == len(args) or args[i + 1].startswith("-")):
                fixed.append("")
        return super().parse_args(ctx, fixed)


def _mode(table: Optional[Path], data: Optional[str]) -> str:
    """``snapshot`` with --table; else ``store`` (--store, --data or the default store)."""
    if table is not None and data:
        fail("give --table (snapshot mode) or --data/--store (store mode), not both")
    return "snapshot" if table is not None else "store"


def _store_as_of(s, as_of: Optional[str], label: str = "auto") -> str:
    """``--as-of``, or the day after the store's last date (score what is known now)."""
    if as_of:
        return as_of
    import datetime as dt

    from negah.predict.labels import data_end

    last = data_end(s, label)
    if last is None:
        fail("the store has no dated rows to score; give --as-of DATE")
    day = (last + dt.timedelta(days=1)).isoformat()
    _say(f"as of {day} (the day after the data's last date; give --as-of DATE for another cut-off)")
    return day


def _resolve_model(ref: Optional[str], store: Optional[str]):
    """A model from a file, or from the registry of --store (id, name, or the newest)."""
    from negah.predict.modelfile import ChurnModel

    if ref is not None and Path(ref).is_file():
        return ChurnModel.load(ref)
    from negah.errors import InputError, StoreError
    from negah.predict import registry
    from negah.store import open_store

    try:
        with open_store(store, read_only=True, create=False) as s:
            m = registry.load(s, ref)
    except (InputError, StoreError) as e:
        if ref is not None:
            raise InputError(
                f"model file {ref!r} does not exist, and no model of that id or name was found in a store: {e}"
            ) from None
        raise
    rec = m.record or {}
    _say(f"model {rec.get('model_id')} ({rec.get('name')}, {rec.get('mode')}, saved {rec.get('created_at')})")
    return m


def _save(m, store: Optional[str], name: str) -> None:
    from negah.predict import registry
    from negah.store import open_store

    with open_store(store, create=False) as s:  # read-write only for the moment of saving
        rec = registry.save(s, m, name or None)
    _say(f"model saved in {s.location} as {rec['model_id']} ({rec['name']})")


@predict_app.command("train", cls=_OptionalSaveValue)
@handle_errors
def train_cmd(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the model to this file (one file)."),
    save: Optional[str] = typer.Option(
        None,
        "--save",
        metavar="[NAME]",
        help="Also keep the model in the embedded store --store, under NAME "
        "(default: churn-<as-of>-h<horizon>, or churn-<table file>).",
    ),
    table: TableOption = None,
    target: Optional[str] = typer.Option(
        None, "--target", help="Snapshot mode: the churn label column (Yes/No, 1/0, true/false)."
    ),
    id_column: Optional[str] = typer.Option(
        None, "--id", help="Snapshot mode: the customer id column (default: detected by name)."
    ),
    positive: Optional[str] = typer.Option(
        None, "--positive", help="The label value that means churned, when not Yes/1/true."
    ),
    date_order: str = typer.Option(
        "dmy", "--date-order", help="Snapshot mode: dmy (default) or mdy, for dates such as 03/04/2024."
    ),
    store: StoreOption = None,
    data: DataOption = None,
    as_of: Optional[str] = typer.Option(
        None,
        "--as-of",
        help="Store mode: the cut-off date (default: the day after the data's last date). "
        "Snapshot mode: the reference date of date columns (default: the latest date in them).",
    ),
    horizon: int = typer.Option(
        90,
        "--horizon",
        min=1,
        help="Store mode: churned = no purchase (or no active subscription) within this many days.",
    ),
    label: LabelOption = "auto",
    window: int = typer.Option(
        90, "--window", min=1, help="Store mode: days of the recent/prior windows of trend features."
    ),
    n_cutoffs: int = typer.Option(4, "--cutoffs", help="Store mode: training cut-offs."),
    step: int = typer.Option(30, "--step", help="Store mode: days between training cut-offs."),
    backtest: bool = typer.Option(
        True,
        "--backtest/--no-backtest",
        help="Store mode: also train H days earlier and test on the latest labelled cut-off (the reported metrics).",
    ),
    model: str = typer.Option("auto", "--model", help="auto (chosen by cross-validation), lightgbm or logistic."),
    folds: int = typer.Option(3, "--folds", help="Cross-validation folds."),
    max_rounds: int = typer.Option(
        1000, "--max-rounds", help="Most LightGBM boosting rounds (early stopping picks fewer)."
    ),
    seed: int = typer.Option(0, "--seed"),
    threads: int = typer.Option(
        0, "--threads", help="LightGBM threads (0: the machine's cores; the model is the same for any number)."
    ),
    fmt: FormatOption = Format.table,
) -> None:
    """Train a churn model; write it to one versioned file (--out) and/or keep it in the store (--save).

    Snapshot: negah predict train --table customers.csv --target Churn --out churn.model

    Store: negah predict train --store shop.duckdb --as-of 2024-10-01 --horizon 90 --save
    """
    if out is None and save is None:
        fail("say where the model goes: --out FILE, --save [NAME] (into --store), or both")
    if save is not None and data and not store:
        fail("--save keeps the model in an embedded store: add --store PATH.duckdb (a --data folder cannot keep it)")
    mode = _mode(table, data)
    if mode == "snapshot":
        from negah.predict.snapshot import read_table, train_table

        if not target:
            fail("snapshot mode needs --target COL (the churn label column)")
        df = read_table(table, text_columns=tuple(c for c in (id_column,) if c))
        _say(f"training on {len(df):,} rows of {table} (label {target})")
        m = train_table(
            df,
            target,
            id_column=id_column,
            positive=positive,
            model=model,
            seed=seed,
            folds=folds,
            max_rounds=max_rounds,
            num_threads=threads,
            source=Path(table).name,
            as_of=as_of,
            date_order=date_order,
        )
        for c in m.preparer.columns_:
            if c.kind == "dropped":
                _say(f"column {c.name!r} not used: {c.why}")
        dates = [c.name for c in m.preparer.features if c.kind == "date"]
        if dates:
            how = "given" if as_of else "the latest date in them; give --as-of for the export date"
            _say(f"date columns {', '.join(dates)}: days before {m.preparer.as_of} ({how})")
    else:
        from negah.cli.common import open_source
        from negah.predict.backtest import train_store

        with open_source(None if data else store, data) as s, _steps("training") as step_done:
            m = train_store(
                s,
                _store_as_of(s, as_of, label),
                horizon=horizon,
                label=label,
                window=window,
                n_cutoffs=n_cutoffs,
                step=step,
                model=model,
                seed=seed,
                folds=folds,
                max_rounds=max_rounds,
                num_threads=threads,
                backtest=backtest,
                progress=step_done,
            )
    if out is not None:
        m.save(out)
        _say(f"model written to {out}")
    if save is not None:
        _save(m, store, save)
    _report_training(m, fmt)


def _p(v: float) -> str:
    """A p-value for people: ``p < 1e-300`` rather than ``p = 0`` when it underflows."""
    return "p < 1e-300" if v == 0 else f"p = {v:.4g}"


def _flat_csv(d: dict) -> str:
    """``key,value`` rows of a nested summary: nested keys joined with dots, list items by
    their index (or their ``name``), in sorted order; the same summary gives the same bytes."""
    from negah.metrics.output import to_csv

    rows: list[dict] = []

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict):
            for k in sorted(v, key=str):
                walk(f"{prefix}.{k}" if prefix else str(k), v[k])
        elif isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
            for i, x in enumerate(v):
                name = x.get("name") if isinstance(x, dict) and isinstance(x.get("name"), str) else str(i)
                walk(f"{prefix}.{name}", {k: y for k, y in x.items() if k != "name"} if isinstance(x, dict) else x)
        else:
            rows.append({"key": prefix, "value": ";".join(map(str, v)) if isinstance(v, list) else v})

    walk("", d)
    return to_csv(rows)


def _report_training(m, fmt: Format) -> None:
    meta = m.meta
    summary = {
        "model": meta["chosen"]["kind"],
        "settings": meta["chosen"]["settings"]["name"],
        "rounds": meta["chosen"]["rounds"],
        "cv": meta["chosen"]["cv"],
        "training": meta["training"],
        "metrics": meta.get("metrics", {}),
        "backtest": meta.get("backtest", {}),
        "top_features": [n for n, _ in m.classifier.importance()[:10]],
    }
    if fmt == Format.json:
        write_out(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        return
    if fmt == Format.csv:
        write_out(_flat_csv(summary))
        return
    from negah.predict.evaluation import format_metrics

    lines = [
        f"model      {summary['model']} ({summary['settings']}"
        + (f", {summary['rounds']} rounds)" if summary["model"] == "lightgbm" else ")"),
        "cross-validation (mean ROC AUC inside the training data):",
    ]
    for r in summary["cv"]:
        lines.append(f"  {r['name']:<20} {r['cv_auc']:.4f}" + (f"  ({r['rounds']} rounds)" if r["rounds"] else ""))
    met = summary["metrics"]
    if "roc_auc" in met:
        bt = summary["backtest"]
        lines += [
            "",
            f"backtest: trained on cut-offs {', '.join(bt['train_cutoffs'])}, tested at {bt['test_cutoff']}",
            format_metrics(met),
        ]
    lines += ["", "top features: " + ", ".join(summary["top_features"])]
    write_out("\n".join(lines))


@predict_app.command("score")
@handle_errors
def score_cmd(
    model_ref: ModelRefOption = None,
    table: TableOption = None,
    store: StoreOption = None,
    data: DataOption = None,
    as_of: Optional[str] = typer.Option(
        None,
        "--as-of",
        help="Store mode: the cut-off (default: the day after the data's last date). "
        "Snapshot mode: the reference date of date columns (default: the model's).",
    ),
    fmt: FormatCsvJsonOption = FormatCsvJson.csv,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the reasons: en or fa."),
    reasons: int = typer.Option(3, "--reasons", help="Reasons per customer."),
    explain: str = typer.Option(
        "shap",
        "--explain",
        help="Contributions behind the reasons: shap (TreeSHAP) or path "
        "(root-to-leaf path contributions, about 10x faster on large tables).",
    ),
    threads: int = typer.Option(0, "--threads", help="LightGBM threads for scoring (0: the machine's cores)."),
    workers: int = typer.Option(
        0,
        "--workers",
        help="Snapshot mode: processes scoring a table of more than one "
        "chunk (500,000 rows) side by side (0: one per core).",
    ),
) -> None:
    """Churn probability and top reasons, one row per customer.

    Columns: the id column under its own name, churn_probability, reason_1, reason_2, reason_3.
    """
    mode = _mode(table, data)
    m = _resolve_model(model_ref, store)
    m.classifier.num_threads = threads
    if mode == "snapshot" and m.meta.get("mode") != "snapshot":
        fail("this model was trained on a store; score it with --store S (without --table)")
    if mode == "store" and m.meta.get("mode") != "store":
        fail("this model was trained on a table (snapshot mode); score it with --table FILE")
    sink = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if mode == "snapshot":
            from negah.predict.snapshot import score_file

            n = score_file(
                m,
                table,
                sink,
                fmt=fmt.value,
                lang=lang.value,
                reasons=reasons,
                explain=explain,
                as_of=as_of,
                workers=workers,
            )
        else:
            from negah.cli.common import open_source
            from negah.predict.backtest import score_store
            from negah.predict.snapshot import _write_json_rows

            with open_source(None if data else store, data) as s:
                cut = _store_as_of(s, as_of, m.meta.get("label", "auto"))
                res = score_store(m, s, cut, lang=lang.value, reasons=reasons, explain=explain)
            from negah.predict.backtest import in_sample
            from negah.predict.features import parse_date

            if in_sample(m, parse_date(cut)):
                from negah.cli.common import warn

                warn(
                    f"the model was trained on data up to {m.meta['training']['as_of']}, after the "
                    f"cut-off {parse_date(cut).isoformat()}: it has seen what these customers did next"
                )
            n = len(res)
            if fmt == FormatCsvJson.csv:
                res.to_csv(sink, index=False, lineterminator="\n")
            else:
                _write_json_rows(sink, res, True)
                sink.write("[]\n" if n == 0 else "\n]\n")
    finally:
        if out:
            sink.close()
    _say(f"scored {n:,} customers" + (f" into {out}" if out else ""))


@predict_app.command("evaluate")
@handle_errors
def evaluate_cmd(
    model_ref: ModelRefOption = None,
    table: TableOption = None,
    store: StoreOption = None,
    data: DataOption = None,
    as_of: Optional[str] = typer.Option(
        None,
        "--as-of",
        help="Store mode (needed): the cut-off whose next --horizon days are labelled. "
        "Snapshot mode: the reference date of date columns (default: the model's).",
    ),
    horizon: Optional[int] = typer.Option(
        None, "--horizon", min=1, help="Store mode: label horizon (default: the model's)."
    ),
    fmt: FormatOption = Format.table,
) -> None:
    """ROC AUC, PR AUC, top-10% lift and capture, Brier score and a calibration table on labelled data."""
    from negah.predict.evaluation import format_metrics

    mode = _mode(table, data)
    m = _resolve_model(model_ref, store)
    if mode == "snapshot":
        from negah.predict.snapshot import evaluate_table, read_table

        idc = m.meta.get("id_column")
        res = evaluate_table(m, read_table(table, text_columns=(idc,) if idc else ()), as_of)
    else:
        from negah.cli.common import open_source
        from negah.predict.backtest import evaluate_store

        if not as_of:
            fail("store mode needs --as-of DATE: a cut-off at least --horizon days before the data's end")
        with open_source(None if data else store, data) as s:
            res = evaluate_store(m, s, as_of, horizon)
        if res.get("in_sample"):
            from negah.cli.common import warn

            warn(
                f"in-sample — the model was trained on data up to {m.meta['training']['as_of']}, "
                f"after {res['as_of']}: these outcomes were in its training data, so the figures flatter it; "
                "evaluate at a cut-off after the training data (train with an earlier --as-of to keep a test period)"
            )
    if fmt == Format.json:
        write_out(json.dumps(res, ensure_ascii=False, sort_keys=True))
    elif fmt == Format.csv:
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["metric", "value"])
        for k, v in res.items():
            if k != "calibration":
                w.writerow([k, v])
    else:
        write_out(format_metrics(res))


@predict_app.command("models")
@handle_errors
def models_cmd(
    store: StoreOption = None,
    fmt: FormatTableJsonOption = FormatTableJson.table,
    delete: Optional[str] = typer.Option(None, "--delete", help="Remove the stored model with this id."),
) -> None:
    """The trained models kept in the store (newest first), or --delete ID to remove one."""
    from negah.predict import registry
    from negah.store import open_store

    if delete:
        with open_store(store, create=False) as s:
            registry.delete(s, delete)
        _say(f"model {delete} deleted from {s.location}")
    with open_store(store, read_only=True, create=False) as s:
        recs = registry.list_models(s)
    if fmt == FormatTableJson.json:
        write_out(json.dumps(recs, ensure_ascii=False, sort_keys=True))
        return
    if not recs:
        write_out("no stored models (train one with `negah predict train --store S ... --save [NAME]`)")
        return
    lines = [f"{'model_id':<12}  {'name':<28} {'mode':<8} {'saved (UTC)':<19}  {'as of':<10} {'AUC':>6}"]
    for r in recs:
        met = r["metrics"]
        auc = met.get("roc_auc", met.get("cv_auc"))
        lines.append(
            f"{r['model_id']:<12}  {r['name'][:28]:<28} {r['mode']:<8} {r['created_at']:<19}  "
            f"{r['as_of'] or '-':<10} {'-' if auc is None else f'{auc:.4f}':>6}"
        )
    write_out("\n".join(lines))


@predict_app.command("survival")
@handle_errors
def survival_cmd(
    table: TableOption = None,
    duration: Optional[str] = typer.Option(
        None, "--duration", help="Snapshot mode: the lifetime column (e.g. tenure)."
    ),
    event: Optional[str] = typer.Option(None, "--event", help="Snapshot mode: the churned column (Yes/No, 1/0)."),
    store: StoreOption = None,
    data: DataOption = None,
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Store mode: the cut-off date YYYY-MM-DD (default: the day after the data's last date)."
    ),
    horizon: int = typer.Option(
        90, "--horizon", min=1, help="Store mode (orders): churned = no purchase in the last this many days."
    ),
    label: LabelOption = "auto",
    segment: Optional[str] = typer.Option(
        None, "--segment", help="Compare Kaplan–Meier curves of this column's groups (with log-rank tests)."
    ),
    covariate: List[str] = typer.Option([], "--covariate", help="Cox model covariate (repeatable)."),
    times: str = typer.Option("30,90,180,365", "--times", help="Days at which to report retention."),
    fmt: FormatOption = Format.table,
) -> None:
    """Kaplan–Meier retention per segment, log-rank tests, and a Cox model of churn drivers."""
    from negah.predict import survival as sv

    if table is not None and store:
        fail("give --table (snapshot mode) or --store/--data (store mode), not both")
    mode = _mode(table, data)
    try:
        at = [float(t) for t in times.split(",") if t.strip()]
    except ValueError:
        fail(f"--times must be comma-separated numbers of days, received {times!r}")
    segs = [c for c in [segment, *covariate] if c]
    segs = list(dict.fromkeys(segs))
    if mode == "snapshot":
        from negah.predict.snapshot import read_table

        if not duration or not event:
            fail("snapshot mode needs --duration COL and --event COL")
        frame = sv.table_frame(read_table(table), duration, event, segs)
    else:
        from negah.cli.common import open_source

        with open_source(store, data) as s:
            frame = sv.survival_frame(s, _store_as_of(s, as_of, label), horizon=horizon, label=label, segments=segs)
    result = {"kaplan_meier": sv.kaplan_meier(frame, segment, at)}
    if segment:
        result["logrank"] = sv.logrank(frame, segment)
    if covariate:
        result["cox"] = sv.cox(frame, covariate)
    if fmt == Format.json:
        write_out(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return
    if fmt == Format.csv:
        import csv

        rows = result["kaplan_meier"]
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return
    lines = ["Kaplan–Meier retention"]
    km = result["kaplan_meier"]
    keys = [k for k in km[0] if k.startswith("retained_")]
    sw = max([20] + [len(r["segment"]) for r in km])  # segment names whole
    lines.append(
        f"{'segment':<{sw}} {'customers':>9} {'churned':>8} {'median':>8} " + " ".join(f"{k[9:]:>8}" for k in keys)
    )
    for r in km:
        med = "-" if r["median_days"] is None else f"{r['median_days']:.0f}"
        lines.append(
            f"{r['segment']:<{sw}} {r['customers']:>9} {r['churned']:>8} {med:>8} "
            + " ".join(f"{r[k]:>8.3f}" for k in keys)
        )
    if "logrank" in result:
        lr = result["logrank"]
        lines += [
            "",
            f"log-rank test across {lr['segment']}: chi2 = {lr['statistic']:.3f}, "
            f"df = {lr['degrees_of_freedom']}, {_p(lr['p_value'])}",
        ]
        for p in lr["pairs"]:
            lines.append(f"  {p['a']} vs {p['b']}: chi2 = {p['statistic']:.3f}, {_p(p['p_value'])}")
    if "cox" in result:
        lines += ["", "Cox model (hazard ratio > 1: churns sooner)"]
        cw = max([30] + [len(r["covariate"]) for r in result["cox"]])  # covariate names whole
        for r in result["cox"]:
            lines.append(
                f"  {r['covariate']:<{cw}} HR {r['hazard_ratio']:.3f} "
                f"[{r['hr_lower_95']:.3f}, {r['hr_upper_95']:.3f}]  {_p(r['p_value'])}"
            )
    write_out("\n".join(lines))
