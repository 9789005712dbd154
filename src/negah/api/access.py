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
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from negah.api import keys as K
from negah.api.cache import ByteCache, file_version


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

    def __init__(self, path: str, *, wait: float = 10.0, cache_bytes: int = 256 << 20):
        self.path = str(path)
        self.wait = wait
        self.lock = RWLock()
        self.cache = ByteCache(max_bytes=cache_bytes)
        self._local = 0  # bumped after this process's own writes
        self._keys: tuple[tuple, dict] | None = None
        self._secret: bytes | None = None
        self._meta_lock = threading.Lock()

    # -- version ------------------------------------------------------------------------
    def version(self) -> tuple:
        return (self._local,) + file_version(self.path)

    # -- connections ------------------------------------------------------------------------
    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A read-only Store, closed on exit."""
        from negah.store import open_store

        with self.lock.read():
            store = open_store(self.path, read_only=True, wait=self.wait)
            try:
                yield store
            finally:
                store.close()

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
                self._local += 1
                self._keys = None

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
            self._keys = (v, table)
            return table

    def secret(self) -> bytes:
        """The signing secret (created in the store on first use)."""
        if self._secret is None:
            self.key_table()
        if self._secret is None:
            with self.write() as store:
                self._secret = K.ensure_secret(store.con.con)
        return self._secret

    def cached(self, key: tuple, build) -> Any:
        """``build()``'s value cached under ``key`` + the current store version."""
        return self.cache.get_or_build(key + (self.version(),), build)
