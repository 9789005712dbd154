"""Authentication (API keys and dashboard sessions), roles, JSON bytes responses.

A request carries ``Authorization: Bearer KEY``, or the dashboard's signed session
cookie (``negah_session``: key id, expiry, HMAC with the store's secret). Keys are
checked against an in-memory copy of ``_negah_keys`` that is reloaded whenever the store
version changes, so a revoked key stops working on the next request. No valid
credentials: 401; a role below the one needed: 403. Cookie-authenticated writes must
also carry the ``X-Negah-Request: 1`` header (a cross-site form cannot set it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from negah.api import keys as K
from negah.api.access import StoreAccess

SESSION_COOKIE = "negah_session"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    via: str  # "key" | "session"

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


def access(request: Request) -> StoreAccess:
    return request.app.state.access


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())[:32]


def make_session(acc: StoreAccess, key_id: str, seconds: int = SESSION_SECONDS) -> str:
    exp = int(time.time()) + seconds
    payload = f"{key_id}.{exp}"
    return f"{payload}.{sign(acc.secret(), payload)}"


def read_session(acc: StoreAccess, value: str) -> str | None:
    """The key id of a valid, unexpired session cookie, else None."""
    try:
        key_id, exp, sig = value.split(".")
        if int(exp) < time.time():
            return None
    except ValueError:
        return None
    secret = acc._secret if acc._secret is not None else None
    if secret is None:
        acc.key_table()
        secret = acc._secret
    if secret is None or not hmac.compare_digest(sign(secret, f"{key_id}.{exp}"), sig):
        return None
    return key_id


def authenticate(request: Request) -> Principal | None:
    acc = access(request)
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        got = K.verify(acc.key_table(), token.strip())
        return None if got is None else Principal(got[0], got[1], "key")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        key_id = read_session(acc, cookie)
        if key_id is not None:
            role = K.key_role(acc.key_table(), key_id)
            if role is not None:
                return Principal(key_id, role, "session")
    return None


def require(role: str) -> Callable[..., Principal]:
    """A dependency that admits a principal with at least ``role``."""

    def dep(request: Request) -> Principal:
        p = getattr(request.state, "principal", None) or authenticate(request)
        if p is None:
            raise HTTPException(
                401,
                "a valid API key is required: send Authorization: Bearer KEY "
                "(create one with `negah keys create --role viewer`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not K.role_allows(p.role, role):
            raise HTTPException(403, f"this needs the {role} role; key {p.key_id} has the {p.role} role")
        if (
            p.via == "session"
            and request.method not in ("GET", "HEAD")
            and request.headers.get("x-negah-request") != "1"
        ):
            raise HTTPException(403, "dashboard writes need the X-Negah-Request: 1 header")
        request.state.principal = p
        return p

    dep.__name__ = f"require_{role}"
    return dep


viewer = Depends(require("viewer"))
analyst = Depends(require("analyst"))
admin = Depends(require("admin"))


def clean(obj: Any) -> Any:
    """``obj`` with every value JSON-ready (NaN -> null, Decimal -> float, dates -> ISO)."""
    from negah.reports.sources import py

    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return py(obj)


def dumps(obj: Any) -> bytes:
    return json.dumps(clean(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def json_bytes(body: bytes, status: int = 200) -> Response:
    return Response(content=body, status_code=status, media_type="application/json")


def json_response(obj: Any, status: int = 200) -> Response:
    return json_bytes(dumps(obj), status)
