"""Vectorised encoding of the synthetic business's columns into Arrow arrays.

Ids are built as fixed-width byte matrices (prefix + zero-padded digits) and handed to
Arrow as one buffer; dates, timestamps and exact money are integer buffers viewed with
the Arrow type; labels are taken from a small cached vocabulary. No per-row Python.
pyarrow is imported inside the functions (``negah.synth`` imports only NumPy).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)


def digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of the zero-padded decimal digits of ``numbers``."""
    n = int(numbers.size)
    buf = np.empty((n, width), dtype=np.uint8)
    x = numbers.astype(np.int64, copy=True)
    j = width
    while j >= 2:
        buf[:, j - 2 : j] = _PAIRS[x % 100]
        x //= 100
        j -= 2
    if j == 1:
        buf[:, 0] = (x % 10 + 48).astype(np.uint8)
    return buf


def gather_rows(mat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of a uint8 matrix (``np.take`` along axis 0 copies whole rows, fast)."""
    return np.take(mat, idx, axis=0)


def fixed_strings(mat: np.ndarray):
    """Arrow string array whose i-th value is the bytes of row i of ``mat`` (all rows the same width)."""
    import pyarrow as pa

    n, w = mat.shape
    if (n + 1) * w < 2**31:
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(mat))]
        )
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(mat))]
    ).cast(pa.string())


def prefixed(prefix: str, *parts: np.ndarray) -> np.ndarray:
    """Concatenate ``prefix`` and digit matrices column-wise into one uint8 matrix."""
    n = parts[0].shape[0]
    pre = prefix.encode()
    out = np.empty((n, len(pre) + sum(p.shape[1] for p in parts)), dtype=np.uint8)
    out[:, : len(pre)] = np.frombuffer(pre, dtype=np.uint8)
    j = len(pre)
    for p in parts:
        out[:, j : j + p.shape[1]] = p
        j += p.shape[1]
    return out


_LABELS: dict[tuple, Any] = {}


def labels(names, idx: np.ndarray):
    """Arrow string array ``names[idx]`` (Arrow's take is fast on a small vocabulary)."""
    import pyarrow as pa

    key = tuple(names)
    vocab = _LABELS.get(key)
    if vocab is None:
        vocab = _LABELS[key] = pa.array(list(key), type=pa.string())
    return vocab.take(pa.array(np.asarray(idx).astype(np.int32, copy=False)))


SEQ4 = digits(np.arange(10_000), 4)
"""Zero-padded 0000..9999: the order number within a customer in order and complaint ids."""


def date_array(days: np.ndarray, mask: np.ndarray | None = None):
    """date32 array from days since 1970-01-01 (``mask`` True = null)."""
    import pyarrow as pa

    return pa.array(days.astype(np.int32, copy=False), type=pa.int32(), mask=mask).view(pa.date32())


def timestamp_array(seconds: np.ndarray, mask: np.ndarray | None = None):
    import pyarrow as pa

    return pa.array(seconds.astype(np.int64, copy=False), type=pa.int64(), mask=mask).view(pa.timestamp("s"))


def money(cents: np.ndarray):
    """decimal128(18, 2) array from integer cents, exact."""
    import pyarrow as pa

    c = cents.astype(np.int64, copy=False)
    buf = np.empty(2 * c.size, dtype=np.int64)
    buf[0::2] = c
    buf[1::2] = c >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), c.size, [None, pa.py_buffer(buf)])


class CustomerIds:
    """The customer ids ``C`` + 9 digits of one block, and the ids derived from them."""

    def __init__(self, numbers: np.ndarray):
        self.digits = digits(numbers, 9)
        self.matrix = prefixed("C", self.digits)
        self.all = fixed_strings(self.matrix)

    def of(self, local: np.ndarray):
        """The customer id of each local index in ``local``."""
        return fixed_strings(gather_rows(self.matrix, local))

    def derived(self, prefix: str, local: np.ndarray, *suffix: np.ndarray):
        """``prefix`` + the customer's 9 digits + the digit matrices ``suffix`` (order, complaint ids)."""
        return fixed_strings(prefixed(prefix, gather_rows(self.digits, local), *suffix))


HIGH_CARDINALITY = {"customer_id", "order_id", "complaint_id", "subscription_id"}
"""(Nearly) unique columns: Parquet gets no dictionary and no min/max statistics for them
(customer_id keeps its statistics: see ``run.py``)."""


def schema(name: str):
    """The Arrow schema of table ``name`` (a canonical table, or ``truth_customers``)."""
    return _schemas()[name]


@lru_cache(maxsize=1)
def _schemas():
    import pyarrow as pa

    s, d, ts, m, i, b, f = (
        pa.string(),
        pa.date32(),
        pa.timestamp("s"),
        pa.decimal128(18, 2),
        pa.int64(),
        pa.bool_(),
        pa.float64(),
    )
    return {
        "customers": pa.schema(
            [
                ("customer_id", s),
                ("signup_date", d),
                ("plan", s),
                ("country", s),
                ("acquisition_channel", s),
                ("loyalty_member", b),
                ("loyalty_joined", d),
            ]
        ),
        "orders": pa.schema(
            [
                ("order_id", s),
                ("customer_id", s),
                ("order_date", d),
                ("product_id", s),
                ("quantity", i),
                ("amount", m),
                ("kind", s),
            ]
        ),
        "subscriptions": pa.schema(
            [("subscription_id", s), ("customer_id", s), ("start_date", d), ("end_date", d), ("mrr", m), ("plan", s)]
        ),
        "responses": pa.schema([("customer_id", s), ("response_date", d), ("score", i), ("survey_id", s)]),
        "complaints": pa.schema(
            [
                ("complaint_id", s),
                ("customer_id", s),
                ("complaint_date", d),
                ("reason", s),
                ("product_id", s),
                ("channel", s),
                ("status", s),
                ("text", s),
            ]
        ),
        "contacts": pa.schema(
            [("customer_id", s), ("contacted_at", ts), ("channel", s), ("direction", s), ("outcome", s)]
        ),
        "campaigns": pa.schema(
            [
                ("customer_id", s),
                ("campaign_id", s),
                ("offer", s),
                ("sent_at", ts),
                ("responded_at", ts),
                ("converted_at", ts),
            ]
        ),
        "spend": pa.schema([("spend_date", d), ("channel", s), ("amount", m)]),
        "truth_customers": pa.schema(
            [
                ("customer_id", s),
                ("purchase_rate", f),
                ("dropout_p", f),
                ("dropout_logit_base", f),
                ("satisfaction", f),
                ("basket_lines", f),
                ("subscriber", b),
                ("best_channel", s),
                ("best_hour", i),
                ("loyalty_member", b),
                ("loyalty_joined", d),
                ("purchases", i),
                ("complaints", i),
                ("last_purchase_date", d),
                ("dropped_out", b),
                ("dropout_date", d),
                ("alive_at_end", b),
                ("alive_without_loyalty", b),
                ("next_purchase_after_join", d),
                ("dropout_on_join_day_without_loyalty", b),
            ]
        ),
    }
