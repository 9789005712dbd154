from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from business import load_store, make_business  # noqa: E402


@pytest.fixture(scope="session")
def business_path(tmp_path_factory) -> Path:
    """A DuckDB store with the small planted-driver business (built once per session)."""
    path = tmp_path_factory.mktemp("predict") / "shop.duckdb"
    st = load_store(path, make_business(n=900, seed=3))
    st.close()
    return path


@pytest.fixture()
def business_store(business_path):
    from negah.store import open_store

    st = open_store(str(business_path), read_only=True)
    yield st
    st.close()


@pytest.fixture(scope="session")
def store_model(business_path):
    """A store-mode model trained once (LightGBM, few rounds, two cut-offs)."""
    from negah.predict.backtest import train_store
    from negah.store import open_store

    with open_store(str(business_path), read_only=True) as st:
        return train_store(st, "2024-10-01", horizon=90, n_cutoffs=2, step=45, model="lightgbm", max_rounds=80)
