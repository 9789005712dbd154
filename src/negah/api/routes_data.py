"""Read endpoints: metrics, cohorts, dashboard pages, model outputs, action lists, customers.

Every GET here answers from the byte cache when the store has not changed; a miss opens
the store read-only, calls the library, serialises once and caches the bytes.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from negah.api.deps import access, dumps, json_bytes, viewer
from negah.api.models import JSON_OK
from negah.api.sharedcache import Busy
from negah.reports import pages as P
from negah.reports.sources import Unavailable, attempt, records

router = APIRouter(prefix="/api")

PeriodQ = Annotated[Literal["week", "month", "quarter", "year"], Query(description="week, month, quarter or year")]
CalendarQ = Annotated[Literal["gregorian", "jalali"], Query(description="gregorian or jalali")]
SegmentQ = Annotated[
    str | None, Query(max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="a column of the customers table")
]
DateQ = Annotated[_dt.date | None, Query(description="YYYY-MM-DD")]


def cached(request: Request, key: tuple, build: Callable[[Any], Any]):
    """The JSON bytes of ``build(store)``, from the caches or computed on a read-only store
    (see :meth:`negah.api.access.StoreAccess.cached`). The warmer's own requests do not
    wait for another worker computing the same answer: they get 409 and come back later."""
    nowait = bool(request.scope.get("extensions", {}).get("negah.nowait"))
    try:
        return json_bytes(access(request).cached(key, lambda store: dumps(build(store)), nowait=nowait))
    except Busy:
        return Response(status_code=409)


def unavailable_body(u: Unavailable, **extra: Any) -> dict:
    return {"available": False, "message": u.message, **extra, "rows": []}


IndustryQ = Annotated[
    Literal["retail", "saas", "finance", "consulting"],
    Query(description="industry whose churn range the overview compares with"),
]


def _params(period: str, calendar: str, segment: str | None, start, end, industry: str = "retail") -> P.Params:
    return P.Params(
        period,
        calendar,
        segment,
        None if start is None else start.isoformat(),
        None if end is None else end.isoformat(),
        industry,
    )


@router.get("/store", tags=["query"], summary="What the store holds", responses=JSON_OK)
def store_summary(request: Request, _p=viewer):
    return cached(request, ("store",), P.store_summary)


@router.get("/metrics", tags=["query"], summary="Retention metrics per period (the spec's records)", responses=JSON_OK)
def metrics(
    request: Request,
    _p=viewer,
    period: PeriodQ = "month",
    calendar: CalendarQ = "gregorian",
    metric: Annotated[list[str] | None, Query(max_length=40, description="metric names (default: all)")] = None,
    segment: SegmentQ = None,
    start: DateQ = None,
    end: DateQ = None,
    basis: Annotated[Literal["orders", "subscriptions"], Query()] = "orders",
):
    names = tuple(metric) if metric else None

    def build(store):
        if basis == "orders" and not (store.has("orders") or store.has("responses")):
            return {"available": False, "message": "no orders yet: import orders first", "records": []}
        if basis == "subscriptions" and not store.has("subscriptions"):
            return {"available": False, "message": "no subscriptions yet: import subscriptions first", "records": []}
        prm = _params(period, calendar, segment, start, end)
        got = P.metric_records_for(store, prm, list(names) if names else None, basis=basis)
        if isinstance(got, Unavailable):
            return {"available": False, "message": got.message, "records": []}
        return {"available": True, "records": got}

    return cached(request, ("metrics", period, calendar, names, segment, start, end, basis), build)


@router.get("/cohorts", tags=["query"], summary="Cohort retention (first-purchase cohorts by age)", responses=JSON_OK)
def cohorts(request: Request, _p=viewer, period: PeriodQ = "month", calendar: CalendarQ = "gregorian"):
    return cached(request, ("page", "cohorts", period, calendar), lambda s: P.cohorts(s, P.Params(period, calendar)))


def _library_list(name: str, fetch: Callable[[Any], Any], summary: str):
    def endpoint(request: Request, _p=viewer, limit: Annotated[int, Query(ge=1, le=10000)] = 100):
        def build(store):
            got = records(fetch(store))
            if isinstance(got, Unavailable):
                return unavailable_body(got)
            return {"available": True, "rows": got[:limit], "total": len(got)}

        return cached(request, (name, limit), build)

    endpoint.__name__ = name.replace("-", "_")
    router.add_api_route(f"/{name}", endpoint, methods=["GET"], tags=["query"], summary=summary, responses=JSON_OK)


_library_list("at-risk", lambda s: P.at_risk_table(s), "Customers at risk of churning, with reasons and next steps")
_library_list("segments", lambda s: P.rfm_table(s), "RFM segments with CLV per customer")


def _reasons(store):
    if not store.has("complaints"):
        return Unavailable("complaints", "no complaints yet: import complaints or log one on a customer's page")
    from negah.actions.reasons import analyse

    got = attempt("complaint reasons", analyse, store)
    return got if isinstance(got, Unavailable) else got.to_dict()["by_reason"]


def _models(store):
    """The churn models saved in the store's registry, newest first."""
    from negah.predict import registry

    return attempt("models", registry.list_models, store)


_library_list("reasons", _reasons, "Complaint reasons: counts, churn after each reason")
_library_list("contact-plan", P.contact_plan_table, "Best channel, hour and weekday to contact each customer")
_library_list(
    "models",
    _models,
    "Trained churn models in the store's registry, newest first (train one with "
    'POST /api/models/run {"model": "churn"})',
)


@router.get("/complaint-reasons", tags=["query"], summary="The complaint reason pick-list", responses=JSON_OK)
def complaint_reasons(request: Request, _p=viewer):
    return cached(request, ("complaint-reasons",), lambda s: {"reasons": P.complaint_reasons(s)})


def _dashboard(page: str):
    build_page = P.PAGES[page]

    def endpoint(
        request: Request,
        _p=viewer,
        period: PeriodQ = "month",
        calendar: CalendarQ = "gregorian",
        segment: SegmentQ = None,
        start: DateQ = None,
        end: DateQ = None,
        industry: IndustryQ = "retail",
    ):
        prm = _params(period, calendar, segment, start, end, industry)
        return cached(request, ("page", page) + prm.key(), lambda s: build_page(s, prm))

    endpoint.__name__ = f"dashboard_{page}"
    router.add_api_route(
        f"/dashboard/{page.replace('_', '-')}",
        endpoint,
        methods=["GET"],
        tags=["dashboard"],
        summary=f"The {page.replace('_', ' ')} page's data",
        responses=JSON_OK,
    )


for _page in P.PAGES:
    _dashboard(_page)


@router.get(
    "/customers/{customer_id}",
    tags=["customers"],
    summary="A customer's profile and timeline",
    responses={**JSON_OK, 404: {"description": "unknown customer"}},
)
def customer(request: Request, customer_id: Annotated[str, Path(min_length=1, max_length=200)], _p=viewer):
    from fastapi import HTTPException

    def make(store) -> bytes:
        got = P.customer_profile(store, customer_id)
        return b"" if got is None else dumps(got)

    # profiles are cheap once the shared per-customer tables exist: not kept on disk
    body = access(request).cached(("customer", customer_id), make, shared=False)
    if not body:
        raise HTTPException(404, f"customer {customer_id!r} is not in the store")
    return json_bytes(body)
