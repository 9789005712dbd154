"""Computed JSON kept as ready bytes, keyed by (endpoint, parameters, store version).

The *store version* changes on every write, by this process or by any other (the CLI
importing into the same file): it is the (mtime, size) of the DuckDB file and of its
write-ahead log, plus a counter this process bumps after its own writes. Reading it
costs two ``stat`` calls and never opens the database, so a cache hit touches no lock.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable


def file_version(path: str) -> tuple:
    """(mtime_ns, size) of ``path`` and of ``path.wal`` (absent -> zeros)."""
    out: list[int] = []
    for p in (path, path + ".wal"):
        try:
            st = os.stat(p)
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [0, 0]
    return tuple(out)


class ByteCache:
    """A small thread-safe LRU of ``key -> bytes`` (or any value), bounded by total size."""

    def __init__(self, max_bytes: int = 256 << 20, max_items: int = 4096):
        self.max_bytes = max_bytes
        self.max_items = max_items
        self._d: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
                self.hits += 1
            return v

    @staticmethod
    def _sizeof(value: Any) -> int:
        if isinstance(value, (bytes, bytearray)):
            return len(value)
        return getattr(value, "size", 256)

    def put(self, key: Hashable, value: Any) -> None:
        n = self._sizeof(value)
        with self._lock:
            if key in self._d:
                self._size -= self._sizeof(self._d.pop(key))
            self._d[key] = value
            self._size += n
            while self._d and (self._size > self.max_bytes or len(self._d) > self.max_items):
                _k, old = self._d.popitem(last=False)
                self._size -= self._sizeof(old)

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The cached value, or ``build()`` run once even when many threads miss together."""
        v = self.get(key)
        if v is not None:
            return v
        with self._lock:
            lk = self._building.setdefault(key, threading.Lock())
        with lk:
            v = self.get(key)
            if v is not None:
                return v
            with self._lock:
                self.misses += 1
            v = build()
            self.put(key, v)
        with self._lock:
            self._building.pop(key, None)
        return v

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._size = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"items": len(self._d), "bytes": self._size, "hits": self.hits, "misses": self.misses}
