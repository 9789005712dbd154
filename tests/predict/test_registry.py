"""The model registry: trained models kept in the embedded store, listed, reused, erased."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from negah.cli.main import app
from negah.errors import InputError, StoreError
from negah.predict import registry
from negah.predict.backtest import score_store
from negah.predict.modelfile import ChurnModel
from negah.store import open_store

runner = CliRunner()


@pytest.fixture()
def shop(business_path, tmp_path):
    """A writable copy of the planted-driver business store."""
    p = tmp_path / "shop.duckdb"
    shutil.copy(business_path, p)
    return p


@pytest.fixture(scope="module")
def snapshot_model():
    from test_snapshot import messy_export

    from negah.predict.snapshot import train_table

    return train_table(
        messy_export(400), "Churn", id_column="customerID", model="logistic", folds=2, source="telco.csv"
    )


def test_save_list_load_delete(shop, store_model, snapshot_model):
    with open_store(shop) as s:
        assert registry.list_models(s) == []
        a = registry.save(s, store_model)
        b = registry.save(s, snapshot_model, "telco")
        assert a["name"] == "churn-2024-10-01-h90" and a["mode"] == "store" and a["kind"] == "churn"
        assert a["as_of"] == "2024-10-01" and a["horizon_days"] == 90 and "file" not in a
        assert a["metrics"]["roc_auc"] == store_model.meta["metrics"]["roc_auc"]
        assert a["meta"]["training"]["cutoffs"] == store_model.meta["training"]["cutoffs"]
        assert b["mode"] == "snapshot" and b["horizon_days"] is None and b["size_bytes"] > 1000
        assert [r["model_id"] for r in registry.list_models(s)] == [b["model_id"], a["model_id"]]  # newest first
        # the same model again: still one row, renamed when a name is given
        again = registry.save(s, store_model, "weekly")
        assert again["model_id"] == a["model_id"] and again["name"] == "weekly"
        assert len(registry.list_models(s)) == 2
        # the bytes are the file's: loading gives the same model and scores
        newest_store = registry.load(s)
        assert newest_store.record["model_id"] == a["model_id"]
        assert newest_store.to_bytes() == store_model.to_bytes()
        assert score_store(newest_store, s, "2024-10-01").equals(score_store(store_model, s, "2024-10-01"))
        for ref in (a["model_id"], a["model_id"][:6], "weekly"):
            assert registry.load(s, ref).record["model_id"] == a["model_id"]
        assert isinstance(registry.load(s, "telco"), ChurnModel)
        with pytest.raises(InputError, match=f"no stored model has the id or name 'nope'.*{a['model_id']} \\(weekly"):
            registry.load(s, "nope")
        registry.delete(s, b["model_id"])
        assert [r["model_id"] for r in registry.list_models(s)] == [a["model_id"]]
        with pytest.raises(InputError, match="no stored model has the id"):
            registry.delete(s, b["model_id"])
        registry.delete(s, a["model_id"])
        with pytest.raises(InputError, match="no store-mode churn model is saved.*keeps no trained models"):
            registry.load(s)


def test_read_only_and_company_databases_keep_no_models(business_path, store_model, postgres_url):
    from tests.dbutil import fresh_database

    with open_store(business_path, read_only=True) as s:
        with pytest.raises(StoreError, match="read-only"):
            registry.save(s, store_model)
        with pytest.raises(InputError, match="keeps no trained models"):
            registry.load(s)
    orders = pd.DataFrame({"customer_id": ["a"], "order_date": [pd.Timestamp("2024-01-01").date()], "amount": [1.0]})
    with fresh_database(postgres_url, {"orders": orders}) as url, open_store(url) as pg:
        assert registry.list_models(pg) == []
        with pytest.raises(StoreError, match="postgres database, read in place: negah never writes into it"):
            registry.save(pg, store_model)
        with pytest.raises(StoreError, match="never writes"):
            registry.delete(pg, "abc")


def test_cli_train_save_list_score(shop, tmp_path):
    base = ["--store", str(shop)]
    train = [
        "predict",
        "train",
        *base,
        "--as-of",
        "2024-10-01",
        "--cutoffs",
        "1",
        "--no-backtest",
        "--model",
        "logistic",
        "--folds",
        "2",
        "--format",
        "json",
    ]
    r = runner.invoke(app, [*train, "--save", "logit", "--out", str(tmp_path / "logit.model")])
    assert r.exit_code == 0, r.output
    r2 = runner.invoke(app, [*train, "--window", "60", "--save"])  # --save alone: the default name
    assert r2.exit_code == 0, r2.output
    assert runner.invoke(app, ["predict", "train", *base, "--as-of", "2024-10-01"]).exit_code != 0  # nowhere to go
    listed = runner.invoke(app, ["predict", "models", *base, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    recs = json.loads(listed.stdout)
    assert [x["name"] for x in recs] == ["churn-2024-10-01-h90", "logit"]
    assert recs[1]["meta"]["chosen"]["kind"] == "logistic"
    text = runner.invoke(app, ["predict", "models", *base])
    assert "logit" in text.stdout and recs[0]["model_id"] in text.stdout
    # the same scores whether the model comes from the file, its name or its id
    score = ["predict", "score", *base, "--as-of", "2024-10-01", "--format", "json"]
    by_file = runner.invoke(app, [*score, "--model", str(tmp_path / "logit.model")])
    by_name = runner.invoke(app, [*score, "--model", "logit"])
    by_id = runner.invoke(app, [*score, "--model", recs[1]["model_id"]])
    assert by_file.exit_code == 0 and by_file.stdout == by_name.stdout == by_id.stdout
    newest = runner.invoke(app, [*score])  # no --model: the newest store-mode model
    assert newest.exit_code == 0 and newest.stdout != by_name.stdout
    missing = runner.invoke(app, [*score, "--model", "nope"])
    assert missing.exit_code == 2 and "logit" in missing.output and recs[1]["model_id"] in missing.output
    # no --as-of: the day after the data's last date
    now = runner.invoke(app, ["predict", "score", *base, "--model", "logit", "--format", "json"])
    assert now.exit_code == 0 and "as of 2024-12-31" in now.stderr
    ev = runner.invoke(app, ["predict", "evaluate", *base, "--model", "logit", "--as-of", "2024-06-01"])
    assert ev.exit_code == 0 and "ROC AUC" in ev.stdout
    gone = runner.invoke(app, ["predict", "models", *base, "--delete", recs[0]["model_id"], "--format", "json"])
    assert gone.exit_code == 0 and [x["name"] for x in json.loads(gone.stdout)] == ["logit"]


def test_erase_customer_names_the_models_that_may_carry_them(shop, store_model, snapshot_model):
    from negah.api.privacy import erase_customer
    from negah.store.ingest import import_frame

    with open_store(shop) as s:
        # a customer who first bought after the model's as_of (2024-10-01)
        import_frame(
            s, "orders", pd.DataFrame({"customer_id": ["late-1"], "order_date": ["2024-11-02"], "amount": [12.5]})
        )
        rec = registry.save(s, store_model)
        raw = s.con.con
        old = erase_customer(raw, "c00007", actor="test")
        assert old["models_to_retrain"] == [rec["model_id"]] and "before 2024-10-01" in old["models"][0]["why"]
        late = erase_customer(raw, "late-1", actor="test")
        assert late["rows"] == 1 and late["models_to_retrain"] == [] and "no stored model" in late["note"]
        snap = registry.save(s, snapshot_model)
    r = runner.invoke(app, ["erase-customer", "c00008", "--store", str(shop), "--yes"])
    assert r.exit_code == 0, r.output
    assert "stored models that may still carry this customer" in r.stdout
    assert rec["model_id"] in r.stdout and snap["model_id"] in r.stdout and "table file" in r.stdout
    assert "negah predict models --delete ID" in r.stdout
