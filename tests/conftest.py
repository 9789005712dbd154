"""Shared fixtures: paths, and the real PostgreSQL / MariaDB servers on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


def _server_or_skip(kind: str) -> str:
    from negah.config import test_database_url

    from tests.dbutil import reachable

    url = test_database_url(kind)
    if not reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"the {kind} test server {url} is not reachable (scripts/bootstrap.sh starts it)")
        pytest.skip(f"{kind} server {url} not reachable")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _server_or_skip("postgres")


@pytest.fixture(scope="session")
def mysql_url() -> str:
    return _server_or_skip("mysql")
