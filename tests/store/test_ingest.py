"""The importer: clear errors that locate every problem, all-or-nothing, idempotent re-imports."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from negah.errors import InputError
from negah.store import open_store
from negah.store.ingest import import_files, import_frame

GOOD = "customer_id,order_date,amount,quantity,product_id\nc1,2024-01-05,10.50,1,p1\nc2,2024-01-06,20,2,p2\n"


def days(series) -> list[str]:
    return [pd.Timestamp(d).strftime("%Y-%m-%d") for d in series]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def snapshot(store_path: Path) -> str:
    """A digest of every user table's content, in a fixed order."""
    with open_store(store_path, read_only=True) as s:
        raw = s.con.con
        h = hashlib.sha256()
        for (name,) in raw.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
            h.update(name.encode())
            for row in raw.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall():
                h.update(repr(row).encode())
        return h.hexdigest()


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    p = tmp_path / "store.duckdb"
    with open_store(p) as s:
        import_files(s, [write(tmp_path / "orders.csv", GOOD)])
    return p


def _import(store_path: Path, *files: Path, **kw):
    with open_store(store_path) as s:
        return import_files(s, list(files), **kw)


def _fails(store_path: Path, *files: Path, match: str, **kw) -> InputError:
    before = snapshot(store_path)
    with pytest.raises(InputError, match=match) as ei:
        _import(store_path, *files, **kw)
    assert snapshot(store_path) == before, "a failed import changed the store"
    return ei.value


def test_good_file_types_and_values(store_path: Path):
    with open_store(store_path, read_only=True) as s:
        df = s.execute(s.table("orders").order_by("customer_id"))
    assert list(df.customer_id) == ["c1", "c2"]
    assert days(df.order_date) == ["2024-01-05", "2024-01-06"]
    assert list(df.amount) == [Decimal("10.5000"), Decimal("20.0000")]


def test_empty_file(store_path: Path, tmp_path: Path):
    e = _fails(store_path, write(tmp_path / "orders2.csv", ""), table="orders", match="empty")
    assert "orders2.csv" in str(e.problems[0])


def test_header_only(store_path: Path, tmp_path: Path):
    _fails(store_path, write(tmp_path / "x.csv", "customer_id,order_date,amount\n"), table="orders", match="problem")


def test_wrong_delimiter_names_the_fix(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "o.csv", GOOD.replace(",", ";"))
    e = _fails(store_path, f, table="orders", delimiter=",", match="problem")
    text = "\n".join(map(str, e.problems))
    assert "customer_id" in text and "delimiter looks like ';'" in text and "--delimiter ';'" in text
    # and with the delimiter detected, the same file imports
    assert _import(store_path, f, table="orders")[0].rows == 2


def test_missing_required_column(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "orders.csv", "customer_id,order_date\nc1,2024-01-01\n")
    e = _fails(store_path, f, match="1 problem")
    p = e.problems[0]
    assert p.file == "orders.csv" and p.column == "amount" and "required column is missing" in p.message
    assert "--map amount=" in p.fix


def test_map_renames_columns(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "export.csv", "CustomerID,Date,Total\nc9,2024-02-01,5\n")
    r = _import(store_path, f, table="orders", mapping=["customer_id=CustomerID", "order_date=Date", "amount=Total"])
    assert r[0].rows == 1


def test_unknown_table(store_path: Path, tmp_path: Path):
    with pytest.raises(InputError, match="unknown table"):
        _import(store_path, write(tmp_path / "sales.csv", GOOD))
    from negah.errors import SchemaError

    with pytest.raises(SchemaError, match="unknown table 'sales'"):
        _import(store_path, write(tmp_path / "x.csv", GOOD), table="sales")


def test_bad_and_impossible_dates_all_reported(store_path: Path, tmp_path: Path):
    f = write(
        tmp_path / "orders.csv",
        "customer_id,order_date,amount\nc1,2024-02-31,1\nc2,yesterday,1\nc3,2024-01-01,1\nc4,1399/12/30,1\nc5,1400/12/30,1\n",
    )
    e = _fails(store_path, f, match="3 problems")
    got = [(p.row, p.column, p.value) for p in e.problems]
    # 1399 is a Jalali leap year (Esfand has 30 days); 1400 is not.
    assert got == [(1, "order_date", "2024-02-31"), (2, "order_date", "yesterday"), (5, "order_date", "1400/12/30")]
    assert "is not a date" in e.problems[0].message and "YYYY-MM-DD" in e.problems[0].fix
    assert "orders.csv row 1, column order_date: '2024-02-31' is not a date" in str(e.problems[0])


@pytest.mark.parametrize("score", ["11", "-1", "7.5", "ten"])
def test_nps_score_out_of_range(store_path: Path, tmp_path: Path, score: str):
    f = write(tmp_path / "responses.csv", f"customer_id,response_date,score\nc1,2024-01-01,9\nc2,2024-01-02,{score}\n")
    e = _fails(store_path, f, match="1 problem")
    p = e.problems[0]
    assert (p.row, p.column, p.value) == (2, "score", score)
    assert "whole number from 0 to 10" in p.message


def test_non_numeric_amounts(store_path: Path, tmp_path: Path):
    f = write(
        tmp_path / "orders.csv", "customer_id,order_date,amount\nc1,2024-01-01,12$\nc2,2024-01-01,abc\nc3,2024-01-01,\n"
    )
    e = _fails(store_path, f, match="3 problems")
    assert [(p.row, p.message) for p in e.problems] == [
        (1, "is not a number"),
        (2, "is not a number"),
        (3, "is empty (a value is required)"),
    ]


def test_kind_must_be_purchase_or_return(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "orders.csv", "customer_id,order_date,amount,kind\nc1,2024-01-01,1,refund\n")
    e = _fails(store_path, f, match="1 problem")
    assert "purchase, return" in e.problems[0].message


def test_bom_persian_text_and_digits(store_path: Path, tmp_path: Path):
    text = (
        "customer_id,order_date,amount,product_id,city\n"
        "۱۰۱,۱۴۰۲/۰۱/۰۱,۱۲۵۰۰۰,ماوس بی‌سیم,تهران\n"
        "102,20/03/2023,٣٠٠,کیبورد,شیراز\n"
    )
    f = write(tmp_path / "orders.csv", "\ufeff" + text)
    r = _import(store_path, f)
    assert r[0].rows == 2
    with open_store(store_path, read_only=True) as s:
        df = s.execute(s.table("orders").filter(lambda t: t.customer_id.isin(["101", "102"])).order_by("customer_id"))
    # 1 Farvardin 1402 = 2023-03-21
    assert days(df.order_date) == ["2023-03-21", "2023-03-20"]
    assert list(df.amount) == [Decimal("125000.0000"), Decimal("300.0000")]
    assert list(df.product_id) == ["ماوس بی‌سیم", "کیبورد"]
    assert list(df.city) == ["تهران", "شیراز"]  # extra columns are kept


def test_one_bad_row_among_a_million(store_path: Path, tmp_path: Path):
    n, bad = 1_000_000, 777_777
    import duckdb

    f = tmp_path / "orders_big.csv"
    duckdb.sql(
        f"COPY (SELECT 'c' || (i % 1000) AS customer_id, CASE WHEN i + 1 = {bad} THEN '2024-13-01' "
        "ELSE strftime(DATE '2024-01-01' + CAST(i % 300 AS INTEGER), '%Y-%m-%d') END AS order_date, "
        "(i % 97) + 0.25 AS amount FROM range(" + str(n) + ") t(i)) TO '" + str(f) + "' (HEADER)"
    )
    e = _fails(store_path, f, table="orders", match="1 problem")
    p = e.problems[0]
    assert (p.file, p.row, p.column, p.value) == ("orders_big.csv", bad, "order_date", "2024-13-01")


def test_same_file_twice_changes_nothing(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "orders.csv", GOOD)  # same content as the first import, other path
    before = snapshot(store_path)
    r = _import(store_path, f)
    assert r[0].skipped and "already imported" in r[0].message
    assert snapshot(store_path) == before


def test_repeated_identical_rows_are_kept(store_path: Path, tmp_path: Path):
    f = write(
        tmp_path / "orders.csv", "customer_id,order_date,amount\nc7,2024-01-01,5\nc7,2024-01-01,5\nc7,2024-01-01,5\n"
    )
    assert _import(store_path, f)[0].rows == 3
    with open_store(store_path, read_only=True) as s:
        assert s.execute(s.table("orders").filter(lambda t: t.customer_id == "c7").count()) == 3


def test_replace_refreshes_a_table(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "orders.csv", "customer_id,order_date,amount\nz1,2024-01-01,5\n")
    r = _import(store_path, f, mode="replace")
    assert r[0].rows == 1 and r[0].replaced_rows == 2
    with open_store(store_path, read_only=True) as s:
        assert s.row_count("orders") == 1
    # the first file's rows are gone, so importing it again brings them back once
    assert _import(store_path, write(tmp_path / "again.csv", GOOD), table="orders")[0].rows == 2


def test_upsert_by_natural_key(store_path: Path, tmp_path: Path):
    base = "customer_id,signup_date,plan\nu1,2024-01-01,basic\nu2,2024-01-02,pro\n"
    _import(store_path, write(tmp_path / "customers.csv", base), mode="upsert", key=["customer_id"])
    r = _import(
        store_path,
        write(
            tmp_path / "customers2.csv", "customer_id,signup_date,plan\nu2,2024-01-02,enterprise\nu3,2024-02-02,basic\n"
        ),
        table="customers",
        mode="upsert",
        key=["customer_id"],
    )
    assert r[0].rows == 2 and r[0].replaced_rows == 1
    with open_store(store_path, read_only=True) as s:
        df = s.execute(s.table("customers").order_by("customer_id"))
    assert list(zip(df.customer_id, df.plan)) == [("u1", "basic"), ("u2", "enterprise"), ("u3", "basic")]


def test_upsert_rejects_duplicate_keys(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "customers.csv", "customer_id,plan\nu1,a\nu1,b\n")
    _fails(store_path, f, mode="upsert", key=["customer_id"], match="problem")


def test_skip_invalid_writes_rejects(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "orders.csv", "customer_id,order_date,amount\n,2024-01-01,5\nc8,2024-01-02,6\nc9,bad,7\n")
    rej = tmp_path / "rejects.csv"
    r = _import(store_path, f, skip_invalid=True, rejects=rej)
    assert (r[0].rows, r[0].rejected) == (1, 2)
    rejected = pd.read_csv(rej)
    assert list(rejected["row"]) == [1, 3]
    assert "customer_id: is empty" in rejected["reason"][0] and "order_date: is not a date" in rejected["reason"][1]


def test_all_files_of_one_import_are_one_transaction(store_path: Path, tmp_path: Path):
    ok = write(tmp_path / "responses.csv", "customer_id,response_date,score\nc1,2024-01-01,9\n")
    bad = write(tmp_path / "complaints.csv", "customer_id,complaint_date,reason\nc1,nope,late\n")
    _fails(store_path, ok, bad, match="1 problem")
    with open_store(store_path, read_only=True) as s:
        assert not s.has("responses")


def test_excel_and_parquet(store_path: Path, tmp_path: Path):
    df = pd.DataFrame(
        {
            "customer_id": ["x1", "x2"],
            "complaint_date": ["2024-05-01", "1403/02/12"],
            "reason": ["late_delivery", "تاخیر در ارسال"],
            "product_id": ["m1", "m1"],
        }
    )
    xlsx = tmp_path / "complaints.xlsx"
    df.to_excel(xlsx, index=False)
    assert _import(store_path, xlsx)[0].rows == 2
    pq = tmp_path / "contacts.parquet"
    pd.DataFrame(
        {
            "customer_id": [1, 2],
            "contacted_at": pd.to_datetime(["2024-01-01 09:30", "2024-01-02 18:00"]),
            "channel": ["phone", "sms"],
        }
    ).to_parquet(pq)
    assert _import(store_path, pq)[0].rows == 2
    with open_store(store_path, read_only=True) as s:
        c = s.execute(s.table("complaints").order_by("customer_id"))
        k = s.execute(s.table("contacts").order_by("customer_id"))
    assert days(c.complaint_date) == ["2024-05-01", "2024-05-01"]  # 12 Ordibehesht 1403
    assert list(k.customer_id) == ["1", "2"] and k.contacted_at[0].hour == 9


def test_timestamps_keep_their_own_offset_date(store_path: Path, tmp_path: Path):
    f = write(
        tmp_path / "orders.csv",
        "customer_id,order_date,amount\nt1,2024-03-01T23:30:00-05:00,1\nt2,2024-03-01 00:15:00+03:30,1\n",
    )
    _import(store_path, f)
    with open_store(store_path, read_only=True) as s:
        df = s.execute(s.table("orders").filter(lambda t: t.customer_id.isin(["t1", "t2"])).order_by("customer_id"))
    assert days(df.order_date) == ["2024-03-01", "2024-03-01"]


def test_ids_compare_as_text(store_path: Path, tmp_path: Path):
    _import(
        store_path, write(tmp_path / "orders.csv", "customer_id,order_date,amount\n007,2024-01-01,1\n7,2024-01-01,1\n")
    )
    with open_store(store_path, read_only=True) as s:
        ids = set(s.execute(s.table("orders").customer_id))
    assert {"007", "7"} <= ids


def test_import_frame_is_idempotent_by_token(store_path: Path):
    df = pd.DataFrame({"customer_id": ["f1"], "response_date": ["2024-01-01"], "score": [10]})
    with open_store(store_path) as s:
        assert import_frame(s, "responses", df, dedupe_token="batch-1").rows == 1
        assert import_frame(s, "responses", df, dedupe_token="batch-1").skipped
        assert s.row_count("responses") == 1
        with pytest.raises(InputError, match="problem"):
            import_frame(s, "responses", df.assign(score=[12]), dedupe_token="batch-2")
        assert s.row_count("responses") == 1


def test_month_first_dates(store_path: Path, tmp_path: Path):
    f = write(tmp_path / "orders.csv", "customer_id,order_date,amount\nm1,03/25/2024,1\n")
    e = _fails(store_path, f, match="1 problem")
    assert e.problems[0].value == "03/25/2024"
    _import(store_path, f, date_order="mdy")
    with open_store(store_path, read_only=True) as s:
        df = s.execute(s.table("orders").filter(lambda t: t.customer_id == "m1"))
    assert days(df.order_date) == ["2024-03-25"]


def test_folder_reads_parquet_in_place_with_the_same_checks(tmp_path: Path):
    from negah.store import open_folder

    d = tmp_path / "data"
    d.mkdir()
    pd.DataFrame(
        {"customer_id": ["a", "b"], "order_date": pd.to_datetime(["2024-01-01", "2024-02-01"]), "amount": [1.5, 2.5]}
    ).to_parquet(d / "orders.parquet")
    write(d / "responses.csv", "customer_id,response_date,score\na,2024-01-03,10\n")
    with open_folder(d) as s:
        assert s.list_tables() == ["orders", "responses"]
        assert s.row_count("orders") == 2 and s.row_count("responses") == 1
        assert float(s.execute(s.table("orders").amount.sum())) == 4.0
    pd.DataFrame(
        {"customer_id": ["a", None], "order_date": pd.to_datetime(["2024-01-01", "2024-02-01"]), "amount": [1.5, 2.5]}
    ).to_parquet(d / "orders.parquet")
    with pytest.raises(InputError, match="1 problem") as ei:
        open_folder(d)
    p = ei.value.problems[0]
    assert (p.file, p.row, p.column) == ("orders.parquet", 2, "customer_id")


def test_jalali_conversion_matches_jdatetime_for_every_year():
    """Every 1 Farvardin and the last day of Esfand from 1200 to 1699, against jdatetime."""
    import duckdb
    import jdatetime

    from negah.store.convert import _jalali_sql

    con = duckdb.connect()
    rows = []
    for y in range(1200, 1700):
        last = 30 if jdatetime.date(y, 1, 1).isleap() else 29
        rows += [
            (str(y), "1", "1", jdatetime.date(y, 1, 1).togregorian()),
            (str(y), "12", str(last), jdatetime.date(y, 12, last).togregorian()),
            (str(y), "12", str(last + 1), None),
        ]
    df = pd.DataFrame([r[:3] for r in rows], columns=["y", "m", "d"])  # noqa: F841 (read by DuckDB)
    got = [r[0] for r in con.execute(f"SELECT CAST({_jalali_sql('y', 'm', 'd')} AS DATE) FROM df").fetchall()]
    assert got == [r[3] for r in rows]


def test_jalali_dates_with_dashes_are_jalali():
    """Any year below 1700 is Jalali, also in ISO form (``1402-01-15``) and in a timestamp."""
    from negah.store.convert import parse_dates

    with open_store(":memory:") as s:
        import_frame(
            s,
            "orders",
            pd.DataFrame(
                {
                    "customer_id": ["a", "b", "c"],
                    "order_date": ["1402-01-15", "۱۴۰۲/۰۱/۱۵", "2023-04-04"],
                    "amount": ["1", "2", "3"],
                }
            ),
        )
        import_frame(
            s,
            "contacts",
            pd.DataFrame({"customer_id": ["a"], "contacted_at": ["1402-01-15 10:30:00"], "channel": ["phone"]}),
        )
        days = s.execute(s.table("orders").order_date)
        assert [str(d)[:10] for d in days] == ["2023-04-04"] * 3
        assert str(s.execute(s.table("contacts").contacted_at)[0]) == "2023-04-04 10:30:00"
    assert parse_dates(["1402-01-15", "15/01/2024", "01/15/2024", " ", None]) == [
        dt.date(2023, 4, 4),
        dt.date(2024, 1, 15),
        None,
        None,
        None,
    ]
    assert parse_dates(["01/15/2024"], "mdy") == [dt.date(2024, 1, 15)]
