"""Erasing a person's data from an embedded store (``negah erase-customer ID``).

Deletes every row with ``customer_id = ID`` from every canonical table and from the
service's survey bookkeeping, in one transaction, and records the erasure (not the data)
in the audit log. Trained models saved earlier may still carry the person's data in
their fitted values: :func:`erase_customer` names the models of the store's registry
(:func:`negah.predict.registry.carrying`) that may, so that they can be retrained and
deleted: store-mode models trained on rows from before the customer's data ended there,
and every snapshot model (trained on a file negah cannot inspect).
"""

from __future__ import annotations

from typing import Any

from negah.api import keys as K
from negah.errors import InputError
from negah.predict.registry import carrying
from negah.store import schema as S
from negah.store.ingest import qi

SURVEY_TABLES = ("_negah_survey_answers",)


def erase_customer(raw: Any, customer_id: str, *, actor: str) -> dict[str, Any]:
    """Delete customer ``customer_id`` everywhere; returns rows removed per table and models."""
    cid = str(customer_id).strip()
    if not cid:
        raise InputError("customer id is empty: give the id of the customer to erase")
    names = {r[0] for r in raw.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
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
    return {"customer_id": cid, "removed": removed, "rows": sum(removed.values()),
            "models_to_retrain": [m["model_id"] for m in models], "models": models,
            "note": ("the stored models listed may still carry this customer's data: retrain them (negah predict "
                     "train --save) and delete these (negah predict models --delete ID); model files saved "
                     "elsewhere may carry it too" if models else "no stored model carries this customer's data; model "
                     "files saved elsewhere (files you wrote) may still carry it: retrain them")}


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
        v = raw.execute(f"SELECT min(CAST({qi(col)} AS DATE)) FROM {qi(t)} "
                        "WHERE CAST(customer_id AS VARCHAR) = ?", [cid]).fetchone()[0]
        if v is not None:
            firsts.append(v)
    return min(firsts) if firsts else None
