"""Reading, validating and loading files into an embedded (DuckDB) store.

``negah import`` and the REST ingest endpoints go through :func:`import_files` and
:func:`import_frame`. The rules:

* **All or nothing.** Every file of one call is validated and loaded inside one
  transaction. Any problem (in strict mode) rolls everything back and raises
  :class:`~negah.errors.InputError` listing *all* problems (up to a cap), each naming the
  file, the data row (counted from 1, header excluded), the column, the value and the fix.
  A process killed mid-way leaves the store as it was (DuckDB's write-ahead log keeps
  uncommitted work out).
* **Re-imports never double count.** A file is recognised by the SHA-256 of its content
  (per table); importing it again changes nothing. Rows equal to other rows are kept,
  because the metric spec counts every row. ``mode="replace"`` refreshes a table from a
  full export; ``mode="upsert"`` with ``key=[...]`` replaces rows by the user's own key.
* **Messy exports.** ``skip_invalid=True`` loads the valid rows and writes the rejected
  ones, with their reasons, to a rejects CSV.

Accepted inputs: CSV (any delimiter, UTF-8 with or without BOM), Parquet, Excel (.xlsx),
and pandas DataFrames. Dates: ISO (``2024-03-01``, with time and offset), ``2024/03/01``,
day-first ``01/03/2024`` (or month-first with ``date_order="mdy"``), Jalali dates such as
``1399/03/13`` (any year below 1700 is read as Jalali), and Persian or Arabic-Indic digits.
Timestamps with an offset keep their own wall-clock date and time.

The loader is written for DuckDB (the embedded store); databases such as PostgreSQL and
MySQL are read in place, not written.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from negah.errors import InputError, StoreError
from negah.store import schema as S

from negah.store.convert import _FIX, _convert, _norm_header, qi, ql
from negah.store.progress import ImportProgress

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from negah.store.connect import Store

MAX_PROBLEMS = 50

# set while ``--data DIR`` validates its files in place (negah.store.folder.open_folder):
# the fixes then name what such a user can do (there is no --map, --delimiter nor
# --skip-invalid on a query, but ``negah import`` has them)
READING_FOLDER: "contextvars.ContextVar[bool]" = contextvars.ContextVar("negah_reading_folder", default=False)


def _fix(said: str, option: str, file_fix: str) -> str:
    """The fix of an import (``said``, naming ``option``), or in a folder read in place (no
    import options there): ``file_fix``, or importing the file with ``option``."""
    if not READING_FOLDER.get():
        return said
    return f"{file_fix}, or import the file with `negah import FILE {option}` and query the store with --store"


SUPPORTED = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx")


# ------------------------------------------------------------------------------------
# reports
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        text = f"{where}: "
        if self.value is not None:
            text += f"{self.value!r} "
        text += self.message
        if self.fix:
            text += f" ({self.fix})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class ImportReport:
    """What one file did to the store."""

    table: str
    source: str
    rows: int = 0
    rejected: int = 0
    skipped: bool = False
    import_id: int | None = None
    mode: str = "append"
    rejects_file: str | None = None
    message: str = ""
    replaced_rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "table",
                "source",
                "rows",
                "rejected",
                "skipped",
                "import_id",
                "mode",
                "rejects_file",
                "message",
                "replaced_rows",
            )
        }


# ------------------------------------------------------------------------------------
# sources
# ------------------------------------------------------------------------------------


@dataclass
class _Source:
    label: str  # how messages name it (file name)
    relation: str  # SQL relation (temp table / view) with a _row column
    columns: dict[str, str]  # source column -> DuckDB type
    sha256: str | None
    n_rows: int = 0
    cleanup: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def table_for_path(path: Path) -> str | None:
    """The canonical table a file is named after (``orders.csv`` -> ``orders``)."""
    stem = path.name.split(".")[0].strip().lower()
    return stem if stem in S.TABLES else None


def _sniff_delimiter(path: Path) -> str | None:
    """Guess the delimiter from the header line; None lets DuckDB's sniffer decide."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    first = text.splitlines()[0] if text.splitlines() else ""
    counts = {d: first.count(d) for d in [",", ";", "\t", "|"]}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def _open_csv(
    raw,
    path: Path,
    label: str,
    idx: int,
    delimiter: str | None,
    spec: S.Table | None = None,
    mapping: dict[str, str] | None = None,
) -> _Source:
    if path.stat().st_size == 0:
        raise InputError(
            f"{label} is empty",
            [
                Problem(
                    label, None, None, None, "is empty (no header, no rows)", "export the table again with a header row"
                )
            ],
        )
    delim = delimiter or _sniff_delimiter(path)
    name = f"_negah_src_{idx}"
    opts = ["header = true", "null_padding = true", "strict_mode = false", "encoding = 'utf-8'"]
    if delim is not None:
        opts.append(f"delim = {ql(delim)}")
        opts.append("quote = '\"'")
    read = f"read_csv({ql(str(path))}, {', '.join(opts)}"
    types = _fast_types(raw, read, label, spec, mapping or {}) if spec is not None else None
    cols: dict[str, str] | None = None
    if types:
        # Fast path: ISO dates and plain numbers parsed by DuckDB's parallel CSV reader. Any
        # failure, or a date before 1700 (a Jalali date written as YYYY-MM-DD), falls back to
        # reading text and converting with the full rules below.
        struct = "{" + ", ".join(f"{ql(c)}: {ql(t)}" for c, t in types.items()) + "}"
        # (Errors must not abort the import's transaction, so rejected lines are recorded, not raised.)
        rej, scan = f"_negah_rej_{idx}", f"_negah_scan_{idx}"
        raw.execute(
            f"CREATE TEMP TABLE {name} AS SELECT * FROM {read}, types = {struct}, "
            f"dateformat = '%Y-%m-%d', store_rejects = true, rejects_table = {ql(rej)}, rejects_scan = {ql(scan)})"
        )
        n_rej = raw.execute(f"SELECT count(*) FROM {rej}").fetchone()[0]
        raw.execute(f"DROP TABLE IF EXISTS {rej}")
        raw.execute(f"DROP TABLE IF EXISTS {scan}")
        dates = [c for c, t in types.items() if t == "DATE"]
        if (
            not n_rej
            and dates
            and raw.execute(
                f"SELECT count(*) FROM {name} WHERE " + " OR ".join(f"{qi(c)} < DATE '1700-01-01'" for c in dates)
            ).fetchone()[0]
        ):
            n_rej = 1
        if n_rej:
            raw.execute(f"DROP TABLE IF EXISTS {name}")
        else:
            cols = {r[0]: r[1] for r in raw.execute(f"DESCRIBE {name}").fetchall()}
    if cols is None:
        try:
            raw.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {read}, all_varchar = true)")
        except Exception as e:  # duckdb.Error
            msg = str(e).split("\n")[0]
            raise InputError(
                f"{label} could not be read as CSV: {msg}",
                [
                    Problem(
                        label,
                        None,
                        None,
                        None,
                        f"could not be read as CSV: {msg}",
                        "check that it is UTF-8 text with one header row; "
                        + _fix("name the delimiter with --delimiter", "--delimiter ';'", "save it comma-separated"),
                    )
                ],
            ) from None
        cols = {r[0]: "VARCHAR" for r in raw.execute(f"DESCRIBE {name}").fetchall()}
    view = f"_negah_rel_{idx}"
    # rowid follows file order; inside a transaction it starts at an offset, so count from the first.
    base = raw.execute(f"SELECT coalesce(min(rowid), 0) FROM {name}").fetchone()[0]
    raw.execute(f"CREATE TEMP VIEW {view} AS SELECT rowid - {int(base)} + 1 AS _row, * FROM {name}")
    n = raw.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return _Source(label, view, cols, None, n, [f"VIEW {view}", f"TABLE {name}"])


def _fast_types(raw, read: str, label: str, spec: S.Table, mapping: dict[str, str]) -> dict[str, str] | None:
    """Column types for the fast CSV read: DATE and DECIMAL for canonical columns, text for all else."""
    try:
        header = [r[0] for r in raw.execute(f"DESCRIBE SELECT * FROM {read}, all_varchar = true)").fetchall()]
    except Exception:
        return None
    probe = _Source(label, "", {c: "VARCHAR" for c in header}, None)
    matched, problems = _match_columns(spec, probe, mapping)
    if problems:
        return None
    types = {c: "VARCHAR" for c in header}
    fast = {"date": "DATE", "money": "DECIMAL(18,4)", "number": "DECIMAL(18,4)"}
    for canon, col in matched.items():
        kind = spec.column(canon).kind
        if kind in fast:
            types[col] = fast[kind]
    return types if any(t != "VARCHAR" for t in types.values()) else None


def _open_parquet(raw, path: Path | list[Path], label: str, idx: int, temp: bool = True) -> _Source:
    view = f"_negah_rel_{idx}"
    paths = path if isinstance(path, list) else [path]
    files = "[" + ", ".join(ql(str(p)) for p in paths) + "]"
    try:
        # Row numbers count within each file (the message names the file when there are several).
        raw.execute(
            f"CREATE {'TEMP ' if temp else ''}VIEW {view} AS SELECT file_row_number + 1 AS _row, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({files}, file_row_number = true, union_by_name = true)"
        )
        cols = {r[0]: r[1] for r in raw.execute(f"DESCRIBE {view}").fetchall() if r[0] != "_row"}
        n = raw.execute(f"SELECT count(*) FROM read_parquet({files}, union_by_name = true)").fetchone()[0]
    except Exception as e:
        msg = str(e).split("\n")[0]
        raise InputError(
            f"{label} could not be read as Parquet: {msg}",
            [Problem(label, None, None, None, f"could not be read as Parquet: {msg}", "write the file again")],
        ) from None
    return _Source(label, view, cols, None, n, [f"VIEW {view}"])


def _open_frame(raw, df: "pd.DataFrame", label: str, idx: int) -> _Source:
    import pandas as pd

    frame = df.reset_index(drop=True).copy()
    # Object columns with mixed values (Excel, JSON) become text; typed columns stay typed.
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].map(
                lambda v: (
                    None
                    if v is None or (isinstance(v, float) and v != v)
                    else (v.isoformat() if hasattr(v, "isoformat") else str(v))
                )
            )
        elif isinstance(frame[c].dtype, pd.StringDtype) or str(frame[c].dtype) in ("str", "string"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    frame.insert(0, "_row", range(1, len(frame) + 1))
    name = f"_negah_frame_{idx}"
    raw.register(name + "_df", frame)
    raw.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {qi(name + '_df')}")
    raw.unregister(name + "_df")
    cols = {r[0]: r[1] for r in raw.execute(f"DESCRIBE {name}").fetchall() if r[0] != "_row"}
    return _Source(label, name, cols, None, len(frame), [f"TABLE {name}"])


def _open_xlsx(raw, path: Path, label: str, idx: int) -> _Source:
    import pandas as pd

    try:
        df = pd.read_excel(path, dtype=object, engine="openpyxl")
    except Exception as e:
        raise InputError(
            f"{label} could not be read as Excel: {e}",
            [Problem(label, None, None, None, f"could not be read as Excel (.xlsx): {e}", "save it again as .xlsx")],
        ) from None
    if df.shape[1] == 0:
        raise InputError(
            f"{label} is empty",
            [Problem(label, None, None, None, "has no header row", "put the column names in the first row")],
        )
    return _open_frame(raw, df, label, idx)


# ------------------------------------------------------------------------------------
# the import
# ------------------------------------------------------------------------------------


def _raw(store: "Store"):
    if store.kind != "duckdb":
        raise StoreError(
            f"store {store.location!r} is a {store.kind} database, read in place; negah imports into "
            "an embedded DuckDB store (--store PATH.duckdb). Load your database with its own tools."
        )
    if store.read_only:
        raise StoreError(f"store {store.location!r} is open read-only; open it read-write to import")
    return store.con.con


def _parse_mapping(mapping: dict[str, str] | Sequence[str] | None) -> dict[str, str]:
    if not mapping:
        return {}
    if isinstance(mapping, dict):
        return dict(mapping)
    out = {}
    for item in mapping:
        if "=" not in item:
            raise InputError(f"--map {item!r}: expected canonical=theirs, e.g. --map customer_id=CustomerID")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _match_columns(spec: S.Table, src: _Source, mapping: dict[str, str]) -> tuple[dict[str, str], list[Problem]]:
    """Canonical column -> source column, plus file-level problems."""
    problems: list[Problem] = []
    by_norm: dict[str, str] = {}
    for c in src.columns:
        by_norm.setdefault(_norm_header(c), c)
    matched: dict[str, str] = {}
    for canon, theirs in mapping.items():
        if spec.column(canon) is None:
            problems.append(
                Problem(
                    src.label,
                    None,
                    canon,
                    None,
                    f"is not a column of table {spec.name}",
                    f"--map takes canonical=theirs; {spec.name} has {', '.join(spec.names)}",
                )
            )
            continue
        hit = theirs if theirs in src.columns else by_norm.get(_norm_header(theirs))
        if hit is None:
            problems.append(
                Problem(
                    src.label,
                    None,
                    theirs,
                    None,
                    "is not in the file's header",
                    f"the header has {', '.join(src.columns)}",
                )
            )
        else:
            matched[canon] = hit
    used = set(matched.values())
    for col in spec.columns:
        if col.name in matched:
            continue
        hit = col.name if col.name in src.columns else by_norm.get(col.name)
        if hit is not None and hit not in used:
            matched[col.name] = hit
            used.add(hit)
    missing = [c for c in spec.required if c not in matched]
    if missing:
        header = list(src.columns)
        has = f"the header has {', '.join(header) if header else 'no columns'}"
        one = len(header) == 1 and any(d in header[0] for d in ";\t|,")
        for m in missing:
            hint = f"{has}; " + _fix(
                f"rename the column or use --map {m}=THEIR_NAME",
                f"--map {m}=THEIR_NAME",
                f"rename their column to {m} in the file",
            )
            if one:
                d = next(d for d in ";\t|," if d in header[0])
                hint = f"the header is one column {header[0]!r}: the delimiter looks like {d!r}; " + _fix(
                    f"use --delimiter {d!r}", f"--delimiter {d!r}", "save the file comma-separated"
                )
            problems.append(
                Problem(
                    src.label,
                    None,
                    m,
                    None,
                    f"required column is missing (table {spec.name} needs {', '.join(spec.required)})",
                    hint,
                )
            )
    return matched, problems


def _existing_columns(raw, name: str) -> dict[str, str] | None:
    rows = raw.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return {r[0]: r[1] for r in rows} if rows else None


def _create_table(raw, spec: S.Table) -> None:
    cols = [f"{qi(c.name)} {c.sql_type}" for c in spec.columns]
    cols.append(f"{qi(S.ROW_SOURCE_COLUMN)} BIGINT")
    raw.execute(f"CREATE TABLE {qi(spec.name)} ({', '.join(cols)})")


def _next_import_id(raw) -> int:
    return int(raw.execute(f"SELECT coalesce(max(import_id), 0) + 1 FROM {S.IMPORTS_TABLE}").fetchone()[0])


def import_files(
    store: "Store",
    paths: Iterable[str | Path],
    *,
    table: str | None = None,
    mapping: dict[str, str] | Sequence[str] | None = None,
    mode: str = "append",
    key: Sequence[str] | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    delimiter: str | None = None,
    date_order: str = "dmy",
    progress: bool = False,
    max_problems: int = MAX_PROBLEMS,
) -> list[ImportReport]:
    """Import files into the embedded store, all of them in one transaction.

    Parameters
    ----------
    store
        An embedded store opened read-write (:func:`negah.open_store`).
    paths
        Files, or folders whose files are named after tables (``orders.csv``, ...).
    table
        The canonical table for every file; default: from each file's name.
    mapping
        ``{"customer_id": "CustomerID"}`` or ``["customer_id=CustomerID"]``: canonical
        column = the file's column.
    mode
        ``append`` (default), ``replace`` (the table becomes exactly these files) or
        ``upsert`` (rows whose ``key`` matches are replaced).
    skip_invalid
        Load the valid rows; write the rejected ones with reasons to ``rejects``.
    date_order
        ``dmy`` (default) or ``mdy`` for dates such as ``03/04/2024``.

    Returns
    -------
    list of ImportReport, one per file.

    Raises
    ------
    InputError
        Listing every problem found (up to ``max_problems``); nothing was written.
    """
    items: list[tuple[Path, str]] = []
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(
                f for f in p.iterdir() if f.is_file() and table_for_path(f) and f.suffix.lower() in SUPPORTED
            )
            if not found:
                raise InputError(
                    f"folder {p} has no file named after a table ({', '.join(S.TABLES)}; .csv, .parquet or .xlsx)"
                )
            files.extend(found)
        elif not p.exists():
            raise InputError(f"{p}: no such file")
        else:
            files.append(p)
    for f in files:
        t = table or table_for_path(f)
        if t is None:
            raise InputError(
                f"{f.name}: unknown table: name the file after a table ({', '.join(S.TABLES)}) or give --table NAME"
            )
        S.table(t)
        if f.suffix.lower() not in SUPPORTED:
            raise InputError(f"{f.name}: unsupported file type {f.suffix!r}; use .csv, .parquet or .xlsx")
        items.append((f, t))
    return _run_import(
        store,
        [(f, t, None) for f, t in items],
        mapping=mapping,
        mode=mode,
        key=key,
        skip_invalid=skip_invalid,
        rejects=rejects,
        delimiter=delimiter,
        date_order=date_order,
        progress=progress,
        max_problems=max_problems,
    )


def attach_parquet(
    store: "Store", files: dict[str, list[Path]], *, progress: bool = False, max_problems: int = MAX_PROBLEMS
) -> list[ImportReport]:
    """Make each table a validated *view* over its Parquet file(s), read in place.

    The same conversions and checks as an import run in one pass over the files; a problem
    raises :class:`InputError` with its location. Used by ``--data DIR`` for Parquet, so that
    large files are not copied before a query.
    """
    return _run_import(
        store,
        [(fs if len(fs) > 1 else fs[0], t, None) for t, fs in files.items()],
        mapping=None,
        mode="append",
        key=None,
        skip_invalid=False,
        rejects=None,
        delimiter=None,
        date_order="dmy",
        progress=progress,
        max_problems=max_problems,
        as_views=True,
    )


def import_frame(
    store: "Store",
    table: str,
    df: "pd.DataFrame",
    *,
    source: str = "dataframe",
    mapping: dict[str, str] | Sequence[str] | None = None,
    mode: str = "append",
    key: Sequence[str] | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    date_order: str = "dmy",
    dedupe_token: str | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> ImportReport:
    """Import a pandas DataFrame into ``table`` with the same validation as files.

    ``dedupe_token`` (e.g. a batch or event id) makes the call idempotent: a second call
    with the same token and table changes nothing. Without it, the DataFrame's content
    hash is used.
    """
    S.table(table)
    return _run_import(
        store,
        [(None, table, (df, source, dedupe_token))],
        mapping=mapping,
        mode=mode,
        key=key,
        skip_invalid=skip_invalid,
        rejects=rejects,
        delimiter=None,
        date_order=date_order,
        progress=False,
        max_problems=max_problems,
    )[0]


def _frame_hash(df: "pd.DataFrame") -> str:
    import pandas as pd

    h = hashlib.sha256()
    h.update(("|".join(map(str, df.columns))).encode())
    h.update(pd.util.hash_pandas_object(df.astype(str), index=False).values.tobytes())
    return h.hexdigest()


def _run_import(
    store,
    items,
    *,
    mapping,
    mode,
    key,
    skip_invalid,
    rejects,
    delimiter,
    date_order,
    progress,
    max_problems,
    as_views: bool = False,
) -> list[ImportReport]:
    if mode not in ("append", "replace", "upsert"):
        raise InputError(f"mode {mode!r}: expected append, replace or upsert")
    if mode == "upsert" and not key:
        raise InputError("upsert needs --key COLS (the columns that identify a row, e.g. --key order_id)")
    if date_order not in ("dmy", "mdy"):
        raise InputError(f"date order {date_order!r}: expected dmy or mdy")
    raw = _raw(store)
    maps = _parse_mapping(mapping)
    reports: list[ImportReport] = []
    all_problems: list[Problem] = []
    total_problems = 0
    replaced_tables: set[str] = set()

    bar = ImportProgress(progress, len(items))
    raw.execute("BEGIN TRANSACTION")
    try:
        for idx, (path, tname, frame) in enumerate(items):
            t0 = time.monotonic()
            spec = S.table(tname)
            if frame is None:
                parts = path if isinstance(path, list) else None
                first = parts[0] if parts else path
                label = f"{first.parent.name}/" if parts and len(parts) > 1 else first.name
                bar.start(label)
                sha = "views" if as_views else file_sha256(first)
                suffix = first.suffix.lower()
                if suffix in (".parquet", ".pq"):
                    # views read in place live in the store's own in-memory database, not as
                    # temporary views of one connection: its cursors (Store.side_by_side) see them
                    src = _open_parquet(raw, path, label, idx, temp=not as_views)
                elif suffix == ".xlsx":
                    src = _open_xlsx(raw, path, label, idx)
                else:
                    src = _open_csv(raw, path, label, idx, delimiter, spec, maps)
                source_name = str(first.resolve())
                files = [str(f) for f in (parts or [path])]
            else:
                df, label, token = frame
                bar.start(label)
                src = _open_frame(raw, df, label, idx)
                sha = ("token:" + token) if token else _frame_hash(df)
                source_name = label
                files = None
            src.sha256 = sha
            bar.step("validating")
            report = ImportReport(tname, label, mode=mode)

            # Already imported (and its rows still in the store)? Then nothing changes.
            if mode == "append" and not as_views:
                prev = raw.execute(
                    f"SELECT import_id, imported_at FROM {S.IMPORTS_TABLE} WHERE table_name = ? AND sha256 = ? "
                    "AND mode IN ('append', 'upsert', 'replace') ORDER BY import_id LIMIT 1",
                    [tname, sha],
                ).fetchone()
                if prev is not None:
                    report.skipped = True
                    report.import_id = int(prev[0])
                    report.message = (
                        f"already imported as import #{prev[0]} on {prev[1]:%Y-%m-%d %H:%M}; "
                        "nothing changed (use --replace to refresh the table from a full export)"
                    )
                    _drop(raw, src)
                    reports.append(report)
                    bar.done()
                    continue

            matched, problems = _match_columns(spec, src, maps)
            if src.n_rows == 0 and not problems:
                problems.append(
                    Problem(
                        label, None, None, None, "has a header but no data rows", "export the table again with its rows"
                    )
                )
            if problems:
                all_problems.extend(problems)
                total_problems += len(problems)
                _drop(raw, src)
                bar.done()
                continue

            # Conversions and checks, one per canonical column. Values are converted once
            # into a temporary table (raw columns beside converted ones, __v_<name>); the
            # checks then compare cheap columns instead of converting again.
            values: dict[str, str] = {}
            conv_cols: dict[str, str] = {}
            pre_cols: dict[str, str] = {}
            checks: list[tuple[str, str, str, str]] = []  # (source column, bad condition, message, fix)
            for col in spec.columns:
                if col.name not in matched:
                    continue
                sc = matched[col.name]
                value, bad, msg = _convert(col, qi(sc), src.columns[sc], date_order, pre_cols)
                vname = qi("__v_" + col.name)
                conv_cols[vname] = value
                values[col.name] = vname
                if bad != "false":
                    checks.append((sc, bad.replace(value, vname), msg, _FIX.get(col.kind, "")))
                if col.required:
                    if col.kind == "id" or (col.kind == "text" and not col.allowed):
                        missing = f"{vname} IS NULL"  # these conversions cannot fail: NULL means empty
                    elif src.columns[sc].upper().startswith("VARCHAR"):
                        missing = f"{vname} IS NULL AND nullif(trim({qi(sc)}), '') IS NULL"
                    else:
                        missing = f"{vname} IS NULL AND {qi(sc)} IS NULL"
                    checks.append(
                        (sc, missing, "is empty (a value is required)", _FIX.get(col.kind, "give every row a value"))
                    )
            extras = [
                c
                for c in src.columns
                if c not in matched.values() and not c.startswith("_") and _norm_header(c) not in values
            ]
            for c in extras:
                values[_extra_name(c)] = qi(c)
            conv = f"_negah_conv_{idx}"
            base_rel = src.relation
            if pre_cols:
                base_rel = (
                    "(SELECT *, " + ", ".join(f"{v} AS {k}" for k, v in pre_cols.items()) + f" FROM {src.relation})"
                )
            inner = (
                "SELECT *, " + ", ".join(f"{v} AS {k}" for k, v in conv_cols.items()) + f" FROM {base_rel}"
                if conv_cols
                else f"SELECT * FROM {src.relation}"
            )
            flags = "".join(f", ({c[1]}) AS {qi(f'__b{i}')}" for i, c in enumerate(checks))
            # Converted once into a temporary table (the checks and the insert then read cheap
            # columns); --data over Parquet keeps a view, so nothing is copied.
            kind = "VIEW" if as_views else "TABLE"
            raw.execute(f"CREATE {'' if as_views else 'TEMP '}{kind} {conv} AS SELECT *{flags} FROM ({inner})")
            src.cleanup.insert(0, f"{kind} {conv}")
            src.relation = conv
            checks = [(c[0], qi(f"__b{i}"), c[2], c[3]) for i, c in enumerate(checks)]

            if as_views:
                from negah.store.quick import quick_check  # one cheap pass; else the exact checks

                same = quick_check(raw, conv, spec, matched, src.columns, values, checks, files)
                if same is not None:
                    _view(store, tname, values, same, conv, files)
                    report.rows = int(src.n_rows)
                    reports.append(report)
                    bar.done()
                    continue

            bad_rows_sql = " OR ".join(f"({c[1]})" for c in checks) or "false"
            n_bad = 0
            if checks:
                union = " UNION ALL ".join(
                    f"SELECT _row, {ql(c[0])} AS col, CAST({qi(c[0])} AS VARCHAR) AS val, {ql(c[2])} AS msg, "
                    f"{ql(c[3])} AS fix, {i} AS k FROM {src.relation} WHERE {c[1]}"
                    for i, c in enumerate(checks)
                )
                n_bad_cells = raw.execute(
                    "SELECT " + " + ".join(f"count(*) FILTER (WHERE {c[1]})" for c in checks) + f" FROM {conv}"
                ).fetchone()[0]
                if n_bad_cells:
                    n_bad = raw.execute(f"SELECT count(*) FROM {src.relation} WHERE {bad_rows_sql}").fetchone()[0]
                    if not skip_invalid:
                        cap = max(0, max_problems - len(all_problems))
                        rows = raw.execute(
                            f"SELECT _row, col, val, msg, fix FROM ({union}) ORDER BY _row, k LIMIT {cap}"
                        ).fetchall()
                        all_problems.extend(Problem(label, int(r[0]), r[1], r[2], r[3], r[4]) for r in rows)
                        total_problems += n_bad_cells
                        _drop(raw, src)
                        bar.done()
                        continue
            if mode == "upsert":
                missing_keys = [k for k in key if k not in values]
                if missing_keys:
                    all_problems.append(
                        Problem(
                            label,
                            None,
                            missing_keys[0],
                            None,
                            "is a --key column but not in the file",
                            "name key columns of the file",
                        )
                    )
                    total_problems += 1
                    _drop(raw, src)
                    continue
            good = f"NOT ({bad_rows_sql})" if checks else "true"
            if n_bad and skip_invalid:
                report.rejected = int(n_bad)
                report.rejects_file = _write_rejects(raw, src, checks, bad_rows_sql, rejects, label, len(items) > 1)

            if as_views:
                # Read in place (a view, nothing copied): every row passed, so no filter; a column
                # whose conversion changes no value is read raw.
                same = {k: matched[k] for k in values if k in matched}
                if same:
                    row = raw.execute(
                        "SELECT "
                        + ", ".join(
                            f"coalesce(bool_and({values[k]} IS NOT DISTINCT FROM {qi(sc)}), true)"
                            for k, sc in same.items()
                        )
                        + f" FROM {src.relation}"
                    ).fetchone()
                    same = {k: sc for (k, sc), ok in zip(same.items(), row) if ok}
                _view(store, tname, values, same, src.relation, files)
                report.rows = int(src.n_rows - (n_bad or 0))
                reports.append(report)
                bar.done()
                continue

            # Target table: create or add new extra columns.
            bar.step("writing")
            existing = _existing_columns(raw, tname)
            if existing is None:
                _create_table(raw, spec)
                existing = _existing_columns(raw, tname)
            for c in extras:
                name = _extra_name(c)
                if name not in existing:
                    typ = src.columns[c]
                    raw.execute(f"ALTER TABLE {qi(tname)} ADD COLUMN {qi(name)} {typ}")
                    existing[name] = typ
            if mode == "replace" and tname not in replaced_tables:
                report.replaced_rows = raw.execute(f"SELECT count(*) FROM {qi(tname)}").fetchone()[0]
                raw.execute(f"DELETE FROM {qi(tname)}")
                raw.execute(f"UPDATE {S.IMPORTS_TABLE} SET mode = 'superseded' WHERE table_name = ?", [tname])
                replaced_tables.add(tname)
            import_id = _next_import_id(raw)
            select = ", ".join(f"{v} AS {qi(k)}" for k, v in values.items())
            if mode == "upsert":
                keys = [k for k in key]
                dup = raw.execute(
                    f"SELECT count(*) FROM (SELECT {', '.join(values[k] for k in keys)} FROM {src.relation} "
                    f"WHERE {good} GROUP BY ALL HAVING count(*) > 1)"
                ).fetchone()[0]
                if dup:
                    all_problems.append(
                        Problem(
                            label,
                            None,
                            ",".join(keys),
                            None,
                            f"has {dup} key value(s) that appear on more than one row",
                            "an upsert key must identify one row; choose other --key columns",
                        )
                    )
                    total_problems += 1
                    _drop(raw, src)
                    continue
                cond = " AND ".join(f"t.{qi(k)} IS NOT DISTINCT FROM n.{qi(k)}" for k in keys)
                report.replaced_rows = raw.execute(
                    f"SELECT count(*) FROM {qi(tname)} t WHERE EXISTS (SELECT 1 FROM "
                    f"(SELECT {select} FROM {src.relation} WHERE {good}) n WHERE {cond})"
                ).fetchone()[0]
                raw.execute(
                    f"DELETE FROM {qi(tname)} t WHERE EXISTS (SELECT 1 FROM "
                    f"(SELECT {select} FROM {src.relation} WHERE {good}) n WHERE {cond})"
                )
            raw.execute(
                f"INSERT INTO {qi(tname)} BY NAME SELECT {select}, {import_id} AS {qi(S.ROW_SOURCE_COLUMN)} "
                f"FROM {src.relation} WHERE {good}"
            )
            n = raw.execute(
                f"SELECT count(*) FROM {qi(tname)} WHERE {qi(S.ROW_SOURCE_COLUMN)} = ?", [import_id]
            ).fetchone()[0]
            raw.execute(
                f"INSERT INTO {S.IMPORTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [import_id, tname, source_name, src.sha256, n, mode],
            )
            report.rows = int(n)
            report.import_id = import_id
            report.seconds = time.monotonic() - t0
            _drop(raw, src)
            reports.append(report)
            bar.done()
        if all_problems:
            raise InputError(_summary(all_problems, total_problems, max_problems), all_problems[:max_problems])
        raw.execute("COMMIT")
    except BaseException:
        try:
            raw.execute("ROLLBACK")
        except Exception:  # pragma: no cover - connection already gone
            pass
        raise
    finally:
        bar.close()
        store.invalidate()
    return reports


def _view(
    store: "Store", tname: str, values: dict[str, str], same: dict[str, str], relation: str, files: list[str] | None
) -> None:
    """The canonical view: raw columns where they equal their conversion, else the conversion
    (for ``--data DIR``, in the folder store's own in-memory database). Over Parquet
    ``files``, the store learns which columns it reads unchanged (Store.customer_chunks)."""
    select = ", ".join(f"{qi(same[k]) if k in same else v} AS {qi(k)}" for k, v in values.items())
    _raw(store).execute(f"CREATE VIEW {qi(tname)} AS SELECT {select} FROM {relation}")
    if files and Path(files[0]).suffix.lower() in (".parquet", ".pq"):
        store.parquet[tname] = (files, dict(same))


def _extra_name(c: str) -> str:
    n = _norm_header(c)
    return n or c


def _summary(problems: list[Problem], total: int, cap: int) -> str:
    files = sorted({p.file for p in problems})
    shown = min(len(problems), cap)
    more = f" (first {shown} shown)" if total > shown else ""
    n = f"{total} problem{'s' if total != 1 else ''} in {', '.join(files)}{more}"
    if READING_FOLDER.get():
        return (
            f"the folder's files cannot be read: {n}; nothing was computed. Fix the file(s), or "
            "import the valid rows with `negah import FILE --skip-invalid` (the rest go to a "
            "rejects file) and query the store with --store"
        )
    return (
        f"import failed: {n}; nothing was written. Fix the file(s), or use --skip-invalid to "
        "import the valid rows and write the rest to a rejects file"
    )


def _write_rejects(raw, src: _Source, checks, bad_rows_sql: str, rejects, label: str, many: bool) -> str:
    path = Path(rejects) if rejects else Path(f"{label}.rejects.csv")
    if rejects and many:
        path = path.with_name(f"{path.stem}.{label}{path.suffix or '.csv'}")
    reasons = " || ".join(f"CASE WHEN {c[1]} THEN {ql(c[0] + ': ' + c[2] + '; ')} ELSE '' END" for c in checks)
    cols = ", ".join(qi(c) for c in src.columns)
    raw.execute(
        f"COPY (SELECT _row AS row, rtrim({reasons}, '; ') AS reason, {cols} FROM {src.relation} "
        f"WHERE {bad_rows_sql} ORDER BY _row) TO {ql(str(path))} (HEADER, DELIMITER ',')"
    )
    return str(path)


def _drop(raw, src: _Source) -> None:
    for obj in src.cleanup:
        kind, name = obj.split(" ", 1)
        raw.execute(f"DROP {kind} IF EXISTS {name}")
