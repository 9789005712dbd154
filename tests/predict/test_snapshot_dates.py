"""Snapshot mode keeps date columns: days to a reference date, phrased in words."""

from __future__ import annotations

import datetime as dt
import json

import jdatetime
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from negah.cli.main import app
from negah.errors import InputError
from negah.predict.modelfile import ChurnModel
from negah.predict.prepare import Preparer
from negah.predict.reasons import date_label
from negah.predict.snapshot import score_table, train_table
from test_snapshot import messy_export

EXPORT_DAY = dt.date(2024, 10, 1)
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _as_written(d: dt.date, i: int) -> str:
    """The formats CRM exports use, mixed in one column."""
    k = i % 5
    if k == 0:
        return d.isoformat()
    if k == 1:
        return d.strftime("%d/%m/%Y")
    if k == 2:
        j = jdatetime.date.fromgregorian(date=d)
        return f"{j.year}/{j.month:02d}/{j.day:02d}".translate(FA)  # Jalali, Persian digits
    if k == 3:
        return d.isoformat() + " 14:05:00"
    return f" {d.isoformat()} "


def dated_export(n: int = 1500, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """messy_export plus dates: churn driven by the days since the last order."""
    rng = np.random.default_rng(seed)
    df = messy_export(n)
    ago = rng.integers(0, 300, n)
    signup = ago + rng.integers(0, 900, n)
    ahead = rng.integers(-60, 400, n)
    df["Churn"] = np.where(rng.random(n) < 1 / (1 + np.exp(-(-2.5 + ago / 60))), "Yes", "No")
    df["last_order_date"] = [_as_written(EXPORT_DAY - dt.timedelta(days=int(v)), i) for i, v in enumerate(ago)]
    df["SignupDate"] = [(EXPORT_DAY - dt.timedelta(days=int(v))).strftime("%d/%m/%Y") for v in signup]
    df["contract_end"] = [(EXPORT_DAY + dt.timedelta(days=int(v))).isoformat() for v in ahead]
    df.loc[::29, "last_order_date"] = ""
    df.loc[::31, "contract_end"] = "n/a"
    df.loc[7, "last_order_date"] = "soon"  # not a date: missing, like any unreadable cell
    return df, ago


@pytest.fixture(scope="module")
def dated():
    return dated_export()


@pytest.fixture(scope="module")
def dated_model(dated):
    df, _ = dated
    return train_table(
        df, "Churn", id_column="customerID", model="lightgbm", max_rounds=60, folds=2, as_of=EXPORT_DAY.isoformat()
    )


def test_date_columns_become_days_before_the_reference(dated, dated_model):
    df, ago = dated
    m = dated_model
    kinds = {c.name: c.kind for c in m.preparer.columns_}
    assert kinds["last_order_date"] == kinds["SignupDate"] == kinds["contract_end"] == "date"
    assert kinds["Contract"] == "categorical" and m.preparer.as_of == "2024-10-01"
    X = m.matrix(df)
    j = m.feature_names.index("last_order_date")
    blank = np.zeros(len(df), bool)
    blank[::29] = True
    blank[7] = True
    assert np.isnan(X[blank, j]).all()
    assert np.array_equal(X[~blank, j], ago[~blank].astype(float))  # ISO, d/m/Y, Jalali, with time
    end = X[:, m.feature_names.index("contract_end")]
    assert np.nanmax(end) <= 60 and np.nanmin(end) < -300  # ahead of the reference: negative
    # scoring on another day reads every date against that day
    later = m.matrix(df, as_of="2024-10-31")
    assert np.allclose(later[~blank, j], X[~blank, j] + 30)


def test_default_reference_is_the_latest_date_in_the_table(dated):
    df, _ = dated
    p = Preparer().fit(df[["last_order_date", "SignupDate"]])
    assert p.as_of == "2024-10-01"
    with_future = Preparer().fit(df[["last_order_date", "contract_end"]])
    latest = pd.to_datetime(df["contract_end"], format="%Y-%m-%d", errors="coerce").max().date()
    assert with_future.as_of == latest.isoformat()
    mdy = Preparer(date_order="mdy").fit(pd.DataFrame({"d": ["01/31/2024", "02/01/2024"], "x": [1, 2]}))
    assert mdy.as_of == "2024-02-01" and [c.kind for c in mdy.columns_] == ["date", "numeric"]
    with pytest.raises(InputError, match="date order must be dmy or mdy"):
        Preparer(date_order="ymd")


def test_reasons_say_how_long_ago_in_words(dated, dated_model):
    df, ago = dated
    out = score_table(dated_model, df)
    reasons = pd.Series(out[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel())
    said = reasons[reasons.str.startswith("last order ")]
    assert len(said) > 200
    assert said.str.fullmatch(r"last order (\d+ days? ago|today)").all()
    row = int(np.flatnonzero(out["reason_1"].str.startswith("last order ").to_numpy())[0])
    assert out["reason_1"].iloc[row] == f"last order {ago[row]} days ago"
    ends = reasons[reasons.str.startswith("contract end ")]
    assert ends.str.fullmatch(r"contract end (in \d+ days?|\d+ days? ago|today)").all()
    assert ends.str.startswith("contract end in ").any()  # a date ahead of the reference
    fa = score_table(dated_model, df.iloc[[row]], lang="fa")
    assert fa["reason_1"].iloc[0] == f"last order: {ago[row]} روز پیش".translate(FA)
    assert date_label("LastOrderDate") == "last order" and date_label("contract_end") == "contract end"


def test_reference_date_survives_the_model_file(dated, dated_model, tmp_path):
    df, _ = dated
    again = ChurnModel.load(dated_model.save(tmp_path / "d.model"))
    assert again.preparer.as_of == "2024-10-01" and again.meta["training"]["as_of"] == "2024-10-01"
    assert again.meta["training"]["date_columns"] == ["last_order_date", "SignupDate", "contract_end"]
    assert score_table(again, df.head(300)).equals(score_table(dated_model, df.head(300)))


def test_cli_dates_as_of(dated, tmp_path):
    df, _ = dated
    table = tmp_path / "dated.csv"
    df.to_csv(table, index=False)
    model = tmp_path / "dated.model"
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "predict",
            "train",
            "--table",
            str(table),
            "--target",
            "Churn",
            "--out",
            str(model),
            "--model",
            "logistic",
            "--folds",
            "2",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "date columns last_order_date, SignupDate, contract_end: days before 2025-11-04" in r.stderr
    r = runner.invoke(
        app,
        [
            "predict",
            "train",
            "--table",
            str(table),
            "--target",
            "Churn",
            "--out",
            str(model),
            "--model",
            "logistic",
            "--folds",
            "2",
            "--as-of",
            "2024-10-01",
            "--date-order",
            "dmy",
        ],
    )
    assert r.exit_code == 0 and "days before 2024-10-01 (given)" in r.stderr
    score = ["predict", "score", "--model", str(model), "--table", str(table), "--format", "json"]
    same = runner.invoke(app, score)
    own = runner.invoke(app, [*score, "--as-of", "2024-10-01"])
    later = runner.invoke(app, [*score, "--as-of", "2025-01-01"])
    assert same.exit_code == own.exit_code == later.exit_code == 0, later.output
    assert same.stdout == own.stdout != later.stdout
    assert json.loads(later.stdout)[0]["customerID"] == "00000"
    ev = runner.invoke(app, ["predict", "evaluate", "--model", str(model), "--table", str(table), "--format", "json"])
    assert ev.exit_code == 0 and json.loads(ev.stdout)["roc_auc"] > 0.7
    bad = runner.invoke(app, [*score, "--as-of", "01/10/2024"])
    assert bad.exit_code == 2 and "as-of date must be a date YYYY-MM-DD" in bad.output
