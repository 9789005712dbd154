"""Opening a store. The only module that names DuckDB, PostgreSQL, MySQL or Spark.

A *store* is where the canonical tables live:

* an embedded DuckDB file (the default, ``./negah.duckdb``), written by ``negah import``;
* a company's own PostgreSQL or MySQL/MariaDB database, read in place through Ibis
  (``postgresql://user@host/db``, ``mysql://user:pw@host/db``): the canonical tables may
  be tables or views there, and nothing is copied;
* a folder of canonical files (``orders.csv``, ``orders.parquet``, ...) read in place,
  on DuckDB or on Apache Spark.

Everything above this layer sees only :class:`Store` and Ibis expressions.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negah import config
from negah.errors import StoreError
from negah.store import schema as S

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

URL_KINDS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
}


# Rows of a table from which Store.heavy doubles DuckDB's threads (on 2 cores: slower at
# 10M order lines, no difference beyond run-to-run noise at 30M, faster at 100M).
HEAVY_ROWS = 50_000_000
_HEAVY_LOCK = threading.Lock()
_HEAVY: dict[Any, tuple[int, int]] = {}  # database (path, or in-memory connection) -> (users, threads before)

# Order lines per customer chunk (Store.customer_chunks): large enough that a chunk's
# query keeps both cores busy, small enough that its hash tables stay small.
CHUNK_ROWS = 7_000_000


class Store:
    """An open store: an Ibis connection plus what negah knows about it.

    Use :func:`open_store` or :func:`open_folder` to make one; close it (or use it as a
    context manager) to release the DuckDB file lock.
    """

    def __init__(self, con: Any, kind: str, location: str, *, read_only: bool = False, spark: Any = None):
        self.con = con
        self.kind = kind  # duckdb | postgres | mysql | spark
        self.location = location
        self.read_only = read_only
        self._spark = spark
        self._present: set[str] | None = None
        self._rows: dict[str, int | None] = {}
        # table -> (Parquet files, {canonical column: file column}) for the tables that are
        # views reading those columns of the files unchanged (``--data DIR`` over Parquet)
        self.parquet: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.chunk_rows = CHUNK_ROWS
        self._light = 0  # > 0: queries over one customer chunk at a time (see heavy)
        self._local = threading.local()  # .cursor: this thread's DuckDB cursor (side_by_side)
        # called as progress(done, total) after each task of side_by_side (a CLI's progress bar)
        self.progress: Any = None

    # -- life cycle -----------------------------------------------------------------
    def close(self) -> None:
        if self.con is not None and self.kind != "spark":
            try:
                self.con.disconnect()
            except Exception:  # pragma: no cover - already closed
                pass
        self.con = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"<negah Store {self.kind} {self.location!r} {mode}>"

    # -- tables ---------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        """Canonical tables present in this store (in schema order)."""
        if self._present is None:
            names = set(self.con.list_tables())
            self._present = {n for n in S.TABLES if n in names}
        return [n for n in S.TABLES if n in self._present]

    def has(self, name: str) -> bool:
        return name in self.list_tables()

    def raw_table(self, name: str) -> "ir.Table":
        """The table as stored, without canonical casts."""
        return self.con.table(name)

    def table(self, name: str) -> "ir.Table | None":
        """The canonical table ``name`` as an Ibis expression, or ``None`` when absent.

        Columns are cast to their canonical types (ids to text, dates to dates, money to
        DECIMAL(18,4)), so a CRM's own table with integer ids reads the same as an
        imported one. Book-keeping columns are dropped; extra user columns are kept.
        """
        S.table(name)  # validates the name
        if not self.has(name):
            return None
        return canonical(self.con.table(name), name, self.kind)

    def execute(self, expr: "ir.Expr", **kw: Any) -> "pd.DataFrame":
        cur = getattr(self._local, "cursor", None)
        if cur is not None:
            return _execute_on(self.con, cur, expr)
        with self.heavy():
            return self.con.execute(expr, **kw)

    def side_by_side(self, tasks: list, workers: int | None = None) -> list:
        """Run independent ``tasks`` (callables that query through :meth:`execute`) side by
        side and return their results in order.

        On DuckDB each worker thread gets a cursor of its own and every query one thread:
        for many small queries (customer chunks) that did the same work in ~20% less time
        than one query after another with all threads (docs/performance.md), since a query
        on one thread needs no partitioning or merging of its hash tables. The workers are
        as many as DuckDB's threads were. Other engines, or a single task: one after another.
        :attr:`progress`, when set, hears ``(done, total)`` after each task.
        """
        if self.kind != "duckdb" or len(tasks) < 2:
            return [t() for t in tasks]
        from concurrent.futures import ThreadPoolExecutor

        raw = self.con.con
        base = int(raw.execute("SELECT current_setting('threads')").fetchone()[0])
        n = max(1, min(workers or base, len(tasks)))
        if n == 1:
            return [t() for t in tasks]
        cursors = [raw.cursor() for _ in range(n)]
        free = list(cursors)
        lock = threading.Lock()
        done = [0]

        def run(task):
            with lock:
                cur = free.pop()
            self._local.cursor = cur
            try:
                return task()
            finally:
                self._local.cursor = None
                with lock:
                    free.append(cur)
                    done[0] += 1
                    if self.progress is not None:
                        self.progress(done[0], len(tasks))

        raw.execute("SET threads = 1")
        try:
            with ThreadPoolExecutor(n, thread_name_prefix="negah-chunk") as pool:
                return list(pool.map(run, tasks))
        finally:
            raw.execute(f"SET threads = {base}")
            for cur in cursors:
                cur.close()

    @contextmanager
    def heavy(self, table: str = "orders"):
        """Tune DuckDB for large aggregations over ``table`` (a context manager; every
        :meth:`execute` runs in it).

        DuckDB sizes its hash aggregations' per-thread tables and partitions by its thread
        count. With tens of millions of groups (customer-periods, orders), twice as many
        threads as cores did the same work faster on a 2-core machine: a group-by of 100M
        order lines by (customer, order) took 9.7 s instead of 19.5 s, by (customer, month)
        8.3 s instead of 14.2 s; the whole ``negah metrics --data DIR`` at 100M lines ~81 s
        instead of ~93 s (means of 7 and 4 runs, byte-identical output); at 10M lines it
        was slower (11.3 s instead of 9.9 s). So from :data:`HEAVY_ROWS` rows of ``table``
        on, the threads are doubled for the duration (docs/performance.md);
        ``$NEGAH_DUCKDB_THREADS`` fixes the count instead. Other engines: nothing changes.
        Queries over one customer chunk at a time (:meth:`light`) have small hash tables,
        and more threads than cores only slowed them down (a chunk of 7M lines: 5.7 s
        instead of 3.2 s), so they keep the threads as they are.
        """
        if self.kind != "duckdb" or config.duckdb_threads() or self._light or not self.has(table):
            yield
            return
        if self._rows.get(table) is None:
            self._rows[table] = self.row_count(table)
        if self._rows[table] < HEAVY_ROWS:
            yield
            return
        raw = self.con.con
        # the setting belongs to the database, which connections to one file in this
        # process share: count its users across them
        key: Any = str(Path(self.location).resolve()) if self.location != ":memory:" else id(raw)
        with _HEAVY_LOCK:
            if _HEAVY.get(key, (0, 0))[0] == 0:
                base = int(raw.execute("SELECT current_setting('threads')").fetchone()[0])
                raw.execute(f"SET threads = {2 * base}")
                _HEAVY[key] = (1, base)
            else:
                _HEAVY[key] = (_HEAVY[key][0] + 1, _HEAVY[key][1])
        try:
            yield
        finally:
            with _HEAVY_LOCK:
                n, base = _HEAVY[key]
                if n == 1:
                    del _HEAVY[key]
                    if self.con is not None:
                        raw.execute(f"SET threads = {base}")
                else:
                    _HEAVY[key] = (n - 1, base)

    @contextmanager
    def light(self):
        """Queries over one customer chunk at a time: :meth:`heavy` changes nothing."""
        self._light += 1
        try:
            yield
        finally:
            self._light -= 1

    def customer_chunks(self, table: str = "orders") -> list[tuple[str | None, str | None]] | None:
        """Ranges of ``customer_id`` that cut ``table`` into chunks of about
        :attr:`chunk_rows` rows each, or None when the table is not worth cutting.

        Metrics are sums over customers, so they can be computed one customer range at a
        time and added up: each chunk's hash tables are then small, which is faster and
        needs far less memory. That only pays when a range reads just its own part of the
        data, i.e. when the data is *clustered* by customer, as files exported per
        customer (and ``negah synth``'s) are: the Parquet footers' min/max statistics of
        ``customer_id`` then show row groups with disjoint, increasing ranges, and DuckDB
        skips the row groups outside a chunk's range. Anything else (other engines, other
        sources, no statistics, overlapping ranges, or fewer than two chunks of rows): None.

        The ranges are ``[lo, hi)`` (``None`` = unbounded) and cover every value, so they
        never decide *what* is counted, only how the work is cut.
        """
        if self.kind != "duckdb" or table not in self.parquet:
            return None
        files, raw_cols = self.parquet[table]
        col = raw_cols.get("customer_id")
        if col is None:  # the view converts customer_id: a range would not reach the files
            return None
        from negah.store.convert import ql

        cur = self.con.con.cursor()
        try:
            rows = cur.execute(
                "SELECT row_group_num_rows, stats_min_value, stats_max_value "
                f"FROM parquet_metadata([{', '.join(ql(f) for f in files)}]) "
                f"WHERE path_in_schema = {ql(col)}"
            ).fetchall()
        except Exception:  # noqa: BLE001 - statistics are an optimisation only
            return None
        finally:
            cur.close()
        if not rows or any(r[1] is None or r[2] is None for r in rows):
            return None
        if sum(r[0] for r in rows) < 2 * self.chunk_rows:
            return None
        groups = sorted(rows, key=lambda r: (r[1], r[2]))
        if any(b[1] < a[2] for a, b in zip(groups, groups[1:])):
            return None  # row groups overlap: not clustered by customer
        bounds: list[str] = []
        acc = 0
        for g in groups:
            if acc >= self.chunk_rows and (not bounds or g[1] > bounds[-1]):
                bounds.append(g[1])
                acc = 0
            acc += g[0]
        if not bounds:
            return None
        edges: list[str | None] = [None, *bounds, None]
        return list(zip(edges, edges[1:]))

    def row_count(self, name: str) -> int:
        t = self.table(name)
        return 0 if t is None else int(self.con.execute(t.count()))

    def invalidate(self) -> None:
        """Forget cached table lists (after an import)."""
        self._present = None
        self._rows = {}


def _execute_on(con: Any, cur: Any, expr: "ir.Expr") -> Any:
    """``con.execute(expr)`` (Ibis's DuckDB backend) on the DuckDB cursor ``cur``: a
    cursor sees the database's tables and views but not what Ibis registered on its own
    connection, so the expression's in-memory tables are registered on ``cur`` first."""
    import ibis.expr.operations as ops
    import pandas as pd
    import pyarrow.types as pat
    from ibis.backends.duckdb.converter import DuckDBPandasData

    for op in expr.op().find(ops.InMemoryTable):
        cur.register(op.name, op.data.to_pyarrow(op.schema))
    table = cur.sql(con.compile(expr.as_table())).to_arrow_table()
    # as the backend converts its results
    df = pd.DataFrame(
        {
            name: (
                col.to_pylist()
                if pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
                else col.to_pandas()
            )
            for name, col in zip(table.column_names, table.columns)
        }
    )
    df = DuckDBPandasData.convert_table(df, expr.as_table().schema())
    return expr.__pandas_result__(df)


def canonical(t: "ir.Table", name: str, kind: str = "duckdb") -> "ir.Table":
    """Cast ``t`` to the canonical column types of table ``name``."""
    import ibis.expr.datatypes as dt

    spec = S.table(name)
    types = {
        "id": dt.string,
        "text": dt.string,
        "date": dt.date,
        "timestamp": dt.timestamp,
        "money": dt.Decimal(18, 4),
        "number": dt.Decimal(18, 4),
        "int": dt.int64,
        "bool": dt.boolean,
    }
    schema = t.schema()
    sel = {}
    for col in t.columns:
        if col == S.ROW_SOURCE_COLUMN:
            continue
        c = spec.column(col)
        if c is None:
            sel[col] = t[col]
            continue
        want = types[c.kind]
        have = schema[col]
        if have == want or (want.is_decimal() and have.is_decimal() and have.scale == 4):
            sel[col] = t[col]
        elif want.is_date() and have.is_timestamp():
            sel[col] = t[col].date()
        else:
            sel[col] = t[col].cast(want)
    return t.select(**sel)


# ------------------------------------------------------------------------------------
# opening
# ------------------------------------------------------------------------------------


def store_kind(target: str | Path | None) -> str:
    """``duckdb``, ``postgres`` or ``mysql`` for a store argument."""
    if target is None:
        return "duckdb"
    s = str(target)
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+]*)://", s)
    if m:
        scheme = m.group(1).lower().split("+")[0]
        if scheme not in URL_KINDS:
            raise StoreError(
                f"store {s!r}: unknown scheme {scheme!r}; use a DuckDB file path, "
                "postgresql://user@host/db or mysql://user:password@host/db"
            )
        return URL_KINDS[scheme]
    return "duckdb"


def open_store(
    target: str | Path | None = None, *, read_only: bool = False, create: bool = True, wait: float = 10.0
) -> Store:
    """Open the store ``target`` (a DuckDB path or a database URL).

    Parameters
    ----------
    target
        ``None`` for the default (``$NEGAH_STORE`` or ``./negah.duckdb``), a path to a
        DuckDB file, or ``postgresql://...`` / ``mysql://...``.
    read_only
        Open a DuckDB file read-only (several readers may share it).
    create
        Create a missing DuckDB file (ignored for read-only opens and URLs).
    wait
        Seconds to keep retrying while another process holds DuckDB's write lock.
    """
    if target is None:
        target = config.default_store()
    kind = store_kind(target)
    if kind == "duckdb":
        return _open_duckdb(str(target), read_only=read_only, create=create, wait=wait)
    return _open_url(str(target), kind)


def _open_duckdb(path: str, *, read_only: bool, create: bool, wait: float) -> Store:
    import duckdb
    import ibis

    if path.startswith("duckdb://"):
        path = path[len("duckdb://") :]
    p = Path(path)
    if path != ":memory:":
        if not p.exists() and (read_only or not create):
            raise StoreError(
                f"store {path!r} does not exist: import data first "
                f"(negah import FILE --store {path}) or name another store with --store"
            )
        if p.exists() and p.is_dir():
            raise StoreError(f"store {path!r} is a folder; to read canonical files in place use --data {path}")
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            raw = duckdb.connect(path, read_only=read_only)
            break
        except duckdb.IOException as e:
            msg = str(e)
            if "lock" in msg.lower() and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            if "lock" in msg.lower():
                raise StoreError(
                    f"store {path!r} is being written by another process ({_lock_holder(msg)}); "
                    "wait for it to finish, or query the running `negah serve` instead"
                ) from None
            raise StoreError(f"store {path!r} could not be opened: {msg}") from None
        except duckdb.Error as e:
            raise StoreError(f"store {path!r} could not be opened: {e}") from None
    raw.execute("SET preserve_insertion_order = true")
    if path == ":memory:":
        # --data folders: spill to the system's temporary folder, not ./.tmp
        raw.execute(f"SET temp_directory = '{str(config.duckdb_temp_dir()).replace(chr(39), chr(39) * 2)}'")
    limit = config.duckdb_memory_limit()
    if limit:
        try:
            raw.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
        except duckdb.Error as e:
            raise StoreError(f"NEGAH_DUCKDB_MEMORY={limit!r} is not a memory size (e.g. 12GB): {e}") from None
    threads = config.duckdb_threads()
    if threads:
        raw.execute(f"SET threads = {int(threads)}")
    # DuckDB's own progress bar writes to stdout, which belongs to --format json|csv output.
    raw.execute("SET enable_progress_bar = false")
    con = ibis.duckdb.from_connection(raw)
    store = Store(con, "duckdb", path, read_only=read_only)
    if not read_only:
        from negah.store.migrate import ensure_schema

        ensure_schema(store)
    else:
        from negah.store.migrate import check_version

        check_version(store)
    return store


def _lock_holder(msg: str) -> str:
    m = re.search(r"PID (\d+)", msg)
    return f"PID {m.group(1)}" if m else "another process"


def _open_url(url: str, kind: str) -> Store:
    import ibis

    try:
        with warnings.catch_warnings():
            # MariaDB without time-zone tables cannot set UTC; negah reads dates only.
            warnings.filterwarnings("ignore", message="Unable to set session timezone")
            if kind == "postgres":
                con = ibis.connect(re.sub(r"^postgresql", "postgres", url))
            else:
                con = ibis.connect(re.sub(r"^mariadb", "mysql", url))
    except ImportError as e:
        extra = "postgres" if kind == "postgres" else "mysql"
        raise StoreError(f"store {url!r} needs the {extra} driver: pip install 'negah[{extra}]' ({e})") from None
    except Exception as e:
        raise StoreError(f"store {url!r} could not be reached: {e}") from None
    return Store(con, kind, _redact(url), read_only=True)


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def spark_session():
    """One shared local Spark session (UI off, few shuffle partitions, UTC)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(config.spark_master())
        .appName("negah")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
