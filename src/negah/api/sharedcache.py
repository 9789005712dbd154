"""Computed answers kept on disk beside the store, shared by every worker and kept across restarts.

The service's folder beside the store (``shop.duckdb`` -> ``shop.duckdb.negah/``) holds
``cache/<version>/``: one file per computed answer (a dashboard page's JSON, the metric
records several pages share, the per-customer RFM and at-risk tables), where
``<version>`` digests the store's *data version* (:func:`data_version`: what was
imported, not when the file was last touched) and the code of negah itself. So

* every ``negah serve`` worker process reads what another one computed;
* a restart finds the answers of the unchanged store and recomputes nothing;
* an import (through the API or the CLI) changes the data version: the next answers
  go to a new folder, and folders of older versions are removed once unused.

Each answer is computed once: its builder holds an exclusive ``flock`` on the answer's
lock file while computing, and a second worker that wants the same answer waits for the
lock and then reads the file. Files are written to a temporary name and renamed (atomic),
with a length and checksum header, so a reader never sees half a file.

``timings.jsonl`` in each version folder records how long each answer took to compute
(``bench/serve.py`` reports it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any, Callable, Iterator

log = logging.getLogger("negah.api")

try:  # POSIX; elsewhere answers are still shared, but two workers may compute one together
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_MAGIC = b"NGH1"
_HEAD = struct.Struct("<4sQ16s")  # magic, length, blake2b-16 of the body

# bookkeeping tables whose changes do not change any computed answer
UNCACHED_TABLES = frozenset(
    {"_negah_keys", "_negah_audit", "_negah_secrets", "_negah_surveys", "_negah_survey_answers"}
)


class Busy(Exception):
    """Another thread or process is computing this answer (raised with ``nowait``)."""


def sidecar(store_path: str) -> Path:
    """The service's folder beside the store: ``<store>.negah``."""
    return Path(str(store_path) + ".negah")


def data_version(raw: Any) -> str:
    """A digest of what the store holds, from a DuckDB connection.

    Every canonical and model table's row count plus the import log (ids, modes, rows):
    an import, a replace, an erasure or a saved or renamed model changes it; creating a key, writing
    the audit log or answering a survey's bookkeeping does not (a survey answer lands in
    ``responses`` through the importer, which does). Cheap: counts and one pass over the
    small import log.
    """
    names = [
        r[0]
        for r in raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]
    parts: list[Any] = []
    for n in names:
        if n in UNCACHED_TABLES:
            continue
        q = '"' + n.replace('"', '""') + '"'
        parts.append((n, raw.execute(f"SELECT count(*) FROM {q}").fetchone()[0]))
        if n == "_negah_imports":
            parts.append(
                raw.execute(
                    "SELECT coalesce(max(import_id), 0), coalesce(bit_xor(hash(import_id, mode, rows)), 0) "
                    "FROM _negah_imports"
                ).fetchone()
            )
        if n == "_negah_models":  # a model saved again under a new name keeps the count
            parts.append(raw.execute(f"SELECT coalesce(bit_xor(hash(model_id, name, seq)), 0) FROM {q}").fetchone())
        if n == "_negah_meta":
            parts.append(raw.execute(f"SELECT * FROM {q} ORDER BY ALL").fetchall())
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def code_version() -> str:
    """A digest of negah's own code (name, size and mtime of every module), so answers
    computed by another version of negah are not served."""
    import negah

    root = Path(negah.__file__).parent
    h = hashlib.sha256(negah.__version__.encode())
    for p in sorted(root.rglob("*.py")):
        try:
            st = p.stat()
        except OSError:
            continue
        h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


class DiskCache:
    """Answers as files under ``root/<version>/``; see the module docstring."""

    def __init__(self, root: Path, code: str | None = None):
        self.root = Path(root)
        self.code = code if code is not None else code_version()
        self.enabled = True
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:  # a read-only folder: keep answers in memory only
            log.warning("shared cache disabled: %s is not writable (%s)", self.root, e)
            self.enabled = False

    # -- names ----------------------------------------------------------------------------
    def folder(self, version: str) -> Path:
        return self.root / hashlib.sha256(f"{version}:{self.code}".encode()).hexdigest()[:24]

    def path(self, version: str, key: Any) -> Path:
        name = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        return self.folder(version) / name

    # -- files ------------------------------------------------------------------------------
    def read(self, version: str, key: Any) -> bytes | None:
        if not self.enabled:
            return None
        try:
            with open(self.path(version, key), "rb") as f:
                head = f.read(_HEAD.size)
                body = f.read()
        except OSError:
            return None
        if len(head) != _HEAD.size:
            return None
        magic, n, digest = _HEAD.unpack(head)
        if magic != _MAGIC or n != len(body) or hashlib.blake2b(body, digest_size=16).digest() != digest:
            return None
        return body

    def write(self, version: str, key: Any, body: bytes, seconds: float | None = None) -> None:
        if not self.enabled:
            return
        p = self.path(version, key)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(f".{p.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
            with open(tmp, "wb") as f:
                f.write(_HEAD.pack(_MAGIC, len(body), hashlib.blake2b(body, digest_size=16).digest()))
                f.write(body)
            os.replace(tmp, p)
            if seconds is not None:
                line = (
                    json.dumps(
                        {
                            "key": repr(key),
                            "seconds": round(seconds, 3),
                            "bytes": len(body),
                            "pid": os.getpid(),
                            "at": round(time.time(), 3),
                        }
                    )
                    + "\n"
                )
                fd = os.open(p.parent / "timings.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line.encode())
                finally:
                    os.close(fd)
        except OSError as e:
            log.warning("could not keep %r in the shared cache: %s", key, e)

    @contextlib.contextmanager
    def lock(self, version: str, key: Any, blocking: bool = True) -> Iterator[bool]:
        """Hold the answer's exclusive lock; yields False (at once) when ``blocking`` is
        False and another thread or process holds it."""
        if not self.enabled or fcntl is None:
            yield True
            return
        p = self.path(version, key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(p) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def get_or_build(self, version: str, key: Any, build: Callable[[], bytes], *, nowait: bool = False) -> bytes:
        """The stored answer, or ``build()`` computed once across threads and processes."""
        got = self.read(version, key)
        if got is not None:
            return got
        with self.lock(version, key, blocking=not nowait) as mine:
            if not mine:
                raise Busy(key)
            got = self.read(version, key)  # computed by another worker while we waited
            if got is not None:
                return got
            t0 = time.perf_counter()
            body = build()
            self.write(version, key, body, time.perf_counter() - t0)
            return body

    # -- housekeeping -----------------------------------------------------------------------
    def prune(self, keep: str, older_than: float = 60.0) -> int:
        """Remove version folders other than ``keep``'s that nobody wrote for ``older_than``
        seconds; the number removed."""
        if not self.enabled:
            return 0
        current = self.folder(keep)
        n = 0
        now = time.time()
        for d in self.root.iterdir():
            if d.is_dir() and d != current:
                try:
                    if now - d.stat().st_mtime >= older_than:
                        shutil.rmtree(d, ignore_errors=True)
                        n += 1
                except OSError:
                    continue
        return n

    def timings(self, version: str) -> list[dict[str, Any]]:
        p = self.folder(version) / "timings.jsonl"
        try:
            return [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
        except (OSError, ValueError):
            return []


def encode_value(value: Any) -> bytes | None:
    """A shared intermediate result as bytes: JSON for records (a list of dicts) and for
    the library's "cannot" answers (:class:`negah.reports.sources.Unavailable`, e.g. a model
    that does not converge on these data: as costly to find out again), an Arrow IPC
    stream for DataFrames (dtypes kept through pandas' Arrow metadata; no pickle, so a file
    in the folder can never run code); None for anything else, or a frame Arrow cannot
    hold (kept in memory only)."""
    from negah.reports.sources import Unavailable

    if isinstance(value, Unavailable):
        return b"unavailable\n" + json.dumps([value.what, value.reason]).encode()
    if isinstance(value, list):
        try:
            return b"json\n" + json.dumps(value, separators=(",", ":"), allow_nan=True).encode()
        except (TypeError, ValueError):
            return None
    if hasattr(value, "columns") and hasattr(value, "to_dict"):
        import pyarrow as pa

        try:
            table = pa.Table.from_pandas(value, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            return None
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return b"arrow\n" + sink.getvalue().to_pybytes()
    return None


def decode_value(body: bytes) -> Any:
    kind, _, data = body.partition(b"\n")
    if kind == b"json":
        return json.loads(data)
    if kind == b"unavailable":
        from negah.reports.sources import Unavailable

        return Unavailable(*json.loads(data))
    if kind == b"arrow":
        import pyarrow as pa

        return pa.ipc.open_stream(data).read_all().to_pandas()
    raise ValueError(f"unknown cached value kind {kind[:20]!r}")
