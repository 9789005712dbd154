"""NPS surveys: one signed link per customer, answered once, landing in ``responses``.

A link carries ``base64url(survey_id:customer_id).signature`` where the signature is an
HMAC-SHA256 with the store's secret: it needs no API key, cannot be forged for another
customer, and is the same link however often it is listed. Answering it writes the score
and comment to ``responses`` (through the importer, so with the same validation) and
records the (survey, customer) pair in ``_negah_survey_answers``: a second answer is
refused.

Tables: ``_negah_surveys`` (survey_id, name, lang, created_at, created_by) and
``_negah_survey_answers`` (survey_id, customer_id, answered_at).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import secrets
from typing import Any

from negah.api import keys as K
from negah.errors import InputError

SURVEYS = "_negah_surveys"
ANSWERS = "_negah_survey_answers"
_DDL = [
    f"CREATE TABLE IF NOT EXISTS {SURVEYS} (survey_id VARCHAR PRIMARY KEY, name VARCHAR, lang VARCHAR, "
    "created_at TIMESTAMP, created_by VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {ANSWERS} (survey_id VARCHAR, customer_id VARCHAR, answered_at TIMESTAMP, "
    "PRIMARY KEY (survey_id, customer_id))",
]


def _tables(raw: Any) -> set[str]:
    return {r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def ensure_tables(raw: Any) -> None:
    for ddl in _DDL:
        raw.execute(ddl)


def create_survey(raw: Any, name: str, lang: str, actor: str) -> dict[str, Any]:
    ensure_tables(raw)
    sid = "s" + secrets.token_hex(5)
    at = K.now()
    raw.execute(f"INSERT INTO {SURVEYS} VALUES (?, ?, ?, ?, ?)", [sid, name, lang, at, actor])
    K.audit(raw, actor, "survey.create", sid, {"name": name, "lang": lang})
    return {"survey_id": sid, "name": name, "lang": lang, "created_at": at.isoformat()}


def list_surveys(raw: Any) -> list[dict[str, Any]]:
    if SURVEYS not in _tables(raw):
        return []
    rows = raw.execute(
        f"SELECT s.survey_id, s.name, s.lang, s.created_at, count(a.customer_id) FROM {SURVEYS} s "
        f"LEFT JOIN {ANSWERS} a USING (survey_id) GROUP BY ALL ORDER BY s.created_at, s.survey_id"
    ).fetchall()
    return [
        {"survey_id": r[0], "name": r[1], "lang": r[2], "created_at": r[3].isoformat(), "answers": r[4]} for r in rows
    ]


def get_survey(raw: Any, survey_id: str) -> dict[str, Any] | None:
    if SURVEYS not in _tables(raw):
        return None
    r = raw.execute(f"SELECT survey_id, name, lang FROM {SURVEYS} WHERE survey_id = ?", [survey_id]).fetchone()
    return None if r is None else {"survey_id": r[0], "name": r[1], "lang": r[2]}


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_token(secret: bytes, survey_id: str, customer_id: str) -> str:
    body = f"{survey_id}:{customer_id}".encode()
    sig = hmac.new(secret, b"survey|" + body, hashlib.sha256).digest()[:18]
    return f"{_b64(body)}.{_b64(sig)}"


def read_token(secret: bytes, token: str) -> tuple[str, str] | None:
    """(survey_id, customer_id) of a genuine token, else None."""
    try:
        b, s = token.split(".")
        body = _unb64(b)
        sig = _unb64(s)
    except (ValueError, TypeError):
        return None
    want = hmac.new(secret, b"survey|" + body, hashlib.sha256).digest()[:18]
    if not hmac.compare_digest(want, sig):
        return None
    sid, _, cid = body.decode("utf-8", "replace").partition(":")
    return (sid, cid) if sid and cid else None


def customers(store: Any) -> list[str]:
    """Every known customer id (customers table, else orders), sorted."""
    ids: set[str] = set()
    for t in ("customers", "orders", "subscriptions"):
        tab = store.table(t)
        if tab is not None:
            ids.update(
                str(x) for x in store.execute(tab.select("customer_id").distinct())["customer_id"] if x is not None
            )
    return sorted(ids)


def answered(raw: Any, survey_id: str, customer_id: str) -> bool:
    if ANSWERS not in _tables(raw):
        return False
    return (
        raw.execute(
            f"SELECT 1 FROM {ANSWERS} WHERE survey_id = ? AND customer_id = ?", [survey_id, customer_id]
        ).fetchone()
        is not None
    )


def record_answer(store: Any, survey_id: str, customer_id: str, score: int, comment: str | None) -> None:
    """Write the answer to ``responses`` and mark the link used (one transaction each; the
    importer's dedupe token makes a retry harmless)."""
    import pandas as pd

    from negah.store.ingest import import_frame

    if not (0 <= int(score) <= 10):
        raise InputError(f"score {score!r}: expected a whole number from 0 to 10")
    raw = store.con.con
    ensure_tables(raw)
    if answered(raw, survey_id, customer_id):
        raise InputError("this survey link has already been used")
    today = _dt.date.today().isoformat()
    df = pd.DataFrame(
        [
            {
                "customer_id": customer_id,
                "response_date": today,
                "score": int(score),
                "survey_id": survey_id,
                "comment": (comment or None),
            }
        ]
    )
    import_frame(store, "responses", df, source=f"survey:{survey_id}", dedupe_token=f"survey:{survey_id}:{customer_id}")
    raw.execute(f"INSERT INTO {ANSWERS} VALUES (?, ?, ?)", [survey_id, customer_id, K.now()])


def send_links(
    smtp: Any,
    survey: dict[str, Any],
    rows: list[dict[str, Any]],
    job: Any,
    *,
    without_email: int = 0,
    audit: Any = None,
) -> dict[str, Any]:
    """E-mail each row's link (``customer_id``, ``email``, ``url``) over one SMTP session:
    the body of a ``survey.send`` job. Each recipient's outcome (sent, or failed and why)
    is appended to the job's items as it happens; the totals are the job's result and go
    to the audit log (``audit(action, detail)``)."""
    from negah.actions.notify import send_emails

    subject = survey["name"]
    total = len(rows)
    failures: list[dict[str, Any]] = []

    def messages():
        for r in rows:
            yield r["email"], subject, f"{subject}\n\n{r['url']}\n"

    def on_result(i: int, to: str, err: str | None) -> None:
        r = rows[i]
        item = {"customer_id": r["customer_id"], "email": to, "status": "failed" if err else "sent"}
        if err:
            item["message"] = err
            if len(failures) < 100:
                failures.append(item)
        job.item(item)
        job.progress(f"{i + 1:,} of {total:,} e-mails handled", force=i + 1 == total)

    job.progress(f"sending {total:,} e-mails", force=True)
    sent, failed = send_emails(smtp, messages(), on_result=on_result, stop=lambda: job.stopping)
    result = {
        "survey": survey,
        "sent": sent,
        "failed": failed,
        "not_sent": total - sent - failed,
        "without_email": without_email,
        "failures": failures,
    }
    if audit is not None:
        audit("survey.send", {"sent": sent, "failed": failed, "not_sent": total - sent - failed})
    return result
