"""grades.csv and the feedback files, written atomically from validated results.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
return) as a formula; every text cell that does is written with a leading apostrophe. Numbers
are the grader's own and are written as they are.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path

from course_lib.check.registry import exercises_for

from .judge import SCORED, Submission, shortcut_note

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def neutral(text: str) -> str:
    """A CSV text cell a spreadsheet will not run as a formula."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _number(x: float) -> str:
    return f"{x:.2f}"


def notes_of(sub: Submission) -> list[str]:
    notes = list(sub.notes)
    note = shortcut_note(sub.shortcuts)
    if note:
        notes.append(note)
    return notes


def _plan_parts(plan):
    scheme = getattr(plan, "scheme", None)
    return list(getattr(scheme, "prose", None) or [])


def csv_text(subs: list[Submission], chapter: str, plan=None, manual: dict | None = None) -> str:
    """grades.csv: ``student``, one column per self-checked exercise, one per instructor test
    (``instructor/<name>``), one per prose part (``<label>/prose<n>``: the manual score, empty
    until it is merged), ``total`` (all of them), ``max_total``, ``status``, ``notes``."""
    from .judge import chapter_exercises, instructor_exercises

    labels = [e.label for e in chapter_exercises(chapter, plan)]
    extra = [e.label for e in instructor_exercises(plan)]
    parts = _plan_parts(plan)
    manual = manual or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *labels, *extra, *(p.key for p in parts), "total", "max_total", "status", "notes"])
    for sub in sorted(subs, key=lambda s: s.student):
        points = {s.label: s.points for s in sub.scores}
        points.update({s.label: s.points for s in sub.extra})
        by_hand = [manual.get((sub.student, p.key), (None, ""))[0] for p in parts]
        total = round(sub.total + sum(x for x in by_hand if x is not None), 2)
        max_total = round(sub.max_total + sum(p.points for p in parts), 2)
        writer.writerow([neutral(sub.student), *(_number(points[label]) for label in labels + extra),
                         *("" if x is None else _number(x) for x in by_hand),
                         _number(total), _number(max_total), neutral(sub.status),
                         neutral("; ".join(notes_of(sub)))])
    return buffer.getvalue()


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _block(lines: list[str]) -> list[str]:
    body = "\n".join(lines)
    fence = _fence(body)
    return [fence + "text", body, fence]


def _check_lines(score, show_details: bool = True) -> list[str]:
    names = ", ".join(score.missing_functions)
    stubs = (f"{names} still raise{'s' if len(score.missing_functions) == 1 else ''}"
             if names else "the function still raises")
    lines = []
    if score.status == SCORED and score.not_implemented and score.waiting >= score.total:
        lines.append(f"  not implemented yet ({stubs} NotImplementedError)")
    elif score.status == SCORED and not show_details:
        lines.append(f"  {score.passed} of {score.total} tests passed (the details of this test are not shown)")
    elif score.status == SCORED:
        lines.append(f"  {score.passed} of {score.total} tests passed")
        for description, status, detail in score.outcomes:
            if status == "not implemented":  # summed up in the TODO line below
                continue
            lines.append(f"  [{'PASS' if status == 'passed' else status.upper()}] {description}")
            lines.extend("         " + d for d in detail.splitlines() if detail and status != "passed")
        if score.not_implemented:
            lines.append(f"  [TODO] not implemented yet ({stubs} NotImplementedError): "
                         f"{score.waiting} test{'s' if score.waiting != 1 else ''} waiting")
    elif not show_details:   # a hidden test's error message can quote its expected values
        lines.append(f"  {score.status} (the details of this test are not shown)")
    else:
        lines.append(f"  {score.status}" + (f": {score.detail}" if score.detail else ""))
    return lines


def feedback_text(sub: Submission, chapter: str, plan=None, manual: dict | None = None,
                  after_due_date: bool = False) -> str:
    """The feedback page of one student (Markdown): each exercise with its points, the tests that
    passed and failed with inputs, expected and received values (for the instructor's tests
    only when their visibility allows), each prose part with its manual score and comment.
    Never the solution: the model answers of the scheme are not used here."""
    parts = _plan_parts(plan)
    manual = manual or {}
    by_hand = {p.key: manual.get((sub.student, p.key), (None, "")) for p in parts}
    hand_points = sum(x for x, _ in by_hand.values() if x is not None)
    pending = sum(1 for x, _ in by_hand.values() if x is None)
    total = round(sub.total + hand_points, 2)
    max_total = round(sub.max_total + sum(p.points for p in parts), 2)
    lines = [f"# Feedback for {sub.student}, chapter {chapter}", "",
             f"Points: {_number(total)} of {_number(max_total)}" +
             (f" ({pending} answer{'s' if pending != 1 else ''} still to be graded by hand)" if pending else ""),
             "", f"Status: {sub.status}"]
    # the notes quote the student's kernel (error messages, names): inside a fence, never Markdown
    notes = [f"Note: {note}" for note in sub.notes]
    notes += [f"Note: your {name} is (or only calls) the course's reference {reference}; its tests "
              "ran as usual and the score is unchanged, but your instructor sees this note."
              for name, reference in sorted(sub.shortcuts.items())]
    lines += ["", *_block(notes)] if notes else []
    tests = list(getattr(plan, "tests", None) or [])
    for score in sub.scores:
        lines += ["", f"## {score.label}: {_number(score.points)} of {_number(score.max_points)} points", ""]
        lines += _block(_check_lines(score))
    for test, score in zip(tests, sub.extra):
        visible = test.visibility == "visible" or (after_due_date and test.visibility != "hidden")
        about = f" (exercise {test.exercise})" if test.exercise else ""
        lines += ["", f"## Instructor test {test.name}{about}: {_number(score.points)} of "
                      f"{_number(score.max_points)} points", ""]
        lines += _block(_check_lines(score, show_details=visible))
    answers = {a[0]: a for a in sub.answers}
    for part in parts:
        points, comment = by_hand[part.key]
        answer = answers.get(part.key)
        state = ("graded by hand: " + (f"{_number(points)} of {_number(part.points)} points" if points is not None
                                        else f"pending (out of {_number(part.points)} points)"))
        lines += ["", f"## {part.label}, written answer {part.part}: {state}", ""]
        if answer is not None and answer[2] != "found":
            lines.append(f"Your answer cell: {answer[2]}.")
        elif answer is not None and not answer[1].strip():
            lines.append("Your answer cell is empty.")
        if comment:
            lines += ["", "Comment:", ""] + _block([comment])
    return "\n".join(lines) + "\n"


def feedback_path(out_csv: Path, student: str) -> Path:
    return Path(out_csv).parent / "feedback" / f"{student}.md"


def write_feedback(sub: Submission, chapter: str, out_csv: Path, plan=None, manual=None,
                   after_due_date: bool = False) -> None:
    write_atomic(feedback_path(out_csv, sub.student), feedback_text(sub, chapter, plan, manual, after_due_date))


def write_reports(subs: list[Submission], chapter: str, out_csv: Path, plan=None, manual=None,
                  after_due_date: bool = False) -> None:
    """grades.csv and every student's feedback file, each written atomically; with prose parts
    in the plan, also the review pages and the manual-scores template (see :mod:`.manual`)."""
    for sub in subs:
        write_feedback(sub, chapter, out_csv, plan, manual, after_due_date)
    write_atomic(Path(out_csv), csv_text(subs, chapter, plan, manual))
    if _plan_parts(plan):
        from .manual import write_review_pages, write_template

        write_review_pages(subs, plan, Path(out_csv).parent / "review", manual)
        write_template(subs, plan, Path(out_csv).parent / "manual_scores_template.csv", manual)
