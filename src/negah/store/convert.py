"""Turning cell text into canonical values: one SQL expression per column, plus its check.

Used by :mod:`negah.store.ingest`. Every function returns SQL text built only from escaped
identifiers (:func:`qi`) and literals (:func:`ql`); no value from a file is pasted in.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from negah.store import schema as S

if TYPE_CHECKING:  # pragma: no cover
    from typing import Sequence

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

# ------------------------------------------------------------------------------------
# small SQL helpers (identifiers and literals are escaped, never pasted raw)
# ------------------------------------------------------------------------------------


def qi(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + str(name).replace('"', '""') + '"'


def ql(value: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + str(value).replace("'", "''") + "'"


def _norm_header(name: str) -> str:
    n = str(name).strip().lstrip("\ufeff").strip().lower()
    n = re.sub(r"[\s\-\.]+", "_", n)
    return n


def _digits(expr: str) -> str:
    """SQL: Persian and Arabic-Indic digits (and separators) in ``expr`` (already trimmed) to ASCII."""
    # translate() is slow on every row; only non-ASCII text (bytes != characters) needs it.
    return (
        f"CASE WHEN strlen({expr}) = length({expr}) THEN {expr} ELSE "
        f"translate({expr}, {ql(PERSIAN_DIGITS + ARABIC_DIGITS + '٫٬')}, "
        f"{ql('0123456789' * 2 + '.,')}) END"
    )


# ------------------------------------------------------------------------------------
# conversions: one SQL expression per canonical column (value or NULL) and one check
# ------------------------------------------------------------------------------------

_DATE_HELP = "use YYYY-MM-DD (e.g. 2024-03-01), DD/MM/YYYY, or a Jalali date such as 1399/03/13"


def _date_parts(expr: str, date_order: str) -> str:
    """SQL struct {y, m, d, t} of year, month, day and time-of-day text parsed from ``expr``."""
    s = _digits(expr)
    ymd = f"regexp_extract({s}, '^(\\d{{4}})[-/.](\\d{{1,2}})[-/.](\\d{{1,2}})(?:$|[T ])', ['y','m','d'])"
    dmy = f"regexp_extract({s}, '^(\\d{{1,2}})[-/.](\\d{{1,2}})[-/.](\\d{{4}})(?:$|[T ])', ['a','b','y'])"
    first, second = ("a", "b") if date_order == "mdy" else ("b", "a")  # (month, day) groups
    t = f"regexp_extract({s}, '^[0-9/.\\-]+[T ](\\d{{1,2}}:\\d{{2}}(?::\\d{{2}}(?:\\.\\d+)?)?)', 1)"
    return (
        f"struct_pack(y := coalesce(nullif({ymd}.y, ''), nullif({dmy}.y, '')), "
        f"m := coalesce(nullif({ymd}.m, ''), nullif({dmy}.{first}, '')), "
        f"d := coalesce(nullif({ymd}.d, ''), nullif({dmy}.{second}, '')), t := nullif({t}, ''))"
    )


def _date_sql(expr: str, parts: str, with_time: bool) -> str:
    """SQL converting a text date (Gregorian or Jalali, any digits) to DATE / TIMESTAMP.

    ``parts`` names a column holding :func:`_date_parts` of ``expr``, computed in an earlier
    stage so that the expressions stay small (DuckDB plans huge nested expressions slowly).
    """
    y, m, d, t = (f"{parts}.y", f"{parts}.m", f"{parts}.d", f"{parts}.t")
    greg = f"try_strptime({y} || '-' || {m} || '-' || {d}, '%Y-%m-%d')"
    day = f"CASE WHEN try_cast({y} AS INTEGER) < 1700 THEN {_jalali_sql(y, m, d)} ELSE {greg} END"
    # Fast path first: most exports use ISO dates; the general parse runs only where it fails
    # or where the year is below 1700 (a Jalali date written as YYYY-MM-DD).
    if not with_time:
        iso = f"try_strptime({expr}, '%Y-%m-%d')"
        return f"CAST(CASE WHEN year({iso}) >= 1700 THEN {iso} ELSE {day} END AS DATE)"
    general = f"CASE WHEN {t} IS NULL THEN {day} ELSE {day} + try_cast({t} AS INTERVAL) END"
    iso = f"try_strptime({expr}, '%Y-%m-%d %H:%M:%S')"
    return f"CASE WHEN year({iso}) >= 1700 THEN {iso} ELSE {general} END"


def parse_dates(texts: "Sequence[str | None]", date_order: str = "dmy") -> list:
    """Calendar dates (``datetime.date`` or None) of cell texts, by exactly the importer's rules.

    ISO, ``2024/03/01``, day-first ``01/03/2024`` (month-first with ``date_order="mdy"``),
    Jalali ``1399/03/13`` and Persian or Arabic-Indic digits, with or without a time; None
    where a text is blank or not a date. Used where dates arrive outside an import (a CRM
    export scored by ``negah predict``); the SQL runs on a throw-away in-memory DuckDB.
    """
    import duckdb
    import pyarrow as pa

    if date_order not in ("dmy", "mdy"):
        raise ValueError(f"date_order must be dmy or mdy, received {date_order!r}")
    values = [None if t is None else str(t) for t in texts]
    if not values:
        return []
    pre: dict[str, str] = {}
    value, _, _ = _convert(S.Column("d", "date"), qi("v"), "VARCHAR", date_order, pre)
    stage = ", ".join(f"{v} AS {k}" for k, v in pre.items())
    cells = pa.table({"v": pa.array(values, type=pa.string())})  # noqa: F841 - read by DuckDB below
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(f"SELECT {value} FROM (SELECT *, {stage} FROM cells)").fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


_BOOL_TRUE = ("true", "t", "yes", "y", "1", "بله", "آری", "member")
_BOOL_FALSE = ("false", "f", "no", "n", "0", "خیر", "نه", "")


def _convert(
    col: S.Column, src: str, src_type: str, date_order: str, pre: dict[str, str] | None = None
) -> tuple[str, str, str]:
    """(value SQL, bad-condition SQL, message) for one canonical column read from ``src``.

    Helper columns the value needs are added to ``pre`` (alias -> SQL), to be computed in a
    stage before the value.
    """
    is_text = src_type.upper().startswith("VARCHAR")
    # Text is trimmed, empty is missing; typed values (Parquet, DataFrames, the fast CSV path)
    # are used as they are: casting them to text on every row is what makes imports slow.
    v = f"nullif(trim({src}), '')" if is_text else src
    vt = v if is_text else f"nullif(trim(CAST({src} AS VARCHAR)), '')"
    if is_text and pre is not None:
        # trimmed once, in an earlier stage, instead of in every expression that needs it
        v = vt = qi(f"__t_{col.name}")
        pre[v] = f"nullif(trim({src}), '')"
    if col.kind in ("id",):
        value = _digits(v) if is_text else f"CAST({src} AS VARCHAR)"
        if src_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
            # 7.0 -> '7': integer-valued floats (Excel, pandas with NaN) are ids without '.0'
            value = (
                f"CASE WHEN {src} = floor({src}) THEN CAST(CAST({src} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({src} AS VARCHAR) END"
            )
        return value, "false", ""
    if col.kind == "text":
        if col.allowed:
            value = f"lower({vt})"
            allowed = ", ".join(ql(a) for a in col.allowed)
            return (
                value,
                f"({value} IS NOT NULL AND {value} NOT IN ({allowed}))",
                f"is not one of {', '.join(col.allowed)}",
            )
        return (v if is_text else f"CAST({src} AS VARCHAR)"), "false", ""
    if col.kind in ("date", "timestamp"):
        with_time = col.kind == "timestamp"
        target = "TIMESTAMP" if with_time else "DATE"
        up = src_type.upper()
        if up == "DATE" or up.startswith("TIMESTAMP"):
            if up.startswith("TIMESTAMP WITH TIME ZONE"):
                value = f"CAST(timezone('UTC', {src}) AS {target})"
            else:
                value = f"CAST({src} AS {target})"
            return value, "false", ""
        parts = qi(f"__p_{col.name}")
        if pre is None:
            raise ValueError("text dates need a pre-stage dict")
        pre[parts] = _date_parts(vt, date_order)
        value = _date_sql(vt, parts, with_time)
        return value, f"({vt} IS NOT NULL AND ({value}) IS NULL)", "is not a date" + (" and time" if with_time else "")
    if col.kind in ("money", "number"):
        if is_text:
            txt = f"replace(replace({_digits(v)}, ',', ''), ' ', '')"
            plain = f"try_cast({v} AS DECIMAL(18,4))"
            value = f"CASE WHEN {plain} IS NOT NULL THEN {plain} ELSE try_cast({txt} AS DECIMAL(18,4)) END"
        else:
            value = f"try_cast({src} AS DECIMAL(18,4))"
        return value, f"({v} IS NOT NULL AND ({value}) IS NULL)", "is not a number"
    if col.kind == "int":
        num = f"try_cast({_digits(v) if is_text else src} AS DOUBLE)"
        value = f"CAST({num} AS BIGINT)"
        cond = f"({v} IS NOT NULL AND ({num} IS NULL OR {num} != floor({num})"
        msg = "is not a whole number"
        if col.min_value is not None:
            cond += f" OR {num} < {col.min_value} OR {num} > {col.max_value}"
            msg = f"is not a whole number from {col.min_value:g} to {col.max_value:g}"
        return value, cond + "))", msg
    if col.kind == "bool":
        if src_type.upper() == "BOOLEAN":
            return src, "false", ""
        low = f"lower({vt})"
        t = ", ".join(ql(x) for x in _BOOL_TRUE)
        f_ = ", ".join(ql(x) for x in _BOOL_FALSE if x)
        value = f"CASE WHEN {low} IN ({t}) THEN true WHEN {low} IN ({f_}) THEN false END"
        return value, f"({v} IS NOT NULL AND ({value}) IS NULL)", "is not yes/no (true/false, 1/0)"
    raise AssertionError(col.kind)  # pragma: no cover


_FIX = {
    "id": "give every row a value",
    "date": _DATE_HELP,
    "timestamp": "use YYYY-MM-DD HH:MM[:SS] (e.g. 2024-03-01 14:30)",
    "money": "use a plain number such as 1250.50 (no currency sign)",
    "number": "use a plain number such as 2",
    "int": "use a whole number",
    "bool": "use true/false, yes/no or 1/0",
    "text": "fill in the value",
}


# ------------------------------------------------------------------------------------
# Jalali dates, converted arithmetically in SQL (no join, no UDF)
# ------------------------------------------------------------------------------------

JALALI_FIRST_YEAR, JALALI_LAST_YEAR = 1200, 1699
_JALALI_LEAP_REMAINDERS = (1, 5, 9, 13, 17, 22, 26, 30)
"""The 33-year arithmetic rule jdatetime uses: year % 33 in these is a leap year."""


def _jalali_sql(y: str, m: str, d: str) -> str:
    """SQL: the Gregorian TIMESTAMP of Jalali y/m/d (text parts), NULL when impossible.

    The day number follows jdatetime's arithmetic (the 33-year cycle): days since
    1600-01-01 = 365·(y−979) + 8·⌊(y−979)/33⌋ + ⌊((y−979) mod 33 + 3)/4⌋ + 79 + month
    offset + day − 1. ``tests/store/test_ingest.py`` checks it against jdatetime for every
    1 Farvardin and Esfand length from 1200 to 1699.
    """
    yi, mi, di = (f"try_cast({y} AS INTEGER)", f"try_cast({m} AS INTEGER)", f"try_cast({d} AS INTEGER)")
    jy = f"({yi} - 979)"
    leap = f"(({yi} % 33) IN {_JALALI_LEAP_REMAINDERS})"
    month_len = f"CASE WHEN {mi} <= 6 THEN 31 WHEN {mi} <= 11 THEN 30 WHEN {leap} THEN 30 ELSE 29 END"
    offset = f"CASE WHEN {mi} <= 6 THEN ({mi} - 1) * 31 ELSE 186 + ({mi} - 7) * 30 END"
    days = f"(365 * {jy} + ({jy} // 33) * 8 + (({jy} % 33) + 3) // 4 + 79 + {offset} + {di} - 1)"
    ok = (
        f"{yi} BETWEEN {JALALI_FIRST_YEAR} AND {JALALI_LAST_YEAR} AND {mi} BETWEEN 1 AND 12 "
        f"AND {di} >= 1 AND {di} <= {month_len}"
    )
    return f"CASE WHEN {ok} THEN CAST(DATE '1600-01-01' + CAST({days} AS INTEGER) AS TIMESTAMP) END"
