"""Snapshot mode on a messy CRM export: blanks, numbers stored as text, Yes/No labels."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from negah.cli.main import app
from negah.errors import InputError, ModelError
from negah.predict.modelfile import ChurnModel
from negah.predict.prepare import Preparer, parse_labels
from negah.predict.snapshot import evaluate_table, read_table, score_file, score_table, train_table


def messy_export(n: int = 1200, seed: int = 7) -> pd.DataFrame:
    """A Telco-like export: the way CRM tables arrive (text numbers, blanks, Yes/No, ids with zeros)."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, n)
    charges = rng.normal(70, 25, n).clip(15, 130).round(2)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    paperless = rng.choice(["Yes", "No"], n)
    logit = -0.5 - 0.05 * tenure + 0.02 * (charges - 70) + np.where(contract == "Month-to-month", 1.8, 0.0)
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    total = (tenure * charges).round(2)
    df = pd.DataFrame(
        {
            "customerID": [f"{i:05d}" for i in range(n)],
            "tenure": tenure.astype(str),
            "MonthlyCharges": [f"{v:,.2f}" for v in charges],
            "TotalCharges": [f"{v:,.2f}" for v in total],
            "Contract": contract,
            "PaperlessBilling": paperless,
            "Email": [f"user{i}@example.com" for i in range(n)],
            "Churn": np.where(churn, "Yes", "No"),
        }
    )
    df.loc[::37, "TotalCharges"] = " "  # blank cells, as in the Telco export
    df.loc[::53, "Contract"] = ""
    df.loc[5, "tenure"] = "۱۲"  # Persian digits
    df.loc[::41, "MonthlyCharges"] = "n/a"
    return df


@pytest.fixture(scope="module")
def export_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "telco.csv"
    messy_export().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def snapshot_model(export_csv):
    df = read_table(export_csv, text_columns=("customerID",))
    return train_table(df, "Churn", id_column="customerID", max_rounds=40, folds=2)


def test_preparer_reads_messy_columns():
    df = messy_export(200)
    p = Preparer().fit(df, exclude=["customerID", "Churn"])
    kinds = {c.name: c.kind for c in p.columns_}
    assert kinds == {
        "tenure": "numeric",
        "MonthlyCharges": "numeric",
        "TotalCharges": "numeric",
        "Contract": "categorical",
        "PaperlessBilling": "bool",
        "Email": "dropped",
    }
    X = p.transform(df)
    assert X.dtype == np.float64
    j = p.feature_names.index("tenure")
    assert X[5, j] == 12.0
    assert np.isnan(X[0, p.feature_names.index("TotalCharges")])


@pytest.mark.parametrize("dtype", ["object", "string", "str"])
def test_string_dtypes_never_reach_lightgbm(dtype):
    df = messy_export(300)
    try:
        df = df.astype(dtype)
    except TypeError:
        pytest.skip(f"pandas {pd.__version__} has no {dtype!r} dtype")
    m = train_table(df, "Churn", id_column="customerID", model="lightgbm", max_rounds=10, folds=2)
    out = score_table(m, df.drop(columns=["Churn"]).head(20))
    assert out["churn_probability"].between(0, 1).all()
    assert out["customerID"].iloc[0] == "00000"


def test_labels_in_many_spellings():
    assert parse_labels(pd.Series(["Yes", "no", " YES "]), "c").tolist() == [1, 0, 1]
    assert parse_labels(pd.Series([1, 0, 1]), "c").tolist() == [1, 0, 1]
    assert parse_labels(pd.Series(["true", "False"]), "c").tolist() == [1, 0]
    assert parse_labels(pd.Series(["بله", "خیر"]), "c").tolist() == [1, 0]
    assert parse_labels(pd.Series(["gone", "here"]), "c", positive="gone").tolist() == [1, 0]
    with pytest.raises(InputError, match=r"label column 'c': cannot tell churned from kept in values gone, here"):
        parse_labels(pd.Series(["gone", "here"]), "c")
    with pytest.raises(InputError, match=r"label column 'c' has 1 blank cell\(s\) \(data rows \[2\]\)"):
        parse_labels(pd.Series(["Yes", ""]), "c")


def test_train_score_evaluate(snapshot_model, export_csv):
    m = snapshot_model
    assert m.meta["id_column"] == "customerID"
    assert m.classifier.cv_auc_ > 0.75
    df = read_table(export_csv, text_columns=("customerID",))
    res = evaluate_table(m, df)
    assert res["roc_auc"] > 0.75 and len(res["calibration"]) == 10
    out = score_table(m, df.drop(columns=["Churn"]))
    assert list(out.columns) == ["customerID", "churn_probability", "reason_1", "reason_2", "reason_3"]
    assert out["customerID"].iloc[0] == "00000"
    # month-to-month customers with short tenure: the model says why
    mtm = out[df["Contract"] == "Month-to-month"]
    assert (mtm["reason_1"] + mtm["reason_2"] + mtm["reason_3"]).str.contains("Contract is Month-to-month").mean() > 0.5


def test_calibration_preserves_ranking(snapshot_model, export_csv):
    df = read_table(export_csv)
    X = snapshot_model.matrix(df)
    raw = snapshot_model.classifier.raw_score(X)
    p = snapshot_model.classifier.calibrate(raw)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(p[order]) >= 0)


def test_score_file_streams_identically(snapshot_model, export_csv):
    """Chunk size and the number of scoring processes change nothing in the output."""
    a, b, c = io.StringIO(), io.StringIO(), io.StringIO()
    n = score_file(snapshot_model, export_csv, a, fmt="csv", chunk_rows=250, workers=1)
    score_file(snapshot_model, export_csv, b, fmt="csv", chunk_rows=5000)
    assert n == 1200 and a.getvalue() == b.getvalue()
    assert score_file(snapshot_model, export_csv, c, fmt="csv", chunk_rows=250, workers=2) == 1200
    assert c.getvalue() == a.getvalue()  # 5 chunks over 2 spawned processes, written in order
    j, k = io.StringIO(), io.StringIO()
    score_file(snapshot_model, export_csv, j, fmt="json", chunk_rows=500, workers=1)
    score_file(snapshot_model, export_csv, k, fmt="json", chunk_rows=500, workers=2)
    rows = json.loads(j.getvalue())
    assert len(rows) == 1200 and rows[0]["customerID"] == "00000" and k.getvalue() == j.getvalue()


def test_model_file_versions(snapshot_model, tmp_path):
    path = snapshot_model.save(tmp_path / "m.model")
    again = snapshot_model.save(tmp_path / "m2.model")
    assert path.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("negah-model.json"))
        booster = z.read("booster.txt") if "booster.txt" in z.namelist() else None
    assert {"negah", "lightgbm", "scikit-learn", "pandas"} <= set(doc["versions"])
    assert doc["meta"]["training"]["rows"] == 1200
    doc["format_version"] = 99
    bad = tmp_path / "future.model"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("negah-model.json", json.dumps(doc))
        if booster:
            z.writestr("booster.txt", booster)
    with pytest.raises(ModelError, match="has format version 99 .*upgrade negah"):
        ChurnModel.load(bad)
    doc["format_version"] = 1  # a file of the first format (no date columns) still loads
    old = tmp_path / "v1.model"
    with zipfile.ZipFile(old, "w") as z:
        z.writestr("negah-model.json", json.dumps(doc))
        if booster:
            z.writestr("booster.txt", booster)
    assert ChurnModel.load(old).predict_proba(messy_export(20)).shape == (20,)
    junk = tmp_path / "junk.model"
    junk.write_text("hello")
    with pytest.raises(ModelError, match="is not a negah model file"):
        ChurnModel.load(junk)


def test_cli_snapshot_mode(export_csv, tmp_path):
    runner = CliRunner()
    model = tmp_path / "telco.model"
    r = runner.invoke(
        app,
        [
            "predict",
            "train",
            "--table",
            str(export_csv),
            "--target",
            "Churn",
            "--out",
            str(model),
            "--max-rounds",
            "20",
            "--model",
            "logistic",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "cross-validation" in r.stdout
    unlabeled = tmp_path / "new.csv"
    pd.read_csv(export_csv, dtype=str).drop(columns=["Churn"]).head(50).to_csv(unlabeled, index=False)
    out = tmp_path / "scores.csv"
    r = runner.invoke(
        app,
        ["predict", "score", "--model", str(model), "--table", str(unlabeled), "--format", "csv", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    scores = pd.read_csv(out, dtype={"customerID": str}, keep_default_na=False)
    assert list(scores.columns) == ["customerID", "churn_probability", "reason_1", "reason_2", "reason_3"]
    assert scores["customerID"].iloc[3] == "00003" and len(scores) == 50
    r = runner.invoke(
        app,
        ["predict", "score", "--model", str(model), "--table", str(unlabeled), "--format", "csv", "--explain", "path"],
    )
    assert r.exit_code == 0, r.output
    fast = pd.read_csv(io.StringIO(r.stdout), dtype={"customerID": str}, keep_default_na=False)
    assert fast["churn_probability"].equals(scores["churn_probability"])
    r = runner.invoke(
        app, ["predict", "evaluate", "--model", str(model), "--table", str(export_csv), "--format", "json"]
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["roc_auc"] > 0.7
    r = runner.invoke(app, ["predict", "score", "--model", str(model), "--table", str(tmp_path / "nope.csv")])
    assert r.exit_code == 2 and "does not exist" in r.output
    r = runner.invoke(app, ["predict", "train", "--table", str(export_csv), "--target", "Nope", "--out", str(model)])
    assert r.exit_code == 2 and "label column 'Nope' is not in the table" in r.output


def test_path_contributions_sum_to_the_score_and_agree_with_shap(export_csv):
    df = read_table(export_csv, text_columns=("customerID",))
    m = train_table(df, "Churn", id_column="customerID", model="lightgbm", max_rounds=30, folds=2)
    X = m.matrix(df)
    raw = m.classifier.raw_score(X)
    path, path_raw = m.classifier.contributions(X, "path")
    shap, _ = m.classifier.contributions(X, "shap")
    assert np.allclose(path_raw, raw, atol=1e-9)
    # both split the same score; only the baselines (root values, expected value) differ
    assert np.ptp(path.sum(axis=1) - shap.sum(axis=1)) < 1e-9
    # the same strongest driver for most customers
    top_path, top_shap = path.argmax(axis=1), shap.argmax(axis=1)
    assert (top_path == top_shap).mean() > 0.7
    a = score_table(m, df.head(200), explain="path")
    b = score_table(m, df.head(200))
    assert a["churn_probability"].equals(b["churn_probability"])
    assert (a["reason_1"] == b["reason_1"]).mean() > 0.6
    with pytest.raises(InputError, match="contribution method must be one of shap, path"):
        score_table(m, df.head(5), explain="exact")
