"""Models (fit, list, delete) and the background jobs that run long work.

``POST /api/models/run`` fits a model on the store in a background job (see
:mod:`negah.api.jobs`) and answers ``202`` with the job's id at once:

* BTYD models — ``bgnbd``, ``paretonbd``, ``mbgnbd`` (on the customer summary of
  :func:`negah.models.summary.summary_from_store`) and ``gammagamma`` (spend): the job's
  result holds the fit (``params``, ``std_errors``, ``log_likelihood``, ``n_customers``);
* ``churn`` — :func:`negah.predict.train_store` (read under the store lock, fitted without it) at ``as_of`` (default: the day after the
  data end), saved to the store's model registry (``negah.predict.registry``).

``GET /api/models`` lists the registry, ``DELETE /api/models/{id}`` removes a model.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from negah.api import keys as K
from negah.api.deps import Principal, access, admin, analyst, clean, json_response
from negah.api.jobs import Job
from negah.api.models import JSON_OK, ModelRun

router = APIRouter(prefix="/api")
JobId = Annotated[str, Path(pattern=r"^j[0-9a-f]{12}$", description="a job id from a 202 answer")]
ModelId = Annotated[str, Path(min_length=1, max_length=200)]
ACCEPTED = {
    **JSON_OK,
    202: {
        "description": "the job was queued: follow status_url",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}


def job_answer(job: dict[str, Any], **extra: Any):
    """The 202 answer of a queued job (with its status URL in ``Location``)."""
    url = f"/api/jobs/{job['job_id']}"
    resp = json_response(
        {"job_id": job["job_id"], "kind": job["kind"], "status": job["status"], "status_url": url, **extra}, status=202
    )
    resp.headers["Location"] = url
    return resp


@router.post(
    "/models/run",
    tags=["models"],
    status_code=202,
    responses=ACCEPTED,
    summary="Fit a model on the store in a background job (analyst)",
)
def run_model(request: Request, body: ModelRun, p: Principal = analyst):
    acc = access(request)
    if body.model == "churn":

        def work(job: Job) -> dict:
            return _train_churn(acc, body, p.actor, job)
    else:

        def work(job: Job) -> dict:
            return _fit_btyd(acc, body, job)

    job = request.app.state.jobs.submit(f"model.{body.model}", body.model_dump(mode="json"), p.actor, work)
    return job_answer(job, model=body.model)


def _fit_btyd(acc, body: ModelRun, job: Job) -> dict:
    from negah.models import get_model
    from negah.models.summary import summary_from_store

    job.progress("building the customer summary (frequency, recency, T, monetary value)", force=True)
    with acc.read() as store:
        summary = summary_from_store(store, calibration_end=body.calibration_end, time_unit=body.time_unit)
    job.progress(f"fitting {body.model} on {len(summary):,} customers", force=True)
    model = get_model(body.model)()
    if body.model == "gammagamma":
        model.fit(summary["frequency"], summary["monetary_value"])
    else:
        model.fit(summary["frequency"], summary["recency"], summary["T"])
    fit = model.to_dict()
    return clean(
        {
            **fit,
            "n": fit["n_customers"],
            "customers_in_summary": int(len(summary)),
            "converged": bool(getattr(model, "converged_", True)),
            "time_unit": body.time_unit,
            "calibration_end": None if body.calibration_end is None else body.calibration_end.isoformat(),
            "reference": getattr(model, "reference", None),
        }
    )


def default_as_of(store) -> _dt.date:
    """The day after the end of the data the churn labels come from."""
    from negah.errors import InputError
    from negah.predict.labels import data_end

    end = data_end(store)
    if end is None:
        raise InputError("churn prediction needs dated orders or subscriptions: the table is empty")
    return end + _dt.timedelta(days=1)


def _train_churn(acc, body: ModelRun, actor: str, job: Job) -> dict:
    from negah.predict import registry
    from negah.predict.backtest import fit_training_data, read_training_data

    job.progress("reading the store", force=True)
    with acc.read() as store:  # only while reading: the fit needs no store, and writers need not wait for it
        as_of = body.as_of or default_as_of(store)
        data = read_training_data(store, as_of, horizon=body.horizon, progress=job.progress)
    model = fit_training_data(data, progress=job.progress)
    job.progress("saving the model to the registry", force=True)
    with acc.write() as store:
        saved = registry.save(store, model, name=body.name)
        K.audit(
            store.con.con,
            actor,
            "model.save",
            str(_model_id(saved) or ""),
            {"model": "churn", "as_of": as_of.isoformat(), "horizon": body.horizon},
        )
    meta = model.meta
    return clean(
        {
            "model": "churn",
            "saved": saved,
            "as_of": as_of.isoformat(),
            "horizon": body.horizon,
            "chosen": meta.get("chosen", {}).get("kind"),
            "metrics": meta.get("metrics"),
            "training": meta.get("training"),
        }
    )


def _model_id(row: dict) -> Any:
    return row.get("model_id", row.get("id"))


@router.delete(
    "/models/{model_id}",
    tags=["models"],
    responses={**JSON_OK, 404: {"description": "unknown model"}},
    summary="Delete a trained model from the registry (admin)",
)
def delete_model(request: Request, model_id: ModelId, p: Principal = admin):
    from negah.predict import registry

    with access(request).write() as store:
        known = {str(_model_id(m)) for m in registry.list_models(store)}
        if model_id not in known:
            raise HTTPException(404, f"model {model_id!r} is not in the registry: list models with GET /api/models")
        registry.delete(store, model_id)
        K.audit(store.con.con, p.actor, "model.delete", model_id, {})
    return json_response({"model_id": model_id, "deleted": True})


# ------------------------------------------------------------------------------------
# jobs
# ------------------------------------------------------------------------------------


@router.get("/jobs", tags=["jobs"], summary="Recent background jobs, newest first (analyst)", responses=JSON_OK)
def jobs_list(request: Request, _p: Principal = analyst, limit: Annotated[int, Query(ge=1, le=500)] = 50):
    return json_response({"jobs": request.app.state.jobs.list(limit)})


@router.get(
    "/jobs/{job_id}",
    tags=["jobs"],
    summary="A background job: status, progress, result or error",
    responses={**JSON_OK, 404: {"description": "unknown job"}},
)
def job_status(request: Request, job_id: JobId, _p: Principal = analyst):
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"job {job_id!r} is not known (jobs are kept for the last 500)")
    return json_response(job)


@router.get(
    "/jobs/{job_id}/items",
    tags=["jobs"],
    summary="A job's per-item results (e.g. one per e-mail)",
    responses={**JSON_OK, 404: {"description": "unknown job"}},
)
def job_items(
    request: Request,
    job_id: JobId,
    _p: Principal = analyst,
    status: Annotated[Literal["sent", "failed"] | None, Query(description="only these items")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    jobs = request.app.state.jobs
    if jobs.get(job_id) is None:
        raise HTTPException(404, f"job {job_id!r} is not known (jobs are kept for the last 500)")
    return json_response({"job_id": job_id, "items": jobs.items(job_id, status=status, limit=limit, offset=offset)})
