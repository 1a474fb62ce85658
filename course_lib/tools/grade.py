"""Grade a folder of submitted notebooks against a chapter's self-checks.

    python -m course_lib grade submissions/ --chapter warmup --out grades/grades.csv

Each ``*.ipynb`` in the folder (the student id is the file name without ``.ipynb``) is copied
to a temporary folder and run there, top to bottom, in a fresh ``python3`` kernel whose working
folder is that temporary folder:

- a cell that raises is recorded (the first error goes into the CSV) and the next cells run;
- a cell that runs longer than ``--timeout`` seconds is interrupted and the next cells run; a
  kernel that does not come back from the interrupt, or dies, ends that submission with a score
  of 0 and the reason;
- the notebook's own cells run with ``COURSE_CHECK_STRICT=0``, so its self-check cells print
  and carry on.

Then, in the same kernel, the grader runs the chapter's self-checks
(:func:`course_lib.check.registry.exercises_for`) on the functions the student defined, looked
up by name, so that deleted, moved or edited check cells change nothing. Each exercise earns
``points × (tests passed / tests)``, rounded to 2 decimals.

Output: a CSV with one row per student (sorted by id; columns ``student``, one per exercise
label, ``total``, ``max_total``, ``status``, ``notes``) and a feedback file per student in
``<folder of the CSV>/feedback/<student>.txt`` (each test passed or failed, with the details a
self-check prints, the first error and any time-outs). A notebook that is not valid JSON, raises,
loops forever or lacks cells is scored for what it got right, and never stops the others.

SECURITY: student code is untrusted and runs with the grader's permissions (files, network,
credentials of the account that runs this command). Grade in a throwaway container or virtual
machine, or as an unprivileged user without network access (for example
``sudo -u grader unshare -n python -m course_lib grade ...`` or
``docker run --network none ...``), never in a folder or account that holds credentials. A
determined student can also make the checks report success from inside the kernel; read the
notebooks of suspicious scores.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat

from course_lib.check import STRICT_ENV
from course_lib.check.registry import exercises_for, find_chapter
from course_lib.tools import _notebook_format as fmt

KERNEL = "python3"
RESULT_TAG = "COURSE_GRADE_RESULT "
PROBE_TIMEOUT = 10  # seconds a kernel gets to answer after an interrupt

# Statuses of one exercise.
SCORED, MISSING, TIMEOUT, NOT_RUN, CHECK_ERROR = "scored", "missing", "timeout", "not run", "check error"


# ---------------------------------------------------------------------------------------------
# Run inside the student's kernel
# ---------------------------------------------------------------------------------------------

def run_exercise(chapter: str, label: str, namespace: dict) -> str:
    """Run one exercise's self-check on the student's functions; return a tagged JSON line.

    Runs in the student's kernel, quietly (what the check and the student's code print is
    swallowed) and never in strict mode.
    """
    import contextlib
    import warnings

    exercise = next(e for e in exercises_for(chapter) if e.label == label)
    missing = [name for name in exercise.functions if not callable(namespace.get(name))]
    if missing:
        return RESULT_TAG + json.dumps({"label": label, "status": MISSING,
                                        "detail": "not defined: " + ", ".join(missing)})
    saved = os.environ.get(STRICT_ENV)
    os.environ[STRICT_ENV] = "0"
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = exercise.check(*(namespace[name] for name in exercise.functions))
        payload = {"label": label, "status": SCORED, "passed": result.passed, "total": result.total,
                   "not_implemented": result.not_implemented, "waiting": result.waiting,
                   "missing_functions": list(result.missing_functions),
                   "outcomes": [[o.description, o.status, o.detail] for o in result.outcomes]}
    except Exception as exc:  # noqa: BLE001 - e.g. the student's function returned something exotic
        payload = {"label": label, "status": CHECK_ERROR, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        if saved is None:
            os.environ.pop(STRICT_ENV, None)
        else:
            os.environ[STRICT_ENV] = saved
    return RESULT_TAG + json.dumps(payload)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------

@dataclass
class ExerciseScore:
    label: str
    max_points: float
    status: str = NOT_RUN
    passed: int = 0
    total: int = 0
    not_implemented: bool = False
    waiting: int = 0                      # tests waiting for a function that is not implemented
    missing_functions: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)
    detail: str = ""

    @property
    def points(self) -> float:
        if self.status != SCORED or not self.total:
            return 0.0
        return round(self.max_points * self.passed / self.total, 2)


@dataclass
class Submission:
    student: str
    scores: list[ExerciseScore]
    status: str = "ok"
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(s.points for s in self.scores), 2)

    @property
    def max_total(self) -> float:
        return round(sum(s.max_points for s in self.scores), 2)


def _clean(text: str) -> str:
    """An error message without the kernel's temporary file names, on one line."""
    text = re.sub(r"\((?:[^()]*ipykernel_\d+/)?\d+\.py, line (\d+)\)", r"(line \1)", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:200]


def _first_error(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _clean(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}").rstrip(": ")
    return None


def _result_line(cell) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            for line in "".join(output.get("text", "")).splitlines():
                if line.startswith(RESULT_TAG):
                    return json.loads(line[len(RESULT_TAG):])
    return None


# ---------------------------------------------------------------------------------------------
# Grading one notebook
# ---------------------------------------------------------------------------------------------

def kernel_env() -> dict[str, str]:
    """The environment of a grading kernel: the executor's, but never strict."""
    from course_lib.tools.execute import EXECUTION_ENV

    env = dict(os.environ)
    env.update(EXECUTION_ENV)
    env[STRICT_ENV] = "0"
    env["MPLBACKEND"] = "Agg"
    return env


def grade_notebook(path: Path, chapter: str, cell_timeout: int = 60) -> Submission:
    """Run one submission and its chapter's self-checks; never raises for a bad submission."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbclient.util import run_sync

    path = Path(path)
    key = find_chapter(chapter).key
    sub = Submission(path.stem, [ExerciseScore(e.label, float(e.points)) for e in exercises_for(key)])
    try:
        nb = fmt.read_notebook(path)
    except ValueError as exc:
        sub.status = "unreadable"
        sub.notes.append(str(exc))
        return sub
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}

    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        nbformat.write(nb, os.path.join(tmp, path.name))
        client = NotebookClient(nb, timeout=cell_timeout, allow_errors=True, kernel_name=KERNEL,
                                record_timing=False, interrupt_on_timeout=False,
                                # outputs may trail the reply on a busy machine: wait for them
                                iopub_timeout=max(10, cell_timeout),
                                resources={"metadata": {"path": tmp}})

        def run(cell, index: int | None = None) -> str:
            """Execute one cell (an extra one when ``index`` is None): "done", "timeout"
            (interrupted, the kernel answers again), "stuck" (no answer after the interrupt) or "dead"."""
            if index is None:
                nb.cells.append(cell)
                index = len(nb.cells) - 1
            client.timeout = cell_timeout
            try:
                client.execute_cell(cell, index)
                return "done"
            except DeadKernelError:
                return "dead"
            except CellTimeoutError:
                pass
            try:
                run_sync(client.km.interrupt_kernel)()
                # A cancelled wait can leave the old channels deaf to later output (zmq's
                # edge-triggered sockets): talk to the same kernel through fresh channels.
                client.kc.stop_channels()
                client.kc = None
                client.startup_timeout = PROBE_TIMEOUT
                client.start_new_kernel_client()
                probe = nbformat.v4.new_code_cell("pass")
                nb.cells.append(probe)
                client.timeout = PROBE_TIMEOUT
                client.execute_cell(probe, len(nb.cells) - 1)
                return "timeout"
            except (CellTimeoutError, DeadKernelError, RuntimeError):
                return "stuck"

        try:
            with client.setup_kernel(env=kernel_env()):
                ended = None
                for index, cell in enumerate(list(nb.cells)):
                    if cell.cell_type != "code":
                        continue
                    outcome = run(cell, index)
                    if outcome == "done":
                        error = _first_error(cell)
                        if error and sub.status == "ok":
                            sub.status = "error"
                            sub.notes.append(f"first error in cell index {index}: {error}")
                        continue
                    if outcome == "timeout":
                        sub.status = "timeout"
                        sub.notes.append(f"cell index {index} timed out after {cell_timeout} s and was interrupted")
                        continue
                    ended = (f"cell index {index}: the kernel died" if outcome == "dead" else
                             f"cell index {index} timed out after {cell_timeout} s and the kernel did not "
                             "respond to the interrupt")
                    break
                if ended is None:
                    for score in sub.scores:
                        if ended is not None:
                            break
                        check_cell = nbformat.v4.new_code_cell(
                            "from course_lib.tools.grade import run_exercise as _course_grade_run\n"
                            f"print(_course_grade_run({key!r}, {score.label!r}, globals()))")
                        outcome = run(check_cell)
                        if outcome == "done" and _result_line(check_cell) is None and not _first_error(check_cell):
                            # on a loaded machine, output can go missing after an interrupt: once more
                            check_cell = nbformat.v4.new_code_cell(check_cell.source)
                            outcome = run(check_cell)
                        if outcome == "done":
                            _store(score, _result_line(check_cell), _first_error(check_cell))
                        elif outcome == "timeout":
                            score.status, score.detail = TIMEOUT, f"the self-check timed out after {cell_timeout} s"
                            sub.notes.append(f"{score.label}: self-check timed out")
                        else:
                            ended = f"{score.label}: the kernel " + ("died" if outcome == "dead" else "hung")
                if ended is not None:
                    sub.status = "kernel died" if "died" in ended else "hung"
                    sub.notes.append(ended + "; score 0")
                    for score in sub.scores:
                        score.status = NOT_RUN
        except Exception as exc:  # noqa: BLE001 - a kernel that cannot start, a broken cell ...
            if sub.status not in ("hung", "kernel died"):  # else: only the clean-up complained
                sub.status = "grader error"
                sub.notes.append(_clean(f"{type(exc).__name__}: {exc}"))
            for score in sub.scores:
                score.status = NOT_RUN
        finally:
            if client.km is not None and client.km.has_kernel:  # never leave a kernel behind
                run_sync(client.km.shutdown_kernel)(now=True)
    return sub


def _store(score: ExerciseScore, result: dict | None, error: str | None) -> None:
    if result is None:
        score.status, score.detail = CHECK_ERROR, f"the self-check did not report ({error or 'no output'})"
        return
    score.status = result["status"]
    score.detail = result.get("detail", "")
    score.passed = int(result.get("passed", 0))
    score.total = int(result.get("total", 0))
    score.not_implemented = bool(result.get("not_implemented", False))
    score.waiting = int(result.get("waiting", 0))
    score.missing_functions = [str(name) for name in result.get("missing_functions", [])]
    score.outcomes = result.get("outcomes", [])


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------

def _number(x: float) -> str:
    return f"{x:.2f}"


def feedback_text(sub: Submission, chapter: str) -> str:
    """The feedback file of one student: what passed, what failed and why."""
    lines = [f"Feedback for {sub.student}, chapter {chapter}",
             f"Points: {_number(sub.total)} of {_number(sub.max_total)}",
             f"Status: {sub.status}"]
    lines += [f"Note: {note}" for note in sub.notes]
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


def write_reports(subs: list[Submission], chapter: str, out_csv: Path) -> None:
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    labels = [e.label for e in exercises_for(chapter)]
    with open(out_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["student", *labels, "total", "max_total", "status", "notes"])
        for sub in sorted(subs, key=lambda s: s.student):
            points = {s.label: s.points for s in sub.scores}
            writer.writerow([sub.student, *(_number(points[label]) for label in labels),
                             _number(sub.total), _number(sub.max_total), sub.status, "; ".join(sub.notes)])
    feedback = out_csv.parent / "feedback"
    feedback.mkdir(exist_ok=True)
    for sub in subs:
        (feedback / f"{sub.student}.txt").write_text(feedback_text(sub, chapter), encoding="utf-8")


def _quiet_worker() -> None:
    """Silence asyncio's "Task exception was never retrieved" after an interrupted cell."""
    import logging

    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def grade_folder(folder: Path, chapter: str, out_csv: Path, *, cell_timeout: int = 60,
                 workers: int = 1, progress=None) -> list[Submission]:
    """Grade every ``*.ipynb`` in ``folder``; write the CSV and the feedback files."""
    paths = sorted(Path(folder).glob("*.ipynb"))
    key = find_chapter(chapter).key
    if workers > 1 and len(paths) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                 initializer=_quiet_worker) as pool:
            futures = [pool.submit(grade_notebook, p, key, cell_timeout) for p in paths]
            subs = []
            for path, future in zip(paths, futures):
                try:
                    subs.append(future.result())
                except Exception as exc:  # noqa: BLE001 - a worker that crashed
                    sub = Submission(path.stem, [ExerciseScore(e.label, float(e.points)) for e in exercises_for(key)],
                                     status="grader error", notes=[_clean(f"{type(exc).__name__}: {exc}")])
                    subs.append(sub)
                if progress:
                    progress(subs[-1])
    else:
        subs = []
        for path in paths:
            subs.append(grade_notebook(path, key, cell_timeout))
            if progress:
                progress(subs[-1])
    write_reports(subs, key, out_csv)
    return sorted(subs, key=lambda s: s.student)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.description = (
        "Run each submitted notebook in a fresh kernel and score the chapter's self-checks. "
        "WARNING: student code is untrusted and runs with your permissions; grade in a throwaway "
        "container or VM, or as an unprivileged user without network (e.g. `sudo -u grader "
        "unshare -n ...`), never in a folder or account with credentials.")
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks (<student id>.ipynb)")
    parser.add_argument("--chapter", required=True, help="chapter key or notebook stem, e.g. warmup or ch1")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="the CSV to write (default grades.csv); feedback/ is written next to it")
    parser.add_argument("--timeout", type=int, default=60, help="seconds allowed per cell (default 60)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks graded in parallel (default min(2, CPUs))")


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

    _quiet_worker()

    def progress(sub: Submission) -> None:
        print(f"{sub.student}: {_number(sub.total)} / {_number(sub.max_total)} ({sub.status})", flush=True)

    subs = grade_folder(args.submissions, key, args.out, cell_timeout=args.timeout,
                        workers=max(1, args.workers), progress=progress)
    if not subs:
        print(f"grade: no .ipynb files in {args.submissions}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} and {len(subs)} feedback files in {args.out.parent / 'feedback'}")
    return 0
