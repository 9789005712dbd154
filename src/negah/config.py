"""Settings. The only module that reads environment variables."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STORE = "negah.duckdb"


def default_store() -> str:
    """The store used when none is named: ``$NEGAH_STORE`` or ``./negah.duckdb``."""
    return os.environ.get("NEGAH_STORE") or DEFAULT_STORE


def quiet_openmp() -> None:
    """Let idle OpenMP threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE`` unless set).

    LightGBM's OpenMP threads busy-wait between parallel regions by default; on a machine
    shared with other work that burned 6-7 times the CPU time of training with 2 threads on
    2 cores. It must be set before LightGBM (or scikit-learn) loads its OpenMP runtime, so
    :mod:`negah.predict.classifier` calls it when imported. ``OMP_WAIT_POLICY=ACTIVE`` keeps
    the spinning (a few percent faster on an otherwise idle machine).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def spark_master() -> str:
    """Spark master URL for ``--engine spark`` (``$NEGAH_SPARK_MASTER``, default ``local[2]``)."""
    return os.environ.get("NEGAH_SPARK_MASTER", "local[2]")


def duckdb_memory_limit() -> str | None:
    """DuckDB's memory limit (``$NEGAH_DUCKDB_MEMORY``, e.g. ``12GB``; default DuckDB's own,
    80% of the machine's memory). Beyond it DuckDB spills to :func:`duckdb_temp_dir`."""
    return os.environ.get("NEGAH_DUCKDB_MEMORY") or None


def duckdb_threads() -> int | None:
    """DuckDB's worker threads (``$NEGAH_DUCKDB_THREADS``); default None: DuckDB's own
    (one per core), doubled for large order tables (:meth:`negah.store.connect.Store.heavy`)."""
    v = (os.environ.get("NEGAH_DUCKDB_THREADS") or "").strip()
    if not v:
        return None
    if not v.isdigit() or int(v) < 1:
        from negah.errors import StoreError

        raise StoreError(
            f"NEGAH_DUCKDB_THREADS={v!r} is not a number of threads: give a whole number such as 4, or unset it"
        )
    return int(v)


def duckdb_temp_dir() -> Path:
    """Where in-memory DuckDB stores (``--data DIR``) spill large intermediate results
    (``$NEGAH_DUCKDB_TEMP``, default ``negah-duckdb`` in the system's temporary folder)
    instead of a ``.tmp`` folder in the current directory."""
    import tempfile

    return Path(os.environ.get("NEGAH_DUCKDB_TEMP") or Path(tempfile.gettempdir()) / "negah-duckdb")


def home_dir() -> Path:
    """Where negah keeps per-user state (``$NEGAH_HOME``, default ``~/.negah``)."""
    return Path(os.environ.get("NEGAH_HOME", Path.home() / ".negah"))


def test_database_url(kind: str) -> str | None:
    """Connection URL of a test server (``NEGAH_TEST_POSTGRES`` / ``NEGAH_TEST_MYSQL``)."""
    defaults = {
        "postgres": "postgresql://postgres@127.0.0.1:5432/test",
        "mysql": "mysql://root@127.0.0.1:3306/test",
    }
    return os.environ.get(f"NEGAH_TEST_{kind.upper()}", defaults.get(kind))


def env(name: str) -> str | None:
    """The environment variable ``name`` (e.g. an SMTP password named by ``password_env``)."""
    return os.environ.get(name)
