"""Schema versions: a store keeps its version; older stores migrate; newer ones are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from negah.errors import StoreError
from negah.store import migrate, open_store
from negah.store import schema as S

FIXTURE = Path(__file__).parents[1] / "fixtures" / "store_v1.duckdb"


def test_new_store_records_the_current_version(tmp_path: Path):
    p = tmp_path / "s.duckdb"
    open_store(p).close()
    con = duckdb.connect(str(p))
    assert migrate.read_version(con) == S.SCHEMA_VERSION
    con.close()


def test_v1_fixture_opens_with_its_data(tmp_path: Path):
    """tests/fixtures/store_v1.duckdb was written by negah 0.1 (schema v1); it must stay readable."""
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)
    with open_store(p) as s:
        assert s.row_count("orders") == 4
        assert int(s.execute(s.table("orders").customer_id.nunique())) == 3


def test_a_registered_migration_runs_once_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)
    calls = []

    def v1_to_v2(raw):
        calls.append(1)
        raw.execute("ALTER TABLE orders ADD COLUMN region_code VARCHAR")

    monkeypatch.setattr(S, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(migrate.MIGRATIONS, 1, v1_to_v2)
    with open_store(p) as s:
        assert "region_code" in s.table("orders").columns
    with open_store(p) as s:
        assert migrate.read_version(s.con.con) == 2
    assert calls == [1]


def test_failed_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)

    def broken(raw):
        raw.execute("ALTER TABLE orders ADD COLUMN region_code VARCHAR")
        raise RuntimeError("boom")

    monkeypatch.setattr(S, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(migrate.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError, match="boom"):
        open_store(p)
    monkeypatch.setattr(S, "SCHEMA_VERSION", 1)
    with open_store(p, read_only=True) as s:
        assert "region_code" not in s.table("orders").columns
        assert migrate.read_version(s.con.con) == 1


def test_missing_migration_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)
    monkeypatch.setattr(S, "SCHEMA_VERSION", 3)
    with pytest.raises(StoreError, match="no migration to 2 is known"):
        open_store(p)


def test_newer_store_is_refused_with_the_fix(tmp_path: Path):
    p = tmp_path / "new.duckdb"
    open_store(p).close()
    con = duckdb.connect(str(p))
    con.execute(f"UPDATE {S.META_TABLE} SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema version 99, written by a newer negah.*upgrade negah"):
        open_store(p)
    with pytest.raises(StoreError, match="upgrade negah"):
        open_store(p, read_only=True)


def test_missing_store_is_a_clear_error(tmp_path: Path):
    with pytest.raises(StoreError, match="does not exist: import data first"):
        open_store(tmp_path / "nope.duckdb", read_only=True)


def test_locked_store_names_the_other_process(tmp_path: Path):
    import subprocess
    import sys

    p = tmp_path / "s.duckdb"
    open_store(p).close()
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)",
                               str(p)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreError, match="being written by another process"):
            open_store(p, wait=0.3)
    finally:
        holder.kill()
        holder.wait()
    open_store(p, wait=5).close()  # free again once the writer is gone
