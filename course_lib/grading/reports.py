"""grades.csv and the feedback files, written atomically from validated results.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
return) as a formula; every text cell that does is written with a leading apostrophe. Numbers
are the grader's own and are written as they are.
"""

from __future__ import annotations

import csv
import io
import os
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


def csv_text(subs: list[Submission], chapter: str) -> str:
    labels = [e.label for e in exercises_for(chapter)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *labels, "total", "max_total", "status", "notes"])
    for sub in sorted(subs, key=lambda s: s.student):
        points = {s.label: s.points for s in sub.scores}
        writer.writerow([neutral(sub.student), *(_number(points[label]) for label in labels),
                         _number(sub.total), _number(sub.max_total), neutral(sub.status),
                         neutral("; ".join(notes_of(sub)))])
    return buffer.getvalue()


def feedback_text(sub: Submission, chapter: str) -> str:
    """The feedback file of one student: what passed, what failed and why."""
    lines = [f"Feedback for {sub.student}, chapter {chapter}",
             f"Points: {_number(sub.total)} of {_number(sub.max_total)}",
             f"Status: {sub.status}"]
    lines += [f"Note: {note}" for note in sub.notes]
    for name, reference in sorted(sub.shortcuts.items()):
        lines.append(f"Note: your {name} is (or only calls) the course's reference {reference}; its tests "
                     "ran as usual and the score is unchanged, but your instructor sees this note.")
    for score in sub.scores:
        lines += ["", f"{score.label}: {_number(score.points)} of {_number(score.max_points)} points"]
        names = ", ".join(score.missing_functions)
        stubs = (f"{names} still raise{'s' if len(score.missing_functions) == 1 else ''}"
                 if names else "the function still raises")
        if score.status == SCORED and score.not_implemented and score.waiting >= score.total:
            lines.append(f"  not implemented yet ({stubs} NotImplementedError)")
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
        else:
            lines.append(f"  {score.status}" + (f": {score.detail}" if score.detail else ""))
    return "\n".join(lines) + "\n"


def feedback_path(out_csv: Path, student: str) -> Path:
    return Path(out_csv).parent / "feedback" / f"{student}.txt"


def write_feedback(sub: Submission, chapter: str, out_csv: Path) -> None:
    write_atomic(feedback_path(out_csv, sub.student), feedback_text(sub, chapter))


def write_reports(subs: list[Submission], chapter: str, out_csv: Path) -> None:
    """grades.csv and every student's feedback file, each written atomically."""
    for sub in subs:
        write_feedback(sub, chapter, out_csv)
    write_atomic(Path(out_csv), csv_text(subs, chapter))
