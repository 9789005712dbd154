"""``negah synth``: write a synthetic business with known ground truth."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from negah.cli.common import err_console, fail, handle_errors, write_out


class FileFormat(str, Enum):
    parquet = "parquet"
    csv = "csv"


def register(app: typer.Typer) -> None:
    @app.command("synth")
    @handle_errors
    def synth(
        out_dir: Path = typer.Argument(
            ..., help="Folder to write the tables, ground_truth.json and truth_customers into."
        ),
        customers: Optional[int] = typer.Option(
            None,
            "--customers",
            "-n",
            help="Number of customers (default 10000; about 8 order rows each over two years).",
        ),
        orders: Optional[int] = typer.Option(
            None, "--orders", help="Ask for about this many order rows instead of --customers."
        ),
        seed: int = typer.Option(0, "--seed", help="Random seed; the same arguments give byte-identical files."),
        fmt: FileFormat = typer.Option(FileFormat.parquet, "--format", help="File format of the tables."),
        start: Optional[str] = typer.Option(
            None, "--start", help="First day of the data, YYYY-MM-DD (default 2023-01-01)."
        ),
        end: Optional[str] = typer.Option(None, "--end", help="Last day of the data, inclusive (default 2024-12-31)."),
        spike: bool = typer.Option(
            True, "--spike/--no-spike", help="Plant one complaint spike (reason x product x month)."
        ),
        workers: Optional[int] = typer.Option(
            None, "--workers", help="Generator threads (default: up to 2); never changes the data."
        ),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
        json_out: bool = typer.Option(False, "--json", help="Print a JSON summary (paths, rows, seconds) to stdout."),
    ) -> None:
        """Write a synthetic business (orders, customers, subscriptions, responses, complaints,
        contacts, campaigns, spend) with its ground truth, for trying negah and checking it."""
        import json

        from negah.synth import generate

        if customers is not None and orders is not None:
            fail("give --customers or --orders, not both")
        res = generate(
            out_dir,
            customers=10_000 if customers is None and orders is None else customers,
            seed=seed,
            fmt=fmt.value,
            start=start,
            end=end,
            spike=spike,
            progress=progress,
            orders=orders,
            workers=workers,
        )
        rows, secs = res["rows"], res["seconds"]
        summary = {
            "out_dir": str(out_dir),
            "customers": res["customers"],
            "seed": seed,
            "format": fmt.value,
            "rows": rows,
            "seconds": round(secs, 3),
            "order_rows_per_second": int(rows["orders"] / secs) if secs > 0 else None,
            "paths": res["paths"],
        }
        if json_out:
            write_out(json.dumps(summary, indent=2))
        con = err_console()
        con.print(
            f"wrote {res['customers']:,} customers to {out_dir} in {secs:.1f} s "
            f"({summary['order_rows_per_second'] or 0:,} order rows/s)",
            highlight=False,
        )
        con.print("  " + ", ".join(f"{t} {n:,}" for t, n in rows.items()), highlight=False)
        con.print("  ground truth: ground_truth.json, truth_customers." + fmt.value, highlight=False)
