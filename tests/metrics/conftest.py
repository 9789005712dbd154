"""Fixtures for the metrics tests: stores built from pandas frames with canonical types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from negah.store import schema as S

ARROW = {
    "id": pa.string(),
    "text": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "money": pa.decimal128(18, 4),
    "number": pa.decimal128(18, 4),
    "int": pa.int64(),
    "bool": pa.bool_(),
}


def _conv(kind: str, v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    if kind in ("money", "number"):
        return Decimal(str(v))
    if kind == "date":
        return pd.Timestamp(v).date() if not isinstance(v, dt.date) else v
    if kind in ("id", "text"):
        return str(v)
    if kind == "int":
        return int(v)
    return v


def to_arrow(name: str, df: pd.DataFrame) -> pa.Table:
    spec = S.table(name)
    arrays, fields = [], []
    for c in df.columns:
        col = spec.column(c)
        kind = col.kind if col else "text"
        vals = [_conv(kind, v) for v in df[c].tolist()]
        arrays.append(pa.array(vals, type=ARROW[kind]))
        fields.append(pa.field(c, ARROW[kind]))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def make_store(**frames: pd.DataFrame):
    """An in-memory DuckDB store holding the given canonical tables."""
    from negah.store.connect import open_store

    s = open_store(":memory:")
    for name, df in frames.items():
        if df is not None:
            s.con.create_table(name, to_arrow(name, df))
    s.invalidate()
    return s


def orders_frame(rows, columns=("customer_id", "order_date", "amount")) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(columns))


@pytest.fixture
def store_factory():
    opened = []

    def make(**frames):
        s = make_store(**frames)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()
