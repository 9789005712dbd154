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
        "b,2020-03-25,7,o4,1\nb,2020-05-03,8,o5,1\nc,2020-04-10,30,o6,3\na,2020-05-02,-5,o3,-1\n"
    )
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
    r = runner.invoke(
        app,
        ["metrics", "--data", str(folder), "--calendar", "jalali", "--format", "csv", "--metric", "active_customers"],
    )
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "metric,period,start,end,value,numerator,denominator,complete"
    assert lines[1].startswith("active_customers,1398-12,2020-02-20,2020-03-20,1")
    t = runner.invoke(app, ["metrics", "--data", str(folder), "--lang", "fa", "--metric", "churn_rate"])
    assert t.exit_code == 0 and "۱۳۹۹-۰۱" in t.stdout


def test_segment_cohorts_growth_benchmark(folder):
    r = runner.invoke(
        app, ["metrics", "--data", str(folder), "--segment", "plan", "--format", "json", "-m", "active_customers"]
    )
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


def test_a_window_metric_name_brings_its_window(folder):
    from negah.metrics.engine import compute_records

    named = compute_records(folder, metrics=["churn_rate_30d"])
    given = compute_records(folder, metrics=["churn_rate_30d"], active_window="30d")
    assert named == given
    assert any(r["value"] is not None for r in named)
    # --active-window with spec names adds their window variants
    both = compute_records(folder, metrics=["churn_rate"], active_window="30d")
    assert [r["metric"] for r in both[:2]] == ["churn_rate", "churn_rate_30d"]
    assert [r for r in both if r["metric"] == "churn_rate_30d"] == named
    for args, words in [
        (["-m", "churn_rate_30d", "--active-window", "60d"], "several windows (30d, 60d)"),
        (["-m", "nps", "--active-window", "60d"], "none of the requested metrics"),
        (["--basis", "subscriptions", "--active-window", "60d"], "for orders"),
        (["--from", "2020-05-01", "--to", "2020-04-01"], "swap them"),
    ]:
        r = runner.invoke(app, ["metrics", "--data", str(folder), *args])
        assert r.exit_code == 2 and words in r.output, (args, r.output)


def test_wide_tables_are_split_to_fit_and_never_cut(folder):
    from rich.cells import cell_len

    from negah.metrics.engine import available_metrics, compute_records
    from negah.metrics.output import render_table

    recs = compute_records(folder)
    one = render_table(recs, width=None)
    assert "…" not in one
    for m in {r["metric"] for r in recs}:
        assert m in one  # every header whole
    split = render_table(recs, width=80)
    assert "…" not in split and split.count("period") > 2
    assert max(cell_len(line) for line in split.splitlines()) <= 80
    for m in {r["metric"] for r in recs}:
        assert m in split
    fa = render_table(recs, lang="fa", width=60)
    assert max(cell_len(line) for line in fa.splitlines()) <= 60
    assert all(m not in fa for m in available_metrics("orders"))
    # the command: one table when the output is not a terminal, COLUMNS when set
    r = runner.invoke(app, ["metrics", "--data", str(folder)], env={"COLUMNS": "90"})
    assert r.exit_code == 0 and max(cell_len(line) for line in r.stdout.splitlines()) <= 90


def test_cohort_table_marks_partly_covered_periods(folder):
    r = runner.invoke(app, ["cohorts", "--data", str(folder)])
    assert r.exit_code == 0, r.output
    # the data end on 2020-05-03: May 2020 is covered in part
    assert "%*" in r.stdout and "* period only partly covered by the data" in r.stdout


def test_persian_benchmark_is_persian_with_latin_words_intact(folder):
    en = runner.invoke(app, ["benchmark", "--data", str(folder), "--industry", "consulting"])
    assert en.exit_code == 0 and "range: under 10%" in en.stdout
    saas = runner.invoke(app, ["benchmark", "--data", str(folder), "--industry", "saas"])
    assert "strong companies under 5%" in saas.stdout
    fa = runner.invoke(app, ["benchmark", "--data", str(folder), "--industry", "retail", "--lang", "fa"])
    assert fa.exit_code == 0, fa.output
    out = fa.stdout
    assert "B2C" in out and "B۲C" not in out
    assert "range" not in out and "incomplete" not in out and "%" not in out
    assert "بازه خرده‌فروشی و فروشگاه‌های آنلاین: ۲۰٪ تا ۳۰٪" in out


def test_nothing_to_report_is_said_on_stderr(folder):
    r = runner.invoke(app, ["metrics", "--data", str(folder), "--from", "2030-01-01", "--format", "json"])
    assert r.exit_code == 0
    assert r.stdout == "[]\n" and "nothing to report" in r.stderr


def test_folder_errors_name_what_a_query_can_do(tmp_path):
    (tmp_path / "orders.csv").write_text("CustomerID,Date,x\nc1,2024-01-01,5\n")
    r = runner.invoke(app, ["metrics", "--data", str(tmp_path)])
    assert r.exit_code == 2
    out = " ".join(r.output.split())
    for col in ("customer_id", "order_date", "amount"):
        assert f"rename their column to {col} in the file" in out
        assert f"`negah import FILE --map {col}=THEIR_NAME`" in out
    assert "nothing was computed" in out and "use --skip-invalid" not in out
    # an import still names its own options
    from negah.errors import InputError
    from negah.store import open_store
    from negah.store.ingest import import_files

    with open_store(tmp_path / "s.duckdb") as s, pytest.raises(InputError) as e:
        import_files(s, [tmp_path / "orders.csv"])
    text = str(e.value) + " ".join(str(p) for p in e.value.problems)
    assert "use --skip-invalid" in text and "use --map order_date=THEIR_NAME" in text


def test_a_date_segment_is_iso_text(folder):
    (folder / "customers.csv").write_text("customer_id,plan,signup\na,gold,2020-01-05\nb,basic,2020-02-01\nc,gold,\n")
    r = runner.invoke(
        app, ["metrics", "--data", str(folder), "--segment", "signup", "--format", "json", "-m", "active_customers"]
    )
    assert r.exit_code == 0, r.output
    assert {x["segment"] for x in json.loads(r.stdout)} == {"2020-01-05", "2020-02-01", None}


def test_spark_engine_with_a_store_is_refused(tmp_path):
    r = runner.invoke(app, ["metrics", "--store", str(tmp_path / "s.duckdb"), "--engine", "spark"])
    assert r.exit_code == 2 and "--engine spark reads files" in r.output


def test_the_api_shows_its_parameters():
    import inspect

    import negah

    params = list(inspect.signature(negah.metrics).parameters)
    assert params[:4] == ["source", "period", "calendar", "metrics"] and "active_window" in params
    assert "DataFrame" in (negah.metrics.__call__.__doc__ or "")


def test_a_return_rate_of_zero_says_returns_may_be_unrecorded(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "customer_id,order_date,amount\n"
        + "".join(f"c{i},{y}-0{1 + i % 9}-05,10\n" for i in range(12) for y in (2020, 2021, 2022))
    )
    from negah.metrics import benchmark

    ret = [r for r in benchmark(tmp_path, "retail") if r["metric"] == "product_return_rate"][0]
    assert ret["value"] == 0 and "unless returns are not recorded" in ret["message"]
