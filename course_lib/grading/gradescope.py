"""Grading one submission inside a Gradescope autograder container (what run_autograder runs).

    python -m course_lib.grading.gradescope        # AUTOGRADER_ROOT, default /autograder

Gradescope runs ``/autograder/run_autograder`` as root in a fresh container per submission,
with the student's files in ``/autograder/submission`` and this bundle in
``/autograder/source``; it reads ``/autograder/results/results.json`` (the public autograder
specification: ``score``, ``output``, ``stdout_visibility``, ``tests[]`` with ``name``,
``score``, ``max_score``, ``status``, ``output``, ``visibility``).

Isolation there (there is no bubblewrap in Gradescope's images):

- the judge (the chapter's checks, the instructor's tests, the scoring, results.json) stays in
  this process, as root; the student's notebook runs in a separate kernel process started
  through :func:`course_lib.grading.sandbox.container_argv`: a cleared environment, its own
  network namespace where ``unshare --net`` is allowed (else the container's network), limits
  on memory, processes, CPU time, file size and open files, and, as root, an unprivileged uid
  without capabilities, so it cannot read ``/autograder/source`` (the instructor tests, this
  configuration), ``/autograder/results``, ``/autograder/submission`` or anything else Gradescope
  puts in ``/autograder`` (``submission_metadata.json``): all but ``venv/`` are made root-only first,
  cannot signal or trace this process, and cannot write results.json;
- after the kernel is shut down, every process of its uid is killed (there is no PID namespace);
- the container itself holds only this submission, so nothing of another student can be reached;
- where bubblewrap *is* installed (a self-hosted runner), the full sandbox of ``grade`` is used.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .judge import SCORED, Plan
from .reports import _check_lines, notes_of, write_atomic

CONFIG = "autograder.json"
TESTS_FILE = "instructor_tests.py"
#: what of the notes goes into results.json's output (the student sees it)
NOTE_CHARS, MAX_NOTES = 120, 5
#: the only entries of the autograder root the kernel's uid may read (the interpreter and the
#: course_lib installed in it); everything else there (source/, submission/, results/, and what
#: Gradescope adds, such as submission_metadata.json with earlier results) becomes root-only
KERNEL_READABLE = ("venv",)


def root_folder() -> Path:
    return Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))


def find_submission(folder: Path, notebook: str) -> Path:
    """The chapter's notebook in the submission folder (by name, else the only .ipynb)."""
    folder = Path(folder).resolve()
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    # a symbolic link could point at the grader's files (whose start an error message would quote)
    candidates = [p for p in found if not any(q.is_symlink() for q in [p, *p.parents] if q != folder and
                                              q.is_relative_to(folder)) and p.is_file()]
    named = [p for p in candidates if p.name == f"{notebook}.ipynb"]
    if named:
        return named[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValueError("no .ipynb file was submitted")
    raise ValueError(f"several notebooks were submitted and none is named {notebook}.ipynb: "
                     + ", ".join(p.name for p in candidates))


def _test(name: str, score, output: str, visibility: str) -> dict:
    return {"name": name, "score": score.points, "max_score": score.max_points,
            "status": "passed" if score.status == SCORED and score.passed == score.total and score.total else "failed",
            "output": output, "visibility": visibility}


def results_of(sub, plan: Plan) -> dict:
    """results.json for one graded submission (prose parts are graded by hand on Gradescope)."""
    tests = [_test(s.label, s, "\n".join(_check_lines(s)), "visible") for s in sub.scores]
    for test, score in zip(plan.tests, sub.extra):
        # Gradescope hides hidden tests from students and shows after_due_date ones later itself
        tests.append(_test(f"instructor test {test.name}", score, "\n".join(_check_lines(score)), test.visibility))
    # the notes return to the student and quote the kernel (the first error's message): a few
    # short lines, so that they cannot carry out much of whatever the kernel could read
    notes = [n if len(n) <= NOTE_CHARS else n[:NOTE_CHARS] + " ..." for n in notes_of(sub)[:MAX_NOTES]]
    lines = [f"Status: {sub.status}", *notes]
    parts = list(getattr(plan.scheme, "prose", None) or [])
    if parts:
        lines.append(f"{len(parts)} written answer(s) are graded by hand: " + ", ".join(p.key for p in parts))
    return {"score": sub.total, "output": "\n".join(lines), "stdout_visibility": "hidden", "tests": tests}


def _protect(root: Path) -> None:
    """As root: the autograder root can be passed through but not listed by the kernel's uid, and
    every entry in it but the interpreter's folder (:data:`KERNEL_READABLE`, and the folder of
    this Python if it lies there) is root-only (0700/0600); links are left alone (a chmod would
    follow them)."""
    if os.geteuid() != 0:
        return
    root = Path(root)
    keep = set(KERNEL_READABLE)
    prefix = Path(sys.prefix).resolve()
    if prefix.is_relative_to(root.resolve()) and prefix != root.resolve():
        keep.add(prefix.relative_to(root.resolve()).parts[0])
    os.chmod(root, 0o711)
    for entry in os.scandir(root):
        if entry.name in keep or entry.is_symlink():
            continue
        os.chmod(entry.path, 0o700 if entry.is_dir(follow_symlinks=False) else 0o600)


def run(root: Path | None = None) -> dict:
    from course_lib.check.registry import find_chapter

    from . import sandbox
    from .instructor import load_tests
    from .scheme import Scheme
    from .worker import Settings, grade_notebook

    root = Path(root or root_folder())
    results_path = root / "results" / "results.json"
    try:
        config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
        chapter = find_chapter(config["chapter"])
        tests_file = root / "source" / TESTS_FILE
        plan = Plan(chapter.key, Scheme.from_dict(config["scheme"]),
                    load_tests(tests_file, chapter.key) if tests_file.exists() else [])
        notebook = find_submission(root / "submission", chapter.notebook)
        _protect(root)
        use_bwrap = sandbox.bwrap_path() is not None and config.get("use_bwrap", True)
        settings = Settings(cell_timeout=float(config.get("cell_timeout", 60)),
                            notebook_timeout=float(config.get("notebook_timeout", 600)),
                            memory_mb=int(config.get("memory_mb", sandbox.DEFAULT_MEMORY_MB)), sandbox=use_bwrap,
                            container=not use_bwrap)
        lock, base = sandbox.reserve_uids() if sandbox.is_root() else (None, sandbox.BASE_UID)
        try:
            sub = grade_notebook(notebook, chapter.key, settings, 0, base, plan)
        finally:
            if lock is not None:
                os.close(lock)
        results = results_of(sub, plan)
    except Exception as exc:  # noqa: BLE001 - a results.json that says why, never none
        results = {"score": 0.0, "output": f"The autograder could not grade this submission: "
                                           f"{type(exc).__name__}: {exc}"[:2000],
                   "stdout_visibility": "hidden", "tests": []}
    write_atomic(results_path, json.dumps(results, indent=1) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    results = run()
    print(f"score {results['score']}; {len(results['tests'])} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
