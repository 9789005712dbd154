"""Fixtures for the customer-base model tests: the CDNOW and sBG data from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _need(name: str) -> Path:
    p = SHARED / name
    if not p.exists():
        pytest.skip(f"{p} is not available (../shared/data)")
    return p


@pytest.fixture(scope="session")
def cdnow_cbs() -> pd.DataFrame:
    """Exact CDNOW calibration/holdout summary (BTYD cdnowSummary$cbs), weeks."""
    return pd.read_csv(_need("cdnow_sample_cbs_calibration_holdout.csv"), dtype={"sample_id": str})


@pytest.fixture(scope="session")
def cdnow_rfm() -> pd.DataFrame:
    """The Fader-Hardie CDNOW summary rounded to 2 decimals (lifetimes' file)."""
    df = pd.read_csv(_need("cdnow_sample_rfm_summary_2dp.csv"))
    return df.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="session")
def cdnow_orders() -> pd.DataFrame:
    """The CDNOW 1/10 sample log as canonical orders (customer_id = sample_id)."""
    tr = pd.read_csv(_need("cdnow_sample_transactions.csv"))
    return tr.rename(
        columns={
            "sample_id": "customer_id",
            "date": "order_date",
            "dollar_value": "amount",
            "number_of_cds": "quantity",
        }
    )[["customer_id", "order_date", "amount", "quantity"]]


@pytest.fixture(scope="session")
def sbg_series() -> pd.DataFrame:
    return pd.read_csv(_need("sbg_retention_regular_highend.csv"))
