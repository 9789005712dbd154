"""Helpers shared by the CLI commands: options, error printing, output formats."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Any, Callable, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

StoreOpt = typer.Option(None, "--store", "-s", envvar="NEGAH_STORE",
                        help="DuckDB file (default ./negah.duckdb) or postgresql://… / mysql://… URL.")
DataOpt = typer.Option(None, "--data", help="Folder of canonical files (orders.csv, orders.parquet, …) read in place, without importing.")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def err_console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # long paths and messages stay on one line


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
            raise typer.Exit(2)
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
    return open_store(store, read_only=read_only, create=False)


def write_out(text: str) -> None:
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
