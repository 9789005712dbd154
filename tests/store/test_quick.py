"""--data over Parquet: the one cheap validating pass (negah.store.quick) gives exactly what
the importer's full checks give — the same rows and the same errors — on clean and on
messy typed files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from negah.errors import InputError
from negah.store import open_folder, open_store
from negah.store.ingest import import_files

COLS = ["customer_id", "order_date", "amount", "order_id", "quantity", "kind"]


def _rows(store) -> list[tuple]:
    t = store.table("orders")
    df = store.execute(t.select(*COLS))
    return sorted((tuple(None if v != v else v for v in r) for r in df.itertuples(index=False, name=None)), key=repr)


def _both(tmp_path: Path, table: pa.Table, stats: bool = True) -> tuple[list, list]:
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    pq.write_table(table, d / "orders.parquet", write_statistics=stats)
    with open_folder(d) as s:
        view = _rows(s)
    path = tmp_path / "s.duckdb"
    with open_store(path) as s:
        import_files(s, [d / "orders.parquet"])
        imported = _rows(s)
    path.unlink()
    return view, imported


def _table(**cols) -> pa.Table:
    n = len(cols["customer_id"])
    base = {
        "customer_id": pa.array(cols["customer_id"], pa.string()),
        "order_date": pa.array([pa.scalar(19725 + i, pa.date32()).as_py() for i in range(n)], pa.date32()),
        "amount": cols.get("amount", pa.array([Decimal("1.50")] * n, pa.decimal128(18, 2))),
        "order_id": pa.array(cols.get("order_id", [f"o{i}" for i in range(n)]), pa.string()),
        "quantity": cols.get("quantity", pa.array([1] * n, pa.int64())),
        "kind": pa.array(cols.get("kind", ["purchase"] * n), pa.string()),
    }
    return pa.table(base)


@pytest.mark.parametrize(
    "case, quick",
    [
        (dict(customer_id=["a", "b", "c"]), True),  # clean
        (dict(customer_id=["a", "b", "c"], quantity=pa.array([1, None, -2], pa.int32())), True),
        (dict(customer_id=["a", "b", "c"], kind=["return", None, "purchase"]), True),
        (dict(customer_id=["a", " b", "c "]), False),  # padded ids
        (dict(customer_id=["a", "۱۲", "x y"]), False),  # Persian digits
        (dict(customer_id=["a", "b", "c"], order_id=["o1", "", None]), False),  # empty order id
        (dict(customer_id=["a", "b", "c"], kind=["Purchase", " return", None]), False),  # kind needs lowering
        (dict(customer_id=["a", "b", "c"], amount=pa.array([1.5, 2.25, -3.0], pa.float64())), True),
        (dict(customer_id=["a", "b", "c"], amount=pa.array([Decimal("1.123456")] * 3, pa.decimal128(18, 6))), True),
    ],
)
@pytest.mark.parametrize("stats", [True, False])  # footer statistics, or a scan
def test_view_equals_full_import(tmp_path: Path, monkeypatch, case, quick, stats):
    import negah.store.quick as q

    seen = []
    real = q.quick_check
    monkeypatch.setattr(q, "quick_check", lambda *a: seen.append(real(*a)) or seen[-1])
    view, imported = _both(tmp_path, _table(**case), stats)
    assert view == imported
    assert (seen[0] is not None) == quick  # which path proved it


@pytest.mark.parametrize(
    "case, column",
    [
        (dict(customer_id=["a", "", "c"]), "customer_id"),
        (dict(customer_id=["a", None, "c"]), "customer_id"),
        (dict(customer_id=["a", "b", "c"], kind=["purchase", "refund", "return"]), "kind"),
        (
            dict(
                customer_id=["a", "b", "c"],
                amount=pa.array([Decimal("1"), Decimal("123456789012345.5"), Decimal("2")], pa.decimal128(20, 2)),
            ),
            "amount",
        ),
    ],
)
@pytest.mark.parametrize("stats", [True, False])
def test_bad_rows_are_located_as_by_the_full_checks(tmp_path: Path, case, column, stats):
    d = tmp_path / "data"
    d.mkdir()
    pq.write_table(_table(**case), d / "orders.parquet", write_statistics=stats)
    with pytest.raises(InputError) as ei:
        open_folder(d)
    p = ei.value.problems[0]
    assert (p.file, p.row, p.column) == ("orders.parquet", 2, column)


def test_footer_statistics_failure_keeps_the_transaction(tmp_path: Path):
    """Footer statistics are an optimisation: when they cannot be read, file_stats gives up
    without aborting the import's open transaction."""
    import duckdb

    from negah.store.quick import file_stats

    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"customer_id": ["a", "b"], "amount": [1.0, None]}), good)
    raw = duckdb.connect()
    raw.execute("BEGIN TRANSACTION")
    raw.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert file_stats(raw, [str(tmp_path / "missing.parquet")]) == {}
    assert file_stats(raw, [str(good)])["amount"][0] == 1  # one null, read from the footer
    raw.execute("COMMIT")
    assert raw.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_footer_statistics_are_used_only_where_every_row_group_has_them(tmp_path: Path):
    """A row group of nulls has no minimum and still counts; a column without statistics in
    one row group is read instead; the smallest id's start comes from the footers."""
    import duckdb

    from negah.store.quick import file_stats

    t = pa.table({"customer_id": [" a", "b", "c", "d"], "quantity": pa.array([None, None, 1, -2], pa.int64())})
    f = tmp_path / "two.parquet"
    pq.write_table(t, f, row_group_size=2)
    raw = duckdb.connect()
    st = file_stats(raw, [str(f)])
    assert st["quantity"] == (2, ["-2"], ["1"])
    assert st["customer_id"][0] == 0 and min(st["customer_id"][1]) == " a"
    pq.write_table(t, f, row_group_size=2, write_statistics=["customer_id"])
    assert "quantity" not in file_stats(raw, [str(f)])
    # " a" starts with a space: the footers alone send the folder to the exact checks,
    # which trim it, as the importer does
    d = tmp_path / "data"
    d.mkdir()
    pq.write_table(_table(customer_id=[" a", "b", "c"]), d / "orders.parquet")
    with open_folder(d) as s:
        assert s.execute(s.table("orders").customer_id.min()) == "a"
