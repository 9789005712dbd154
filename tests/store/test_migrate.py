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
FIXTURE_V2 = Path(__file__).parents[1] / "fixtures" / "store_v2.duckdb"


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


def test_v1_store_migrates_to_v2_with_an_empty_model_registry(tmp_path: Path):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)
    # read-only, the v1 layout is read as it is (v2 only added a bookkeeping table)
    with open_store(p, read_only=True) as s:
        assert migrate.read_version(s.con.con) == 1 and s.row_count("orders") == 4
    with open_store(p) as s:
        raw = s.con.con
        assert migrate.read_version(raw) == 2
        cols = [r[0] for r in raw.execute(f"DESCRIBE {S.MODELS_TABLE}").fetchall()]
        assert cols[:10] == [
            "model_id",
            "name",
            "kind",
            "mode",
            "created_at",
            "as_of",
            "horizon_days",
            "metrics",
            "meta",
            "file",
        ]
        assert raw.execute(f"SELECT count(*) FROM {S.MODELS_TABLE}").fetchone()[0] == 0
        assert s.row_count("orders") == 4


def test_v2_fixture_opens_with_its_saved_model(tmp_path: Path):
    """tests/fixtures/store_v2.duckdb was written by schema v2 with one saved churn model."""
    from negah.predict import registry

    p = tmp_path / "v2.duckdb"
    shutil.copy(FIXTURE_V2, p)
    with open_store(p, read_only=True) as s:
        assert migrate.read_version(s.con.con) == 2
        [rec] = registry.list_models(s)
        assert rec["name"] == "fixture" and rec["mode"] == "snapshot"
        m = registry.load(s, "fixture")
        assert m.classifier.kind_ == "logistic" and "last_order_date" in m.feature_names


def test_a_registered_migration_runs_once_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)
    calls = []

    def v2_to_v3(raw):
        calls.append(2)
        raw.execute("ALTER TABLE orders ADD COLUMN region_code VARCHAR")

    monkeypatch.setattr(S, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(migrate.MIGRATIONS, 2, v2_to_v3)
    with open_store(p) as s:
        assert "region_code" in s.table("orders").columns
        assert S.MODELS_TABLE in s.con.list_tables()  # 1 -> 2 ran first
    with open_store(p) as s:
        assert migrate.read_version(s.con.con) == 3
    assert calls == [2]


def test_failed_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)

    def broken(raw):
        raw.execute("ALTER TABLE orders ADD COLUMN region_code VARCHAR")
        raise RuntimeError("boom")

    monkeypatch.setattr(S, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(migrate.MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError, match="boom"):
        open_store(p)
    # every step rolled back, the 1 -> 2 step too
    with open_store(p, read_only=True) as s:
        assert "region_code" not in s.table("orders").columns
        assert S.MODELS_TABLE not in s.con.list_tables()
        assert migrate.read_version(s.con.con) == 1


def test_missing_migration_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    p = tmp_path / "v1.duckdb"
    shutil.copy(FIXTURE, p)
    monkeypatch.setattr(S, "SCHEMA_VERSION", 3)
    with pytest.raises(StoreError, match="no migration from 2 to 3 is known"):
        open_store(p)
    monkeypatch.setattr(S, "SCHEMA_VERSION", 4)
    monkeypatch.setattr(migrate, "READABLE_AS_IS", set())
    with pytest.raises(StoreError, match="Open it once read-write to migrate it"):
        open_store(p, read_only=True)


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
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)",
            str(p),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreError, match="being written by another process"):
            open_store(p, wait=0.3)
    finally:
        holder.kill()
        holder.wait()
    open_store(p, wait=5).close()  # free again once the writer is gone
