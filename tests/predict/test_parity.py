"""Point-in-time features and labels on PostgreSQL, MariaDB and local Spark equal DuckDB's.

One small fixed business (the planted-driver generator, made messier: orders without an
order id, kind or quantity, reasons spelled with other case and trailing spaces, contact
outcomes missing or capitalised, subscriptions without a plan or MRR, two NPS answers on one
day) is loaded with canonical column types into a per-run database or Spark temporary views
(the helpers of the metric parity tests), and the feature table (BTYD columns included),
the complaint-reason vocabulary and the labels must equal DuckDB's: floats to 1e-9 relative.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from business import make_business
from negah.predict.features import build_features
from negah.predict.labels import build_labels
from tests.metrics.conftest import make_store, to_arrow

CUT = dt.date(2024, 3, 1)
HORIZON = 90


def _data() -> dict[str, pd.DataFrame]:
    d = make_business(n=80, seed=1)
    o = d["orders"]
    o.loc[::7, "order_id"] = None
    o.loc[3::11, "kind"] = None
    o.loc[5::13, "quantity"] = None
    c = d["complaints"]
    c.loc[::5, "reason"] = "Late delivery"  # one reason, spelled three ways
    c.loc[1::9, "reason"] = "price "
    k = d["contacts"]
    k.loc[::4, "outcome"] = None
    k.loc[1::6, "outcome"] = "Answered"
    k["contacted_at"] = k["contacted_at"] + pd.to_timedelta(np.arange(len(k)) % 3 * 7, unit="h")
    s = d["subscriptions"]
    s.loc[::3, "plan"] = None
    s.loc[1::4, "mrr"] = None
    r = d["responses"]
    again = r.iloc[::10].copy()
    again["score"] = (again["score"] + 3) % 11  # a second answer on the same day
    d["responses"] = pd.concat([r, again], ignore_index=True)
    cu = d["customers"]
    cu["plan"] = np.where(np.arange(len(cu)) % 4 == 0, None, "gold")
    return d


DATA = _data()


def results(store) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats, reasons = build_features(store, CUT, horizon=HORIZON)
        subs, _ = build_features(store, CUT, label="subscriptions", reasons=reasons, btyd=False)
    return {
        "features": feats,
        "reasons": reasons,
        "subscription_features": subs,
        "labels": build_labels(store, CUT, HORIZON),
        "subscription_labels": build_labels(store, CUT, HORIZON, "subscriptions"),
    }


@pytest.fixture(scope="module")
def reference() -> dict:
    s = make_store(**DATA)
    try:
        ref = results(s)
    finally:
        s.close()
    f = ref["features"]
    # the comparison covers every kind of feature, the BTYD ones included
    assert len(f) > 40 and f["p_alive"].notna().all() and f["plan_now"].notna().any()
    assert ref["reasons"][:2] == ["late delivery", "price"] and f["complaints_reason_late_delivery"].sum() > 0
    assert f["contact_response_rate"].between(0, 1).any() and len(ref["subscription_features"]) > 5
    return ref


def assert_same(got: dict, want: dict) -> None:
    assert got["reasons"] == want["reasons"]
    for name in ("features", "subscription_features"):
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=False, rtol=1e-9, atol=0, obj=name)
    for name in ("labels", "subscription_labels"):
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def test_reference_reads_messy_spellings_as_one_reason(reference):
    by_hand = DATA["complaints"]
    by_hand = by_hand[by_hand["complaint_date"] < CUT]
    n_late = int((by_hand["reason"].str.strip().str.lower() == "late delivery").sum())
    assert reference["features"]["complaints_reason_late_delivery"].sum() == n_late


def _on_server(url: str, kind: str) -> dict:
    from negah.store import open_store
    from tests.dbutil import fresh_database

    frames = {k: to_arrow(k, v) for k, v in DATA.items()}
    with fresh_database(url, frames) as db, open_store(db) as s:
        assert s.kind == kind
        return results(s)


@pytest.mark.postgres
def test_postgres_features_match_duckdb(reference, postgres_url):
    assert_same(_on_server(postgres_url, "postgres"), reference)


@pytest.mark.mysql
def test_mariadb_features_match_duckdb(reference, mysql_url):
    assert_same(_on_server(mysql_url, "mysql"), reference)


@pytest.mark.spark
def test_spark_features_match_duckdb(reference, spark_session):
    from negah.store.spark import open_spark

    s = open_spark(DATA, session=spark_session)
    assert s.kind == "spark"
    assert_same(results(s), reference)
