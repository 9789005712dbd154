"""The same canonical tables read from DuckDB, PostgreSQL and MariaDB give equal results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from negah.store import open_store
from negah.store.info import store_info
from negah.store.ingest import import_frame

from tests.dbutil import fresh_database

ORDERS = pd.DataFrame(
    {
        "customer_id": ["007", "7", "a", "a", "b"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-03", "2024-02-03", "2024-03-31"]).date,
        "amount": ["10.25", "3.10", "-2.00", "7.35", "100"],
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
    }
)
RESPONSES = pd.DataFrame(
    {"customer_id": ["a", "b"], "response_date": pd.to_datetime(["2024-01-05", "2024-02-05"]).date, "score": [9, 3]}
)


def _summary(store) -> pd.DataFrame:
    t = store.table("orders")
    e = (
        t.group_by("customer_id")
        .aggregate(n=t.count(), revenue=t.amount.sum(), first=t.order_date.min())
        .order_by("customer_id")
    )
    df = store.execute(e)
    df["revenue"] = df.revenue.astype(float).round(4)
    df["first"] = pd.to_datetime(df["first"]).dt.strftime("%Y-%m-%d")
    return df


@pytest.fixture(scope="module")
def duck(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("duck") / "s.duckdb"
    with open_store(p) as s:
        import_frame(s, "orders", ORDERS)
        import_frame(s, "responses", RESPONSES)
    return p


def _db_frames() -> dict[str, pd.DataFrame]:
    o = ORDERS.copy()
    o["amount"] = o.amount.astype(float)
    # A CRM's own table: integer-looking ids stay text, as the spec requires ('007' != '7').
    return {"orders": o, "responses": RESPONSES}


@pytest.mark.postgres
def test_postgres_reads_the_same(duck: Path, postgres_url: str):
    with (
        open_store(duck, read_only=True) as d,
        fresh_database(postgres_url, _db_frames()) as url,
        open_store(url) as pg,
    ):
        assert pg.kind == "postgres" and pg.list_tables() == ["orders", "responses"]
        pd.testing.assert_frame_equal(_summary(d), _summary(pg), check_dtype=False)
        assert [t["rows"] for t in store_info(pg)["tables"]] == [5, 2]


@pytest.mark.mysql
def test_mysql_reads_the_same(duck: Path, mysql_url: str):
    with open_store(duck, read_only=True) as d, fresh_database(mysql_url, _db_frames()) as url, open_store(url) as my:
        assert my.kind == "mysql" and my.list_tables() == ["orders", "responses"]
        pd.testing.assert_frame_equal(_summary(d), _summary(my), check_dtype=False)


def test_import_into_a_database_url_is_refused_with_the_way_out(postgres_url: str):
    from negah.errors import StoreError

    with open_store(postgres_url) as pg, pytest.raises(StoreError, match="read in place"):
        import_frame(pg, "orders", ORDERS)


def test_bad_url_scheme():
    from negah.errors import StoreError

    with pytest.raises(StoreError, match="unknown scheme 'oracle'"):
        open_store("oracle://x@y/z")
