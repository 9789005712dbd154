"""Helpers shared by the CLI commands: options, error printing, output formats."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


# One Enum per choice the commands share; the values are what the library functions take.
class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class FormatCsvJson(str, Enum):
    """Commands that print one row per customer or per period: no table view."""

    csv = "csv"
    json = "json"


class FormatTableJson(str, Enum):
    """Commands whose output is not a flat table: no CSV."""

    table = "table"
    json = "json"


class Period(str, Enum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class Calendar(str, Enum):
    gregorian = "gregorian"
    jalali = "jalali"


class Lang(str, Enum):
    en = "en"
    fa = "fa"


# The options the commands share, written once: ``store: StoreOption = None``. The default
# stays in each command's signature.
StoreOption = Annotated[
    Optional[str],
    typer.Option(
        "--store",
        "-s",
        envvar="NEGAH_STORE",
        help="DuckDB file (default ./negah.duckdb) or postgresql://… / mysql://… URL.",
    ),
]
DataOption = Annotated[
    Optional[str],
    typer.Option(
        "--data", help="Folder of canonical files (orders.csv, orders.parquet, …) read in place, without importing."
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv (json/csv: stdout alone).")]
FormatCsvJsonOption = Annotated[FormatCsvJson, typer.Option("--format", "-f", help="csv or json.")]
FormatTableJsonOption = Annotated[FormatTableJson, typer.Option("--format", "-f", help="table or json.")]
PeriodOption = Annotated[Period, typer.Option("--period", "-p", help="Period length.")]
CalendarOption = Annotated[
    Optional[Calendar], typer.Option("--calendar", "-c", help="gregorian (default) or jalali (default with --lang fa).")
]
LangOption = Annotated[
    Lang, typer.Option("--lang", help="Display language of the table: en or fa (Persian digits, Jalali labels).")
]
FromOption = Annotated[
    Optional[str],
    typer.Option("--from", help="First period to print (a date inside it; Jalali dates such as 1399-01-01 work)."),
]
ToOption = Annotated[Optional[str], typer.Option("--to", help="Last period to print (a date inside it).")]


def calendar_for(calendar: Optional[Calendar], lang: Lang) -> str:
    """``--calendar``, or the language's calendar (Jalali for Persian) when it is not given."""
    if calendar is not None:
        return calendar.value
    return "jalali" if lang == Lang.fa else "gregorian"


def err_console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # long paths and messages stay on one line


def warn(message: str) -> None:
    """Print ``warning: message`` to stderr (stdout keeps only the output)."""
    from rich.markup import escape

    err_console().print(f"[yellow]warning:[/] {escape(message)}", highlight=False, markup=True)


def fail(message: str, code: int = 1) -> None:
    """Print ``error: message`` to stderr and exit non-zero."""
    err_console().print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn negah's own errors into a clear message on stderr and exit code 1 (2 for input)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        from negah.errors import InputError, NegahError

        try:
            return fn(*a, **k)
        except InputError as e:
            con = err_console()
            con.print(f"[bold red]error:[/] {e}", highlight=False)
            for p in e.problems:
                con.print(f"  - {p}", highlight=False, markup=False)
            raise typer.Exit(2) from None
        except NegahError as e:
            fail(str(e))

    return wrapper  # type: ignore[return-value]


def open_source(store: str | None, data: str | None, *, read_only: bool = True, engine: str = "duckdb"):
    """The store named by ``--store`` or ``--data`` (not both)."""
    from negah.store import open_folder, open_store

    if store and data:
        fail("give --store or --data, not both")
    if data:
        return open_folder(data, engine=engine)
    if engine != "duckdb":
        fail(
            f"--engine {engine} reads files (--data PATH); a --store is a database that negah "
            "opens with its own engine: drop --engine, or point --data at the Parquet/CSV folder",
            2,
        )
    return open_store(store, read_only=read_only, create=False)


@contextmanager
def chunk_progress(store: Any, what: str = "computing"):
    """A progress bar on stderr (a terminal only) while ``store`` works through customer
    chunks (:meth:`negah.store.connect.Store.side_by_side`); nothing when there are none."""
    bar: list = []

    def report(done: int, total: int) -> None:
        if not bar:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            p = Progress(
                TextColumn(f"{what}: customer chunks"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            p.start()
            bar.extend([p, p.add_task(what, total=total)])
        bar[0].update(bar[1], completed=done)

    if hasattr(store, "progress") and sys.stderr.isatty():
        store.progress = report
    try:
        yield store
    finally:
        if hasattr(store, "progress"):
            store.progress = None
        if bar:
            bar[0].stop()


def write_out(text: str) -> None:
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
