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


def _english_runs(msgid: str, length: int = 6) -> list[str]:
    """Runs of ``length`` consecutive English words of a message, outside its markup."""
    from course_lib.tools import translations
    text = translations.URL.sub(" ", msgid)
    for pattern in (translations.ROLE, translations.MATH, translations.CODE, translations.FILE_NAME):
        text = pattern.sub("|", text)
    runs = []
    for chunk in re.split(r"[|*_()\[\]{}:;,.!?\"“”]", text):
        words = chunk.split()
        if len(words) >= length and all(re.fullmatch(r"[A-Za-z'-]+", word) for word in words[:length]):
            runs.append(" ".join(words[:length]))
    return runs


@pytest.mark.parametrize("page", site_check.toc_pages())
def test_every_translation_is_shown_on_the_chinese_page(site, page):
    """Sphinx silently keeps the English of a message whose translation it cannot use (a
    translated heading "1. 发布学生版" parses as a list, for one): no sentence of the English
    prose may appear on the Chinese page."""
    from course_lib.tools import translations
    stem = page.removesuffix(".html")
    if stem == "book/glossary":
        return  # its first column is English in both editions
    messages = translations.catalog_messages(stem)
    chinese = site_check.prose_text((site / "zh" / page).read_text(encoding="utf-8"))
    left = [run for key, string in messages.items() if string != key
            for run in _english_runs(key) if run in chinese and run not in string]
    assert left == [], f"{page}: English left on the Chinese page: {left[:5]}"


@pytest.mark.parametrize("page", site_check.chapter_pages())
def test_chinese_notebook_download_is_the_chapter_in_chinese(site, page):
    """The ".ipynb" a Chinese page offers: its prose in Chinese, code and stored outputs the
    English notebook's own (so re-running it gives what both pages show)."""
    import nbformat
    stem = page.removesuffix(".html")
    chinese = nbformat.read(str(site / "zh" / "_sources" / f"{stem}.ipynb"), as_version=4)
    english = nbformat.read(str(site_check.ROOT / f"{stem}.ipynb"), as_version=4)
    assert len(chinese.cells) == len(english.cells)
    for zh, en in zip(chinese.cells, english.cells):
        assert zh.cell_type == en.cell_type
        if en.cell_type == "code":
            assert zh.source == en.source and zh.get("outputs") == en.get("outputs")
    assert re.search("[\\u4e00-\\u9fff]", chinese.cells[0].source), chinese.cells[0].source[:80]
