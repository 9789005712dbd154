"""The dashboard's HTML pages, login, and the public survey page.

Every dashboard page is a thin HTML shell; its numbers come from its JSON twin under
``/api/dashboard/...``, drawn by ``static/negah.js`` with the vendored uPlot. Pages are
not part of the OpenAPI schema (they are not API routes).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from negah.api import keys as K
from negah.api import surveys as SV
from negah.api.deps import SESSION_COOKIE, SESSION_SECONDS, authenticate, make_session
from negah.reports import i18n
from negah.reports.pages import PAGES

router = APIRouter(include_in_schema=False)
NAV = list(PAGES)


def templates():
    from fastapi.templating import Jinja2Templates

    global _TEMPLATES
    try:
        return _TEMPLATES
    except NameError:
        path = resources.files("negah.web") / "templates"
        _TEMPLATES = Jinja2Templates(directory=str(path))
        return _TEMPLATES


def lang_of(request: Request) -> str:
    return i18n.check_lang(request.query_params.get("lang") or request.cookies.get("negah_lang"))


def _render(request: Request, name: str, lang: str, status: int = 200, **ctx) -> HTMLResponse:
    ctx.update(
        lang=lang,
        dir="rtl" if lang == "fa" else "ltr",
        t=lambda k: i18n.t(k, lang),
        strings_json=json.dumps(i18n.STRINGS[lang], ensure_ascii=False),
        nav=NAV,
        other_lang="en" if lang == "fa" else "fa",
        digits=lambda s: i18n.digits(s, lang),
        plain=lambda s: i18n.plain_digits(s, lang),
    )
    resp = templates().TemplateResponse(request, name, ctx, status_code=status)
    if request.query_params.get("lang") in i18n.LANGS:
        resp.set_cookie("negah_lang", lang, max_age=365 * 86400, samesite="lax")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _login_redirect(request: Request) -> RedirectResponse:
    nxt = request.url.path + (("?" + request.url.query) if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)


@router.get("/")
def home(request: Request):
    return RedirectResponse(
        "/dashboard/overview" + (("?" + request.url.query) if request.url.query else ""), status_code=303
    )


@router.get("/login")
def login_page(request: Request, next: str = "/dashboard/overview"):
    return _render(request, "login.html", lang_of(request), next=_safe_next(next), error=None)


def _safe_next(nxt: str) -> str:
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else "/dashboard/overview"


@router.post("/login")
def login(
    request: Request, key: Annotated[str, Form(max_length=300)], next: Annotated[str, Form(max_length=500)] = "/"
):
    acc = request.app.state.access
    got = K.verify(acc.key_table(), key.strip())
    if got is None:
        return _render(
            request,
            "login.html",
            lang_of(request),
            status=401,
            next=_safe_next(next),
            error=i18n.t("error", lang_of(request)) + ": invalid or expired key",
        )
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        SESSION_COOKIE, make_session(acc, got[0]), max_age=SESSION_SECONDS, httponly=True, samesite="strict"
    )
    return resp


@router.post("/logout")
def logout():
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/dashboard/{page}")
def dashboard(request: Request, page: str):
    name = page.replace("-", "_")
    if name not in PAGES:
        return Response("unknown page", status_code=404)
    p = authenticate(request)
    if p is None:
        return _login_redirect(request)
    lang = lang_of(request)
    return _render(request, "page.html", lang, page=name, api=f"/api/dashboard/{name.replace('_', '-')}", role=p.role)


@router.get("/customers/{customer_id}")
def customer_page(request: Request, customer_id: str):
    p = authenticate(request)
    if p is None:
        return _login_redirect(request)
    return _render(
        request,
        "customer.html",
        lang_of(request),
        page="customer",
        customer_id=customer_id,
        api=f"/api/customers/{quote(customer_id, safe='')}",
        role=p.role,
    )


# ------------------------------------------------------------------------------------
# the public survey page (no key: the signed link is the credential)
# ------------------------------------------------------------------------------------


def _survey_target(request: Request, token: str):
    acc = request.app.state.access
    secret = acc.secret()
    got = SV.read_token(secret, token)
    if got is None:
        return None
    with acc.read() as store:
        s = SV.get_survey(store.con.con, got[0])
        if s is None or SV.answered(store.con.con, got[0], got[1]):
            return None
    return s, got[1]


@router.get("/s/{token}")
def survey_page(request: Request, token: str):
    lang = i18n.check_lang(request.query_params.get("lang"))
    target = _survey_target(request, token)
    if target is None:
        return _render(request, "survey.html", lang, status=403, state="used", token=token)
    lang = i18n.check_lang(request.query_params.get("lang") or target[0]["lang"])
    return _render(request, "survey.html", lang, state="ask", token=token, survey=target[0])


@router.post("/s/{token}")
def survey_answer(
    request: Request,
    token: str,
    score: Annotated[int, Form(ge=0, le=10)],
    comment: Annotated[str, Form(max_length=2000)] = "",
):
    lang = i18n.check_lang(request.query_params.get("lang"))
    target = _survey_target(request, token)
    if target is None:
        return _render(request, "survey.html", lang, status=403, state="used", token=token)
    s, cid = target
    acc = request.app.state.access
    with acc.write() as store:
        if SV.answered(store.con.con, s["survey_id"], cid):
            return _render(request, "survey.html", lang, status=403, state="used", token=token)
        SV.record_answer(store, s["survey_id"], cid, score, comment.strip() or None)
    return _render(
        request,
        "survey.html",
        i18n.check_lang(request.query_params.get("lang") or s["lang"]),
        state="thanks",
        token=token,
    )
