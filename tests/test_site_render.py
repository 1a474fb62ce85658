"""What the built pages show, read from their HTML (the browser test looks at the same pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course_lib.tools import site_check

PAGES = site_check.toc_pages() + [f"zh/{page}" for page in site_check.toc_pages()]  # both editions
# A Markdown table that was not parsed shows up as a paragraph of pipes: "<p>| s | y | ... |".
RAW_TABLE = re.compile(r"<p>\s*\|[^<\n]*\|")


@pytest.fixture(scope="module")
def site() -> Path:
    return site_check.built_site()


@pytest.mark.parametrize("page", PAGES)
def test_markdown_tables_from_code_cells_render_as_tables(site, page):
    text = (site / page).read_text(encoding="utf-8")
    raw = RAW_TABLE.findall(text)
    assert not raw, f"{page} shows a Markdown table as plain text (nb_render_markdown_format?): {raw[0][:80]}"


def test_the_chapter_with_comparison_tables_has_them(site):
    # Chapter 3 displays its PyTorch comparisons as Markdown tables from code.
    text = (site / "book" / "ch3_cross_entropy.html").read_text(encoding="utf-8")
    assert text.count("<table") >= 3


@pytest.mark.parametrize("page", site_check.chapter_pages())
def test_chapter_offers_the_course_bundle_next_to_its_notebook(site, page):
    text = (site / page).read_text(encoding="utf-8")
    assert "../downloads/logistic-regression-bce-course.zip" in text, f"{page}: no course bundle in the download menu"
    assert "../downloads/logistic-regression-bce.pdf" in text, f"{page}: no PDF in the download menu"


def test_landing_and_setup_pages_link_the_bundle_and_the_pdf(site):
    for page in ("book/intro.html", "book/setup.html"):
        text = (site / page).read_text(encoding="utf-8")
        assert 'href="../downloads/logistic-regression-bce-course.zip"' in text, page
        assert 'href="../downloads/logistic-regression-bce.pdf"' in text, page
    assert (site / "downloads" / "logistic-regression-bce-course.zip").stat().st_size > 100_000


@pytest.mark.parametrize("page", ["book/intro.html", "book/setup.html", "book/ch1_logistic_regression.html"])
def test_chinese_pages_link_the_shared_bundle_and_the_chinese_pdf(site, page):
    # The Chinese edition (zh/) shares the English site's bundle and offers its own PDF.
    text = (site / "zh" / page).read_text(encoding="utf-8")
    assert "../../downloads/logistic-regression-bce-course.zip" in text, page
    assert "../downloads/logistic-regression-bce-zh.pdf" in text, page
    assert not (site / "zh" / "downloads" / "logistic-regression-bce-course.zip").exists()


def test_chinese_pages_are_chinese_with_the_same_numbers(site):
    english = (site / "book" / "ch1_logistic_regression.html").read_text(encoding="utf-8")
    chinese = (site / "zh" / "book" / "ch1_logistic_regression.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN"' in chinese and "逻辑回归" in chinese
    # glued numbers are the English page's: every "2.1838"-like value of the prose is in both
    numbers = set(re.findall(r"\b-?\d+\.\d{4}\b", site_check.html_text(english)))
    assert numbers and numbers <= set(re.findall(r"\b-?\d+\.\d{4}\b", site_check.html_text(chinese)))
    # figures' alt text is translated
    alts = re.findall(r'<img[^>]+alt="([^"]+)"', chinese)
    assert alts and all(re.search("[\u4e00-\u9fff]", alt) for alt in alts if len(alt) > 40), alts[:3]
