"""The hot path for cached GETs: a pure-ASGI layer in front of FastAPI.

A ``GET`` of a cacheable read endpoint (the dashboard pages' JSON, metrics, cohorts,
store summary, action lists, customer profiles) is answered here, without routing,
dependency injection or parameter parsing, when

* the request carries a valid key (``Authorization: Bearer``: SHA-256 of the key looked
  up in an in-memory dict that is rebuilt when the key table changes) or a valid
  dashboard session cookie (HMAC check), and
* a response for the same path and query string at the current store version has been
  produced before.

The answer is then ready bytes: identity or gzip (compressed once, when stored), with a
precomputed ``ETag`` (``If-None-Match`` gives ``304``). Every cacheable endpoint needs the
lowest role (viewer), so any valid credential may read it. Everything else (a miss,
missing or bad credentials, other routes) goes to the FastAPI application unchanged; a
``200`` answer of a cacheable endpoint is kept for the next request.

The store version is :meth:`negah.api.access.StoreAccess.version`: a counter bumped by
this process's writes plus ``stat()`` of the DuckDB file and its WAL, re-read at most
every ``version_interval`` seconds. No store is opened and no lock is taken on a hit.

:class:`Warmer` computes the dashboard's default answers in a background thread at
start-up and again whenever the store version changes (an ingest through the API or
the CLI), so that users do not pay the cold computation.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import threading
from typing import Any

from negah.api.cache import ByteCache

log = logging.getLogger("negah.api")

EXACT = frozenset(
    {
        "/api/store",
        "/api/metrics",
        "/api/cohorts",
        "/api/at-risk",
        "/api/segments",
        "/api/reasons",
        "/api/contact-plan",
        "/api/models",
        "/api/complaint-reasons",
    }
)
PREFIXES = ("/api/dashboard/", "/api/customers/")
GZIP_MIN = 1024


def cacheable(path: str) -> bool:
    return path in EXACT or (path.startswith(PREFIXES) and path.count("/") == 3)


class Entry:
    """One cached answer: identity and gzip bodies with their header lists."""

    __slots__ = ("etag", "plain", "plain_headers", "gz", "gz_headers", "size")

    def __init__(self, body: bytes):
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        self.etag = f'"{digest}"'.encode()
        common = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"private, no-cache"),
            (b"vary", b"accept-encoding, authorization, cookie"),
        ]
        self.plain = body
        self.plain_headers = common + [(b"content-length", str(len(body)).encode()), (b"etag", self.etag)]
        if len(body) >= GZIP_MIN:
            self.gz = gzip.compress(body, compresslevel=6, mtime=0)
            self.gz_headers = common + [
                (b"content-length", str(len(self.gz)).encode()),
                (b"content-encoding", b"gzip"),
                (b"etag", f'"{digest}-gz"'.encode()),
            ]
        else:
            self.gz = None
            self.gz_headers = None
        self.size = len(body) + (len(self.gz) if self.gz else 0) + 300

    def matches(self, inm: bytes) -> bool:
        tags = {t.strip() for t in inm.split(b",")}
        return b"*" in tags or self.etag in tags or (self.gz is not None and self.etag[:-1] + b'-gz"' in tags)


_NOT_MODIFIED_HEADERS = [(b"cache-control", b"private, no-cache")]


class FastPath:
    """ASGI middleware: serve cached GETs of read endpoints as ready bytes (see module doc)."""

    def __init__(self, app: Any, access: Any, max_bytes: int = 256 << 20, warmer: "Warmer | None" = None):
        self.app = app
        self.access = access
        self.cache = ByteCache(max_bytes=max_bytes)
        self.warmer = warmer
        self.root: Any = None  # the application object (set by create_app's lifespan) for prime()
        self.hits = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or not cacheable(scope["path"]):
            return await self.app(scope, receive, send)
        auth = cookie = inm = None
        gz_ok = False
        for k, v in scope["headers"]:
            if k == b"authorization":
                auth = v
            elif k == b"accept-encoding":
                gz_ok = b"gzip" in v
            elif k == b"cookie":
                cookie = v
            elif k == b"if-none-match":
                inm = v
        acc = self.access
        if not self._allowed(auth, cookie):
            return await self.app(scope, receive, send)  # the application answers 401
        version = acc.version()
        if self.warmer is not None:
            self.warmer.check(version)
        key = (scope["path"], scope["query_string"], version)
        entry = self.cache.get(key)
        if entry is None:
            return await self._fill(key, scope, receive, send)
        self.hits += 1
        if inm is not None and entry.matches(inm):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": _NOT_MODIFIED_HEADERS
                    + [(b"etag", entry.etag if not (gz_ok and entry.gz) else entry.gz_headers[-1][1])],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if gz_ok and entry.gz is not None:
            await send({"type": "http.response.start", "status": 200, "headers": entry.gz_headers})
            await send({"type": "http.response.body", "body": entry.gz})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": entry.plain_headers})
            await send({"type": "http.response.body", "body": entry.plain})

    def _allowed(self, auth: bytes | None, cookie: bytes | None) -> bool:
        acc = self.access
        if auth is not None:
            scheme, _, token = auth.partition(b" ")
            return scheme.lower() == b"bearer" and acc.token_role(token.strip().decode("latin-1")) is not None
        if cookie is not None:
            from negah.api.deps import SESSION_COOKIE

            name = SESSION_COOKIE.encode() + b"="
            for part in cookie.split(b";"):
                part = part.strip()
                if part.startswith(name):
                    return acc.session_role(part[len(name) :].decode("latin-1")) is not None
        return False

    async def _fill(self, key: tuple, scope, receive, send) -> None:
        """Let the application answer, and keep a 200 JSON answer for the next request."""
        status = 0
        chunks: list[bytes] = []

        async def capture(msg):
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            elif msg["type"] == "http.response.body" and status == 200:
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body", False):
                    body = b"".join(chunks)
                    if body:
                        self.cache.put(key, Entry(body))
            await send(msg)

        await self.app(scope, receive, capture)

    async def prime(self, path: str, query: bytes = b"", *, nowait: bool = False) -> int:
        """Answer ``GET path?query`` internally (no client) and keep it; the status (409:
        with ``nowait``, another worker is computing it)."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query,
            "headers": [(b"host", b"negah.internal")],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "state": {},
            "extensions": {"negah.internal": True, "negah.nowait": nowait},
            "app": self.root,
        }
        key = (path, query, self.access.version())
        if self.cache.get(key) is not None:
            return 200
        status = 0

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(msg):
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]

        await self._fill(key, scope, receive, send)
        return status


def warm_targets() -> list[tuple[str, bytes]]:
    """What the dashboard asks first: every page in English (Gregorian) and Persian
    (Jalali), the store summary, metrics, the complaint pick-list. The two calendars of a
    page are next to each other, and the pages that share metric records or per-customer
    tables come first, so that two workers warming together take different work."""
    from negah.reports.pages import PAGES

    out = [("/api/store", b""), ("/api/complaint-reasons", b"")]
    for p in PAGES:
        out += [(f"/api/dashboard/{p.replace('_', '-')}", q) for q in (b"", b"calendar=jalali")]
    out.append(("/api/metrics", b""))
    return out


class Warmer:
    """A daemon thread that primes :func:`warm_targets` for each new store version.

    Several workers warm together: a target another worker is computing (its lock in the
    shared cache is held) is put off and taken last, when it is usually on disk already.
    :meth:`stop` ends the thread between two targets (at shutdown)."""

    def __init__(self, fast: FastPath, targets: list[tuple[str, bytes]] | None = None):
        self.fast = fast
        self.targets = targets if targets is not None else warm_targets()
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._done: tuple | None = None
        self._thread: threading.Thread | None = None
        self.warmed: list[tuple] = []  # versions fully warmed (for tests and logs)
        self.seconds: dict[tuple[str, bytes], float] = {}  # last time each target took here

    def start(self) -> None:
        if self._thread is None:
            self.fast.access.on_write.append(self._event.set)
            self._thread = threading.Thread(target=self._run, name="negah-warm", daemon=True)
            self._thread.start()
        self._event.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop after the target in progress; True when the thread ended within ``timeout``."""
        self._stopping.set()
        self._event.set()
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        return not t.is_alive()

    def check(self, version: tuple) -> None:
        if version != self._done and self._thread is not None:
            self._event.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._event.wait()
            self._event.clear()
            if self._stopping.is_set():
                return
            version = self.fast.access.version()
            if version == self._done:
                continue
            try:
                finished = self._warm(version)
            except Exception:  # noqa: BLE001 - warming is best effort; requests compute on demand
                if self._stopping.is_set():
                    return  # the shutdown interrupted the query in progress
                log.exception("warming the cache failed")
                finished = True
            if finished:
                self._done = version
                self.warmed.append(version)
                self._prune()
            if self.fast.access.version() != self._done:
                self._event.set()

    def _warm(self, version: tuple) -> bool:
        """Prime every target; False when stopped or when the store changed meanwhile."""
        import time

        pending = list(self.targets)
        for nowait in (True, False):
            later = []
            for path, q in pending:
                if self._stopping.is_set() or self.fast.access.version() != version:
                    return False
                t0 = time.perf_counter()
                status = asyncio.run(self.fast.prime(path, q, nowait=nowait))
                if status == 409:
                    later.append((path, q))
                else:
                    self.seconds[(path, q)] = round(time.perf_counter() - t0, 3)
            pending = later
        return True

    def _prune(self) -> None:
        acc = self.fast.access
        dv = acc._dv
        if dv is not None:
            try:
                acc.disk.prune(dv[1])
            except OSError:  # pragma: no cover - housekeeping only
                pass
