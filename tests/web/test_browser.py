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


NAV_CHECK = """() => {
  const links = [...document.querySelectorAll('header nav.pages a')];
  const visible = getComputedStyle(document.querySelector('header nav.pages')).display !== 'none';
  const boxes = links.map(a => a.getBoundingClientRect());
  const clipped = links.filter((a, i) => a.scrollWidth > a.clientWidth + 1 || boxes[i].left < 0
                                       || boxes[i].right > window.innerWidth).map(a => a.textContent);
  const overlap = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      overlap.push([links[i].textContent, links[j].textContent]);
  }
  return {visible, clipped, overlap, n: links.length,
          overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("lang", ["en", "fa"])
def test_pages_render_in_both_languages(page, server, lang, width):
    """Every page in English and Persian at desktop (1280 px) and phone (390 px) widths:
    RTL and Persian digits, the navigation neither clipped nor overlapping (a menu on the
    phone), nothing wider than the screen; screenshots for a person to look at."""
    base = server[0]
    page.set_viewport_size({"width": width, "height": 900})
    for name in PAGES:
        page.goto(f"{base}/dashboard/{name}?lang={lang}")
        _ready(page)
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "fa" else "ltr")
        assert page.get_attribute("html", "lang") == lang
        _shot(page, f"{name}-{lang}-{width}")
        nav = page.evaluate(NAV_CHECK)
        assert nav["overflow"] <= 0, (name, nav)  # no sideways scrolling of the page
        if width >= 1000:
            assert nav["visible"] and nav["n"] == 10 and not nav["clipped"] and not nav["overlap"], (name, nav)
        else:
            assert not nav["visible"] and page.is_visible("header details.menu summary"), name
        if lang == "fa":
            text = page.inner_text("main")
            assert re.search(r"[\u0600-\u06ff]", page.inner_text("#notes") or "ی"), name  # notes in Persian
            if name != "contact-plan":  # the sample's contacts give no plan: a note only
                assert any(d in text for d in PERSIAN), name
            assert not re.search(r"[0-9]", page.inner_text(".kpis")), name  # every KPI in Persian digits
            font = page.evaluate("getComputedStyle(document.body).fontFamily")
            assert "Vazirmatn" in font
        for box in page.locator(".chart-box").all():  # a chart draws, or says why it is empty
            assert (
                box.locator("canvas").count() or box.locator("table.heatmap").count() or box.locator(".empty").count()
            ), (name, box.inner_text())
    if width < 1000:  # the phone menu opens and leads to a page
        page.click("header details.menu summary")
        page.click("header details.menu nav a[href='/dashboard/trends']")
        page.wait_for_url(re.compile(r".*/dashboard/trends.*"))
        _ready(page)


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
    want = f"{jchurn['value'] * 100:.1f}%".translate(str.maketrans("0123456789.%", PERSIAN + "٫٪"))
    assert page.inner_text(".kpi[data-key=churn_rate] .value") == want
    from negah.reports.i18n import period_label

    year, month = jchurn["period"].split("-")
    assert (
        page.inner_text(".kpi[data-key=churn_rate] .period")
        == period_label(jchurn["period"], "fa", "jalali")
        == ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"][
            int(month) - 1
        ]
        + " "
        + year.translate(str.maketrans("0123456789", PERSIAN))
    )
    active = [r for r in jrecs if r["metric"] == "active_customers" and r["period"] == jchurn["period"]][0]
    assert page.inner_text(".kpi[data-key=active_customers] .value") == f"{active['value']:,}".translate(
        str.maketrans("0123456789,", PERSIAN + "٬")
    )
    assert page.locator("canvas").count() >= 1  # uPlot drew the chart
    # the page's one chart spans the row, not half of it
    box, row = page.locator(".chart-box").first.bounding_box(), page.locator(".charts").first.bounding_box()
    assert page.locator(".chart-box").count() == 1 and box["width"] >= 0.95 * row["width"]


def test_filters_change_period(page, server):
    base = server[0]
    page.goto(base + "/dashboard/trends")
    _ready(page)
    page.select_option("select[name=period]", "year")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r".*period=year.*"))
    _ready(page)
    periods = page.locator("table[data-table=metrics] tr td:first-child").all_inner_texts()
    assert periods == ["1997", "1998"]


def test_customer_profile_and_complaint_form(page, server):
    base = server[0]
    for lang in ("en", "fa"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/customers/3?lang={lang}")
            _ready(page)
            _shot(page, f"customer-{lang}-{width}")
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.set_viewport_size({"width": 1280, "height": 900})
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


def test_persian_lists_are_translated(page, server):
    """The at-risk list in Persian: reasons and next steps in Persian, money and percents
    with Persian digits and separators; segment names on the CLV page in Persian."""
    base = server[0]
    page.goto(f"{base}/dashboard/at-risk?lang=fa")
    _ready(page)
    steps = page.locator("table[data-table=at_risk] tr td:nth-child(8)").all_inner_texts()
    assert steps and all(re.search(r"[\u0600-\u06ff]", s) and not re.search(r"[A-Za-z]", s) for s in steps)
    reasons = [r for r in page.locator("table[data-table=at_risk] tr td:nth-child(7)").all_inner_texts() if r != "—"]
    assert reasons and not any(re.search(r"[A-Za-z_]", r) for r in reasons)
    risk = page.locator("table[data-table=at_risk] tr td:nth-child(3)").first.inner_text()
    assert risk.endswith("٪") and "٫" in risk and not re.search(r"[0-9.%]", risk)
    page.goto(f"{base}/dashboard/clv?lang=fa")
    _ready(page)
    segs = page.locator("table[data-table=segments] tr td:first-child").all_inner_texts()
    assert "قهرمانان" in segs and not any(re.search(r"[A-Za-z]", s) for s in segs)


def test_overview_compares_with_the_chosen_industry(page, server):
    base = server[0]
    page.goto(base + "/dashboard/overview")
    _ready(page)
    assert page.inner_text(".kpi[data-key=yearly_churn] .band").endswith("20.0% – 30.0%")  # retail by default
    page.select_option("select[name=industry]", "consulting")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r".*industry=consulting.*"))
    _ready(page)
    assert page.input_value("select[name=industry]") == "consulting"
    assert page.inner_text(".kpi[data-key=yearly_churn] .band") == "Benchmark: under 10.0%"
    page.goto(base + "/dashboard/overview?lang=fa&industry=saas")
    _ready(page)
    assert page.inner_text(".kpi[data-key=yearly_churn] .band") == "معیار صنعت: ۵٫۰٪ تا ۱۰٫۰٪"
    page.goto(base + "/dashboard/trends")
    _ready(page)
    assert page.locator("select[name=industry]").count() == 0  # only the overview has a benchmark
