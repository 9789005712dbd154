"""Settings. The only module that reads environment variables."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STORE = "negah.duckdb"


def default_store() -> str:
    """The store used when none is named: ``$NEGAH_STORE`` or ``./negah.duckdb``."""
    return os.environ.get("NEGAH_STORE") or DEFAULT_STORE


def spark_master() -> str:
    """Spark master URL for ``--engine spark`` (``$NEGAH_SPARK_MASTER``, default ``local[2]``)."""
    return os.environ.get("NEGAH_SPARK_MASTER", "local[2]")


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
