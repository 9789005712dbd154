"""Schema versions of an embedded store, and the migrations between them.

A store records its layout version in ``_negah_meta``. Opening a store written by an
older negah read-write runs the registered migrations in order, inside one transaction;
a store written by a newer negah is refused with the version to upgrade to. A read-only
open of an older store reads it as it is when the newer layouts only added bookkeeping
tables (:data:`READABLE_AS_IS`), and otherwise asks for one read-write open.

To change the layout: bump :data:`negah.store.schema.SCHEMA_VERSION`, add a function
``migrate_N_to_N+1(raw)`` to :data:`MIGRATIONS`, and keep a store of the old layout in
``tests/fixtures/`` so that the migration is tested on a real file
(``store_v1.duckdb``, ``store_v2.duckdb``).
"""

from __future__ import annotations

from typing import Any, Callable

from negah.errors import StoreError
from negah.store import schema as S

MODELS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {S.MODELS_TABLE} ("
    "model_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, mode VARCHAR NOT NULL, "
    "created_at TIMESTAMP NOT NULL, as_of DATE, horizon_days INTEGER, metrics JSON, meta JSON, "
    "file BLOB NOT NULL, seq BIGINT NOT NULL)"
)
"""The model registry (version 2): ``seq`` orders models by when they were saved."""


def migrate_1_to_2(raw) -> None:
    """Version 2 adds the model registry ``_negah_models``."""
    raw.execute(MODELS_DDL)


MIGRATIONS: dict[int, Callable[[Any], None]] = {1: migrate_1_to_2}
"""``MIGRATIONS[n]`` turns a version-n store into a version-(n+1) store (DuckDB connection)."""

READABLE_AS_IS: set[int] = {1}
"""Older versions a read-only open reads without migrating: the later layouts only added
bookkeeping tables, which readers treat as empty when absent (no trained models yet)."""


def _raw(store) -> Any:
    return store.con.con  # the duckdb connection behind the Ibis backend


def read_version(raw) -> int | None:
    names = {r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if S.META_TABLE not in names:
        return None
    row = raw.execute(f"SELECT value FROM {S.META_TABLE} WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def _user_tables(raw) -> set[str]:
    return {
        r[0]
        for r in raw.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    }


def check_version(store) -> int:
    raw = _raw(store)
    v = read_version(raw)
    if v is None:
        if _user_tables(raw) & set(S.TABLES):
            # A DuckDB file made by hand or by another tool: read it as it is.
            return S.SCHEMA_VERSION
        return S.SCHEMA_VERSION
    if v > S.SCHEMA_VERSION:
        raise StoreError(
            f"store {store.location!r} has schema version {v}, written by a newer negah; "
            f"this negah reads versions up to {S.SCHEMA_VERSION}: upgrade negah (pip install -U negah)"
        )
    if v < S.SCHEMA_VERSION and v not in READABLE_AS_IS:
        raise StoreError(
            f"store {store.location!r} has schema version {v}; this negah needs {S.SCHEMA_VERSION}. "
            "Open it once read-write to migrate it (e.g. `negah info --store PATH`)"
        )
    return v


def ensure_schema(store) -> int:
    """Create the bookkeeping tables, or migrate an older store. Returns the version."""
    raw = _raw(store)
    v = read_version(raw)
    if v is None:
        raw.execute("BEGIN TRANSACTION")
        try:
            raw.execute(f"CREATE TABLE IF NOT EXISTS {S.META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
            raw.execute(
                f"CREATE TABLE IF NOT EXISTS {S.IMPORTS_TABLE} ("
                "import_id BIGINT PRIMARY KEY, table_name VARCHAR NOT NULL, source VARCHAR, "
                "sha256 VARCHAR, rows BIGINT, mode VARCHAR, imported_at TIMESTAMP)"
            )
            raw.execute(MODELS_DDL)
            raw.execute(f"INSERT INTO {S.META_TABLE} VALUES ('schema_version', ?)", [str(S.SCHEMA_VERSION)])
            raw.execute("COMMIT")
        except Exception:
            raw.execute("ROLLBACK")
            raise
        return S.SCHEMA_VERSION
    if v > S.SCHEMA_VERSION:
        check_version(store)  # raises with the message
    if v == S.SCHEMA_VERSION:
        return v
    start = v
    raw.execute("BEGIN TRANSACTION")  # every step or none
    try:
        while v < S.SCHEMA_VERSION:
            step = MIGRATIONS.get(v)
            if step is None:
                raise StoreError(
                    f"store {store.location!r} has schema version {start} and no migration from {v} to {v + 1} "
                    "is known; export the tables with an older negah and import them again"
                )
            step(raw)
            v += 1
        raw.execute(f"UPDATE {S.META_TABLE} SET value = ? WHERE key = 'schema_version'", [str(v)])
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    return v
