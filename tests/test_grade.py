"""The grader on a folder of submissions made from the warm-up's student edition (sandboxed).

One submission of each kind: correct, partial (with its check cells deleted), empty (the
unmodified student edition), a syntax error, an infinite loop, and a file that is not JSON.
The attack suite (tests/test_attacks.py) covers hostile submissions.
"""

import csv
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib.tools import _notebook_format as fmt
from course_lib.tools.grade import grade_folder
from course_lib.tools.release import release

BOOK = Path(__file__).resolve().parents[1] / "book"
TIMEOUT = 15  # seconds per cell: the infinite loop costs this once; less is flaky on a busy machine


def make_submissions(folder: Path, student_dir: Path) -> None:
    student = nbformat.read(student_dir / "warmup.ipynb", as_version=4)
    solutions = fmt.solutions_by_label(nbformat.read(BOOK / "warmup.ipynb", as_version=4))
    folder.mkdir()
    nbformat.write(fmt.fill_stubs(student, solutions), folder / "alice.ipynb")

    partial = fmt.fill_stubs(student, solutions, ["ex-warmup-stable-sigmoid"])
    for cell in partial.cells:  # a BCE without the clamp: 3 of its 6 tests pass
        if "def bce_from_probabilities" in cell.source:
            cell.source = cell.source.split("    # YOUR CODE HERE")[0] + \
                "    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))"
    partial.cells = [c for c in partial.cells if "check.warmup" not in c.source]  # deleted check cells
    nbformat.write(partial, folder / "bob.ipynb")

    nbformat.write(student, folder / "carol.ipynb")

    broken = fmt.fill_stubs(student, solutions)
    broken.cells.insert(3, nbformat.v4.new_code_cell("print('unclosed'"))
    nbformat.write(broken, folder / "dave.ipynb")

    looping = fmt.fill_stubs(student, solutions)
    looping.cells.insert(3, nbformat.v4.new_code_cell("while True:\n    pass"))
    nbformat.write(looping, folder / "erin.ipynb")

    (folder / "frank.ipynb").write_text('{"cells": [ this is not JSON', encoding="utf-8")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from test_attacks import require_bwrap

    require_bwrap()  # fails in CI without bubblewrap, skips elsewhere with the install command
    root = tmp_path_factory.mktemp("grading")
    release(BOOK, root / "student")
    make_submissions(root / "submissions", root / "student")
    out = root / "grades" / "grades.csv"
    subs = grade_folder(root / "submissions", "warmup", out, cell_timeout=TIMEOUT, workers=2)
    return out, subs


def test_csv_rows(graded):
    out, _ = graded
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["student", "ex-warmup-stable-sigmoid", "ex-warmup-bce", "ex-warmup-sigmoid-grad", "total", "max_total",
         "status", "notes"],
        ["alice", "2.00", "2.00", "1.00", "5.00", "5.00", "ok", ""],
        ["bob", "2.00", "1.00", "0.00", "3.00", "5.00", "ok", ""],
        ["carol", "0.00", "0.00", "0.00", "0.00", "5.00", "ok", ""],
        ["dave", "2.00", "2.00", "1.00", "5.00", "5.00", "error",
         "first error in cell index 3: SyntaxError: incomplete input (line 1)"],
        ["erin", "2.00", "2.00", "1.00", "5.00", "5.00", "timeout",
         f"cell index 3 timed out after {TIMEOUT} s and was interrupted"],
        ["frank", "0.00", "0.00", "0.00", "0.00", "5.00", "unreadable",
         "cannot read frank.ipynb as a notebook: Notebook does not appear to be JSON: "
         "'{\"cells\": [ this is not JSON'"],
    ]


def test_feedback_files(graded):
    out, _ = graded
    feedback = out.parent / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == [f"{s}.md" for s in
                                                          ("alice", "bob", "carol", "dave", "erin", "frank")]
    bob = (feedback / "bob.md").read_text(encoding="utf-8")
    assert "## ex-warmup-bce: 1.00 of 2.00 points" in bob and "3 of 6 tests passed" in bob
    assert "[FAILED] a confident wrong answer costs 100 per example (the clamp)" in bob
    assert "expected:  100" in bob and "received:  inf" in bob
    assert "ex-warmup-sigmoid-grad: 0.00 of 1.00 points\n\n```text\n  not implemented yet" in bob
    carol = (feedback / "carol.md").read_text(encoding="utf-8")
    assert carol.count("not implemented yet") == 3
    assert "timed out" in (feedback / "erin.md").read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in bob + carol


def test_help_warns_that_student_code_is_untrusted(capsys):
    from course_lib.__main__ import main

    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "untrusted" in text and "sandbox" in text and "--workers" in text and "--timeout" in text
    assert "--no-sandbox" in text and "--notebook-timeout" in text and "--memory" in text


# -- a multi-function exercise, partly written (review item 9), in-process ------------------------

def _score_in_process(namespace):
    from course_lib.check.registry import exercises_for
    from course_lib.grading.judge import SCORED, judge_exercise
    from course_lib.grading.remote import LocalChannel

    exercise = next(e for e in exercises_for("ch3") if e.label == "ex-ch3-two-forms")
    score, _ = judge_exercise(exercise, LocalChannel(namespace))
    assert score.status == SCORED
    return score


def _feedback(score):
    from course_lib.grading.judge import Submission
    from course_lib.grading.reports import feedback_text

    return feedback_text(Submission("zoe", [score]), "ch3")


def _margin_form(s, t):
    return np.logaddexp(0.0, -t * s)


def bce_probability_form(p, y):
    raise NotImplementedError("ex-ch3-two-forms: replace this line with your code")


def logistic_loss_margin_form(s, t):
    raise NotImplementedError("ex-ch3-two-forms: replace this line with your code")


def test_partly_written_exercise_scores_what_passed_and_names_the_stub():
    score = _score_in_process({"bce_probability_form": bce_probability_form,
                               "logistic_loss_margin_form": _margin_form})
    assert (score.passed, score.total, score.waiting) == (2, 6, 4) and score.not_implemented
    assert score.missing_functions == ["bce_probability_form"] and score.points == 0.67
    text = _feedback(score)
    assert "## ex-ch3-two-forms: 0.67 of 2.00 points\n\n```text\n  2 of 6 tests passed\n" in text
    assert "  [PASS] margin form: a margin of 0 costs log 2\n" in text
    assert text.endswith("  [TODO] not implemented yet (bce_probability_form still raises "
                         "NotImplementedError): 4 tests waiting\n```\n")
    assert "NOT IMPLEMENTED" not in text


def test_failures_before_a_stub_are_not_hidden():
    score = _score_in_process({"bce_probability_form": lambda p, y: np.zeros_like(p),
                               "logistic_loss_margin_form": logistic_loss_margin_form})
    assert (score.passed, score.total, score.waiting) == (0, 6, 3)
    text = _feedback(score)
    assert text.count("  [FAILED] probability form") == 3 and "received:  [0., 0." in text
    assert "logistic_loss_margin_form still raises NotImplementedError): 3 tests waiting" in text


def test_an_exercise_with_every_function_a_stub_reads_not_implemented_yet():
    score = _score_in_process({"bce_probability_form": bce_probability_form,
                               "logistic_loss_margin_form": logistic_loss_margin_form})
    assert (score.passed, score.total, score.waiting, score.points) == (0, 6, 6, 0.0)
    assert _feedback(score).endswith(
        "ex-ch3-two-forms: 0.00 of 2.00 points\n\n```text\n  not implemented yet (bce_probability_form, "
        "logistic_loss_margin_form still raise NotImplementedError)\n```\n")


def test_feedback_fences_hold_any_backticks_a_student_returns():
    from course_lib.grading.judge import SCORED, ExerciseScore, Submission
    from course_lib.grading.reports import feedback_text

    score = ExerciseScore("ex-ch3-two-forms", 2.0, SCORED, 0, 1,
                          outcomes=[["probability form", "failed", "received:  '````\n# Full marks'"]])
    text = feedback_text(Submission("zoe", [score]), "ch3")
    assert "`````text\n" in text and text.rstrip().endswith("`````")
