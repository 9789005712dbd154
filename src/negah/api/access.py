"""How the service touches the store: short-lived connections, one writer at a time.

DuckDB lets one process write a database file at a time, and a process cannot hold the
same file open read-only and read-write at once. The service therefore keeps **no
connection open between requests**:

* reads (a cache miss) open the store read-only, compute, and close it;
* writes (ingest, keys, survey answers, complaints, erasure) open it read-write for the
  length of one transaction and close it;
* inside the process a readers-writer lock orders the two; across processes
  :func:`negah.store.open_store` retries while another process (``negah import``) holds
  the write lock, and the request fails with 503 "store busy" after ``wait`` seconds.

So ``negah import`` / ``negah keys create`` and ``negah serve`` work on one file together:
the CLI waits at most for one request's read, and the service sees the CLI's writes on
the next request (the store version changes).

Two versions of the store are kept apart:

* :meth:`StoreAccess.version` — the (mtime, size) of the file and its WAL plus this
  process's write counter: free to read (two ``stat`` calls), so it keys the in-memory
  caches and the hot path; any write moves it, even one that changes no answer (a key);
* :meth:`StoreAccess.data_version` — a digest of what the store holds
  (:func:`negah.api.sharedcache.data_version`), read from the open store when the first
  one moved: it keys the answers shared on disk by every worker and kept across restarts
  (:mod:`negah.api.sharedcache`), so creating a key or restarting recomputes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from typing import Any, Iterator

from negah.api import keys as K
from negah.api.cache import ByteCache, file_version
from negah.api.sharedcache import Busy, DiskCache, decode_value, encode_value, sidecar
from negah.api.sharedcache import data_version as _data_version


class _Unshared(Exception):
    """A value that cannot be kept on disk (kept in this process only)."""

    def __init__(self, value: Any):
        self.value = value


class RWLock:
    """Many readers or one writer (writers are not starved: new readers wait for them)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class StoreAccess:
    """One store path, its version, a byte cache and the in-memory key table."""

    def __init__(
        self,
        path: str,
        *,
        wait: float = 10.0,
        cache_bytes: int = 256 << 20,
        version_interval: float = 0.05,
        shared_cache: bool = True,
    ):
        self.path = str(path)
        self.disk = DiskCache(sidecar(self.path) / "cache")
        self.disk.enabled = self.disk.enabled and shared_cache
        self._dv: tuple[tuple, str] | None = None
        self._values: dict[tuple, Any] = {}  # shared intermediate values of this process, by data version
        self._values_lock = threading.Lock()
        self._open: set = set()  # raw connections of reads in progress (interrupted at shutdown)
        self._open_lock = threading.Lock()
        self.wait = wait
        self.lock = RWLock()
        self.cache = ByteCache(max_bytes=cache_bytes)
        self.version_interval = version_interval
        self._local = 0  # bumped after this process's own writes
        self._files: tuple = file_version(self.path)
        self._checked = time.monotonic()
        self._keys: tuple[tuple, dict] | None = None
        self._by_hash: dict[str, tuple] = {}
        self._secret: bytes | None = None
        self._sessions: dict[str, tuple[str, int]] = {}
        self._meta_lock = threading.Lock()
        self.on_write: list = []  # callables run after each of this process's writes (the cache warmer)

    # -- version ------------------------------------------------------------------------
    def version(self) -> tuple:
        """This process's write counter + (mtime, size) of the DuckDB file and its WAL; the
        files are stat()ed at most every ``version_interval`` seconds (another process's
        write is seen within that time; this process's own writes at once)."""
        now = time.monotonic()
        if now - self._checked >= self.version_interval:
            self._files = file_version(self.path)
            self._checked = now
        return (self._local,) + self._files

    # -- connections ------------------------------------------------------------------------
    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A read-only Store, closed on exit."""
        from negah.store import open_store

        with self.lock.read():
            store = open_store(self.path, read_only=True, wait=self.wait)
            raw = store.con.con
            with self._open_lock:
                self._open.add(raw)
            try:
                yield store
            finally:
                with self._open_lock:
                    self._open.discard(raw)
                store.close()

    def interrupt(self) -> int:
        """Interrupt the queries of every read in progress (at shutdown); how many."""
        with self._open_lock:
            cons = list(self._open)
        for raw in cons:
            try:
                raw.interrupt()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        return len(cons)

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A read-write Store for one change, closed on exit; the version moves on."""
        from negah.store import open_store

        with self.lock.write():
            store = open_store(self.path, read_only=False, create=False, wait=self.wait)
            try:
                yield store
            finally:
                store.close()
                self._files = file_version(self.path)
                self._checked = time.monotonic()
                self._local += 1
                self._keys = None
                for hook in self.on_write:
                    hook()

    # -- keys and secret ------------------------------------------------------------------
    def key_table(self) -> dict:
        v = self.version()
        got = self._keys
        if got is not None and got[0] == v:
            return got[1]
        with self._meta_lock:
            got = self._keys
            if got is not None and got[0] == v:
                return got[1]
            with self.read() as store:
                raw = store.con.con
                table = K.key_table(raw)
                if self._secret is None:
                    self._secret = K.read_secret(raw)
            self._by_hash = {row[0]: (kid,) + tuple(row[1:]) for kid, row in table.items()}
            self._sessions = {}
            self._keys = (v, table)
            return table

    def token_role(self, token: str) -> str | None:
        """The role of an active API key (the hot path: one SHA-256 and a dict lookup on the
        in-memory key table, reloaded when the store version changes), else None."""
        self.key_table()
        row = self._by_hash.get(hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest())
        if row is None or not token.startswith(f"ngh_{row[0]}_"):
            return None
        _kid, role, expires_at, revoked_at = row
        if revoked_at is not None or (expires_at is not None and expires_at <= K.now()):
            return None
        return role

    def session_role(self, cookie: str) -> str | None:
        """The role behind a valid dashboard session cookie (HMAC checked once per cookie
        and key-table version), else None."""
        from negah.api.deps import read_session

        self.key_table()
        got = self._sessions.get(cookie)
        if got is None:
            key_id = read_session(self, cookie)
            if key_id is None:
                return None
            if len(self._sessions) > 10000:
                self._sessions = {}
            got = self._sessions[cookie] = (key_id, int(cookie.split(".")[1]))
        if got[1] < time.time():
            return None
        return K.key_role(self._keys[1] if self._keys else {}, got[0])

    def secret(self) -> bytes:
        """The signing secret (created in the store on first use)."""
        if self._secret is None:
            self.key_table()
        if self._secret is None:
            with self.write() as store:
                self._secret = K.ensure_secret(store.con.con)
        return self._secret

    # -- computed answers ------------------------------------------------------------------
    def data_version(self, store: Any) -> str:
        """The data version of the open ``store`` (recomputed only when :meth:`version`'s
        files moved; see the module docstring)."""
        files = file_version(self.path)
        got = self._dv
        if got is not None and got[0] == files:
            return got[1]
        dv = _data_version(store.con.con)
        self._dv = (files, dv)
        return dv

    def cached(self, key: tuple, build, *, shared: bool = True, nowait: bool = False) -> Any:
        """``build(store)``'s bytes for ``key`` at the current store version: from memory,
        else from the disk cache shared by every worker (``shared``), else computed on a
        read-only store, once across threads and processes. With ``nowait`` (the warmer),
        :class:`~negah.api.sharedcache.Busy` is raised when another worker is computing it."""
        return self.cache.get_or_build(key + (self.version(),), lambda: self._compute(key, build, shared, nowait))

    def _compute(self, key: tuple, build, shared: bool, nowait: bool) -> bytes:
        import time as _time

        known = self._dv
        if shared and self.disk.enabled and known is not None and known[0] == file_version(self.path):
            got = self.disk.read(known[1], key)  # on disk already: no need to open the store
            if got is not None:
                return got
        while True:
            with self.read() as store:
                if not shared or not self.disk.enabled:
                    return build(store)
                dv = self.data_version(store)
                got = self.disk.read(dv, key)
                if got is not None:
                    return got
                with self.disk.lock(dv, key, blocking=False) as mine:
                    if mine:
                        got = self.disk.read(dv, key)
                        if got is None:
                            t0 = _time.perf_counter()
                            got = build(store)
                            self.disk.write(dv, key, got, _time.perf_counter() - t0)
                        return got
            # another worker is computing it: wait for it without holding the store open
            if nowait:
                raise Busy(key)
            with self.disk.lock(dv, key):
                pass

    def shared(self, store: Any, name: str, params: tuple, build) -> Any:
        """An intermediate value several answers need (metric records, the RFM and at-risk
        tables), computed once per data version across workers: the
        :class:`negah.reports.shared.Backend` this service installs for its store."""
        dv = self.data_version(store)
        key = ("shared", name, params)
        with self._values_lock:
            if (dv, key) in self._values:
                return self._values[(dv, key)]

        def make() -> bytes:
            value = build()
            body = encode_value(value)
            if body is None:
                raise _Unshared(value)
            return body

        try:
            value = decode_value(self.disk.get_or_build(dv, key, make))
        except _Unshared as u:
            value = u.value
        with self._values_lock:
            for k in [k for k in self._values if k[0] != dv]:
                del self._values[k]
            if len(self._values) >= 16:
                self._values.pop(next(iter(self._values)))
            self._values[(dv, key)] = value
        return value
