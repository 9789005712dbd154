"""``negah demo``: the sample business, its headline metrics, and the dashboard."""

from __future__ import annotations

from pathlib import Path

import typer

from negah.cli.common import err_console, handle_errors


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)


@handle_errors
def demo_cmd(
    folder: Path = typer.Option(Path("negah-demo"), "--dir", help="Where the demo data and store go."),
    customers: int = typer.Option(3000, "--customers", help="Customers in the synthetic business."),
    seed: int = typer.Option(7, "--seed", help="Random seed (same seed, same business)."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard after building."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    rebuild: bool = typer.Option(False, "--rebuild", help="Build the demo again even if it exists."),
) -> None:
    """Build a sample business (synthetic, with known ground truth), show its metrics, serve the dashboard."""
    from negah.demo import build_demo, headline

    con = err_console()
    con.print(f"[bold]negah demo[/]: building a synthetic shop of {customers:,} customers in {folder}/ …")
    store = build_demo(folder, customers=customers, seed=seed, rebuild=rebuild)
    h = headline(store)
    _print_headline(h)
    typer.echo(f"store: {store}")
    typer.echo(f"try:   negah metrics --store {store} --period quarter")
    typer.echo(f"       negah metrics --store {store} --calendar jalali --lang fa")
    typer.echo(f"       negah clv fit --model bgnbd --store {store}")
    if not serve:
        return
    import importlib.util

    if importlib.util.find_spec("fastapi") is None:
        con.print("the dashboard needs the serve extra: pip install 'negah[serve]'")
        raise typer.Exit(1)
    from negah.api import keys as K
    from negah.api.app import run
    from negah.store import open_store

    with open_store(store) as s:
        key, _ = K.create_key(s.con.con, "admin", name="demo login", expires="1d", actor="negah demo")
    typer.echo(f"dashboard: http://{host}:{port}/login#key={key}   (a one-day admin key; Ctrl-C stops)")
    run(store, host=host, port=port)


def _print_headline(h: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Headline metrics, {h.get('period', '?')} (last complete month)")
    t.add_column("metric")
    t.add_column("value", justify="right")
    pct = {
        "churn_rate",
        "retention_rate",
        "revenue_churn_gross",
        "revenue_churn_net",
        "net_revenue_retention",
        "repeat_purchase_rate",
        "loyal_customer_rate",
        "product_return_rate",
        "customer_growth_rate",
    }
    for k, v in h.items():
        if k in ("period", "benchmark"):
            continue
        if v is None:
            s = "–"
        elif k in pct:
            s = f"{100 * float(v):.1f}%"
        elif isinstance(v, float):
            s = f"{v:,.2f}"
        else:
            s = f"{v:,}" if isinstance(v, int) else str(v)
        t.add_row(k, s)
    Console().print(t)
    b = h.get("benchmark")
    if isinstance(b, list):
        for rec in b:
            v = rec.get("value")
            shown = "–" if v is None else f"{100 * float(v):.1f}%"
            rng = ""
            if rec.get("range_low") is not None:
                rng = f" (industry range {100 * rec['range_low']:.0f}–{100 * rec['range_high']:.0f}%: {rec.get('position')})"
            Console().print(
                f"benchmark ({rec.get('industry', 'retail')}): {rec.get('metric')} {rec.get('period')} "
                f"{shown}{rng} — {rec.get('message', '')}",
                highlight=False,
            )
