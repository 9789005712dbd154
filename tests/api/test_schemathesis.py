"""Schemathesis against the OpenAPI schema: generated requests never cause a server error.

Bounded so that the suite stays fast: the schema's examples plus a few generated cases per
operation. For a thorough run (Schemathesis' boundary-value "coverage" phase too, many more
examples): NEGAH_SCHEMATHESIS_EXAMPLES=100 NEGAH_SCHEMATHESIS_COVERAGE=1.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("NEGAH_SCHEMATHESIS_EXAMPLES", "3"))
COVERAGE = os.environ.get("NEGAH_SCHEMATHESIS_COVERAGE", "") not in ("", "0")


def _app():
    import tempfile
    from pathlib import Path

    from negah.api.app import create_app
    from tests.api.conftest import build_store

    path = Path(tempfile.mkdtemp(prefix="negah-st-")) / "store.duckdb"
    keys = build_store(path, orders_rows=400)  # small: every cache miss recomputes
    app = create_app(str(path), warm=False)
    app.state.test_key = keys["admin"]
    return app


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.phases.coverage.enabled = COVERAGE


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    key = APP.state.test_key
    for headers in ({"Authorization": f"Bearer {key}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:500])
        if not headers and case.path.startswith("/api/") and response.status_code != 405:
            assert response.status_code in (401, 403), (case.method, case.formatted_path, response.status_code)
