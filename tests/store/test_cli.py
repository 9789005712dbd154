"""`negah import` and `negah info` as a user runs them: exit codes, stdout alone for data, stderr for the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def negah(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "negah", *args], cwd=cwd, capture_output=True, text=True)


def test_import_then_info_json(tmp_path: Path):
    (tmp_path / "orders.csv").write_text("customer_id,order_date,amount\na,2024-01-01,1\nb,2024-01-02,2\n")
    r = negah("import", "orders.csv", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep[0]["rows"] == 2 and rep[0]["table"] == "orders"
    assert (tmp_path / "negah.duckdb").exists()
    again = json.loads(negah("import", "orders.csv", "--format", "json", cwd=tmp_path).stdout)
    assert again[0]["skipped"] is True
    info = json.loads(negah("info", "--format", "json", cwd=tmp_path).stdout)
    assert [(t["table"], t["rows"], t["customers"]) for t in info["tables"]] == [("orders", 2, 2)]
    assert info["tables"][0]["first"] == "2024-01-01"


def test_bad_input_exit_code_and_message_on_stderr(tmp_path: Path):
    (tmp_path / "responses.csv").write_text("customer_id,response_date,score\nc1,2024-01-01,11\nc2,2024-13-01,5\n")
    r = negah("import", "responses.csv", "--store", "s.duckdb", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "responses.csv row 1, column score: '11' is not a whole number from 0 to 10" in r.stderr
    assert "responses.csv row 2, column response_date: '2024-13-01' is not a date" in r.stderr
    assert "nothing was written" in r.stderr


def test_store_env_var_and_missing_store(tmp_path: Path):
    r = negah("info", "--store", "nope.duckdb", cwd=tmp_path)
    assert r.returncode == 1 and "does not exist" in r.stderr and r.stdout == ""


def test_help_lists_the_commands(tmp_path: Path):
    r = negah("--help", cwd=tmp_path)
    assert r.returncode == 0
    for cmd in ("import", "info", "synth", "demo", "metrics", "clv"):
        assert cmd in r.stdout
