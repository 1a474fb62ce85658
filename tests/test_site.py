"""The website as a reader meets it, in a real browser with no internet.

The book is built from the stored outputs (once per session, see ``site_check.built_site``),
served on 127.0.0.1, and every page that ``_toc.yml`` lists is opened in headless Chromium with
every other host unresolvable. A small harness page (served beside the site, never written into
it) loads each page in a frame, waits for MathJax, and reports what the reader got: typeset math,
loaded figures and their alt text, collapsed solutions, the dark theme's figure background.
Screenshots of the chapter pages (light and dark) are saved to ``_build/screenshots/`` for CI.

Needs Chromium: in CI (``CI`` set) a missing browser fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import re
import struct
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from course_lib.tools import site_check

# Both editions: the Chinese one lives in zh/ of the same site (bash scripts/build.sh).
ENGLISH_PAGES = site_check.toc_pages()
PAGES = ENGLISH_PAGES + [f"zh/{page}" for page in ENGLISH_PAGES]
CHAPTERS = site_check.chapter_pages()
ZH_SEARCH_TERM = "先验"  # "prior": a word of jieba's, in the body of chapter 4
SCREENSHOTS = site_check.ROOT / "_build" / "screenshots"
SEARCH_TERM = "cross-entropy"
WORKERS = 2  # pages opened at once: the course machines have two cores


@pytest.fixture(scope="module", autouse=True)
def chromium_installed():
    if site_check.find_chromium() is None:
        message = f"headless Chromium is needed for the website tests; {site_check.INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run these tests)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def site() -> Path:
    return site_check.built_site()


@pytest.fixture(scope="module")
def base_url(site):
    with site_check.serve(site) as url:
        yield url


def _inspect_all(base_url, pages, mode, tmp_dir):
    def one(page):
        net_log = tmp_dir / (page.replace("/", "_") + f".{mode}.netlog.json")
        try:
            report = site_check.inspect_page(base_url, page, mode=mode, net_log=net_log)
        except (RuntimeError, OSError, ValueError) as exc:  # reported by the page's own tests
            return page, {"error": str(exc)}
        report["remote_requests"] = site_check.remote_requests(net_log, base_url)
        return page, report

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(one, pages))


@pytest.fixture(scope="module")
def all_reports(base_url, tmp_path_factory):
    """What the harness saw on every page, in the light theme."""
    return _inspect_all(base_url, PAGES, "light", tmp_path_factory.mktemp("netlog"))  # both languages


@pytest.fixture
def reports(all_reports, request):
    """The reports, after checking that the page under test loaded at all."""
    page = getattr(request.node, "callspec", None) and request.node.callspec.params.get("page")
    if page:
        assert "error" not in all_reports[page], all_reports[page].get("error")
    return all_reports


@pytest.fixture(scope="module")
def dark_reports(base_url, all_reports, tmp_path_factory):
    """The same in the dark theme, for the pages that show figures."""
    with_images = [page for page, report in all_reports.items()
                   if any(image["in_article"] for image in report.get("images", []))]
    return _inspect_all(base_url, with_images, "dark", tmp_path_factory.mktemp("netlog-dark"))


@pytest.mark.parametrize("page", PAGES)
def test_page_requests_nothing_from_other_hosts(reports, page):
    assert reports[page]["remote_requests"] == []


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset(site, reports, page):
    report = reports[page]
    assert report["merror"] == [], f"MathJax could not typeset: {report['merror']}"
    assert report["raw_tex"] == [], f"TeX left as text: {report['raw_tex']}"
    if report["math_nodes"]:
        assert report["mathjax"], "MathJax did not start"
        assert report["untypeset"] == [], f"math not typeset: {report['untypeset']}"
        assert report["mjx"] >= report["math_nodes"]


def test_math_is_actually_exercised_somewhere(reports):
    # The notation page is all formulas: if this fails, the math check above checked nothing.
    assert reports["book/notation.html"]["mjx"] >= 10
    assert reports["zh/book/notation.html"]["mjx"] == reports["book/notation.html"]["mjx"]


def _image_kind(data: bytes) -> tuple[str, int, int] | None:
    """(kind, width, height) of a PNG, JPEG or SVG file's bytes; None if it is none of them."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg", 1, 1
    if b"<svg" in data[:2000]:
        return "svg", 1, 1
    return None


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads(reports, page):
    for image in reports[page]["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, \
            f"{image['attr_src']} did not load in the browser"
        with urllib.request.urlopen(image["src"], timeout=10) as response:
            assert response.status == 200
            kind = _image_kind(response.read())
        assert kind is not None, f"{image['attr_src']} is not a PNG, JPEG or SVG file"
        assert kind[1] > 0 and kind[2] > 0


@pytest.mark.parametrize("page", CHAPTERS + [f"zh/{page}" for page in CHAPTERS])
def test_every_figure_has_alt_text(reports, page):
    # Sphinx falls back to the file name when a cell sets no alt text: that is not alt text.
    for image in reports[page]["images"]:
        if not image["in_article"]:
            continue
        alt = (image["alt"] or "").strip()
        file_name = image["attr_src"].rsplit("/", 1)[-1]
        assert alt and not alt.endswith(file_name), (
            f"{file_name} has no alt text: set the drawing cell's metadata "
            '{"mystnb": {"image": {"alt": "..."}}}')


@pytest.mark.parametrize("page", PAGES)
def test_solutions_are_collapsed(reports, page):
    for solution in reports[page]["solutions"]:
        assert solution["dropdown"], f"{solution['id']} is not a dropdown: add `:class: dropdown`"
        assert solution["hidden"] and solution["visible_parts"] == 0, f"{solution['id']} is open"
        assert solution["open_details"] == 0, f"{solution['id']} has an open <details>"


def test_figures_sit_on_white_in_the_dark_theme(dark_reports):
    for page, report in dark_reports.items():
        assert "error" not in report, report.get("error")
        assert report["theme"] == "dark", f"{page} did not switch to the dark theme"
        for image in report["images"]:
            if image["in_article"]:
                assert image["background"] == "rgb(255, 255, 255)", (page, image["attr_src"])
                assert image["filter"] == "none", (page, image["attr_src"])


def test_search_finds_cross_entropy(base_url):
    dom = site_check.dump_dom(f"{base_url}/search.html?q={SEARCH_TERM}", budget_ms=20000)
    results = re.search(r'id="search-results".*?<ul class="search">(.*?)</ul>', dom, re.S)
    assert results, "the search page showed no result list"
    hits = re.findall(r'<li[^>]*>\s*<a href="([^"]+)"', results.group(1))
    assert hits, f"searching {SEARCH_TERM!r} found nothing"


def _search_hits(base_url: str, query: str, folder: str = "") -> list[str]:
    from urllib.parse import quote
    dom = site_check.dump_dom(f"{base_url}/{folder}search.html?q={quote(query)}", budget_ms=20000)
    results = re.search(r'id="search-results".*?<ul class="search">(.*?)</ul>', dom, re.S)
    assert results, f"the {folder or 'English '}search page showed no result list for {query!r}"
    return re.findall(r'<li[^>]*>\s*<a href="([^"]+)"', results.group(1))


def test_chinese_search_finds_a_chinese_word(base_url):
    # Sphinx's Chinese search splits the text with jieba; without it only titles would match.
    hits = _search_hits(base_url, ZH_SEARCH_TERM, "zh/")
    assert any("ch4_prior_bias" in hit for hit in hits), f"searching {ZH_SEARCH_TERM!r} found {hits}"


@pytest.mark.parametrize("page", ENGLISH_PAGES)
def test_language_switch_goes_to_the_same_page_and_back(site, base_url, page):
    """Every page links the same page in the other language, and that page links back; in the
    browser, following the link lands on the page of the other language."""
    from urllib.parse import urljoin

    def switch_of(path: Path) -> str:
        links = re.findall(r'<p class="course-language-switch"><a [^>]*href="([^"]+)"', path.read_text(encoding="utf-8"))
        assert len(links) == 1, f"{path.relative_to(site)}: {len(links)} language switches"
        return links[0]

    english = site / page
    chinese = (english.parent / switch_of(english)).resolve()
    assert chinese == (site / "zh" / page).resolve(), f"{page}: the switch leads to {chinese}"
    assert (chinese.parent / switch_of(chinese)).resolve() == english.resolve()
    assert '<html lang="zh-CN"' in chinese.read_text(encoding="utf-8")
    if page == "book/ch1_logistic_regression.html":
        url = urljoin(f"{base_url}/{page}", switch_of(english))
        dom = site_check.dump_dom(url, budget_ms=8000)
        assert '<html lang="zh-CN"' in dom and "逻辑回归" in dom


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_offers_its_notebook_for_download(site, base_url, page):
    text = (site / page).read_text(encoding="utf-8")
    notebook = "_sources/" + page.removesuffix(".html") + ".ipynb"
    assert notebook in text, f"{page} has no download link to {notebook}"
    with urllib.request.urlopen(f"{base_url}/{notebook}", timeout=10) as response:
        assert response.status == 200 and b'"cells"' in response.read()


PHONE_WIDTH = 375  # CSS pixels: a small phone held upright


@pytest.fixture(scope="module")
def phone_reports(base_url):
    """The harness's report of each chapter (and the notation page) at a phone's width."""
    def one(page):
        try:
            return page, site_check.inspect_page(base_url, page, width=PHONE_WIDTH)
        except (RuntimeError, OSError, ValueError) as exc:
            return page, {"error": str(exc)}

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(one, [*CHAPTERS, "book/notation.html"]))


@pytest.mark.parametrize("page", [*CHAPTERS, "book/notation.html"])
def test_nothing_is_cut_off_at_a_phone_width(phone_reports, page):
    report = phone_reports[page]
    assert "error" not in report, report.get("error")
    assert report["viewport_width"] <= PHONE_WIDTH
    assert report["page_overflow"] <= 0, \
        f"the page scrolls sideways by {report['page_overflow']} px: {report['too_wide']}"
    assert report["cut_code"] == [], f"code lines cut off at {PHONE_WIDTH} px: {report['cut_code'][:3]}"


def test_screenshots_of_every_chapter(base_url):
    """Saved for CI as artifacts: _build/screenshots/<page>.png (the top 1280 x 2000 pixels).

    For a dark-theme picture of a page, screenshot the harness instead:
    ``site_check.screenshot(f"{base}{site_check.HARNESS_PATH}?mode=dark&page=/<page>", path)``.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    jobs = [(f"{base_url}/{page}", SCREENSHOTS / f"{Path(page).stem}.png") for page in CHAPTERS]
    with ThreadPoolExecutor(WORKERS) as pool:
        shots = list(pool.map(lambda job: site_check.screenshot(*job), jobs))
    for shot in shots:
        kind = _image_kind(shot.read_bytes())
        assert kind == ("png", 1280, 2000), (shot, kind)
    # A phone-width picture: the harness shows the page in a frame that wide.
    phone = site_check.screenshot(f"{base_url}{site_check.HARNESS_PATH}?width={PHONE_WIDTH}&page=/{CHAPTERS[1]}",
                                  SCREENSHOTS / "phone-width.png", width=1280, height=1400)
    assert _image_kind(phone.read_bytes()) == ("png", 1280, 1400)
