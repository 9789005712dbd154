"""At-risk (BTYD), segments and reasons read the store through Ibis: PostgreSQL and MariaDB give
the results DuckDB gives, on one small fixed data set (floats to 1e-9)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.dbutil import fresh_database
from tests.metrics.conftest import make_store, to_arrow
from tests.metrics.test_parity import assert_same


def _data() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(19)
    d0 = dt.date(2023, 1, 1)
    rows = []
    for k in range(150):
        cid = f"{k:03d}" if k % 7 else str(k)  # '007' and '7' are different customers
        t = int(rng.integers(0, 300))
        rate = rng.gamma(0.8, 1 / 25)  # BG/NBD-like: heterogeneous rates and dropouts
        drop = rng.beta(1.0, 4.0)
        while t < 720:
            n_lines = 1 + int(rng.poisson(0.5))
            for _ in range(n_lines):
                amt = round(float(rng.gamma(2.0, 20.0)), 2)
                rows.append((cid, d0 + dt.timedelta(days=t), f"{amt:.2f}", "purchase", 1, f"p{rng.integers(0, 4)}"))
                if rng.random() < 0.06:
                    rows.append((cid, d0 + dt.timedelta(days=t + 5), f"{-amt:.2f}", "return", -1, "p0"))
            if rng.random() < drop:
                break
            t += 1 + int(rng.exponential(1 / rate))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "kind", "quantity", "product_id"])
    ids = sorted(set(orders["customer_id"]))
    m = 160
    complaints = pd.DataFrame(
        {
            "customer_id": [ids[i] for i in rng.integers(0, len(ids), m)],
            "complaint_date": [d0 + dt.timedelta(days=int(x)) for x in rng.integers(0, 720, m)],
            "reason": [["late delivery", "damaged", "price", "  Damaged "][i] for i in rng.integers(0, 4, m)],
            "product_id": [[None, "p1", "p2", "p3"][i] for i in rng.integers(0, 4, m)],
        }
    )
    # a planted spike: damaged × p2 in 2024-09
    spike = pd.DataFrame(
        {
            "customer_id": ids[:12],
            "complaint_date": [dt.date(2024, 9, 3 + i) for i in range(12)],
            "reason": "damaged",
            "product_id": "p2",
        }
    )
    complaints = pd.concat([complaints, spike], ignore_index=True)
    responses = pd.DataFrame(
        {
            "customer_id": [ids[i] for i in rng.integers(0, len(ids), 120)],
            "response_date": [d0 + dt.timedelta(days=int(x)) for x in rng.integers(0, 720, 120)],
            "score": rng.integers(0, 11, 120),
        }
    )
    contacts = pd.DataFrame(
        {
            "customer_id": [ids[i] for i in rng.integers(0, len(ids), 300)],
            "contacted_at": [pd.Timestamp(d0) + pd.Timedelta(minutes=int(x)) for x in rng.integers(0, 720 * 1440, 300)],
            "channel": [["sms", "Email", "phone "][i] for i in rng.integers(0, 3, 300)],
            "outcome": [["answered", "no_response", "Opened", None][i] for i in rng.integers(0, 4, 300)],
        }
    )
    return {"orders": orders, "complaints": complaints, "responses": responses, "contacts": contacts}


DATA = _data()


def suite(store) -> dict[str, list]:
    from negah.actions._data import to_records
    from negah.actions.at_risk import at_risk
    from negah.actions.reasons import analyse
    from negah.actions.segments import rfm

    rep = analyse(store).to_dict()
    return {
        "segments": to_records(rfm(store)),
        "at_risk": to_records(at_risk(store, model="btyd")),
        **{f"reasons.{k}": v for k, v in rep.items() if k != "settings"},
    }


@pytest.fixture(scope="module")
def reference():
    s = make_store(**DATA)
    try:
        ref = suite(s)
    finally:
        s.close()
    assert len(ref["segments"]) > 140 and ref["reasons.spikes"], "the data must exercise every part"
    assert any(r["signals"] for r in ref["at_risk"]) and any(r["channel"] for r in ref["at_risk"])
    return ref


def _frames() -> dict:
    return {name: to_arrow(name, df) for name, df in DATA.items()}


@pytest.mark.postgres
def test_postgres_matches_duckdb(reference, postgres_url):
    from negah.store import open_store

    with fresh_database(postgres_url, _frames()) as url, open_store(url) as s:
        assert s.kind == "postgres"
        assert_same(suite(s), reference)


@pytest.mark.mysql
def test_mariadb_matches_duckdb(reference, mysql_url):
    from negah.store import open_store

    with fresh_database(mysql_url, _frames()) as url, open_store(url) as s:
        assert s.kind == "mysql"
        assert_same(suite(s), reference)
