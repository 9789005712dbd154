"""Point-in-time features: nothing dated on or after the cut-off may change any feature."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings

import pandas as pd
import pytest

from negah.predict.features import build_features
from negah.predict.labels import build_labels
from negah.store import open_store

CUT = dt.date(2024, 6, 1)


def _mutate_after(path, cut: dt.date) -> None:
    """Delete, change and add rows dated on or after ``cut`` in every table."""
    st = open_store(str(path))
    c = f"DATE '{cut.isoformat()}'"
    sql = [
        # orders: delete half, change the rest, add new ones for existing and new customers
        f"DELETE FROM orders WHERE order_date >= {c} AND hash(order_id) % 2 = 0",
        f"UPDATE orders SET amount = amount * 3 + 1 WHERE order_date >= {c}",
        f"INSERT INTO orders (customer_id, order_date, amount, order_id, quantity, kind) "
        f"SELECT customer_id, {c} + INTERVAL 3 DAY, 999, 'new-' || customer_id, 1, 'purchase' FROM customers",
        "INSERT INTO orders (customer_id, order_date, amount, order_id, quantity, kind) "
        f"VALUES ('brand-new', {c}, 50, 'x1', 1, 'purchase')",
        # complaints: a new reason and more complaints after the cut-off
        f"DELETE FROM complaints WHERE complaint_date >= {c} AND hash(complaint_id) % 2 = 0",
        f"INSERT INTO complaints (complaint_id, customer_id, complaint_date, reason) "
        f"SELECT 'n' || customer_id, customer_id, {c} + INTERVAL 1 DAY, 'rude staff' FROM customers",
        f"UPDATE complaints SET reason = 'price' WHERE complaint_date >= {c}",
        # responses, contacts
        f"UPDATE responses SET score = 10 - score WHERE response_date >= {c}",
        f"DELETE FROM contacts WHERE contacted_at >= {c} AND hash(customer_id) % 3 = 0",
        f"UPDATE contacts SET outcome = 'answered' WHERE contacted_at >= {c}",
        # subscriptions: ends on or after the cut-off were not known at the cut-off
        f"UPDATE subscriptions SET end_date = NULL WHERE end_date >= {c}",
        f"UPDATE subscriptions SET end_date = {c} + INTERVAL 10 DAY WHERE end_date IS NULL AND hash(customer_id) % 2 = 0",
        f"UPDATE subscriptions SET mrr = mrr * 2 WHERE start_date >= {c}",
        # customer attributes dated after the cut-off
        f"UPDATE customers SET loyalty_joined = {c} + INTERVAL 5 DAY WHERE loyalty_joined >= {c}",
        f"UPDATE customers SET loyalty_joined = {c} + INTERVAL 7 DAY WHERE loyalty_joined IS NULL",
    ]
    for q in sql:
        st.con.raw_sql(q)
    st.close()


def test_changing_data_after_the_cutoff_changes_no_feature(business_path, tmp_path):
    copy = tmp_path / "mutated.duckdb"
    shutil.copy(business_path, copy)
    _mutate_after(copy, CUT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_store(str(business_path), read_only=True) as a:
            fa, ra = build_features(a, CUT)
            la = build_labels(a, CUT, 90)
        with open_store(str(copy), read_only=True) as b:
            fb, rb = build_features(b, CUT)
            lb = build_labels(b, CUT, 90)
    assert ra == rb
    assert len(fa) > 500
    pd.testing.assert_frame_equal(fa, fb)
    # the mutation did change the future: the labels see it
    assert not la["churned"].equals(lb["churned"])
    assert (lb["churned"] == 0).all()  # everyone got an order after the cut-off


def test_features_do_not_read_today(business_store):
    early, _ = build_features(business_store, "2023-06-01", btyd=False)
    assert early["recency_days"].max() <= (dt.date(2023, 6, 1) - dt.date(2023, 1, 1)).days


def _tiny_store(tmp_path):
    from negah.store.ingest import import_frame

    st = open_store(str(tmp_path / "tiny.duckdb"))
    import_frame(
        st,
        "orders",
        pd.DataFrame(
            {
                "customer_id": ["a", "a", "a", "b", "b", "c"],
                "order_date": ["2024-01-01", "2024-03-01", "2024-05-20", "2024-02-01", "2024-06-15", "2024-06-01"],
                "amount": [10.0, 20.0, -5.0, 30.0, 40.0, 50.0],
                "order_id": ["1", "2", "2", "3", "4", "5"],
            }
        ),
    )
    import_frame(
        st,
        "subscriptions",
        pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "start_date": ["2024-01-01", "2024-01-01"],
                "end_date": ["2024-05-01", "2024-07-01"],
                "mrr": [10.0, 20.0],
                "plan": ["basic", "pro"],
            }
        ),
    )
    st.invalidate()
    return st


def test_features_and_labels_by_hand(tmp_path):
    st = _tiny_store(tmp_path)
    f, _ = build_features(st, "2024-06-01", btyd=False)
    # c's first order is on the cut-off: not in the population
    assert f["customer_id"].tolist() == ["a", "b"]
    a = f.iloc[0]
    assert a["recency_days"] == (dt.date(2024, 6, 1) - dt.date(2024, 3, 1)).days
    assert a["frequency"] == 2 and a["monetary_total"] == 30.0
    assert a["returns"] == 1 and a["return_rate"] == pytest.approx(5 / 30)
    assert a["subscriptions_active"] == 0 and a["mrr_now"] == 0
    b = f.iloc[1]
    # b's subscription ends on 2024-07-01, after the cut-off: still active then
    assert b["subscriptions_active"] == 1 and b["mrr_now"] == 20.0 and b["plan_now"] == "pro"
    lab = build_labels(st, "2024-06-01", 30)
    assert lab.set_index("customer_id")["churned"].to_dict() == {"a": 1, "b": 0}
    subs = build_labels(st, "2024-06-01", 60, label="subscriptions")
    assert subs.set_index("customer_id")["churned"].to_dict() == {"b": 1}
    st.close()
