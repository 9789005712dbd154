"""Write endpoints: batch ingest, keys, audit log, complaints, erasure, model runs, surveys.

Each write opens the store read-write for one transaction (see :mod:`negah.api.access`)
and records who did it in the audit log.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from negah.api import keys as K
from negah.api import surveys as SV
from negah.api.deps import Principal, access, admin, analyst, json_response, viewer
from negah.api.models import (
    JSON_OK,
    MAX_ROWS,
    ComplaintIn,
    IngestBatch,
    IngestTable,
    KeyCreate,
    KeyUpdate,
    SurveyCreate,
    SurveySend,
)

router = APIRouter(prefix="/api")
CustomerId = Annotated[str, Path(min_length=1, max_length=200)]


# ------------------------------------------------------------------------------------
# ingest
# ------------------------------------------------------------------------------------


@router.post(
    "/ingest/{table}",
    tags=["ingest"],
    responses=JSON_OK,
    summary=f"Import a batch of rows (all or nothing; idempotent by event_id; at most {MAX_ROWS} rows)",
)
def ingest(request: Request, table: IngestTable, batch: IngestBatch, p: Principal = admin):
    import pandas as pd

    from negah.store.ingest import import_frame

    df = pd.DataFrame.from_records(batch.rows)
    acc = access(request)
    with acc.write() as store:
        report = import_frame(store, table, df, source=f"api:{batch.event_id}", dedupe_token=f"event:{batch.event_id}")
        if not report.skipped:
            K.audit(
                store.con.con,
                p.actor,
                "ingest",
                table,
                {"event_id": batch.event_id, "rows": report.rows, "import_id": report.import_id},
            )
    return json_response(
        {
            "table": table,
            "event_id": batch.event_id,
            "rows": report.rows,
            "skipped": report.skipped,
            "import_id": report.import_id,
            "message": report.message,
        }
    )


# ------------------------------------------------------------------------------------
# keys and audit
# ------------------------------------------------------------------------------------


@router.get("/me", tags=["keys"], summary="The key making this request", responses=JSON_OK)
def me(p: Principal = viewer):
    return json_response({"key_id": p.key_id, "role": p.role, "via": p.via})


@router.get("/keys", tags=["keys"], summary="List API keys (never the keys themselves)", responses=JSON_OK)
def keys_list(request: Request, _p: Principal = admin):
    with access(request).read() as store:
        return json_response({"keys": [k.as_dict() for k in K.list_keys(store.con.con)]})


@router.post("/keys", tags=["keys"], summary="Create an API key (shown once)", responses=JSON_OK, status_code=201)
def keys_create(request: Request, body: KeyCreate, p: Principal = admin):
    with access(request).write() as store:
        key, info = K.create_key(store.con.con, body.role, name=body.name, expires=body.expires, actor=p.actor)
    return json_response({"key": key, **info.as_dict()}, status=201)


@router.patch("/keys/{key_id}", tags=["keys"], summary="Set or clear a key's expiry", responses=JSON_OK)
def keys_update(request: Request, key_id: Annotated[str, Path(max_length=200)], body: KeyUpdate, p: Principal = admin):
    with access(request).write() as store:
        info = K.set_expiry(store.con.con, key_id, body.expires, actor=p.actor)
    return json_response(info.as_dict())


@router.delete("/keys/{key_id}", tags=["keys"], summary="Revoke a key", responses=JSON_OK)
def keys_revoke(request: Request, key_id: Annotated[str, Path(max_length=200)], p: Principal = admin):
    with access(request).write() as store:
        info = K.revoke_key(store.con.con, key_id, actor=p.actor)
    return json_response(info.as_dict())


@router.get("/audit", tags=["keys"], summary="The audit log, newest first", responses=JSON_OK)
def audit(
    request: Request,
    _p: Principal = admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    with access(request).read() as store:
        return json_response({"entries": K.audit_log(store.con.con, limit, offset)})


# ------------------------------------------------------------------------------------
# customers: complaints and erasure
# ------------------------------------------------------------------------------------


@router.post(
    "/customers/{customer_id}/complaints",
    tags=["customers"],
    status_code=201,
    responses=JSON_OK,
    summary="Log a complaint with a reason from the pick-list",
)
def complaint(request: Request, customer_id: CustomerId, body: ComplaintIn, p: Principal = analyst):
    import secrets

    import pandas as pd

    from negah.store.ingest import import_frame

    cid = customer_id.strip()
    if not cid:
        raise HTTPException(422, "customer id is empty")
    row = {
        "complaint_id": "c" + secrets.token_hex(6),
        "customer_id": cid,
        "complaint_date": (body.complaint_date or _dt.date.today()).isoformat(),
        "reason": body.reason,
        "product_id": body.product_id,
        "channel": body.channel or "dashboard",
        "status": "open",
        "text": body.text,
    }
    with access(request).write() as store:
        report = import_frame(
            store,
            "complaints",
            pd.DataFrame([row], dtype=object),
            source="api:complaint",
            dedupe_token=f"complaint:{row['complaint_id']}",
        )
        K.audit(
            store.con.con,
            p.actor,
            "complaint.create",
            cid,
            {"complaint_id": row["complaint_id"], "reason": body.reason},
        )
    return json_response({**row, "import_id": report.import_id}, status=201)


@router.delete(
    "/customers/{customer_id}",
    tags=["customers"],
    responses=JSON_OK,
    summary="Erase a customer's data from the store (says which models still carry it)",
)
def erase(request: Request, customer_id: CustomerId, p: Principal = admin):
    from negah.api.privacy import erase_customer

    acc = access(request)
    with acc.write() as store:
        out = erase_customer(store.con.con, customer_id, actor=p.actor, store_path=acc.path)
    return json_response(out)


# ------------------------------------------------------------------------------------
# surveys
# ------------------------------------------------------------------------------------


@router.post("/surveys", tags=["surveys"], status_code=201, summary="Create an NPS survey", responses=JSON_OK)
def survey_create(request: Request, body: SurveyCreate, p: Principal = analyst):
    with access(request).write() as store:
        K.ensure_secret(store.con.con)
        out = SV.create_survey(store.con.con, body.name, body.lang, p.actor)
    return json_response(out, status=201)


@router.get("/surveys", tags=["surveys"], summary="List surveys with their answer counts", responses=JSON_OK)
def survey_list(request: Request, _p: Principal = viewer):
    with access(request).read() as store:
        return json_response({"surveys": SV.list_surveys(store.con.con)})


def _links(request: Request, survey_id: str, base_url: str | None) -> tuple[dict, list[dict]]:
    acc = access(request)
    secret = acc.secret()
    with acc.read() as store:
        s = SV.get_survey(store.con.con, survey_id)
        if s is None:
            raise HTTPException(404, f"survey {survey_id!r} is not known: list surveys with GET /api/surveys")
        ids = SV.customers(store)
        emails = {}
        cust = store.table("customers")
        if cust is not None and "email" in cust.columns:
            df = store.execute(cust.select("customer_id", "email"))
            emails = {str(a): b for a, b in zip(df["customer_id"], df["email"]) if b}
    base = (base_url or str(request.base_url)).rstrip("/")
    rows = [
        {
            "customer_id": c,
            "url": f"{base}/s/{SV.make_token(secret, survey_id, c)}?lang={s['lang']}",
            "email": emails.get(c),
        }
        for c in ids
    ]
    return s, rows


@router.get(
    "/surveys/{survey_id}/links",
    tags=["surveys"],
    summary="One answer link per customer",
    responses={**JSON_OK, 404: {"description": "unknown survey"}},
)
def survey_links(
    request: Request,
    survey_id: Annotated[str, Path(max_length=40)],
    p: Principal = analyst,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    s, rows = _links(request, survey_id, None)
    return json_response({"survey": s, "total": len(rows), "links": rows[offset : offset + limit]})


@router.post(
    "/surveys/{survey_id}/send",
    tags=["surveys"],
    status_code=202,
    summary="E-mail the links in a background job (alerts' SMTP settings)",
    responses={
        **JSON_OK,
        202: {
            "description": "the job was queued: follow status_url",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        404: {"description": "unknown survey"},
    },
)
def survey_send(
    request: Request, survey_id: Annotated[str, Path(max_length=40)], body: SurveySend, p: Principal = analyst
):
    from negah.api.routes_jobs import job_answer

    s, rows = _links(request, survey_id, body.base_url)
    to_send = [r for r in rows if r["email"]]
    if body.dry_run:
        return json_response({"survey": s, "would_send": len(to_send), "without_email": len(rows) - len(to_send)})
    smtp = getattr(request.app.state, "smtp", None)
    if smtp is None:
        return json_response(
            {
                "survey": s,
                "sent": 0,
                "available": False,
                "message": "not available yet: no SMTP settings; start negah serve with "
                "--config negah.toml holding an [smtp] table (see docs/actions.md)",
            }
        )
    acc = access(request)

    def work(job) -> dict:
        return SV.send_links(
            smtp,
            s,
            to_send,
            job,
            without_email=len(rows) - len(to_send),
            audit=lambda action, detail: _audit(acc, p.actor, action, survey_id, detail),
        )

    job = request.app.state.jobs.submit(
        "survey.send", {"survey_id": survey_id, "recipients": len(to_send)}, p.actor, work
    )
    return job_answer(job, survey=s, recipients=len(to_send), without_email=len(rows) - len(to_send))


def _audit(acc, actor: str, action: str, target: str, detail: dict) -> None:
    with acc.write() as store:
        K.audit(store.con.con, actor, action, target, detail)
