"""One cheap validating pass for files read in place (``--data DIR`` over Parquet).

The importer's checks convert every value (trim, digits, dates, numbers) and compare the
result with the raw value. On clean, typed data (Parquet written by a pipeline) nothing
changes, and proving that needs no conversion at all:

* text (ids, text, ``kind``): the raw value is already what the conversion makes of it
  when it is ASCII, not empty and not padded with spaces (DuckDB's ``trim`` strips only
  Unicode space separators, which in ASCII is the space), or one of the allowed values;
  "not empty and not starting with a space" holds for all values when their minimum is
  at least ``'!'`` (bytes compare as bytes), which is cheaper than testing each start
  (and free where the footers' statistics give the minimum);
* ``DATE``/``TIMESTAMP`` columns read as the same type: unchanged;
* money and numbers stored as integers or DECIMAL with at most 4 decimals: unchanged
  when they fit DECIMAL(18,4), which their minimum and maximum tell;
* a required column is then missing exactly where the raw value is NULL.

:func:`quick_check` evaluates these conditions (and the exact checks of any column
without such a shortcut) in ONE pass. When they all hold, no row is bad and the view can
read the raw columns; otherwise the caller runs the exact checks, which name every bad
cell. The result never differs from the exact checks; only the work does.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from negah.store import schema as S
from negah.store.convert import qi, ql

_INTEGER = re.compile(r"^(U?(TINYINT|SMALLINT|INTEGER|BIGINT)|HUGEINT|INT\d*)$")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_LIMIT = Decimal(10) ** 14  # DECIMAL(18,4) holds |v| < 10^14


def _shortcut(col: S.Column, src: str, src_type: str) -> tuple[str, str] | None:
    """(what, SQL aggregate) proving ``col`` read from ``src`` needs no conversion, or None."""
    t = src_type.upper()
    q = qi(src)
    if col.kind in ("id", "text") and t == "VARCHAR":
        if col.allowed:
            return "ok", f"coalesce(bool_and({q} IS NULL OR {q} IN ({', '.join(ql(a) for a in col.allowed)})), true)"
        # ASCII and not ending in a space; with the minimum >= '!' (the caller's) not empty
        # nor starting with a space: cheaper than testing each value's start
        return "text", f"coalesce(bool_and(NOT suffix({q}, ' ') AND strlen({q}) = length({q})), true)"
    if (col.kind == "date" and t == "DATE") or (col.kind == "timestamp" and t == "TIMESTAMP"):
        return "ok", "true"
    if col.kind in ("money", "number"):
        m = _DECIMAL.match(t)
        if _INTEGER.match(t) or (m and int(m.group(2)) <= 4):
            return "range", f"min({q}), max({q})"
    return None


def file_stats(raw: Any, files: list[str]) -> dict[str, tuple[int, Any, Any]]:
    """Column -> (null count, minimums, maximums) from the Parquet footers of ``files``, for
    the top-level columns that every row group of every file has statistics for: a null
    count, and a minimum and maximum unless all its values are null (writers may shorten
    a text minimum to a prefix, which is still a lower bound)."""
    from negah.store.convert import ql

    # on a cursor of its own: a failed statement would abort the caller's open transaction
    cur = raw.cursor()
    try:
        rows = cur.execute(
            "SELECT file_name, path_in_schema, stats_null_count, stats_min_value, stats_max_value, "
            "row_group_num_rows "
            f"FROM parquet_metadata([{', '.join(ql(f) for f in files)}])"
        ).fetchall()
    except Exception:  # noqa: BLE001 - statistics are an optimisation only
        return {}
    finally:
        cur.close()
    per: dict[str, list[tuple]] = {}
    seen: dict[str, set[str]] = {}
    for f, col, nulls, lo, hi, n in rows:
        known = nulls is not None and ((lo is not None and hi is not None) or nulls == n)
        per.setdefault(col, []).append((nulls if known else None, lo, hi))
        seen.setdefault(col, set()).add(f)
    out: dict[str, tuple[int, Any, Any]] = {}
    for col, vals in per.items():
        if len(seen[col]) != len(set(files)) or any(v[0] is None for v in vals):
            continue
        lows = [v[1] for v in vals if v[1] is not None]
        highs = [v[2] for v in vals if v[2] is not None]
        out[col] = (sum(v[0] for v in vals), lows, highs)
    return out


def _in_range(lows: list, highs: list) -> bool | None:
    """Whether every value lies strictly within ±10^14 (None when the text is not a number)."""
    try:
        return all(-_LIMIT < Decimal(str(v)) < _LIMIT for v in [*lows, *highs])
    except ArithmeticError:
        return None


def quick_check(
    raw: Any,
    relation: str,
    spec: S.Table,
    matched: dict[str, str],
    types: dict[str, str],
    values: dict[str, str],
    checks: list[tuple[str, str, str, str]],
    files: list[str] | None = None,
) -> dict[str, str] | None:
    """Canonical column -> raw column for every column the view can read raw, when ONE cheap
    pass over ``relation`` shows that no row is bad; None when the exact checks must run.

    ``checks`` are the importer's (source column, bad-flag column, message, fix); only those
    of columns without a shortcut are counted here. With the Parquet ``files``, null counts
    and value ranges come from their footers where every row group has statistics (those
    columns are then not read at all).
    """
    stats = file_stats(raw, files) if files else {}
    parts: list[str] = []
    plan: list[tuple[str, str]] = []  # (what, canonical column) per result value
    exact: list[str] = []
    for canon, sc in matched.items():
        col = spec.column(canon)
        cut = _shortcut(col, sc, types[sc])
        if cut is None:
            exact.append(canon)
            for c in checks:
                if c[0] == sc:
                    parts.append(f"count(*) FILTER (WHERE {c[1]})")
                    plan.append(("bad", canon))
            parts.append(f"coalesce(bool_and({values[canon]} IS NOT DISTINCT FROM {qi(sc)}), true)")
            plan.append(("same", canon))
            continue
        what, sql = cut
        st = stats.get(sc)
        if what == "text" and st is not None and st[1] and not min(st[1]) >= "!":
            return None  # the smallest value's start, from the footers
        if what == "range" and st is not None:
            ok = _in_range(st[1], st[2])
            if ok is False:
                return None
            if ok is None:
                st = None
        if what == "range" and st is None:
            parts.append(sql)
            plan.extend([(what, canon)] * 2)
        elif what == "ok" and sql != "true":
            parts.append(sql)
            plan.append((what, canon))
        elif what == "text" and st is not None:
            parts.append(sql)
            plan.append(("ok", canon))
        elif what == "text":
            parts.append(f"{sql}, min({qi(sc)})")
            plan.extend([("ok", canon), ("first", canon)])
        if col.required:
            if st is not None:
                if st[0]:
                    return None
            else:
                parts.append(f"count(*) FILTER (WHERE {qi(sc)} IS NULL)")
                plan.append(("bad", canon))
    same = {canon: sc for canon, sc in matched.items() if canon not in exact}
    if not parts:
        return same
    row = raw.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone()
    lo: dict[str, Any] = {}
    for (what, canon), v in zip(plan, row):
        if what == "ok" and not v:
            return None
        if what == "first" and v is not None and not v >= "!":
            return None
        if what == "bad" and v:
            return None
        if what == "range":
            if canon in lo and v is not None and not _in_range([lo[canon]], [v]):
                return None
            lo.setdefault(canon, v)
        if what == "same" and v:
            same[canon] = matched[canon]
    return same
