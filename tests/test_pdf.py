"""The PDFs that ``bash scripts/build.sh pdf`` writes to ``_build/pdf/`` (``$COURSE_PDF_DIR``).

The book (solutions in an appendix) and the student PDF (no solutions): a sane page count, every
chapter's title under its website number, no missing glyph and no line run off the page in the
XeLaTeX log, the solutions appendix in the book, and the release's leak check on the student
PDF's text (it must find the solutions in the book's text: a check that finds nothing there
checks nothing). Screenshots of two pages go to ``_build/screenshots/``.

The PDFs take a few minutes and a TeX installation to build, so this test reads them rather than
building them: CI (``.ci/run``) builds them before the tests; without them the tests skip (and
fail with ``CI`` set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from course_lib.tools import site_check

ROOT = site_check.ROOT
PDF_DIR = Path(os.environ.get("COURSE_PDF_DIR") or ROOT / "_build" / "pdf")
BOOK = "logistic-regression-bce.pdf"
STUDENT = "logistic-regression-bce-student.pdf"
CHINESE = "logistic-regression-bce-zh.pdf"
CHINESE_STUDENT = "logistic-regression-bce-student-zh.pdf"
SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = (120, 400)  # 207 pages in December 2026
# A line of code or a table running this far into the margin is cut off on paper.
OVERFULL_PT = 20.0


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} (poppler-utils) is needed: apt-get install -y poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _built(name: str) -> Path:
    path = PDF_DIR / name
    if not path.exists():
        message = f"{path} is not built: run `bash scripts/build.sh pdf` first"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    _need("pdftotext")
    return path


@pytest.fixture(scope="module", params=[BOOK, STUDENT])
def pdf(request) -> Path:
    return _built(request.param)


@pytest.fixture(scope="module", params=[CHINESE, CHINESE_STUDENT])
def chinese_pdf(request) -> Path:
    return _built(request.param)


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _titles() -> list[tuple[int, str]]:
    """(website chapter number, title) of each numbered chapter, from _toc.yml and its notebook."""
    from course_lib.tools.release import chapter_numbers
    titles = []
    for stem, number in sorted(chapter_numbers(ROOT / "book").items(), key=lambda item: item[1]):
        nb = json.loads((ROOT / "book" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        heading = next(line for cell in nb["cells"] if cell["cell_type"] == "markdown"
                       for line in "".join(cell["source"]).splitlines() if line.startswith("# "))
        titles.append((number, heading[2:].strip()))
    return titles


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "").replace("-\n", "-"))


def test_page_count_is_sane(pdf):
    assert PAGES[0] <= _pages(pdf) <= PAGES[1]


def test_every_chapter_has_its_website_number(pdf):
    text = _flat(_text(pdf))
    titles = _titles()
    assert len(titles) >= 5
    for number, title in titles:
        # the table of contents and the chapter's first page print "<number> <title>"
        assert f"{number} {_flat(title)}" in text, f"chapter {number} ({title}) is not in the PDF"
    # each numbered chapter opens with "CHAPTER <number in words>" and its title; the pages
    # before and after the numbered part (setup, notation, warm-up, ...) open without a number
    words = re.findall(r"CHAPTER (ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE|TEN) ([A-Z][^a-z]{3,40})", text)
    expected = ["ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN"][:len(titles)]
    assert [word for word, _ in words] == expected
    for (_, heading), (_, title) in zip(words, titles):
        assert heading.startswith(_flat(title).upper()[:15]), (heading, title)
    first_exercise = re.search(r"Exercise (\d+)\.\d+\.\d+", text)
    assert first_exercise and first_exercise.group(1) == "1", "exercises are not numbered as on the website"


def test_no_missing_glyph_and_nothing_runs_off_the_page(pdf):
    log = pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log, re.findall(r"Missing character: .*", log)[:5]
    too_wide = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(too_wide, default=0.0) < OVERFULL_PT, f"a line runs {max(too_wide):.0f}pt into the margin"


def test_solutions_are_in_the_appendix_or_absent(pdf):
    text = _flat(_text(pdf))
    secrets = site_check.book_secrets(ROOT / "book")
    leaks = site_check.leaks_in_text(text, secrets)
    if pdf.name == STUDENT:
        assert "Solution to Exercise" not in text and "Solutions to the exercises" not in text
        assert leaks == []
    else:
        # every solution comes after the last page before the appendix (the execution record)
        solutions = [m.start() for m in re.finditer("Solution to Exercise", text)]
        assert "Solutions to the exercises" in text and solutions
        assert min(solutions) > text.rindex("Execution record"), "a solution is not in the appendix"
        assert len(leaks) > 0.5 * len(secrets), "the leak check sees few solutions in the book: broken?"


def test_screenshots_of_two_pages():
    """Saved with the website's screenshots: the first page of chapter 1 and an exercise page."""
    path = PDF_DIR / BOOK
    if not path.exists():
        pytest.skip(f"{path} is not built")
    _need("pdftoppm")
    text_pages = _text(path).split("\f")
    chapter1 = next(i for i, page in enumerate(text_pages) if re.match(r"CHAPTER\s+ONE\s", page)) + 1
    exercise = next(i for i, page in enumerate(text_pages) if "Exercise 1.1.1" in page and i + 1 > chapter1) + 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, page in (("pdf-chapter1", chapter1), ("pdf-exercise", exercise)):
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile",
                        str(path), str(SCREENSHOTS / name)], check=True)
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000


def _chinese_titles() -> list[tuple[int, str]]:
    """(chapter number, Chinese title) of each numbered chapter, from its catalog."""
    from course_lib.tools import translations
    from course_lib.tools.release import chapter_numbers
    stems = {number: stem for stem, number in chapter_numbers(ROOT / "book").items()}
    return [(number, translations.catalog_messages(f"book/{stems[number]}")[translations._key(title)])
            for number, title in _titles()]


def test_the_chinese_pdf_is_the_book_in_chinese(chinese_pdf):
    """Every chapter under its number and Chinese title, no English heading words, the solutions
    in the appendix after the execution record (none in the student PDF), no missing glyph,
    nothing off the page."""
    text = _flat(_text(chinese_pdf))
    assert PAGES[0] <= _pages(chinese_pdf) <= PAGES[1]
    for number, title in _chinese_titles():
        assert f"{number} {_flat(title)}" in text, f"chapter {number} ({title}) is not in the Chinese PDF"
    assert "CHAPTER" not in text and "Chapter 1" not in text and "Contents" not in text
    first_exercise = re.search(r"练习 (\d+)\.\d+\.\d+", text)
    assert first_exercise and first_exercise.group(1) == "1", "exercises are not numbered as on the website"
    solutions = [m.start() for m in re.finditer(r"解答\s*练习 \d", text)]
    leaks = site_check.leaks_in_text(text, site_check.book_secrets(ROOT / "book"))
    if chinese_pdf.name == CHINESE_STUDENT:
        assert solutions == [] and "练习解答" not in text and leaks == []
    else:
        assert "练习解答" in text and solutions
        assert min(solutions) > text.rindex("执行记录"), "a solution is not in the appendix"
        assert len(leaks) > 0.5 * len(site_check.book_secrets(ROOT / "book"))
    # the same code, outputs and glued numbers as the English book
    assert "from course_lib.losses import" in text
    test_no_missing_glyph_and_nothing_runs_off_the_page(chinese_pdf)
