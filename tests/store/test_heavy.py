"""Store.heavy: DuckDB's threads doubled for large order tables, restored after, same output."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from negah.metrics.engine import compute_records
from negah.store import connect, open_store
from negah.store.ingest import import_files


@pytest.fixture()
def store(tmp_path: Path):
    f = tmp_path / "orders.csv"
    f.write_text(
        "customer_id,order_id,order_date,amount\n"
        "a,1,2024-01-03,10\na,2,2024-02-05,5\nb,3,2024-01-09,7\nb,3,2024-01-09,-2\n"
        "c,4,2024-02-01,3\na,5,2024-03-01,4\n"
    )
    with open_store(tmp_path / "s.duckdb") as s:
        import_files(s, [f])
    s = open_store(tmp_path / "s.duckdb", read_only=True)
    yield s
    s.close()


def _threads(s) -> int:
    return int(s.con.con.execute("SELECT current_setting('threads')").fetchone()[0])


def test_small_tables_keep_the_threads(store, monkeypatch):
    monkeypatch.delenv("NEGAH_DUCKDB_THREADS", raising=False)
    base = _threads(store)
    with store.heavy():
        assert _threads(store) == base  # 6 rows < HEAVY_ROWS


def test_large_tables_double_the_threads_and_restore_them(store, monkeypatch):
    monkeypatch.delenv("NEGAH_DUCKDB_THREADS", raising=False)
    monkeypatch.setattr(connect, "HEAVY_ROWS", 6)
    base = _threads(store)
    with store.heavy():
        assert _threads(store) == 2 * base
        with store.heavy():  # nested (execute inside a heavy block): still doubled once
            assert _threads(store) == 2 * base
        assert _threads(store) == 2 * base
    assert _threads(store) == base
    with pytest.raises(RuntimeError):
        with store.heavy():
            raise RuntimeError("a failed query")
    assert _threads(store) == base  # restored on errors too


def test_concurrent_readers_restore_the_threads_once_all_are_done(store, monkeypatch):
    # the service opens one read-only store per request: connections to one file share
    # the database, and with it the setting
    monkeypatch.delenv("NEGAH_DUCKDB_THREADS", raising=False)
    monkeypatch.setattr(connect, "HEAVY_ROWS", 6)
    base = _threads(store)
    readers = [open_store(store.location, read_only=True) for _ in range(2)]
    inside, release = threading.Barrier(3), threading.Event()

    def user(s):
        with s.heavy():
            inside.wait()
            release.wait()

    users = [threading.Thread(target=user, args=(s,)) for s in readers]
    for u in users:
        u.start()
    inside.wait()
    assert _threads(readers[0]) == _threads(readers[1]) == 2 * base
    release.set()
    for u in users:
        u.join()
    assert _threads(readers[0]) == base
    for s in readers:
        s.close()


def test_the_environment_fixes_the_count(store, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("NEGAH_DUCKDB_THREADS", "3")
    monkeypatch.setattr(connect, "HEAVY_ROWS", 6)
    s = open_store(tmp_path / "s.duckdb", read_only=True)
    try:
        assert _threads(s) == 3
        with s.heavy():
            assert _threads(s) == 3
    finally:
        s.close()


def test_the_metrics_do_not_depend_on_it(store, monkeypatch):
    monkeypatch.delenv("NEGAH_DUCKDB_THREADS", raising=False)
    plain = compute_records(store, period="month")
    monkeypatch.setattr(connect, "HEAVY_ROWS", 6)
    store._rows = {}
    assert compute_records(store, period="month") == plain
    assert any(r["metric"] == "active_customers" and r["value"] == 2 for r in plain)
