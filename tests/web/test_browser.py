"""Browser tests: Playwright drives Debian's chromium through the dashboard in English
and Persian, checks numbers against the library, RTL and Persian digits, and saves
screenshots under tests/web/screenshots/ (gitignored)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "screenshots"
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.api.conftest import build_store, serve

    path = tmp_path_factory.mktemp("web") / "store.duckdb"
    keys = build_store(path)
    proc, base = serve(path)
    yield base, path, keys
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    base, _, keys = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.goto(base + "/dashboard/overview")
    assert "/login" in pg.url
    pg.fill("#key", keys["analyst"])
    pg.click("#login-form button[type=submit]")
    pg.wait_for_url(re.compile(r".*/dashboard/overview.*"))
    yield pg
    ctx.close()


def _ready(pg):
    pg.wait_for_selector("body[data-ready]", timeout=60000)
    assert pg.get_attribute("body", "data-ready") == "1", pg.inner_text("#notes")


def _shot(pg, name):
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


PAGES = ["overview", "trends", "cohorts", "revenue", "growth", "nps", "clv", "at-risk", "complaints", "contact-plan"]


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_pages_render_in_both_languages(page, server, lang):
    base = server[0]
    for name in PAGES:
        page.goto(f"{base}/dashboard/{name}?lang={lang}")
        _ready(page)
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "fa" else "ltr")
        assert page.get_attribute("html", "lang") == lang
        _shot(page, f"{name}-{lang}")
        if lang == "fa" and name != "contact-plan":  # the sample's contacts give an empty plan
            text = page.inner_text("main")
            assert any(d in text for d in PERSIAN), name
            font = page.evaluate("getComputedStyle(document.body).fontFamily")
            assert "Vazirmatn" in font


def test_overview_numbers_equal_library(page, server):
    import negah

    base, path, _ = server
    recs = negah.metrics.compute_records(str(path), period="month")
    churn = [r for r in recs if r["metric"] == "churn_rate" and r["value"] is not None and r["complete"]][-1]
    active = [r for r in recs if r["metric"] == "active_customers" and r["period"] == churn["period"]][0]
    page.goto(base + "/dashboard/overview")
    _ready(page)
    shown = float(page.get_attribute(".kpi[data-key=churn_rate]", "data-value"))
    assert shown == pytest.approx(churn["value"])
    assert page.inner_text(".kpi[data-key=churn_rate] .value") == f"{churn['value'] * 100:.1f}%"
    assert page.inner_text(".kpi[data-key=active_customers] .value") == f"{active['value']:,}"
    assert page.inner_text(".kpi[data-key=churn_rate] .period") == churn["period"]
    # the same KPI on the Persian page: Persian digits, Jalali period
    jrecs = negah.metrics.compute_records(str(path), period="month", calendar="jalali")
    jchurn = [r for r in jrecs if r["metric"] == "churn_rate" and r["value"] is not None and r["complete"]][-1]
    page.goto(base + "/dashboard/overview?lang=fa")
    _ready(page)
    want = f"{jchurn['value'] * 100:.1f}%".translate(str.maketrans("0123456789.", PERSIAN + "٫"))
    assert page.inner_text(".kpi[data-key=churn_rate] .value") == want
    assert page.inner_text(".kpi[data-key=churn_rate] .period") == \
        jchurn["period"].translate(str.maketrans("0123456789-", PERSIAN + "−"))
    assert page.locator("canvas").count() >= 1  # uPlot drew the chart


def test_filters_change_period(page, server):
    base = server[0]
    page.goto(base + "/dashboard/trends")
    _ready(page)
    page.select_option("select[name=period]", "year")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r".*period=year.*"))
    _ready(page)
    periods = page.locator("table[data-table=metrics] tr td:first-child").all_inner_texts()
    assert set(periods) == {"1997", "1998"}


def test_customer_profile_and_complaint_form(page, server):
    base = server[0]
    for lang in ("en", "fa"):
        page.goto(f"{base}/customers/3?lang={lang}")
        _ready(page)
        _shot(page, f"customer-{lang}")
    page.goto(f"{base}/customers/3?lang=en")
    _ready(page)
    rows_before = page.locator("table[data-table=timeline] tr").count()
    page.wait_for_selector("#reason-select option", state="attached")
    page.select_option("#reason-select", "quality")
    page.fill("input[name=text]", "box was crushed")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_function("document.getElementById('complaint-status').textContent.length > 0")
    page.wait_for_function(f"document.querySelectorAll('table[data-table=timeline] tr').length > {rows_before}")
    assert "box was crushed" in page.inner_text("table[data-table=timeline]")
