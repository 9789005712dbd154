"""Store mode: backtest over rolling cut-offs, planted drivers among the reasons, scoring, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from negah.cli.main import app
from negah.predict.backtest import cutoffs, evaluate_store, score_store
from negah.predict.modelfile import ChurnModel


def test_cutoffs_leave_room_for_labels():
    import datetime as dt

    cuts = cutoffs(dt.date(2024, 10, 1), 90, 3, 30)
    assert cuts == [dt.date(2024, 5, 4), dt.date(2024, 6, 3), dt.date(2024, 7, 3)]
    assert all(c + dt.timedelta(days=90) <= dt.date(2024, 10, 1) for c in cuts)


def test_backtest_reports_metrics_on_a_later_cutoff(store_model):
    m = store_model.meta
    bt = m["backtest"]
    assert max(bt["train_cutoffs"]) < bt["test_cutoff"] == "2024-07-03"
    assert m["metrics"]["roc_auc"] > 0.75
    for k in ("pr_auc", "top10_lift", "top10_capture", "brier", "calibration"):
        assert k in m["metrics"]
    assert len(m["metrics"]["calibration"]) == 10


@pytest.fixture(scope="module")
def scores(store_model, business_path):
    from negah.store import open_store

    with open_store(str(business_path), read_only=True) as st:
        return score_store(store_model, st, "2024-10-01")


def test_planted_driver_is_among_the_top_reasons(store_model, scores):
    assert list(scores.columns) == ["customer_id", "churn_probability", "reason_1", "reason_2", "reason_3"]
    assert scores["customer_id"].is_unique
    reasons = scores[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()
    late = np.char.find(reasons.astype(str), "about late delivery") >= 0
    other = np.char.find(reasons.astype(str), "about price") >= 0
    # the planted driver is named often, an inert reason much less
    assert late.sum() > 20
    assert late.sum() > 3 * other.sum()
    assert any(r.startswith("no purchase for ") for r in reasons)
    top = [n for n, _ in store_model.classifier.importance()[:10]]
    assert "complaints_reason_late_delivery" in top


def test_persian_reasons(store_model, business_store):
    from negah.predict.backtest import store_features_for

    f = store_features_for(store_model, business_store, "2024-06-01")
    fa = store_model.score(f, lang="fa", id_values=f["customer_id"].to_numpy())
    text = " ".join(fa["reason_1"].tolist())
    assert "روز بدون خرید" in text
    assert not any(ch.isdigit() and ch.isascii() for ch in text)


def test_evaluate_and_model_file_round_trip(store_model, business_store, scores, tmp_path):
    path = store_model.save(tmp_path / "m.negah")
    again = ChurnModel.load(path)
    b = score_store(again, business_store, "2024-10-01")
    assert scores.equals(b)
    res = evaluate_store(again, business_store, "2024-06-01")
    assert res["roc_auc"] > 0.75
    with pytest.raises(Exception, match="needs data up to"):
        evaluate_store(again, business_store, "2024-12-01")


def test_cli_store_mode(business_path, store_model, scores, tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "predict",
            "train",
            "--store",
            str(business_path),
            "--as-of",
            "2024-10-01",
            "--cutoffs",
            "1",
            "--no-backtest",
            "--model",
            "logistic",
            "--folds",
            "2",
            "--out",
            str(tmp_path / "logit.model"),
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["model"] == "logistic" and summary["training"]["cutoffs"] == ["2024-07-03"]
    model = store_model.save(tmp_path / "churn.model")
    r1 = runner.invoke(
        app,
        [
            "predict",
            "score",
            "--model",
            str(model),
            "--store",
            str(business_path),
            "--as-of",
            "2024-10-01",
            "--format",
            "json",
        ],
    )
    assert r1.exit_code == 0, r1.output
    rows = json.loads(r1.stdout)
    assert set(rows[0]) == {"customer_id", "churn_probability", "reason_1", "reason_2", "reason_3"}
    assert [r["churn_probability"] for r in rows] == scores["churn_probability"].tolist()
    r3 = runner.invoke(
        app, ["predict", "evaluate", "--model", str(model), "--store", str(business_path), "--as-of", "2024-06-01"]
    )
    assert r3.exit_code == 0 and "ROC AUC" in r3.stdout
    r4 = runner.invoke(
        app,
        [
            "predict",
            "survival",
            "--store",
            str(business_path),
            "--as-of",
            "2024-10-01",
            "--segment",
            "loyalty_member",
            "--covariate",
            "country",
            "--format",
            "json",
        ],
    )
    assert r4.exit_code == 0, r4.output
    sv = json.loads(r4.stdout)
    assert {"kaplan_meier", "logrank", "cox"} <= set(sv)
