"""The grading scheme read from the instructor notebook: prose parts, points, rubric, defaults,
and bad metadata refused with the cell named (in-process, no kernel)."""

import nbformat
import pytest

from course_lib.grading.scheme import DEFAULT_RUBRIC, Scheme, collect_answers, scheme_from_notebook
from course_lib.tools.release import ANSWER_PLACEHOLDER, student_edition

OPEN = "```{solution-start} ex-warmup-stable-sigmoid\n:class: dropdown\n```"
CLOSE = "```{solution-end}\n```"


def _nb(meta=None, part_meta=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [nbformat.v4.new_markdown_cell("```{exercise} Stable\n:label: ex-warmup-stable-sigmoid\n```"),
             nbformat.v4.new_markdown_cell(OPEN), nbformat.v4.new_markdown_cell("Model answer one."),
             nbformat.v4.new_code_cell("def stable_sigmoid(s):\n    ### BEGIN SOLUTION\n    return s\n"
                                       "    ### END SOLUTION"),
             nbformat.v4.new_markdown_cell("Only about the code."), nbformat.v4.new_code_cell("print(1)"),
             nbformat.v4.new_markdown_cell("Model answer two."), nbformat.v4.new_markdown_cell(CLOSE)]
    cells[4].metadata = {"course": {"answer": False}}
    if part_meta:
        cells[6].metadata = {"course": part_meta}
    for n, cell in enumerate(cells):
        cell.id = f"c{n}"
    nb.cells = cells
    if meta:
        nb.metadata["course"] = {"grading": meta}
    return nb


def test_defaults_parts_and_the_note_that_is_no_part():
    scheme = scheme_from_notebook(_nb(), "warmup")
    assert [(p.key, p.points, p.rubric, p.solution, p.answer_id) for p in scheme.prose] == [
        ("ex-warmup-stable-sigmoid/prose1", 1.0, DEFAULT_RUBRIC, "Model answer one.", "c1-answer"),
        ("ex-warmup-stable-sigmoid/prose2", 1.0, DEFAULT_RUBRIC, "Model answer two.", "c1-answer-2")]
    assert scheme.code_points["ex-warmup-stable-sigmoid"] == 2.0   # the registry's
    assert Scheme.from_dict(scheme.to_dict()) == scheme
    assert all(p["solution"] == "" for p in scheme.to_dict(solutions=False)["prose"])


def test_points_and_rubric_from_the_notebook():
    nb = _nb({"prose_points": 3, "rubric": "Notebook rubric.", "points": {"ex-warmup-bce": 5}},
             {"points": 0.5, "rubric": "Part rubric."})
    scheme = scheme_from_notebook(nb, "warmup")
    assert [(p.points, p.rubric) for p in scheme.prose] == [(3.0, "Notebook rubric."), (0.5, "Part rubric.")]
    assert scheme.code_points["ex-warmup-bce"] == 5.0


@pytest.mark.parametrize("meta, part, message", [
    ({"points": {"ex-warmup-nope": 1}}, None, "not a self-checked exercise"),
    ({"points": {"ex-warmup-bce": -1}}, None, "not a number of points"),
    ({"prose_points": "two"}, None, "not a number of points"),
    (None, {"points": float("nan")}, "cell index 6"),
])
def test_bad_points_are_refused_with_where(meta, part, message):
    with pytest.raises(ValueError, match=message):
        scheme_from_notebook(_nb(meta, part), "warmup")


def test_answers_found_moved_by_id_missing_and_extended():
    nb = _nb()
    student = student_edition(nb, "warmup")
    scheme = scheme_from_notebook(nb, "warmup", edition_ids=[c.id for c in student.cells])
    answers = [c for c in student.cells if c.source == ANSWER_PLACEHOLDER]
    answers[0].source = "Mine."
    student.cells.remove(answers[0])
    student.cells.append(answers[0])                               # moved
    extra = nbformat.v4.new_markdown_cell("More of mine.")
    student.cells.append(extra)                                    # added after it
    answers[1].metadata = {}                                       # marker deleted
    assert collect_answers(student, scheme) == [
        ["ex-warmup-stable-sigmoid/prose1", "Mine.\n\nMore of mine.", "found"],
        ["ex-warmup-stable-sigmoid/prose2", "", "found by cell id (its metadata was removed)"]]
    answers[1].id = "renamed"
    assert collect_answers(student, scheme)[1][2] == "no answer cell found"
