"""negah clv fit / predict / check, run as a user would (Typer's runner, real files and stores)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from negah.cli.main import app

runner = CliRunner()


def _run(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def files(tmp_path_factory, cdnow_orders, cdnow_rfm):
    d = tmp_path_factory.mktemp("clv")
    (d / "data").mkdir()
    cdnow_orders.to_csv(d / "data" / "orders.csv", index=False)
    cdnow_rfm.to_csv(d / "summary.csv", index=False)
    return d


def test_fit_bgnbd_from_raw_data_folder(files):
    """Fader, Hardie & Lee (2005) BG/NBD on CDNOW from the raw log: r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4."""
    out = json.loads(
        _run(
            [
                "clv",
                "fit",
                "--model",
                "bgnbd",
                "--data",
                str(files / "data"),
                "--calibration-end",
                "1997-09-30",
                "--time-unit",
                "week",
            ]
        )
    )
    assert list(out) == ["model", "params", "std_errors", "log_likelihood", "n_customers"]
    assert out["model"] == "bgnbd" and out["n_customers"] == 2357
    assert out["params"]["r"] == pytest.approx(0.243, abs=5e-4)
    assert out["params"]["alpha"] == pytest.approx(4.414, abs=5e-3)
    assert out["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


@pytest.mark.parametrize(
    "model, names",
    [
        ("paretonbd", ["r", "alpha", "s", "beta"]),
        ("mbgnbd", ["r", "alpha", "a", "b"]),
        ("gammagamma", ["p", "q", "gamma"]),
    ],
)
def test_fit_from_summary_file(files, model, names):
    out = json.loads(_run(["clv", "fit", "--model", model, "--summary", str(files / "summary.csv")]))
    assert list(out["params"]) == names == list(out["std_errors"])
    assert out["n_customers"] == (946 if model == "gammagamma" else 2357)


def test_fit_from_store_is_byte_identical_to_data_folder(files, tmp_path):
    store = tmp_path / "s.duckdb"
    _run(["import", str(files / "data" / "orders.csv"), "--store", str(store), "-q"])
    a = _run(["clv", "fit", "-m", "bgnbd", "--store", str(store), "--calibration-end", "1997-09-30"])
    b = _run(["clv", "fit", "-m", "bgnbd", "--data", str(files / "data"), "--calibration-end", "1997-09-30"])
    assert a == b


def test_fit_sbg_and_table_format():
    out = json.loads(_run(["clv", "fit", "--model", "sbg", "--survivors", "1000,631,468,382,326,289,262,241"]))
    assert out["params"]["alpha"] == pytest.approx(0.704, abs=1e-3)
    assert out["params"]["beta"] == pytest.approx(1.182, abs=1e-3)
    text = _run(["clv", "fit", "--model", "sbg", "--survivors", "1000,631,468,382", "--format", "table"])
    assert "alpha" in text and "log-likelihood" in text


def test_predict_one_row_per_customer(files):
    text = _run(
        [
            "clv",
            "predict",
            "--model",
            "bgnbd",
            "--summary",
            str(files / "summary.csv"),
            "--horizon",
            "52",
            "--discount-rate",
            "0.01",
            "--margin",
            "0.3",
            "--format",
            "csv",
        ]
    )
    from io import StringIO

    df = pd.read_csv(StringIO(text))
    assert len(df) == 2357
    assert list(df.columns) == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert df["p_alive"].between(0, 1).all() and (df["clv"] > 0).all()
    rows = json.loads(_run(["clv", "predict", "--summary", str(files / "summary.csv"), "--format", "json"]))
    assert len(rows) == 2357 and rows[0]["customer_id"] == "1"


def test_predict_sbg_projection():
    rows = json.loads(
        _run(
            [
                "clv",
                "predict",
                "--model",
                "sbg",
                "--survivors",
                "1000,631,468,382,326,289,262,241",
                "--horizon",
                "12",
                "--discount-rate",
                "0.1",
                "--format",
                "json",
            ]
        )
    )
    assert [r["period"] for r in rows] == list(range(13))
    assert rows[12]["expected_alive"] == pytest.approx(173, abs=5)  # the paper's actual year-12 count


def test_check_calibration_holdout(files):
    rows = json.loads(
        _run(["clv", "check", "--data", str(files / "data"), "--calibration-end", "1997-09-30", "--format", "json"])
    )
    assert [r["frequency"] for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r["n_customers"] for r in rows) == 2357
    assert rows[0]["actual"] == pytest.approx(0.2367, abs=1e-4)


def test_errors_are_clear(files):
    res = runner.invoke(app, ["clv", "fit", "--model", "sbg"])
    assert res.exit_code == 1 and "--survivors" in res.output
    res = runner.invoke(app, ["clv", "fit", "--model", "sbg", "--survivors", "1000,1200"])
    assert res.exit_code == 2 and "never increase" in res.output
    res = runner.invoke(app, ["clv", "fit", "--model", "bgnbd", "--summary", str(files / "nope.csv")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_fit_at_the_bgnbd_boundary_prints_the_limit(tmp_path):
    """Data with one drop-out probability for all: valid JSON with a, b null, p and the boundary note."""
    import numpy as np

    from negah.errors import BoundaryWarning
    from negah.models import bgnbd

    n = 20_000
    T = 52.0 - np.random.default_rng(1).integers(0, 91, n) / 7.0
    d = bgnbd.sample(n, T, r=0.5, alpha=5.0, p=0.3, seed=1)
    path = tmp_path / "fixed_p.csv"
    d[["customer_id", "frequency", "recency", "T"]].to_csv(path, index=False)
    with pytest.warns(BoundaryWarning):
        out = json.loads(_run(["clv", "fit", "--model", "bgnbd", "--summary", str(path)]))
    assert out["params"]["a"] is None and out["params"]["b"] is None
    assert out["params"]["p"] == pytest.approx(0.3, rel=0.05) and out["std_errors"]["p"] > 0
    assert "boundary" in out["boundary"]
    with pytest.warns(BoundaryWarning):
        table = _run(["clv", "fit", "--model", "bgnbd", "--summary", str(path), "--format", "table"])
        rows = pd.read_csv(io.StringIO(_run(["clv", "predict", "--model", "bgnbd", "--summary", str(path)])))
    assert "inf" in table and "note:" in table
    assert rows["p_alive"].between(0, 1).all() and rows["expected_purchases"].notna().all()
