"""negah keys / report / erase-customer, and the CLI writing while the service serves."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from negah.cli.main import app

runner = CliRunner()


@pytest.fixture
def store(base_store, tmp_path):
    path = tmp_path / "s.duckdb"
    shutil.copy(base_store[0], path)
    return path


def test_keys_create_prints_key_last(store):
    r = runner.invoke(app, ["keys", "create", "--role", "viewer", "--store", str(store), "--expires", "7d"])
    assert r.exit_code == 0, r.output
    key = r.output.split()[-1]
    assert key.startswith("ngh_")
    listed = runner.invoke(app, ["keys", "list", "--store", str(store), "--format", "json"])
    import json

    rows = json.loads(listed.output)
    kid = key.split("_")[1]
    assert any(x["key_id"] == kid and x["role"] == "viewer" and x["expires_at"] for x in rows)
    assert key not in listed.output
    assert runner.invoke(app, ["keys", "revoke", kid, "--store", str(store)]).exit_code == 0
    rows = json.loads(runner.invoke(app, ["keys", "list", "--store", str(store), "--format", "json"]).output)
    assert [x for x in rows if x["key_id"] == kid][0]["active"] is False
    bad = runner.invoke(app, ["keys", "create", "--role", "owner", "--store", str(store)])
    assert bad.exit_code != 0 and "viewer, analyst, admin" in bad.output


def test_erase_customer_cli(store):
    from negah.api.sharedcache import sidecar

    saved = sidecar(str(store)) / "cache" / "0123456789abcdef01234567"
    saved.mkdir(parents=True, exist_ok=True)
    (saved / "answer").write_bytes(b"a saved page naming customer 3")
    r = runner.invoke(app, ["erase-customer", "3", "--store", str(store), "--yes"])
    assert r.exit_code == 0, r.output
    assert "erased customer 3" in r.output and "retrain" in r.output
    assert not saved.exists() and "saved answers removed (version folders: 1)" in r.output
    import negah

    with negah.open_store(str(store), read_only=True) as s:
        for t in ("orders", "customers", "responses", "complaints"):
            tab = s.table(t)
            assert s.execute(tab.filter(tab.customer_id == "3").count()) == 0


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_report_is_self_contained(store, tmp_path, lang):
    out = tmp_path / f"report-{lang}.html"
    r = runner.invoke(app, ["report", "--out", str(out), "--store", str(store), "--lang", lang])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html
    assert 'src="http' not in html and 'href="http' not in html and "url(http" not in html
    import negah

    recs = negah.metrics.compute_records(str(store), period="month", calendar="jalali" if lang == "fa" else "gregorian")
    churn = [x for x in recs if x["metric"] == "churn_rate" and x["value"] is not None and x["complete"]][-1]
    shown = f"{churn['value'] * 100:.1f}%"
    if lang == "fa":
        assert "dir='rtl'" in html and "data:font/woff2;base64," in html
        shown = shown.translate(str.maketrans("0123456789.%", "۰۱۲۳۴۵۶۷۸۹٫٪"))
    assert shown in html


def test_cli_imports_while_service_serves(store, tmp_path, base_store):
    """The CLI writes the store between the service's requests; the service sees it next."""
    from fastapi.testclient import TestClient

    from negah.api.app import create_app

    c = TestClient(create_app(str(store)))
    h = {"Authorization": f"Bearer {base_store[1]['viewer']}"}
    before = c.get("/api/store", headers=h).json()["orders"]
    csv = tmp_path / "more.csv"
    csv.write_text("customer_id,order_date,amount\n" + "".join(f"m{i},1998-06-20,3\n" for i in range(25)))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from negah.cli.main import app; app()",
            "import",
            str(csv),
            "--table",
            "orders",
            "--store",
            str(store),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert c.get("/api/store", headers=h).json()["orders"] == before + 25
    # and a key made by the CLI works at once
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from negah.cli.main import app; app()",
            "keys",
            "create",
            "--role",
            "analyst",
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    key = made.stdout.split()[-1]
    assert c.get("/api/me", headers={"Authorization": f"Bearer {key}"}).json()["role"] == "analyst"
