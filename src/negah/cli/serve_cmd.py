"""``negah serve``, ``negah keys create|list|revoke|expire``, ``negah report``, ``negah erase-customer``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from negah.cli.common import (
    CalendarOption,
    Format,
    FormatOption,
    Lang,
    Period,
    PeriodOption,
    StoreOption,
    calendar_for,
    err_console,
    handle_errors,
    write_out,
)

keys_app = typer.Typer(help="API keys for negah serve: create, list, revoke, expire.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
    app.add_typer(keys_app, name="keys")
    app.command("report")(report_cmd)
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    if "erase-customer" not in names:
        app.command("erase-customer")(erase_cmd)


@handle_errors
def serve_cmd(
    store: StoreOption = None,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", help="Worker processes (they share computed answers, kept on disk beside the store)."
    ),
    open_browser: bool = typer.Option(
        False, "--open", help="Open the dashboard, logged in with a new one-day admin key."
    ),
    config_file: Optional[Path] = typer.Option(
        None, "--config", help="Alerts config (TOML) whose \\[smtp] table sends survey e-mails."
    ),
) -> None:
    """Serve the REST API (/api, documented at /docs) and the dashboard on one store.

    Every /api route needs `Authorization: Bearer KEY`; create keys with `negah keys create`.
    The CLI can keep importing into the same store while the service runs.
    """
    from negah import config
    from negah.api.app import run

    path = store or config.default_store()
    run(path, host, port, open_browser=open_browser, workers=workers, config=config_file)


def _rw(store: Optional[str]):
    from negah import config
    from negah.store import open_store

    return open_store(store or config.default_store(), read_only=False, create=True)


@keys_app.command("create")
@handle_errors
def keys_create(
    role: str = typer.Option(
        ..., "--role", help="viewer (read), analyst (read and run models) or admin (keys and ingest)."
    ),
    store: StoreOption = None,
    name: Optional[str] = typer.Option(None, "--name", help="A note saying who or what the key is for."),
    expires: Optional[str] = typer.Option(None, "--expires", help="30d, 12h, 2w or an ISO date (default: never)."),
) -> None:
    """Create an API key. The key is printed once, as the last word of the output."""
    from negah.api import keys as K

    with _rw(store) as s:
        key, info = K.create_key(s.con.con, role, name=name, expires=expires)
    exp = f", expires {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else ""
    write_out(f"created {info.role} key {info.key_id}{exp} (shown once; store it safely): {key}")


@keys_app.command("list")
@handle_errors
def keys_list(store: StoreOption = None, fmt: FormatOption = Format.table) -> None:
    """List keys (ids, roles, expiry, revocation; never the keys)."""
    from negah.api import keys as K
    from negah.cli.common import open_source

    with open_source(store, None) as s:
        rows = [k.as_dict() for k in K.list_keys(K.raw_connection(s))]
    if fmt == Format.json:
        write_out(json.dumps(rows, ensure_ascii=False))
    elif fmt == Format.csv:
        import csv
        import io

        buf = io.StringIO()
        cols = ["key_id", "role", "name", "created_at", "expires_at", "revoked_at", "created_by", "active"]
        w = csv.DictWriter(buf, cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        write_out(buf.getvalue())
    else:
        if not rows:
            write_out("no keys yet: create one with negah keys create --role viewer")
            return
        for r in rows:
            state = "active" if r["active"] else ("revoked" if r["revoked_at"] else "expired")
            write_out(
                f"{r['key_id']}  {r['role']:<8} {state:<8} created {r['created_at']}  "
                f"expires {r['expires_at'] or 'never'}  {r['name'] or ''}".rstrip()
            )


@keys_app.command("revoke")
@handle_errors
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key id (or the whole key)."), store: StoreOption = None
) -> None:
    """Revoke a key: requests with it are refused from the next request on."""
    from negah.api import keys as K

    with _rw(store) as s:
        info = K.revoke_key(s.con.con, key_id)
    write_out(f"revoked key {info.key_id} ({info.role})")


@keys_app.command("expire")
@handle_errors
def keys_expire(
    key_id: str = typer.Argument(..., help="The key id."),
    expires: str = typer.Option(..., "--expires", help="30d, 12h, 2w, an ISO date, or never."),
    store: StoreOption = None,
) -> None:
    """Give a key an expiry (or `never`)."""
    from negah.api import keys as K

    with _rw(store) as s:
        info = K.set_expiry(s.con.con, key_id, expires)
    write_out(f"key {info.key_id} expires {info.expires_at or 'never'}")


@handle_errors
def report_cmd(
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    store: StoreOption = None,
    lang: Lang = typer.Option(Lang.en, "--lang", help="en (default) or fa (Persian, right-to-left, Jalali periods)."),
    period: PeriodOption = Period.month,
    calendar: CalendarOption = None,
) -> None:
    """Write one self-contained HTML report (all KPIs and charts; works offline; prints well)."""
    from negah.cli.common import open_source
    from negah.reports.html import write_report

    with open_source(store, None) as s:
        path = write_report(s, out, lang=lang.value, period=period.value, calendar=calendar_for(calendar, lang))
    err_console().print(f"wrote {path}", highlight=False)


@handle_errors
def erase_cmd(
    customer_id: str = typer.Argument(..., help="The customer's id."),
    store: StoreOption = None,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove a person's data from every table of the store (and name models that still carry it)."""
    from negah.api import keys as K
    from negah.api.privacy import erase_customer

    if not yes and not typer.confirm(f"erase every row of customer {customer_id!r}?", err=True):
        raise typer.Exit(1)
    with _rw(store) as s:
        out = erase_customer(K.raw_connection(s), customer_id, actor=K.cli_actor(), store_path=s.location)
    parts = ", ".join(f"{t} {n}" for t, n in out["removed"].items()) or "no rows found"
    write_out(f"erased customer {out['customer_id']}: {out['rows']} rows ({parts})")
    if not out["rows"]:
        from negah.cli.common import warn

        warn(
            f"no row of the store has customer_id {customer_id!r}: check the id (ids are exact text: "
            "'007' is not '7'); nothing else to erase if it was erased before"
        )
    if out.get("cached_answers_removed") or out.get("job_records_changed"):
        write_out(
            f"beside the store: the service's saved answers removed (version folders: "
            f"{out.get('cached_answers_removed', 0)}), the customer blanked in "
            f"{out.get('job_records_changed', 0)} job records"
        )
    if out["models"]:
        write_out("stored models that may still carry this customer:")
        for m in out["models"]:
            write_out(f"  {m['model_id']}  {m['name']}  ({m['mode']}, saved {m['created_at']}): {m['why']}")
    write_out(out["note"])
