"""Cells tagged ``grade-skip`` (long experiments no exercise depends on) change no score.

For EVERY chapter: the student edition with the instructor's solutions put back (what a student
who solved everything hands in) is graded in the sandbox with the tagged cells skipped, and, when
the chapter has tagged cells, once more running them; the scores must be identical, exercise by
exercise. A chapter without tagged cells runs once (both runs would execute the same cells).
The chapters are graded two at a time.
"""

import os
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest

from course_lib.check.registry import CHAPTERS
from course_lib.grading import sandbox
from course_lib.grading.scheme import SKIP_TAG, is_skipped
from course_lib.grading.worker import Settings, grade_notebook
from course_lib.tools import _notebook_format as fmt
from course_lib.tools.release import release

BOOK = Path(__file__).resolve().parents[1] / "book"
PRESENT = [c for c in CHAPTERS if (BOOK / f"{c.notebook}.ipynb").exists()]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from test_attacks import require_bwrap

    require_bwrap()
    from test_grading_term import release_chapter

    root = tmp_path_factory.mktemp("skip")
    jobs = []
    broken = {}
    for chapter in PRESENT:
        name = f"{chapter.notebook}.ipynb"
        try:
            released = release_chapter(chapter.notebook, root)
        except ValueError as exc:   # a chapter that does not release fails its own test only
            broken[chapter.key] = exc
            continue
        filled = fmt.fill_stubs(nbformat.read(released, as_version=4),
                                fmt.solutions_by_label(nbformat.read(BOOK / name, as_version=4)))
        path = root / f"{chapter.key}.ipynb"
        nbformat.write(filled, path)
        tagged = [i for i, c in enumerate(filled.cells) if is_skipped(c)]
        jobs.append((chapter.key, path, True, tagged))
        if tagged:
            jobs.append((chapter.key, path, False, tagged))
    lock, base = sandbox.reserve_uids() if sandbox.is_root() else (None, sandbox.BASE_UID)

    results = {}
    try:
        # two at a time, each in its own process (as the grader's workers) and slot (its own uid)
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            for start in range(0, len(jobs), 2):
                batch = jobs[start:start + 2]
                futures = [pool.submit(grade_notebook, path, key,
                                       Settings(cell_timeout=120, notebook_timeout=900, skip_tagged=skip), slot, base)
                           for slot, (key, path, skip, _) in enumerate(batch)]
                for job, future in zip(batch, futures):
                    results[(job[0], job[2])] = (future.result(), job[3])
    finally:
        if lock is not None:
            os.close(lock)
    results["broken"] = broken
    return results


@pytest.mark.parametrize("chapter", PRESENT, ids=[c.key for c in PRESENT])
def test_skipping_tagged_cells_changes_no_score(graded, chapter):
    if chapter.key in graded["broken"]:
        pytest.fail(f"the chapter does not release: {graded['broken'][chapter.key]}")
    skipped, tagged = graded[(chapter.key, True)]
    assert skipped.status not in ("grader error", "kernel died", "hung"), skipped.notes
    assert all(s.status == "scored" for s in skipped.scores), [(s.label, s.status, s.detail) for s in skipped.scores]
    if not tagged:
        return   # nothing is tagged grade-skip in this chapter: both runs are the same run
    full, _ = graded[(chapter.key, False)]
    assert [(s.label, s.points, s.passed, s.total) for s in skipped.scores] == \
           [(s.label, s.points, s.passed, s.total) for s in full.scores]
    # the reference solutions run cleanly both ways: a cell that fails only when nothing is skipped
    # (chapter 4 once hit the kernel's memory limit) would pass the score comparison unseen
    assert (skipped.status, full.status) == ("ok", "ok"), (skipped.notes, full.notes)


def test_the_tag_reaches_the_student_edition_and_the_grader_skips_it(tmp_path):
    """A tagged cell is kept in the student edition with its tag, and not run by the grader."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    long_run = nbformat.v4.new_code_cell("raise SystemExit('this experiment must not run under the grader')")
    long_run.metadata["tags"] = [SKIP_TAG]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), long_run]
    for n, cell in enumerate(nb.cells):
        cell.id = f"c{n}"
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(nb, book / "warmup.ipynb")
    release(book, tmp_path / "student")
    student = nbformat.read(tmp_path / "student" / "warmup.ipynb", as_version=4)
    assert [c.metadata.get("tags") for c in student.cells if c.cell_type == "code"] == [[SKIP_TAG]]
    sub = grade_notebook(tmp_path / "student" / "warmup.ipynb", "warmup",
                         Settings(cell_timeout=30, sandbox=False), 0)
    assert sub.status == "ok", sub.notes
    ran = grade_notebook(tmp_path / "student" / "warmup.ipynb", "warmup",
                         Settings(cell_timeout=30, sandbox=False, skip_tagged=False), 0)
    assert ran.status == "error" and "SystemExit" in " ".join(ran.notes)
