"""Spark-specific store helpers (owned by the metrics engine; connect.py stays the only
module that creates sessions).

* :func:`open_spark` — a Store over pandas DataFrames loaded into Spark temporary views
  with the canonical column types (used by parity tests and notebooks);
* :func:`temp_table` — ship a small pandas frame (the calendar table) to Spark.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from negah.store import schema as S
from negah.store.connect import Store

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

_counter = itertools.count()

_SPARK_TYPES = {
    "id": "string",
    "text": "string",
    "date": "date",
    "timestamp": "timestamp",
    "money": "decimal(18,4)",
    "number": "decimal(18,4)",
    "int": "bigint",
    "bool": "boolean",
}


def _spark_df(spark: Any, df: "pd.DataFrame", table: str | None = None):
    """A Spark DataFrame from pandas, canonical columns cast to their Spark types."""
    from pyspark.sql import functions as F

    pdf = df.copy()
    for c in pdf.columns:
        if pdf[c].dtype == object:
            pdf[c] = pdf[c].astype(object).where(pdf[c].notna(), None)
    spec = S.TABLES.get(table) if table else None
    # decimals and dates travel as strings, then are cast exactly in Spark
    for c in pdf.columns:
        col = spec.column(c) if spec else None
        if col is not None and col.kind in ("money", "number", "date", "timestamp", "id", "text"):
            pdf[c] = pdf[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
        elif col is None and pdf[c].dtype == object:
            pdf[c] = pdf[c].map(lambda v: None if v is None else str(v) if not isinstance(v, (int, float, bool)) else v)
    sdf = spark.createDataFrame(pdf) if len(pdf) else spark.createDataFrame(pdf.astype(str))
    for c in pdf.columns:
        col = spec.column(c) if spec else None
        if col is not None:
            sdf = sdf.withColumn(c, F.col(c).cast(_SPARK_TYPES[col.kind]))
    return sdf


def open_spark(frames: dict[str, "pd.DataFrame"], session: Any = None) -> Store:
    """A Spark-backed :class:`Store` whose canonical tables are the given pandas frames."""
    import ibis

    from negah.store.connect import spark_session

    spark = session or spark_session()
    con = ibis.pyspark.connect(spark)
    prefix = f"negah_{next(_counter)}_"
    names = {}
    for name, df in frames.items():
        S.table(name)
        view = prefix + name
        _spark_df(spark, df, name).createOrReplaceTempView(view)
        names[name] = view
    return _ViewStore(con, "spark", "spark frames", names, spark=spark)


class _ViewStore(Store):
    """A Store whose canonical table names map to (uniquely named) Spark views."""

    def __init__(self, con: Any, kind: str, location: str, names: dict[str, str], spark: Any = None):
        super().__init__(con, kind, location, read_only=True, spark=spark)
        self._names = names

    def list_tables(self) -> list[str]:
        return [n for n in S.TABLES if n in self._names]

    def raw_table(self, name: str) -> "ir.Table":
        return self.con.table(self._names[name])

    def table(self, name: str) -> "ir.Table | None":
        from negah.store.connect import canonical

        S.table(name)
        if name not in self._names:
            return None
        return canonical(self.con.table(self._names[name]), name, self.kind)


def temp_table(store: Store, df: "pd.DataFrame", stem: str) -> "ir.Table":
    """Ship a small pandas frame to the store's Spark session as a temporary view."""
    from pyspark.sql import functions as F

    spark = store._spark
    if spark is None:
        from negah.store.connect import spark_session

        spark = spark_session()
    name = f"{stem}_{next(_counter)}"
    pdf = df.copy()
    datecols = [c for c in pdf.columns if pdf[c].dtype == object]
    for c in datecols:
        pdf[c] = pdf[c].map(str)
    sdf = spark.createDataFrame(pdf)
    for c in datecols:
        sdf = sdf.withColumn(c, F.col(c).cast("date"))
    sdf.createOrReplaceTempView(name)
    return store.con.table(name)
