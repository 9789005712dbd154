"""Intermediate results several pages need, computed once per store version.

Overview, trends, revenue, growth, NPS and CLV all read the spec's metric records for the
same (period, calendar, segment, range); the CLV and at-risk pages and every customer
profile read the per-customer RFM and at-risk tables. :func:`shared` computes each once
per store version and hands the same value to every page.

By default the value is kept in this process, keyed by the store file's (mtime, size).
``negah serve`` installs a backend for its store (:func:`install`) that keys by the
store's data version and keeps the values on disk for every worker process
(:mod:`negah.api.sharedcache`); the pages do not know the difference.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Protocol


class Backend(Protocol):
    def shared(self, store: Any, name: str, params: tuple, build: Callable[[], Any]) -> Any: ...


_BACKENDS: dict[str, Backend] = {}
_LOCAL: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _where(location: str) -> str:
    return os.path.abspath(location) if location and "://" not in location and location != ":memory:" else location


def install(location: str, backend: Backend | None) -> None:
    """Use ``backend`` for the store at ``location`` (None: back to this process's memory)."""
    with _LOCK:
        if backend is None:
            _BACKENDS.pop(_where(location), None)
        else:
            _BACKENDS[_where(location)] = backend


def shared(store: Any, name: str, params: tuple, build: Callable[[], Any]) -> Any:
    """``build()``'s value for (store version, ``name``, ``params``), computed once."""
    backend = _BACKENDS.get(_where(getattr(store, "location", "")))
    if backend is not None:
        return backend.shared(store, name, params, build)
    return _local(store, name, params, build)


def _local(store: Any, name: str, params: tuple, build: Callable[[], Any]) -> Any:
    loc = getattr(store, "location", "")
    try:
        st = os.stat(loc)
        wal = os.stat(loc + ".wal") if os.path.exists(loc + ".wal") else None
    except OSError:
        return build()  # a database URL or an in-memory store: nothing to key by
    key = (loc, st.st_mtime_ns, st.st_size, wal.st_mtime_ns if wal else 0, wal.st_size if wal else 0, name, params)
    with _LOCK:
        if key in _LOCAL:
            return _LOCAL[key]
    value = build()
    with _LOCK:
        if len(_LOCAL) > 32:
            _LOCAL.clear()
        _LOCAL[key] = value
    return value
