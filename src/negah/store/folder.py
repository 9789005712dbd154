"""Reading a folder of canonical files in place (``--data DIR``).

``DIR/<table>.csv``, ``.parquet`` or ``.xlsx`` for any canonical table; absent tables are
skipped, optional columns may be absent and extra columns are kept.

* ``engine="duckdb"`` (default): the files are validated and loaded by the importer into
  an in-memory DuckDB store, so bad input gets the same clear errors as ``negah import``.
* ``engine="spark"``: the files are read by Apache Spark (for data that outgrows one
  machine; ``PATH`` may be any path Spark reads, e.g. a folder of Parquet parts per
  table: ``PATH/orders/``). Spark does not validate like the importer: bring clean,
  typed data (e.g. Parquet written by ``negah synth`` or your pipeline).
"""

from __future__ import annotations

from pathlib import Path

from negah.errors import InputError, StoreError
from negah.store import schema as S
from negah.store.connect import Store
from negah.store.ingest import SUPPORTED, table_for_path


def table_files(path: str | Path) -> dict[str, list[Path]]:
    """Canonical table -> its files in folder ``path`` (``orders.csv``; ``orders/part-*.parquet``)."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"--data {path}: no such folder")
    if not root.is_dir():
        raise InputError(f"--data {path}: not a folder (give the folder that holds orders.csv, ...)")
    out: dict[str, list[Path]] = {}
    for f in sorted(root.iterdir()):
        t = table_for_path(f)
        if t is None:
            continue
        if f.is_file() and f.suffix.lower() in SUPPORTED:
            if t in out and out[t][0].suffix.lower() != f.suffix.lower():
                raise InputError(f"--data {path}: table {t} has two files ({out[t][0].name}, {f.name}); keep one")
            out.setdefault(t, []).append(f)
        elif f.is_dir():
            parts = sorted(p for p in f.rglob("*.parquet"))
            if parts:
                out.setdefault(t, []).extend(parts)
    if not out:
        raise InputError(f"--data {path}: no file named after a table ({', '.join(S.TABLES)}; .csv, .parquet or .xlsx)")
    return out


def open_folder(path: str | Path, *, engine: str = "duckdb", progress: bool = False) -> Store:
    """A :class:`Store` over the canonical files of folder ``path``, read in place."""
    files = table_files(path)
    if engine == "duckdb":
        from negah.store.connect import open_store
        from negah.store.ingest import import_files

        from negah.store.ingest import attach_parquet

        store = open_store(":memory:")
        parquet = {t: fs for t, fs in files.items() if fs[0].suffix.lower() in (".parquet", ".pq")}
        other = [f for t, fs in files.items() if t not in parquet for f in fs]
        from negah.store.ingest import READING_FOLDER

        token = READING_FOLDER.set(True)
        try:
            if other:  # CSV and Excel are validated and loaded into memory (read once)
                import_files(store, other, progress=progress)
            if parquet:  # Parquet is validated in one pass and then read in place through views
                attach_parquet(store, parquet, progress=progress)
        except Exception:
            store.close()
            raise
        finally:
            READING_FOLDER.reset(token)
        store.location = f"folder {path}"
        store.read_only = True
        return store
    if engine == "spark":
        return _open_spark_folder(files, str(path))
    raise StoreError(f"engine {engine!r}: expected duckdb or spark")


def _open_spark_folder(files: dict[str, list[Path]], label: str) -> Store:
    import ibis

    from negah.store.connect import spark_session

    spark = spark_session()
    con = ibis.pyspark.connect(spark)
    for t, fs in files.items():
        paths = [str(f) for f in fs]
        suffix = fs[0].suffix.lower()
        if suffix in (".parquet", ".pq"):
            df = spark.read.parquet(*paths)
        elif suffix in (".csv", ".tsv", ".txt"):
            df = spark.read.option("header", True).option("inferSchema", False).csv(paths)
        else:
            raise InputError(f"--engine spark reads Parquet and CSV; {fs[0].name} is {suffix}")
        df.createOrReplaceTempView(t)
    return Store(con, "spark", f"spark folder {label}", read_only=True, spark=spark)
