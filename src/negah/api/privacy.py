"""Erasing a person's data from an embedded store (``negah erase-customer ID``).

Deletes every row with ``customer_id = ID`` from every canonical table and from the
service's survey bookkeeping, in one transaction, and records the erasure (not the data)
in the audit log. Trained models saved earlier may still carry the person's data in
their fitted values: :func:`erase_customer` names the ones it can find (bookkeeping
tables whose name starts with ``_negah_model``) so that they can be retrained.
"""

from __future__ import annotations

from typing import Any

from negah.api import keys as K
from negah.errors import InputError
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
        models = sorted(n for n in names if n.startswith("_negah_model"))
        K.audit(raw, actor, "customer.erase", cid, {"rows": removed})
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    return {"customer_id": cid, "removed": removed, "rows": sum(removed.values()),
            "models_to_retrain": models,
            "note": ("trained models stored in the tables listed may still carry this customer's data: retrain them"
                     if models else "no trained models are recorded in this store; models saved elsewhere "
                     "(files you wrote) may still carry this customer's data: retrain them")}
