"""The student website (``bash scripts/build.sh student``) holds no solution.

The leak check is the release's (``site_check.secret_and_public_lines``: the same rules as
tests/test_release.py), applied to the built HTML, the search index and every downloadable file
(page sources, the student bundle and the wheel in it). Each check is also run on the
instructor website, where it must find the solutions: a check that finds nothing there checks
nothing. Exercises, their numbers and the references to them stay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_lib.tools import site_check

BOOK = site_check.ROOT / "book"
CHAPTERS = site_check.chapter_pages()
EXERCISE_NUMBER = re.compile(r"Exercise (\d+(?:\.\d+)*)")


@pytest.fixture(scope="module")
def student_site() -> Path:
    return site_check.built_student_site()


@pytest.fixture(scope="module")
def instructor_site() -> Path:
    return site_check.built_site()


@pytest.fixture(scope="module")
def secrets():
    found = site_check.book_secrets(BOOK)
    assert len(found) > 50, "the leak check found almost no solution lines: is the format still parsed?"
    return found


def _page_text(site: Path, page: str) -> str:
    return site_check.html_text((site / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", site_check.toc_pages())
def test_no_solution_in_the_html(student_site, secrets, page):
    html = (student_site / page).read_text(encoding="utf-8")
    assert 'class="solution' not in html and "solution-content" not in html
    assert site_check.leaks_in_text(site_check.html_text(html), secrets) == []


def test_the_html_check_sees_the_instructor_solutions(instructor_site, secrets):
    found = set()
    for page in CHAPTERS:
        found |= set(site_check.leaks_in_text(_page_text(instructor_site, page), secrets))
    assert len(found) > 0.5 * len(secrets), f"only {len(found)} of {len(secrets)} secret lines seen"


def test_search_index_holds_no_solution_word(student_site, instructor_site):
    words = site_check.secret_words(BOOK)
    assert words, "no word occurs only in solutions: the check would check nothing"
    assert words & site_check.search_index_terms(instructor_site), "the instructor index has none of them"
    assert sorted(words & site_check.search_index_terms(student_site)) == []


# The student bundle ships the same course_lib as the instructor's (the chapters and the
# self-checks import it, and students install it from the repository anyway): its reference
# implementations (course_lib.functional.sigmoid, the self-checks' reference answers in
# course_lib/check/) are public by design, so the library's own code is not searched.
LIBRARY_CODE = re.compile(r"\.whl!course_lib/.*\.py$")


def test_no_solution_in_any_download(student_site, secrets):
    names = []
    for name, text in site_check.downloadable_texts(student_site):
        names.append(name)
        if LIBRARY_CODE.search(name):
            continue
        if name.endswith(".ipynb"):  # (pages such as the instructors' may name the markers)
            assert "### BEGIN SOLUTION" not in text and "solution-start" not in text, name
        assert site_check.leaks_in_text(text, secrets) == [], name
    assert any(name.endswith(".ipynb") and name.startswith("_sources/") for name in names)
    assert any("-student.zip!" in name and name.endswith(".whl") is False for name in names)


def test_the_download_check_sees_the_instructor_sources(instructor_site, secrets):
    leaks = [name for name, text in site_check.downloadable_texts(instructor_site)
             if site_check.leaks_in_text(text, secrets)]
    assert any(name.startswith("_sources/") for name in leaks)
    assert any(".zip!" in name for name in leaks)


@pytest.mark.parametrize("page", CHAPTERS)
def test_exercises_and_their_numbers_stay(student_site, instructor_site, page):
    student = EXERCISE_NUMBER.findall(_page_text(student_site, page))
    instructor = EXERCISE_NUMBER.findall(_page_text(instructor_site, page))
    # The instructor page repeats each number in its "Solution to Exercise N" title.
    assert sorted(set(student)) == sorted(set(instructor)) and student


@pytest.mark.parametrize("page", CHAPTERS)
def test_sources_are_the_student_notebooks(student_site, page):
    source = student_site / "_sources" / page.replace(".html", ".ipynb")
    nb = json.loads(source.read_text(encoding="utf-8"))
    assert "Student edition" in "".join(nb["cells"][0]["source"])


def test_student_site_links_the_student_bundle(student_site):
    html = (student_site / "book" / "setup.html").read_text(encoding="utf-8")
    assert "../downloads/logistic-regression-bce-course-student.zip" in html
    assert (student_site / "downloads" / "logistic-regression-bce-course-student.zip").exists()
    chapter = (student_site / CHAPTERS[-1]).read_text(encoding="utf-8")
    assert "logistic-regression-bce-course-student.zip" in chapter


def test_screenshot_of_a_student_exercise(student_site):
    """Saved with the website's screenshots: the warm-up (the exercise workflow page) on the
    student website, its first exercises without their solutions."""
    if site_check.find_chromium() is None:
        pytest.skip(f"Chromium is needed for the screenshot; {site_check.INSTALL_HINT}")
    shots = site_check.ROOT / "_build" / "screenshots"
    with site_check.serve(student_site) as base:
        shot = site_check.screenshot(f"{base}/book/warmup.html", shots / "student-exercise.png",
                                     width=1280, height=5000)
    assert shot.stat().st_size > 50_000


def test_student_site_serves_no_instructor_download(student_site):
    # Only the student bundle and the student PDF: the instructor's hold the solutions.
    served = {path.name for path in (student_site / "downloads").iterdir()}
    assert served <= {"logistic-regression-bce-course-student.zip", "logistic-regression-bce-student.pdf"}, served
