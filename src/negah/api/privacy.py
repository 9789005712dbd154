"""Erasing a person's data from an embedded store (``negah erase-customer ID``).

Deletes every row with ``customer_id = ID`` from every canonical table and from the
service's survey bookkeeping, in one transaction, and records the erasure (not the data)
in the audit log. Trained models saved earlier may still carry the person's data in
their fitted values: :func:`erase_customer` names the models of the store's registry
(:func:`negah.predict.registry.carrying`) that may, so that they can be retrained and
deleted: store-mode models trained on rows from before the customer's data ended there,
and every snapshot model (trained on a file negah cannot inspect).

Copies beside the store go too (:func:`forget_copies`, when the store's path is given): the
service's saved answers (``<store>.negah/cache``: per-customer tables, profiles) are all
removed — they are recomputed on demand — and the customer's id and e-mail address are
blanked out of the background jobs' records (``<store>.negah/jobs``: e-mail results).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from negah.api import keys as K
from negah.errors import InputError
from negah.predict.registry import carrying
from negah.store import schema as S
from negah.store.ingest import qi

SURVEY_TABLES = ("_negah_survey_answers",)


def erase_customer(raw: Any, customer_id: str, *, actor: str, store_path: str | None = None) -> dict[str, Any]:
    """Delete customer ``customer_id`` everywhere; returns rows removed per table and models.
    With ``store_path``, also the copies beside the store (:func:`forget_copies`)."""
    cid = str(customer_id).strip()
    if not cid:
        raise InputError("customer id is empty: give the id of the customer to erase")
    names = {
        r[0]
        for r in raw.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    }
    emails = []
    if "customers" in names and "email" in {r[0] for r in raw.execute("DESCRIBE customers").fetchall()}:
        emails = [
            r[0]
            for r in raw.execute(
                "SELECT DISTINCT email FROM customers WHERE CAST(customer_id AS VARCHAR) = ? AND email IS NOT NULL",
                [cid],
            ).fetchall()
        ]
    removed: dict[str, int] = {}
    raw.execute("BEGIN TRANSACTION")
    try:
        models = carrying(raw, _first_seen(raw, names, cid))  # before the rows go
        for t in list(S.CUSTOMER_TABLES) + list(SURVEY_TABLES):
            if t not in names:
                continue
            cols = {r[0] for r in raw.execute(f"DESCRIBE {qi(t)}").fetchall()}
            if "customer_id" not in cols:
                continue
            n = raw.execute(f"SELECT count(*) FROM {qi(t)} WHERE CAST(customer_id AS VARCHAR) = ?", [cid]).fetchone()[0]
            if n:
                raw.execute(f"DELETE FROM {qi(t)} WHERE CAST(customer_id AS VARCHAR) = ?", [cid])
                removed[t] = int(n)
        K.audit(raw, actor, "customer.erase", cid, {"rows": removed})
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    copies = forget_copies(store_path, cid, emails) if store_path else {}
    return {
        "customer_id": cid,
        "removed": removed,
        "rows": sum(removed.values()),
        **copies,
        "models_to_retrain": [m["model_id"] for m in models],
        "models": models,
        "note": (
            "the stored models listed may still carry this customer's data: retrain them (negah predict "
            "train --save) and delete these (negah predict models --delete ID); model files saved "
            "elsewhere may carry it too"
            if models
            else "no stored model carries this customer's data; model "
            "files saved elsewhere (files you wrote) may still carry it: retrain them"
        ),
    }


def _first_seen(raw: Any, names: set[str], cid: str) -> Any:
    """The customer's earliest dated row in the canonical tables (before they are erased)."""
    firsts = []
    for t in S.CUSTOMER_TABLES:
        if t not in names:
            continue
        col = S.table(t).date_column
        cols = {r[0] for r in raw.execute(f"DESCRIBE {qi(t)}").fetchall()}
        if col not in cols or "customer_id" not in cols:
            continue
        v = raw.execute(
            f"SELECT min(CAST({qi(col)} AS DATE)) FROM {qi(t)} WHERE CAST(customer_id AS VARCHAR) = ?", [cid]
        ).fetchone()[0]
        if v is not None:
            firsts.append(v)
    return min(firsts) if firsts else None


def forget_copies(store_path: str, customer_id: str, emails: list[str]) -> dict[str, int]:
    """Remove the service's saved answers beside the store and blank a customer out of the
    job records (values equal to their id, values containing one of their e-mail
    addresses); counts of what was touched."""
    from negah.api.sharedcache import sidecar

    side = sidecar(store_path)
    answers = 0
    cache = side / "cache"
    if cache.is_dir():
        for d in cache.iterdir():
            if d.is_dir():
                shutil.rmtree(d, ignore_errors=True)
                answers += 1
    jobs = 0
    emails = [e for e in emails if e]
    folder = side / "jobs"
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.name.endswith(".json") or f.name.endswith(".items.jsonl"):
                jobs += _blank(f, customer_id, emails)
    return {"cached_answers_removed": answers, "job_records_changed": jobs}


def _blank(path: Path, customer_id: str, emails: list[str]) -> int:
    """Rewrite ``path`` (JSON or JSON lines) with every string value that is the customer's
    id or contains one of their e-mail addresses replaced by ``[erased]``; 1 if it changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return 0
    if customer_id not in text and not any(e in text for e in emails):
        return 0
    changed = False

    def clean(v: Any) -> Any:
        nonlocal changed
        if isinstance(v, str):
            if v == customer_id or any(e in v for e in emails):
                changed = True
                return "[erased]"
            return v
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        return v

    try:
        if path.name.endswith(".jsonl"):
            out = "".join(
                json.dumps(clean(json.loads(x)), ensure_ascii=False) + "\n" for x in text.splitlines() if x.strip()
            )
        else:
            out = json.dumps(clean(json.loads(text)), ensure_ascii=False, default=str)
    except ValueError:
        return 0
    if not changed:
        return 0
    tmp = path.with_name(f".{path.name}.erase.tmp")
    tmp.write_text(out, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return 1
