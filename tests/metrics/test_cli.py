"""negah metrics / cohorts / growth / benchmark from the command line, on --data folders."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from negah.cli.main import app

runner = CliRunner()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "customer_id,order_date,amount,order_id,quantity\n"
        "a,2020-03-05,10,o1,1\na,2020-04-12,5,o2,1\na,2020-05-01,20,o3,2\n"
        "b,2020-03-25,7,o4,1\nb,2020-05-03,8,o5,1\nc,2020-04-10,30,o6,3\na,2020-05-02,-5,o3,-1\n")
    (tmp_path / "responses.csv").write_text("customer_id,response_date,score\na,2020-04-10,10\nb,2020-04-11,3\n")
    (tmp_path / "customers.csv").write_text("customer_id,plan\na,gold\nb,basic\nc,gold\n")
    return tmp_path


def test_metrics_json_is_the_spec_output_and_byte_identical(folder):
    a = runner.invoke(app, ["metrics", "--data", str(folder), "--format", "json"])
    b = runner.invoke(app, ["metrics", "--data", str(folder), "--format", "json"])
    assert a.exit_code == 0, a.output
    assert a.stdout == b.stdout
    recs = json.loads(a.stdout)
    assert set(recs[0]) == {"metric", "period", "start", "end", "value", "numerator", "denominator", "complete"}
    assert [r["metric"] for r in recs[:3]] == ["active_customers", "new_customers", "churned_customers"]
    assert "nps" in {r["metric"] for r in recs}


def test_metrics_jalali_csv_and_persian_table(folder):
    r = runner.invoke(app, ["metrics", "--data", str(folder), "--calendar", "jalali", "--format", "csv",
                            "--metric", "active_customers"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "metric,period,start,end,value,numerator,denominator,complete"
    assert lines[1].startswith("active_customers,1398-12,2020-02-20,2020-03-20,1")
    t = runner.invoke(app, ["metrics", "--data", str(folder), "--lang", "fa", "--metric", "churn_rate"])
    assert t.exit_code == 0 and "۱۳۹۹-۰۱" in t.stdout


def test_segment_cohorts_growth_benchmark(folder):
    r = runner.invoke(app, ["metrics", "--data", str(folder), "--segment", "plan", "--format", "json", "-m", "active_customers"])
    assert r.exit_code == 0, r.output
    assert {x["segment"] for x in json.loads(r.stdout)} == {"basic", "gold"}
    c = runner.invoke(app, ["cohorts", "--data", str(folder), "--format", "json"])
    assert c.exit_code == 0 and json.loads(c.stdout)[0]["cohort"] == "2020-03"
    assert "cohort" in runner.invoke(app, ["cohorts", "--data", str(folder)]).stdout
    g = runner.invoke(app, ["growth", "--data", str(folder), "--format", "json"])
    assert g.exit_code == 0 and "quick_ratio" in g.stdout
    b = runner.invoke(app, ["benchmark", "--data", str(folder), "--industry", "retail", "--format", "json"])
    assert b.exit_code == 0 and json.loads(b.stdout)[0]["metric"] == "yearly_churn"


def test_bad_metric_exits_2_with_the_choices(folder):
    r = runner.invoke(app, ["metrics", "--data", str(folder), "--metric", "churn"])
    assert r.exit_code == 2
    assert "metric 'churn' is not known" in r.output


def test_cli_imports_stay_lazy():
    code = "import sys; import negah.cli.main; print(any(m.startswith(('ibis', 'pandas', 'pyspark')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_every_metric_has_one_persian_name_shared_with_the_dashboard():
    from negah.i18n import metric_name
    from negah.metrics.engine import available_metrics
    from negah.reports.i18n import t

    names = set(available_metrics("orders", 30)) | set(available_metrics("subscriptions"))
    for m in names:
        fa = metric_name(m, "fa")
        assert fa != m and not any("a" <= ch.lower() <= "z" for ch in fa), (m, fa)
        if not m.endswith("d"):
            assert t(m, "fa") == fa  # the dashboard uses the same words
    assert metric_name("churn_rate_30d", "fa") == "نرخ ریزش (پنجره ۳۰ روزه)"


def test_persian_table_has_persian_names_and_number_typography(folder):
    from negah.metrics.engine import available_metrics

    r = runner.invoke(app, ["metrics", "--data", str(folder), "--lang", "fa", "--active-window", "30d"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    for m in available_metrics("orders", 30):
        assert m not in out
    assert "نرخ نگهداشت" in out and "٫" in out and "٪" in out and "%" not in out
    persian = "۰۱۲۳۴۵۶۷۸۹"
    import re

    assert not re.search(f"[{persian}][.,][{persian}]", out), "ASCII separators between Persian digits"
