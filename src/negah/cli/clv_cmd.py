"""``negah clv fit | predict | check``: the customer-base (BTYD) models from the command line.

Thin shells over :mod:`negah.models`: build the summary (from a store, a data folder or a
summary CSV), fit, print. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from negah.cli.common import (
    DataOption,
    Format,
    FormatCsvJson,
    FormatCsvJsonOption,
    FormatOption,
    FormatTableJson,
    FormatTableJsonOption,
    StoreOption,
    err_console,
    fail,
    handle_errors,
    open_source,
    write_out,
)


class ModelName(str, Enum):
    bgnbd = "bgnbd"
    paretonbd = "paretonbd"
    mbgnbd = "mbgnbd"
    gammagamma = "gammagamma"
    sbg = "sbg"


class TimeUnit(str, Enum):
    day = "day"
    week = "week"


clv_app = typer.Typer(
    help="Customer-base models: BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, sBG (fit, predict, check).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")


SummaryOption = Annotated[
    Optional[str],
    typer.Option("--summary", help="CSV with customer_id, frequency, recency, T and optional monetary_value."),
]
TimeUnitOption = Annotated[
    TimeUnit,
    typer.Option("--time-unit", help="Time unit of recency and T when built from orders: day or week (days / 7)."),
]
CalibrationEndOption = Annotated[
    Optional[str],
    typer.Option(
        "--calibration-end",
        help="Last day of the calibration period, inclusive (YYYY-MM-DD); default: the last purchase day.",
    ),
]
SurvivorsOption = Annotated[
    Optional[str],
    typer.Option(
        "--survivors", help="sBG: customers active at the start of each period, N0,N1,… (e.g. 1000,631,468,382)."
    ),
]


def _load_summary(
    store: Optional[str],
    data: Optional[str],
    summary: Optional[str],
    time_unit: TimeUnit,
    calibration_end: Optional[str],
    observation_end: Optional[str] = None,
    *,
    holdout: bool = False,
):
    from negah.models.summary import read_summary, summary_from_store

    if summary:
        if store or data:
            fail("give one of --summary, --store or --data")
        if calibration_end:
            err_console().print("note: --calibration-end is ignored with --summary (the summary is already cut)")
        return read_summary(summary)
    src = open_source(store, data)
    try:
        obs = observation_end if holdout else (calibration_end or None)
        return summary_from_store(src, calibration_end=calibration_end, observation_end=obs, time_unit=time_unit.value)
    finally:
        src.close()


def _fit(model: ModelName, df: Any):
    from negah.models import get_model

    cls = get_model(model.value)
    if model == ModelName.gammagamma:
        if "monetary_value" not in df.columns:
            fail("gammagamma needs monetary_value (the summary file lacks it)")
        return cls().fit(df["frequency"], df["monetary_value"])
    return cls().fit(df["frequency"], df["recency"], df["T"])


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    return v


def _records_json(df) -> str:
    import math

    rows = []
    for rec in df.to_dict(orient="records"):
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else _round(v)) for k, v in rec.items()})
    return json.dumps(rows, ensure_ascii=False)


def _write_frame(df, fmt: str) -> None:
    """``df`` as JSON records, CSV, or (``table``) aligned text."""
    if fmt == "json":
        write_out(_records_json(df))
    elif fmt == "csv":
        write_out(df.to_csv(index=False, float_format="%.10g", lineterminator="\n"))
    else:
        write_out(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _fit_sbg(survivors: Optional[str]):
    if not survivors:
        fail("--model sbg needs --survivors N0,N1,… (customers active at the start of each period)")
    from negah.models.sbg import ShiftedBetaGeometric

    return ShiftedBetaGeometric().fit(survivors)


@clv_app.command("fit")
@handle_errors
def fit_cmd(
    model: ModelName = typer.Option(..., "--model", "-m", help="bgnbd, paretonbd, mbgnbd, gammagamma or sbg."),
    store: StoreOption = None,
    data: DataOption = None,
    summary: SummaryOption = None,
    survivors: SurvivorsOption = None,
    time_unit: TimeUnitOption = TimeUnit.week,
    calibration_end: CalibrationEndOption = None,
    fmt: FormatTableJsonOption = FormatTableJson.json,
) -> None:
    """Fit a model by maximum likelihood; print params, std_errors, log_likelihood, n_customers.

    params use the papers' names (bgnbd/mbgnbd: r, alpha, a, b; paretonbd: r, alpha, s,
    beta; gammagamma: p, q, gamma; sbg: alpha, beta); log_likelihood is the total.
    """
    if model == ModelName.sbg:
        m = _fit_sbg(survivors)
    else:
        if survivors:
            fail("--survivors is for --model sbg only")
        df = _load_summary(store, data, summary, time_unit, calibration_end)
        m = _fit(model, df)
    out = _round(m.to_dict())
    if fmt == FormatTableJson.json:
        write_out(json.dumps(out, ensure_ascii=False))
        return
    lines = [
        f"model           {out['model']}",
        f"customers       {out['n_customers']}",
        f"log-likelihood  {out['log_likelihood']:.4f}",
        f"{'param':<10}{'estimate':>14}{'std_error':>14}",
    ]

    def num(v: Any, missing: str) -> str:  # None: not finite (a, b at the boundary; no standard error)
        return f"{v:>14.6g}" if v is not None else f"{missing:>14}"

    for k, v in out["params"].items():
        lines.append(f"{k:<10}{num(v, 'inf')}{num(out['std_errors'][k], '-')}")
    if out.get("boundary"):
        lines.append(f"note: {out['boundary']}")
    write_out("\n".join(lines))


@clv_app.command("predict")
@handle_errors
def predict_cmd(
    model: ModelName = typer.Option(
        ModelName.bgnbd, "--model", "-m", help="Purchase model (bgnbd, paretonbd, mbgnbd) or sbg."
    ),
    store: StoreOption = None,
    data: DataOption = None,
    summary: SummaryOption = None,
    survivors: SurvivorsOption = None,
    time_unit: TimeUnitOption = TimeUnit.week,
    calibration_end: CalibrationEndOption = None,
    horizon: int = typer.Option(52, "--horizon", help="Periods (of the time unit) to predict and value."),
    discount_rate: float = typer.Option(0.01, "--discount-rate", help="Discount rate per period of the time unit."),
    margin: float = typer.Option(
        1.0, "--margin", help="Profit margin applied to spend (CLV = margin × spend × discounted purchases)."
    ),
    value: float = typer.Option(1.0, "--value", help="sbg: value per period of a subscriber."),
    fmt: FormatCsvJsonOption = FormatCsvJson.csv,
) -> None:
    """One row per customer: p_alive, expected_purchases, expected_spend, clv over --horizon periods.

    Spend comes from a Gamma-Gamma fit on the same summary when it has monetary_value;
    without it expected_spend and clv are empty. With --model sbg: one row per period
    (survival, retention rate, expected survivors, discounted expected residual lifetime, clv).
    """
    import numpy as np
    import pandas as pd

    if horizon < 1:
        fail(f"--horizon must be >= 1, received {horizon}")
    if model == ModelName.sbg:
        m = _fit_sbg(survivors)
        out = m.project(horizon)
        out["discounted_expected_residual_lifetime"] = m.expected_residual_lifetime(
            out["period"].to_numpy(), discount_rate
        )
        out["clv"] = m.clv(value, discount_rate, renewals=out["period"].to_numpy(), margin=margin)
        err_console().print(
            f"sBG alpha={m.alpha_:.4g} beta={m.beta_:.4g}; discounted expected lifetime of a new "
            f"customer {m.discounted_expected_lifetime(discount_rate):.4f} periods",
            highlight=False,
        )
    else:
        if model == ModelName.gammagamma:
            fail(
                "predict needs a purchase model (bgnbd, paretonbd, mbgnbd); Gamma-Gamma is used for spend automatically"
            )
        df = _load_summary(store, data, summary, time_unit, calibration_end)
        m = _fit(model, df)
        x, r, T = df["frequency"], df["recency"], df["T"]
        out = pd.DataFrame({"customer_id": df["customer_id"].astype(str), "frequency": x, "recency": r, "T": T})
        out["p_alive"] = m.probability_alive(x, r, T)
        out["expected_purchases"] = m.expected_purchases(horizon, x, r, T)
        spend = None
        if "monetary_value" in df.columns and (df["frequency"] > 0).any():
            from negah.models.gammagamma import GammaGamma

            gg = GammaGamma().fit(x, df["monetary_value"])
            spend = gg.expected_spend(x, df["monetary_value"])
            err_console().print(f"spend model: {gg!r}", highlight=False)
        out["expected_spend"] = spend if spend is not None else np.nan
        out["clv"] = (
            m.clv(x, r, T, spend=spend, horizon=horizon, discount_rate=discount_rate, margin=margin)
            if spend is not None
            else np.nan
        )
        err_console().print(f"purchase model: {m!r}", highlight=False)
    _write_frame(out, fmt.value)


@clv_app.command("check")
@handle_errors
def check_cmd(
    model: ModelName = typer.Option(ModelName.bgnbd, "--model", "-m", help="bgnbd, paretonbd or mbgnbd."),
    store: StoreOption = None,
    data: DataOption = None,
    time_unit: TimeUnitOption = TimeUnit.week,
    calibration_end: str = typer.Option(
        ..., "--calibration-end", help="Last day of the calibration period (inclusive)."
    ),
    observation_end: Optional[str] = typer.Option(
        None, "--observation-end", help="Last day of the holdout (default: last purchase day)."
    ),
    max_frequency: int = typer.Option(7, "--max-frequency", help="Pool calibration frequencies from this value up."),
    p_alive: bool = typer.Option(
        False, "--p-alive", help="Print the frequency × recency P(alive) matrix (long form) instead."
    ),
    fmt: FormatOption = Format.table,
) -> None:
    """Calibration vs holdout: expected and actual holdout purchases by calibration frequency."""
    from negah.models.checks import calibration_holdout, p_alive_matrix

    if model not in (ModelName.bgnbd, ModelName.paretonbd, ModelName.mbgnbd):
        fail("check works on the purchase models: bgnbd, paretonbd, mbgnbd")
    df = _load_summary(store, data, None, time_unit, calibration_end, observation_end, holdout=True)
    if "frequency_holdout" not in df.columns:
        fail(
            f"no holdout period: the calibration ends on {df.attrs.get('calibration_end', calibration_end)}, "
            "which is the end of the purchases (or after it); give --calibration-end DATE before the last "
            "purchase day so that the purchases after it can be compared with the model's forecast",
            2,
        )
    m = _fit(model, df)
    if p_alive:
        out = p_alive_matrix(m, T=float(df["T"].max()), max_frequency=max(int(df["frequency"].max()), 1))
    else:
        out = calibration_holdout(m, df, max_frequency=max_frequency)
    err_console().print(f"{m!r}", highlight=False)
    _write_frame(out, fmt.value)
