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


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for every Spark test (UI off, few shuffle partitions)."""
    pytest.importorskip("pyspark")
    import os

    from pyspark.sql import SparkSession

    from negah.store.connect import spark_session as make

    if SparkSession.getActiveSession() is None and "PYSPARK_SUBMIT_ARGS" not in os.environ:
        # a short-lived test JVM: the quick (C1) JIT only halves the JVM's CPU time
        os.environ["PYSPARK_SUBMIT_ARGS"] = '--driver-java-options "-XX:TieredStopAtLevel=1" pyspark-shell'
    spark = make()
    # Tiny test data: the cost is per operator, not per row. One shuffle partition, no
    # adaptive re-planning (one job per query instead of one per stage) and interpreted
    # expressions (no Java code generation and compilation per query shape) cut the
    # JVM's CPU time per query about three-fold; results do not depend on these settings.
    for key, value in {
        "spark.sql.shuffle.partitions": "1",
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    }.items():
        spark.conf.set(key, value)
    return spark
