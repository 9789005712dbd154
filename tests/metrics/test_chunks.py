"""Customer chunks (Store.customer_chunks), the one-scan roll-up, and chunks run side by side
(Store.side_by_side): every result must equal the one-pass engine's."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from negah.metrics.engine import compute_records
from negah.store import open_folder

from .conftest import make_store, to_arrow
from .test_properties import PERIODS, _settings, logs

D0 = dt.date(2024, 1, 1)
METRICS = [
    "active_customers",
    "new_customers",
    "churn_rate",
    "revenue_churn_gross",
    "net_revenue_retention",
    "repeat_purchase_rate",
    "loyal_customer_rate",
    "product_return_rate",
    "time_between_purchases_days",
    "reactivated_customers",
]


def _write(folder, df: pd.DataFrame, row_group_size: int, sort: bool = True, **kw) -> None:
    if sort:
        df = df.sort_values(["customer_id", "order_date"], kind="stable")
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        to_arrow("orders", df.reset_index(drop=True)), folder / "orders.parquet", row_group_size=row_group_size, **kw
    )


def _folder_records(folder, chunk_rows: int, **kw):
    with open_folder(folder) as s:
        s.chunk_rows = chunk_rows
        chunks = s.customer_chunks("orders")
        return chunks, compute_records(s, **kw)


def _shop(n_customers: int = 12, spanning: tuple[str, ...] = ()) -> pd.DataFrame:
    """Orders of several lines (some returned later) for customers c00…; the customers in
    ``spanning`` have an order whose lines lie in two months."""
    rows = []
    for i in range(n_customers):
        c = f"c{i:02d}"
        for k in range(1 + i % 4):
            day = D0 + dt.timedelta(days=17 * k + 5 * i % 60)
            oid = f"{c}-o{k}"
            rows.append((oid, c, day, f"{10 + i + k}.50", 1, "purchase"))
            rows.append((oid, c, day, "3.25", 2, "purchase"))
            if (i + k) % 3 == 0:
                rows.append((oid, c, day + dt.timedelta(days=40), "-3.25", -1, "return"))
        rows.append((None, c, D0 + dt.timedelta(days=90 + i), "7.00", 1, "purchase"))  # no order_id
        if c in spanning:
            rows.append((f"{c}-o0", c, dt.date(2024, 2, 28), "1.00", 1, "purchase"))
            rows.append((f"{c}-o0", c, dt.date(2024, 3, 2), "2.00", 1, "purchase"))
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount", "quantity", "kind"])


def test_clustered_files_are_cut_by_customer_and_sum_to_the_one_pass(tmp_path):
    df = _shop(spanning=("c03", "c09"))  # two chunks hold an order with lines in two months
    _write(tmp_path / "d", df, row_group_size=7)
    chunks, got = _folder_records(tmp_path / "d", chunk_rows=10, metrics=METRICS)
    assert chunks is not None and len(chunks) >= 4
    # the ranges tile the key space: unbounded at both ends, each starting where the last ended
    assert chunks[0][0] is None and chunks[-1][1] is None
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    with make_store(orders=df) as s:
        want = compute_records(s, metrics=METRICS)
    assert got == want
    # and the folder's one-pass result (chunks too large to cut) is the same again
    assert _folder_records(tmp_path / "d", chunk_rows=10**9, metrics=METRICS) == (None, want)


def test_segments_and_jalali_quarters_agree_chunked(tmp_path):
    df = _shop(spanning=("c05",))
    _write(tmp_path / "d", df, row_group_size=5)
    cust = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(12)], "plan": ["a", "b", "c"] * 4})
    pq.write_table(to_arrow("customers", cust), tmp_path / "d" / "customers.parquet")
    kw = dict(metrics=METRICS, segment="plan", period="quarter", calendar="jalali")
    chunks, got = _folder_records(tmp_path / "d", chunk_rows=8, **kw)
    assert chunks is not None
    with make_store(orders=df, customers=cust) as s:
        assert got == compute_records(s, **kw)


def test_unclustered_or_unknown_files_are_not_cut(tmp_path):
    df = _shop()
    _write(tmp_path / "shuffled", df.sample(frac=1, random_state=3), row_group_size=7, sort=False)
    _write(tmp_path / "nostats", df, row_group_size=7, write_statistics=False)
    padded = df.assign(customer_id=" " + df.customer_id)  # read converted (trimmed): no range reaches the file
    _write(tmp_path / "padded", padded, row_group_size=7)
    with make_store(orders=df) as s:
        want = compute_records(s, metrics=METRICS)
    for name in ("shuffled", "nostats", "padded"):
        chunks, got = _folder_records(tmp_path / name, chunk_rows=10, metrics=METRICS)
        assert chunks is None, name
        assert got == want, name


def test_the_roll_up_scans_the_orders_once(tmp_path):
    """The lines and the order branch share one CTE of the normalized lines (materialized:
    one scan); the customer range of a chunk reaches the scan's filter."""
    import ibis

    from negah.calendars import Calendar
    from negah.metrics.rollup import customer_periods, facts_expr

    _write(tmp_path / "d", _shop(spanning=("c01",)), row_group_size=7)
    with open_folder(tmp_path / "d") as s:
        s.chunk_rows = 10
        chunk = s.customer_chunks("orders")[1]
        cal = Calendar(D0, dt.date(2024, 6, 30), "month", "gregorian")
        expr = facts_expr(customer_periods(s, cal, chunk=chunk), False)
        assert len(s.execute(expr)) > 0  # (and registers the calendar table for EXPLAIN)
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        assert sql.count('FROM "orders"') == 1, sql
        assert f"'{chunk[0]}'" in sql and f"'{chunk[1]}'" in sql
        plan = "\n".join(r[1] for r in s.con.con.execute("EXPLAIN " + sql).fetchall())
        assert "CTE" in plan


def test_side_by_side_keeps_order_and_restores_threads(tmp_path):
    df = _shop()
    _write(tmp_path / "d", df, row_group_size=7)
    with open_folder(tmp_path / "d") as s:
        raw = s.con.con
        before = raw.execute("SELECT current_setting('threads')").fetchone()[0]
        t = s.table("orders")
        tasks = [lambda c=c: int(s.execute(t.filter(t.customer_id == c).count())) for c in ["c00", "c01", "c02", "c03"]]
        assert s.side_by_side(tasks, workers=2) == [
            int((df.customer_id == c).sum()) for c in ["c00", "c01", "c02", "c03"]
        ]

        def boom():
            raise ValueError("a task failed")

        with pytest.raises(ValueError, match="a task failed"):
            s.side_by_side([tasks[0], boom], workers=2)
        assert raw.execute("SELECT current_setting('threads')").fetchone()[0] == before


@_settings(12)
@given(df=logs(), pc=PERIODS, rg=st.integers(1, 6))
def test_chunked_folder_equals_the_one_pass_engine(tmp_path_factory, df, pc, rg):
    """Random order logs, sorted by customer into Parquet row groups of ``rg`` rows and cut
    into chunks of a few rows: the same records as the in-memory one-pass engine."""
    period, calendar = pc
    kw = dict(metrics=METRICS, period=period, calendar=calendar)
    with make_store(orders=df) as s:
        want = compute_records(s, **kw)
    folder = tmp_path_factory.mktemp("chunks")
    _write(folder, df, row_group_size=rg)
    chunks, got = _folder_records(folder, chunk_rows=max(1, len(df) // 4), **kw)
    event(f"chunks: {0 if chunks is None else len(chunks)}")
    assert got == want


def test_progress_hears_every_chunk_and_the_cli_bar_is_set_and_cleared(tmp_path, monkeypatch):
    from negah.cli.common import chunk_progress

    _write(tmp_path / "d", _shop(), row_group_size=7)
    with open_folder(tmp_path / "d") as s:
        s.chunk_rows = 10
        n = len(s.customer_chunks("orders"))
        heard = []
        s.progress = lambda done, total: heard.append((done, total))
        compute_records(s, metrics=METRICS)
        # every chunk and the units query, one task each
        assert sorted(heard) == [(k, n + 1) for k in range(1, n + 2)]
        monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
        with chunk_progress(s, "metrics"):
            assert s.progress is not None
            compute_records(s, metrics=METRICS)
        assert s.progress is None
