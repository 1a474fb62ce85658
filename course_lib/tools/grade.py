"""Grade a folder of submitted notebooks against a chapter's self-checks, in a sandbox.

    python -m course_lib grade submissions/ --chapter warmup --out grades/grades.csv

Each ``<student id>.ipynb`` runs in its own worker process, in a fresh kernel confined by
bubblewrap (:mod:`course_lib.grading.sandbox`: no network, a read-only system, one private
folder, its own PID namespace, an unprivileged uid, limits on memory, processes, CPU time, file
size and output). The notebook's cells run top to bottom (``--timeout`` per cell, then an
interrupt; ``--notebook-timeout`` for the whole notebook, after which the remaining cells are
skipped); a cell that raises is recorded and the next cells run.

Then the grader judges the chapter's exercises **in its own process**
(:mod:`course_lib.grading.judge`): it runs the very self-check a student runs in Jupyter, but
passes proxies that call the student's function of that name in the sandboxed kernel with plain
data and decode the reply strictly (:mod:`course_lib.grading.wire`). Expected values, tolerances
and scores never enter the student's process. Each exercise earns ``points × (tests passed /
tests)``, rounded to 2 decimals; every recorded result is validated (known exercise,
0 ≤ score ≤ maximum).

Output: grades.csv (one row per student, sorted by id; columns ``student``, one per exercise,
one per instructor test, one per prose part (filled by ``--manual``), ``total``, ``max_total``,
``status``, ``notes``; cells a spreadsheet would run as a formula are neutralised),
``feedback/<student>.md`` next to it, ``review/<label>.html`` (the prose answers of every student
per exercise) and ``manual_scores_template.csv``, and ``.grading/`` with each student's result
as soon as it is known: a re-run resumes where a killed grader stopped. Files that are not
``*.ipynb`` are listed in ``not_graded.txt``.

Without bwrap the command stops and says how to install it; ``--no-sandbox`` runs the kernels
with your permissions (trusted notebooks only) and warns.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from course_lib.check.registry import exercises_for, find_chapter
from course_lib.grading.judge import (CHECK_ERROR, MISSING, NOT_RUN, SCORED, TIMEOUT,  # noqa: F401
                                      ExerciseScore, Plan, Submission)
from course_lib.grading.manual import ManualScoresError
from course_lib.grading.reports import feedback_text, write_reports  # noqa: F401
from course_lib.grading.sandbox import DEFAULT_MEMORY_MB, INSTALL_HINT, SandboxUnavailable
from course_lib.grading.supervisor import grade_folder  # noqa: F401
from course_lib.grading.worker import Settings, grade_notebook  # noqa: F401

NO_SANDBOX_WARNING = ("WARNING: --no-sandbox: the notebooks run with your permissions (files, network, "
                      "processes that outlive grading). Use it only for notebooks you trust.")


def _number(x: float) -> str:
    return f"{x:.2f}"


def add_arguments(parser) -> None:
    parser.description = (
        "Run each submitted notebook in its own sandbox (bubblewrap: no network, read-only system, "
        "a private folder, limits) and score the chapter's self-checks in the grader's own process. "
        "Student code is untrusted: keep the sandbox on (the default).")
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks (<student id>.ipynb)")
    parser.add_argument("--chapter", required=True, help="chapter key or notebook stem, e.g. warmup or ch1")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="the CSV to write (default grades.csv); feedback/ and .grading/ go next to it")
    parser.add_argument("--timeout", type=float, default=60, help="seconds allowed per cell (default 60)")
    parser.add_argument("--notebook-timeout", type=float, default=600,
                        help="seconds for all of a notebook's cells together; later cells are skipped "
                             "(default 600)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks graded in parallel (default min(2, CPUs))")
    parser.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                        help=f"address-space limit of each kernel in MB (default {DEFAULT_MEMORY_MB})")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run the kernels without bubblewrap, with your permissions (trusted notebooks only)")
    parser.add_argument("--restart", action="store_true",
                        help="grade every notebook again instead of reusing the results in .grading/")
    parser.add_argument("--book", type=Path, default=None,
                        help="folder of the instructor notebooks, for the points, the prose parts, the rubric "
                             "and the model answers (default: the repository's book/)")
    parser.add_argument("--instructor-tests", type=Path, default=None, metavar="PATH.py",
                        help="a file of your own tests (@instructor_test), run in the grader's process")
    parser.add_argument("--manual", type=Path, default=None, metavar="SCORES.csv",
                        help="merge the prose scores of this CSV (from manual_scores_template.csv) into "
                             "grades.csv; validated first, and stored next to grades.csv")
    parser.add_argument("--after-due-date", action="store_true",
                        help="show the details of instructor tests whose visibility is after_due_date or "
                             "after_published in the feedback pages")
    parser.add_argument("--no-skip", action="store_true",
                        help="run the cells tagged grade-skip too (by default they are skipped)")


def main(args) -> int:
    try:
        key = find_chapter(args.chapter).key
        exercises_for(key)
    except (ValueError, ModuleNotFoundError) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    if not args.submissions.is_dir():
        print(f"grade: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    if args.out.resolve().is_relative_to(args.submissions.resolve()):
        print("grade: --out must not lie inside the submissions folder", file=sys.stderr)
        return 2
    try:
        plan = make_plan(key, args.book, args.instructor_tests)
    except (ValueError, OSError) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)

    def progress(sub: Submission) -> None:
        print(f"{sub.student}: {_number(sub.total)} / {_number(sub.max_total)} ({sub.status})", flush=True)

    skipped: list[str] = []
    try:
        subs = grade_folder(args.submissions, key, args.out, cell_timeout=args.timeout,
                            notebook_timeout=args.notebook_timeout, workers=max(1, args.workers),
                            memory_mb=args.memory, use_sandbox=not args.no_sandbox, progress=progress,
                            resume=not args.restart, listing_out=skipped, plan=plan,
                            tests_path=args.instructor_tests, skip_tagged=not args.no_skip,
                            manual_path=args.manual, after_due_date=args.after_due_date)
    except (SandboxUnavailable, ManualScoresError) as exc:
        print(f"grade: {exc}" + (" (nothing was changed)" if isinstance(exc, ManualScoresError) else ""),
              file=sys.stderr)
        return 2
    for line in skipped:
        print(f"grade: not graded: {line}", file=sys.stderr)
    if not subs:
        print(f"grade: no .ipynb files in {args.submissions}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} and {len(subs)} feedback files in {args.out.parent / 'feedback'}")
    if plan.scheme.prose:
        print(f"prose answers to review: {args.out.parent / 'review' / 'index.html'}; scores go in a copy of "
              f"{args.out.parent / 'manual_scores_template.csv'}, merged with --manual")
    print("to import grades.csv into Canvas or Moodle, see the instructors page (book/instructors.md, section 8)")
    if args.manual:
        print(f"merged the manual scores of {args.manual} (stored as {args.out.parent / 'manual_scores.csv'})")
    return 0


def make_plan(chapter: str, book: Path | None = None, tests: Path | None = None) -> Plan:
    """The grading plan of a chapter: its scheme from the instructor notebook, and the
    instructor's tests if given (ValueError for a file that cannot be used)."""
    from course_lib.grading.instructor import load_tests
    from course_lib.grading.scheme import scheme_for

    if book is not None and not Path(book).is_dir():
        raise ValueError(f"--book {book} is not a folder")
    return Plan(chapter, scheme_for(chapter, book), load_tests(tests, chapter) if tests else [])


__all__ = ["grade_folder", "grade_notebook", "Submission", "ExerciseScore", "feedback_text", "write_reports",
           "INSTALL_HINT", "main", "add_arguments"]
