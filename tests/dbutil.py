"""Putting canonical tables into a fresh, throw-away database on a real server."""

from __future__ import annotations

import contextlib
import re
import uuid
from typing import Iterator
from urllib.parse import urlparse, urlunparse

import pandas as pd


def reachable(url: str) -> bool:
    try:
        with _admin(url) as cur:
            cur.execute("SELECT 1")
        return True
    except Exception:
        return False


@contextlib.contextmanager
def _admin(url: str):
    u = urlparse(url)
    if u.scheme.startswith("postgres"):
        import psycopg

        con = psycopg.connect(
            host=u.hostname,
            port=u.port or 5432,
            user=u.username or "postgres",
            password=u.password or None,
            dbname=(u.path.lstrip("/") or "postgres"),
            autocommit=True,
            connect_timeout=3,
        )
    else:
        import MySQLdb

        con = MySQLdb.connect(
            host=u.hostname,
            port=u.port or 3306,
            user=u.username or "root",
            password=u.password or "",
            connect_timeout=3,
        )
        con.autocommit(True)
    try:
        cur = con.cursor()
        yield cur
    finally:
        con.close()


def _with_db(url: str, db: str) -> str:
    u = urlparse(url)
    return urlunparse(u._replace(path="/" + db))


@contextlib.contextmanager
def fresh_database(
    url: str, frames: dict[str, pd.DataFrame], types: dict[str, dict[str, str]] | None = None
) -> Iterator[str]:
    """A new database holding ``frames`` as tables; yields its URL and drops it afterwards.

    ``types`` optionally gives SQL column types per table (default: inferred by Ibis).
    """
    import ibis

    db = "negah_t_" + uuid.uuid4().hex[:12]
    assert re.fullmatch(r"[a-z0-9_]+", db)
    with _admin(url) as cur:
        cur.execute(f"CREATE DATABASE {db}")
    target = _with_db(url, db)
    try:
        con = ibis.connect(target.replace("postgresql://", "postgres://"))
        try:
            for name, df in frames.items():
                schema = None
                if types and name in types:
                    schema = ibis.schema(
                        {c: types[name].get(c, str(ibis.memtable(df[[c]]).schema()[c])) for c in df.columns}
                    )
                con.create_table(name, ibis.memtable(df, schema=schema) if schema is not None else df, schema=None)
        finally:
            con.disconnect()
        yield target
    finally:
        with _admin(url) as cur:
            if urlparse(url).scheme.startswith("postgres"):
                cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            else:
                cur.execute(f"DROP DATABASE IF EXISTS {db}")
