"""``negah predict``: churn models with reasons (train, score, evaluate) and survival views.

Two modes share the commands:

* snapshot — ``--table FILE``: a one-row-per-customer CRM export with a churn label column;
* store — ``--store S`` (or ``--data DIR``) with ``--as-of DATE``: point-in-time features
  and labels from the canonical tables, with a backtest over rolling cut-offs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from negah.cli.common import DataOpt, StoreOpt, err_console, fail, handle_errors, write_out

predict_app = typer.Typer(help="Churn prediction with reasons: train, score, evaluate; survival curves.",
                          no_args_is_help=True)

TableOpt = typer.Option(None, "--table", help="Snapshot mode: a one-row-per-customer table (.csv, .parquet, .xlsx).")
AsOfOpt = typer.Option(None, "--as-of", help="Store mode: the cut-off date YYYY-MM-DD (the first day not observed).")
FormatOpt = typer.Option("table", "--format", "-f", help="table (text), json or csv.")


def register(app: typer.Typer) -> None:
    app.add_typer(predict_app, name="predict")


def _say(msg: str) -> None:
    err_console().print(msg, highlight=False, markup=False)


def _mode(table: Optional[Path], store: Optional[str], data: Optional[str], as_of: Optional[str]) -> str:
    if table is not None and (store or data):
        fail("give --table (snapshot mode) or --store/--data with --as-of (store mode), not both")
    if table is not None:
        return "snapshot"
    if as_of is None:
        fail("give --table FILE (snapshot mode), or --as-of DATE with --store/--data (store mode)")
    return "store"


@predict_app.command("train")
@handle_errors
def train_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the model (one file)."),
    table: Optional[Path] = TableOpt,
    target: Optional[str] = typer.Option(None, "--target", help="Snapshot mode: the churn label column (Yes/No, 1/0, true/false)."),
    id_column: Optional[str] = typer.Option(None, "--id", help="Snapshot mode: the customer id column (default: detected by name)."),
    positive: Optional[str] = typer.Option(None, "--positive", help="The label value that means churned, when not Yes/1/true."),
    store: Optional[str] = StoreOpt,
    data: Optional[str] = DataOpt,
    as_of: Optional[str] = AsOfOpt,
    horizon: int = typer.Option(90, "--horizon", help="Store mode: churned = no purchase (or no active subscription) within this many days."),
    label: str = typer.Option("auto", "--label", help="Store mode: orders, subscriptions or auto (orders when present)."),
    window: int = typer.Option(90, "--window", help="Store mode: days of the recent/prior windows of trend features."),
    n_cutoffs: int = typer.Option(4, "--cutoffs", help="Store mode: training cut-offs."),
    step: int = typer.Option(30, "--step", help="Store mode: days between training cut-offs."),
    backtest: bool = typer.Option(True, "--backtest/--no-backtest", help="Store mode: also train H days earlier and test on the latest labelled cut-off (the reported metrics)."),
    model: str = typer.Option("auto", "--model", help="auto (chosen by cross-validation), lightgbm or logistic."),
    folds: int = typer.Option(3, "--folds", help="Cross-validation folds."),
    max_rounds: int = typer.Option(1000, "--max-rounds", help="Most LightGBM boosting rounds (early stopping picks fewer)."),
    seed: int = typer.Option(0, "--seed"),
    threads: int = typer.Option(1, "--threads", help="LightGBM threads (fixed, for reproducible models)."),
    fmt: str = FormatOpt,
) -> None:
    """Train a churn model and write it to one versioned file.

    Snapshot: negah predict train --table customers.csv --target Churn --out churn.model

    Store: negah predict train --store shop.duckdb --as-of 2024-10-01 --horizon 90 --out churn.model
    """
    mode = _mode(table, store, data, as_of)
    if mode == "snapshot":
        from negah.predict.snapshot import read_table, train_table

        if not target:
            fail("snapshot mode needs --target COL (the churn label column)")
        df = read_table(table, text_columns=tuple(c for c in (id_column,) if c))
        _say(f"training on {len(df):,} rows of {table} (label {target})")
        m = train_table(df, target, id_column=id_column, positive=positive, model=model, seed=seed, folds=folds,
                        max_rounds=max_rounds, num_threads=threads, source=Path(table).name)
        dropped = [c for c in m.preparer.columns_ if c.kind == "dropped"]
        for c in dropped:
            _say(f"column {c.name!r} not used: {c.why}")
    else:
        from negah.cli.common import open_source
        from negah.predict.backtest import train_store

        with open_source(store, data) as s:
            m = train_store(s, as_of, horizon=horizon, label=label, window=window, n_cutoffs=n_cutoffs, step=step,
                            model=model, seed=seed, folds=folds, max_rounds=max_rounds, num_threads=threads,
                            backtest=backtest, progress=_say)
    m.save(out)
    _say(f"model written to {out}")
    _report_training(m, fmt)


def _report_training(m, fmt: str) -> None:
    meta = m.meta
    summary = {"model": meta["chosen"]["kind"], "settings": meta["chosen"]["settings"]["name"],
               "rounds": meta["chosen"]["rounds"], "cv": meta["chosen"]["cv"], "training": meta["training"],
               "metrics": meta.get("metrics", {}), "backtest": meta.get("backtest", {}),
               "top_features": [n for n, _ in m.classifier.importance()[:10]]}
    if fmt == "json":
        write_out(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        return
    from negah.predict.evaluation import format_metrics

    lines = [f"model      {summary['model']} ({summary['settings']}"
             + (f", {summary['rounds']} rounds)" if summary["model"] == "lightgbm" else ")"),
             "cross-validation (mean ROC AUC inside the training data):"]
    for r in summary["cv"]:
        lines.append(f"  {r['name']:<20} {r['cv_auc']:.4f}" + (f"  ({r['rounds']} rounds)" if r["rounds"] else ""))
    met = summary["metrics"]
    if "roc_auc" in met:
        bt = summary["backtest"]
        lines += ["", f"backtest: trained on cut-offs {', '.join(bt['train_cutoffs'])}, tested at {bt['test_cutoff']}",
                  format_metrics(met)]
    lines += ["", "top features: " + ", ".join(summary["top_features"])]
    write_out("\n".join(lines))


@predict_app.command("score")
@handle_errors
def score_cmd(
    model_path: Path = typer.Option(..., "--model", "-m", help="A model file from `negah predict train`."),
    table: Optional[Path] = TableOpt,
    store: Optional[str] = StoreOpt,
    data: Optional[str] = DataOpt,
    as_of: Optional[str] = AsOfOpt,
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
    lang: str = typer.Option("en", "--lang", help="Language of the reasons: en or fa."),
    reasons: int = typer.Option(3, "--reasons", help="Reasons per customer."),
    explain: str = typer.Option("shap", "--explain",
                                help="Contributions behind the reasons: shap (TreeSHAP) or path "
                                     "(root-to-leaf path contributions, about 10x faster on large tables)."),
) -> None:
    """Churn probability and top reasons, one row per customer.

    Columns: the id column under its own name, churn_probability, reason_1, reason_2, reason_3.
    """
    from negah.predict.modelfile import ChurnModel

    if fmt not in ("csv", "json"):
        fail(f"--format must be csv or json, received {fmt!r}")
    m = ChurnModel.load(model_path)
    mode = _mode(table, store, data, as_of)
    sink = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if mode == "snapshot":
            from negah.predict.snapshot import score_file

            if m.meta.get("mode") != "snapshot":
                fail("this model was trained on a store; score it with --store S --as-of DATE")
            n = score_file(m, table, sink, fmt=fmt, lang=lang, reasons=reasons, explain=explain)
        else:
            from negah.cli.common import open_source
            from negah.predict.backtest import score_store
            from negah.predict.snapshot import _write_json_rows

            with open_source(store, data) as s:
                res = score_store(m, s, as_of, lang=lang, reasons=reasons, explain=explain)
            n = len(res)
            if fmt == "csv":
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
    model_path: Path = typer.Option(..., "--model", "-m", help="A model file from `negah predict train`."),
    table: Optional[Path] = TableOpt,
    store: Optional[str] = StoreOpt,
    data: Optional[str] = DataOpt,
    as_of: Optional[str] = AsOfOpt,
    horizon: Optional[int] = typer.Option(None, "--horizon", help="Store mode: label horizon (default: the model's)."),
    fmt: str = FormatOpt,
) -> None:
    """ROC AUC, PR AUC, top-10% lift and capture, Brier score and a calibration table on labelled data."""
    from negah.predict.evaluation import format_metrics
    from negah.predict.modelfile import ChurnModel

    m = ChurnModel.load(model_path)
    mode = _mode(table, store, data, as_of)
    if mode == "snapshot":
        from negah.predict.snapshot import evaluate_table, read_table

        idc = m.meta.get("id_column")
        res = evaluate_table(m, read_table(table, text_columns=(idc,) if idc else ()))
    else:
        from negah.cli.common import open_source
        from negah.predict.backtest import evaluate_store

        with open_source(store, data) as s:
            res = evaluate_store(m, s, as_of, horizon)
    if fmt == "json":
        write_out(json.dumps(res, ensure_ascii=False, sort_keys=True))
    elif fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["metric", "value"])
        for k, v in res.items():
            if k != "calibration":
                w.writerow([k, v])
    else:
        write_out(format_metrics(res))


@predict_app.command("survival")
@handle_errors
def survival_cmd(
    table: Optional[Path] = TableOpt,
    duration: Optional[str] = typer.Option(None, "--duration", help="Snapshot mode: the lifetime column (e.g. tenure)."),
    event: Optional[str] = typer.Option(None, "--event", help="Snapshot mode: the churned column (Yes/No, 1/0)."),
    store: Optional[str] = StoreOpt,
    data: Optional[str] = DataOpt,
    as_of: Optional[str] = AsOfOpt,
    horizon: int = typer.Option(90, "--horizon", help="Store mode (orders): churned = no purchase in the last this many days."),
    label: str = typer.Option("auto", "--label", help="Store mode: orders, subscriptions or auto."),
    segment: Optional[str] = typer.Option(None, "--segment", help="Compare Kaplan–Meier curves of this column's groups (with log-rank tests)."),
    covariate: List[str] = typer.Option([], "--covariate", help="Cox model covariate (repeatable)."),
    times: str = typer.Option("30,90,180,365", "--times", help="Days at which to report retention."),
    fmt: str = FormatOpt,
) -> None:
    """Kaplan–Meier retention per segment, log-rank tests, and a Cox model of churn drivers."""
    from negah.predict import survival as sv

    mode = _mode(table, store, data, as_of)
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
            frame = sv.survival_frame(s, as_of, horizon=horizon, label=label, segments=segs)
    result = {"kaplan_meier": sv.kaplan_meier(frame, segment, at)}
    if segment:
        result["logrank"] = sv.logrank(frame, segment)
    if covariate:
        result["cox"] = sv.cox(frame, covariate)
    if fmt == "json":
        write_out(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return
    if fmt == "csv":
        import csv

        rows = result["kaplan_meier"]
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return
    lines = ["Kaplan–Meier retention"]
    km = result["kaplan_meier"]
    keys = [k for k in km[0] if k.startswith("retained_")]
    lines.append(f"{'segment':<20} {'customers':>9} {'churned':>8} {'median':>8} " + " ".join(f"{k[9:]:>8}" for k in keys))
    for r in km:
        med = "-" if r["median_days"] is None else f"{r['median_days']:.0f}"
        lines.append(f"{r['segment'][:20]:<20} {r['customers']:>9} {r['churned']:>8} {med:>8} "
                     + " ".join(f"{r[k]:>8.3f}" for k in keys))
    if "logrank" in result:
        lr = result["logrank"]
        lines += ["", f"log-rank test across {lr['segment']}: chi2 = {lr['statistic']:.3f}, "
                      f"df = {lr['degrees_of_freedom']}, p = {lr['p_value']:.4g}"]
        for p in lr["pairs"]:
            lines.append(f"  {p['a']} vs {p['b']}: chi2 = {p['statistic']:.3f}, p = {p['p_value']:.4g}")
    if "cox" in result:
        lines += ["", "Cox model (hazard ratio > 1: churns sooner)"]
        for r in result["cox"]:
            lines.append(f"  {r['covariate'][:30]:<30} HR {r['hazard_ratio']:.3f} "
                         f"[{r['hr_lower_95']:.3f}, {r['hr_upper_95']:.3f}]  p = {r['p_value']:.4g}")
    write_out("\n".join(lines))
