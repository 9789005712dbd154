"""The summary builder: exact reproduction of the Fader-Hardie CDNOW summary (BTYD cdnowSummary$cbs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from negah.errors import InputError
from negah.models.summary import summary_from_orders, summary_from_store


def _compare(s: pd.DataFrame, cbs: pd.DataFrame) -> None:
    s = s.set_index("customer_id").loc[cbs["sample_id"]]
    assert len(s) == 2357
    np.testing.assert_array_equal(s["frequency"].to_numpy(), cbs["x"].to_numpy())
    # the reference file has 6 decimals
    np.testing.assert_allclose(s["recency"].to_numpy(), cbs["t_x"].to_numpy(), atol=6e-7)
    np.testing.assert_allclose(s["T"].to_numpy(), cbs["T"].to_numpy(), atol=6e-7)
    np.testing.assert_allclose(s["monetary_value"].to_numpy(), cbs["zbar"].to_numpy(), atol=6e-7)
    np.testing.assert_array_equal(s["frequency_holdout"].to_numpy(), cbs["x_star"].to_numpy())
    assert (s["duration_holdout"] == 39.0).all()


def test_cdnow_summary_from_dataframe_matches_btyd_cbs(cdnow_orders, cdnow_cbs):
    """BTYD 2.4.3 cdnowSummary$cbs (Fader & Hardie CDNOW sample): calibration through
    1997-09-30, weeks, same-day purchases merged; holdout to 1998-06-30."""
    s = summary_from_orders(cdnow_orders, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="week")
    _compare(s, cdnow_cbs)
    assert int(s["frequency"].sum()) == 2457 and int(s["frequency_holdout"].sum()) == 1882


def test_cdnow_summary_from_store_matches_dataframe(tmp_path, cdnow_orders, cdnow_cbs):
    """The same summary from a DuckDB store (roll-up in the engine through Ibis)."""
    from negah.store import open_store
    from negah.store.ingest import import_frame

    with open_store(tmp_path / "s.duckdb") as st:
        import_frame(st, "orders", cdnow_orders)
        s = summary_from_store(st, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="week")
    _compare(s, cdnow_cbs)


def test_returns_are_left_out_and_same_day_lines_merge():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a", "b"],
            "order_date": ["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-10", "2024-01-15", "2024-01-05"],
            "amount": [10.0, 5.0, 20.0, -20.0, 30.0, 7.0],
            "kind": ["purchase", "purchase", "purchase", "return", "return", None],
        }
    )
    s = summary_from_orders(orders, calibration_end="2024-01-31").set_index("customer_id")
    # a: purchase days 01-01 (15) and 01-08 (20); the 01-10 and 01-15 rows are returns
    assert s.loc["a", "frequency"] == 1 and s.loc["a", "recency"] == 7 and s.loc["a", "T"] == 30
    assert s.loc["a", "monetary_value"] == 20.0
    assert s.loc["b", "frequency"] == 0 and s.loc["b", "monetary_value"] == 0 and s.loc["b", "T"] == 26
    assert "frequency_holdout" not in s.columns


def test_negative_quantity_is_a_return_and_late_customers_are_left_out():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "order_date": ["2024-01-01", "2024-01-03", "2024-02-02"],
            "amount": [5.0, 5.0, 9.0],
            "quantity": [1, -1, 1],
        }
    )
    s = summary_from_orders(orders, calibration_end="2024-01-31", observation_end="2024-02-29")
    assert s["customer_id"].tolist() == ["1"]
    assert s["frequency"].tolist() == [0.0] and s["duration_holdout"].tolist() == [29.0]


def test_bad_input_messages():
    with pytest.raises(InputError, match="missing column 'amount'"):
        summary_from_orders(pd.DataFrame({"customer_id": [1], "order_date": ["2024-01-01"]}))
    with pytest.raises(InputError, match="time_unit 'month'"):
        summary_from_orders(
            pd.DataFrame({"customer_id": [1], "order_date": ["2024-01-01"], "amount": [1]}), time_unit="month"
        )
    with pytest.raises(InputError, match="calibration_end: '2024-13-01' is not a date"):
        summary_from_orders(
            pd.DataFrame({"customer_id": [1], "order_date": ["2024-01-01"], "amount": [1]}),
            calibration_end="2024-13-01",
        )
