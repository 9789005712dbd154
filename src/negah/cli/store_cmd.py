"""``negah import`` and ``negah info``: loading files into the embedded store and looking at it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from negah.cli.common import Format, FormatOption, StoreOption, err_console, handle_errors, write_out


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("info")(info_cmd)


@handle_errors
def import_cmd(
    paths: List[Path] = typer.Argument(
        ...,
        help="Files (.csv, .parquet, .xlsx) or folders of files named after tables (orders.csv, complaints.parquet, …).",
    ),
    store: StoreOption = None,
    table: Optional[str] = typer.Option(
        None, "--table", "-t", help="Canonical table for every file (default: from the file name)."
    ),
    map_: List[str] = typer.Option(
        [], "--map", help="canonical=theirs column mapping, e.g. --map customer_id=CustomerID (repeatable)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Refresh the table from a full export: its rows become exactly these files."
    ),
    key: Optional[str] = typer.Option(
        None, "--key", help="Upsert by your own natural key (comma-separated columns): matching rows are replaced."
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Import the valid rows and write the rejected ones with reasons to a rejects file.",
    ),
    rejects: Optional[Path] = typer.Option(
        None, "--rejects", help="Where --skip-invalid writes rejected rows (default FILE.rejects.csv)."
    ),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", "-d", help="CSV delimiter (default: detected)."),
    date_order: str = typer.Option(
        "dmy", "--date-order", help="Order of day and month in dates like 03/04/2024: dmy (default) or mdy."
    ),
    fmt: Format = typer.Option(
        Format.table, "--format", "-f", help="Report format: table (stderr-friendly text), json or csv."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Import files into the embedded store (all-or-nothing; re-imports change nothing).

    Every problem in the input is reported with its file, row, column, value and fix,
    and nothing is written when anything fails (exit code 2).
    """
    from negah.store import open_store
    from negah.store.ingest import import_files

    if replace and key:
        raise typer.BadParameter("--replace and --key exclude each other")
    mode = "replace" if replace else ("upsert" if key else "append")
    keys = [k.strip() for k in key.split(",")] if key else None
    with open_store(store) as s:
        reports = import_files(
            s,
            paths,
            table=table,
            mapping=map_,
            mode=mode,
            key=keys,
            skip_invalid=skip_invalid,
            rejects=rejects,
            delimiter=delimiter,
            date_order=date_order,
            progress=not quiet,
        )
    rows = [r.as_dict() for r in reports]
    if fmt == Format.json:
        write_out(json.dumps(rows, ensure_ascii=False, indent=None))
        return
    if fmt == Format.csv:
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["table"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return
    con = err_console()
    for r in reports:
        if r.skipped:
            con.print(f"{r.source}: {r.message}", highlight=False)
            continue
        msg = f"{r.source} -> {r.table}: {r.rows:,} rows imported (import #{r.import_id}, {r.mode})"
        if r.replaced_rows:
            msg += f", {r.replaced_rows:,} rows replaced"
        if r.rejected:
            msg += f"; {r.rejected:,} rows rejected, written with reasons to {r.rejects_file}"
        con.print(msg, highlight=False)
    write_out(f"imported {sum(r.rows for r in reports)} rows into {store or 'negah.duckdb'}")


@handle_errors
def info_cmd(
    store: StoreOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show the store: its tables, row counts, date ranges and import history."""
    from negah.store import open_store
    from negah.store.info import store_info

    with open_store(store, read_only=True, create=False) as s:
        info = store_info(s)
    if fmt == Format.json:
        write_out(json.dumps(info, ensure_ascii=False, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"negah store {info['location']} (schema v{info['schema_version']})")
    for c in ("table", "rows", "customers", "first", "last"):
        t.add_column(c, justify="right" if c in ("rows", "customers") else "left")
    for row in info["tables"]:
        t.add_row(
            row["table"],
            f"{row['rows']:,}",
            f"{row['customers']:,}" if row["customers"] is not None else "",
            str(row["first"] or ""),
            str(row["last"] or ""),
        )
    Console().print(t)
