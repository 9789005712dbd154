"""The negah service: one FastAPI application (REST API under /api, dashboard, surveys).

>>> from negah.api.app import create_app, run
>>> app = create_app("negah.duckdb")           # doctest: +SKIP
>>> run("negah.duckdb", "127.0.0.1", 8000)     # doctest: +SKIP

See docs/service.md for the design (short-lived connections, the byte cache, keys).
"""

from __future__ import annotations

import json
import logging
import time
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from negah import __version__
from negah.api import errors
from negah.api.access import StoreAccess

log = logging.getLogger("negah.api")
MAX_BODY = 20 << 20  # bytes


class BodyLimit:
    """ASGI middleware: refuse request bodies above ``limit`` bytes with 413."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    n = int(v)
                except ValueError:
                    n = self.limit + 1
                if n > self.limit:
                    return await _too_large(send, self.limit)
        seen = 0

        async def limited():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return msg

        try:
            return await self.app(scope, limited, send)
        except _TooLarge:
            return await _too_large(send, self.limit)


class RequireKey:
    """ASGI middleware: every /api request needs valid credentials (401 otherwise),
    checked before routing and body parsing; the role check stays with each route."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            from starlette.requests import Request

            from negah.api.deps import Principal, authenticate

            if scope.get("extensions", {}).get("negah.internal") and scope["method"] == "GET":
                # the cache warmer's own requests (only in-process code can set extensions)
                scope.setdefault("state", {})["principal"] = Principal("internal", "viewer", "internal")
                return await self.app(scope, receive, send)
            request = Request(scope)
            p = authenticate(request)
            if p is None:
                body = json.dumps(
                    errors.error_body(
                        401,
                        "a valid API key is required: send Authorization: Bearer KEY "
                        "(create one with `negah keys create --role viewer`)",
                    )
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            scope.setdefault("state", {})["principal"] = p
        return await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = json.dumps(errors.error_body(413, f"request body above {limit} bytes: send smaller batches")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


SHUTDOWN_GRACE = 5.0  # seconds: open requests at shutdown, then the warmer and jobs, then exit


def create_app(
    store_path: str | Path,
    *,
    max_body: int = MAX_BODY,
    wait: float = 10.0,
    cache_bytes: int = 256 << 20,
    warm: bool = True,
    version_interval: float = 0.05,
    smtp: Any = None,
    shared_cache: bool = True,
    exit_after_shutdown: bool = False,
) -> FastAPI:
    """The application serving the DuckDB store at ``store_path``.

    A missing store file is created empty (so that ``negah keys create`` and ingest can
    fill it). No connection is kept open; see :mod:`negah.api.access`. Cached GETs are
    answered by :class:`negah.api.fastpath.FastPath`; with ``warm`` the dashboard's
    default answers are computed in the background when the server starts (its ASGI
    lifespan) and after every change of the store. With ``shared_cache`` computed answers
    are kept on disk beside the store for every worker and the next start
    (:mod:`negah.api.sharedcache`). Long work (model fits, survey e-mails) runs as
    background jobs (:mod:`negah.api.jobs`).

    At shutdown (the lifespan's end) the warmer stops between two pages, queued jobs are
    marked interrupted and queries in progress are interrupted; with
    ``exit_after_shutdown`` (``negah serve``) the process exits at most
    :data:`SHUTDOWN_GRACE` seconds later even if a computation does not end.
    """
    import contextlib

    from negah.api.fastpath import Warmer
    from negah.api.jobs import Jobs
    from negah.api.sharedcache import sidecar
    from negah.reports import shared
    from negah.store import open_store
    from negah.store.connect import store_kind

    path = str(store_path)
    if store_kind(path) != "duckdb" or path == ":memory:":
        from negah.errors import StoreError

        raise StoreError(
            f"store {path!r}: negah serve needs an embedded DuckDB file (it keeps keys, the audit "
            "log and surveys there); import your database's tables into one with negah import"
        )
    if not Path(path).exists():
        open_store(path, read_only=False, create=True).close()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        fast = getattr(app.state, "fast", None)
        if app.state.warm and fast is not None:
            fast.root = app
            fast.warmer = Warmer(fast)
            fast.warmer.start()
        yield
        _shutdown(app, exit_after_shutdown)

    app = _App(
        lifespan=lifespan,
        title="negah",
        version=__version__,
        description="Customer retention and churn analytics. Every /api route needs `Authorization: Bearer KEY` "
        "(create keys with `negah keys create --role viewer|analyst|admin`); GET /health does not.",
        openapi_tags=[
            {"name": n}
            for n in ("health", "query", "dashboard", "customers", "ingest", "models", "jobs", "surveys", "keys")
        ],
    )
    app.state.access = StoreAccess(
        path, wait=wait, cache_bytes=cache_bytes, version_interval=version_interval, shared_cache=shared_cache
    )
    shared.install(path, app.state.access)
    app.state.jobs = Jobs(sidecar(path) / "jobs")
    app.state.warm = warm
    app.state.smtp = smtp  # negah.actions.notify.SmtpSettings for survey e-mails (None: not configured)
    app.state.started = time.time()
    errors.install(app)

    @app.get(
        "/health",
        tags=["health"],
        summary="Liveness (no key, no store access)",
        responses={200: {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}},
    )
    def health():
        return Response(b'{"status":"ok"}', media_type="application/json")

    from negah.api import routes_data, routes_jobs, routes_write, web

    app.include_router(routes_data.router)
    app.include_router(routes_write.router)
    app.include_router(routes_jobs.router)
    app.include_router(web.router)
    static = resources.files("negah.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(RequireKey)
    app.add_middleware(BodyLimit, limit=max_body)
    from negah.api.fastpath import FastPath

    # the fast path runs before Starlette's own middleware stack (see _App)
    app.state.fast = FastPath(
        lambda scope, receive, send: FastAPI.__call__(app, scope, receive, send),
        app.state.access,
        max_bytes=cache_bytes,
    )
    return app


def _shutdown(app: FastAPI, exit_after: bool) -> None:
    """Stop the warmer (between two pages), mark queued and running jobs interrupted,
    interrupt the store's queries in progress; with ``exit_after``, make sure the process
    ends within :data:`SHUTDOWN_GRACE` seconds (a computation in numpy cannot be stopped)."""
    import os
    import threading

    fast = getattr(app.state, "fast", None)
    warmer = getattr(fast, "warmer", None) if fast is not None else None
    if warmer is not None:
        warmer._stopping.set()
    app.state.jobs.stop()
    interrupted = app.state.access.interrupt()
    if warmer is not None and not warmer.stop(timeout=SHUTDOWN_GRACE):
        log.warning("the cache warmer did not stop within %.0f s", SHUTDOWN_GRACE)
    if exit_after:

        def _exit() -> None:
            log.warning("exiting with computations unfinished (%d queries interrupted)", interrupted)
            logging.shutdown()
            os._exit(0)

        timer = threading.Timer(SHUTDOWN_GRACE, _exit)
        timer.daemon = True
        timer.start()


class _App(FastAPI):
    """The FastAPI application with :class:`negah.api.fastpath.FastPath` in front of its
    whole middleware stack: a cached GET is answered before Starlette's error and
    exception layers (about 12 µs of Python per request instead of 5); anything else
    goes through FastAPI as usual."""

    async def __call__(self, scope, receive, send):
        await self.state.fast(scope, receive, send)


def run(
    store_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    workers: int = 1,
    log_level: str = "warning",
    config: str | Path | None = None,
) -> None:
    """Serve ``store_path`` with uvicorn until interrupted.

    ``open_browser=True`` (``negah demo``) creates a one-day admin key and opens the
    dashboard logged in with it (the key travels in the URL fragment, which browsers
    do not send to servers).
    """
    import uvicorn

    from negah.api import keys as K
    from negah.store import open_store

    path = str(store_path)
    smtp = None
    if config is not None:
        from negah.actions.alerts import load_config

        smtp = load_config(config).smtp  # a bad file fails here, before serving
    if not Path(path).exists():
        open_store(path, read_only=False, create=True).close()
    url = f"http://{host}:{port}/"
    if open_browser:
        with open_store(path, read_only=False) as store:
            key, _ = K.create_key(store.con.con, "admin", name="browser login", expires="1d", actor="negah demo")
        url = f"http://{host}:{port}/login#key={key}"

        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    print(f"negah serving {path} at http://{host}:{port}/ (dashboard) and http://{host}:{port}/docs (API)", flush=True)
    if workers > 1:
        import os

        os.environ["NEGAH_SERVE_STORE"] = path
        if config is not None:
            os.environ["NEGAH_SERVE_CONFIG"] = str(Path(config).resolve())
        uvicorn.run(
            "negah.api.app:_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
        )
    else:
        uvicorn.run(
            create_app(path, smtp=smtp, exit_after_shutdown=True),
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
        )


def _app_from_env() -> FastAPI:
    import os

    smtp = None
    if os.environ.get("NEGAH_SERVE_CONFIG"):
        from negah.actions.alerts import load_config

        smtp = load_config(os.environ["NEGAH_SERVE_CONFIG"]).smtp
    return create_app(os.environ["NEGAH_SERVE_STORE"], smtp=smtp, exit_after_shutdown=True)
