"""The supervisor: one worker process per submission, results kept as they come, resume.

``grade_folder`` lists the submissions, then keeps up to ``workers`` worker processes
(:mod:`.worker`) busy, each in its own slot (its own sandbox uid). A worker writes its result
atomically to ``<folder of the CSV>/.grading/<student>.json`` together with the notebook's
sha256, the chapter and the settings; the supervisor reads it back through the judge's
validation. A worker that dies (killed, out of memory, a bug) or overruns its wall time costs only
its submission: it is recorded as a grader error and the next one starts in its slot.

Because every result is on disk as soon as it is known, a grader that is killed or crashes loses
nothing already graded: a re-run reuses every stored result whose notebook, chapter and settings
are unchanged (and retries grader errors). grades.csv is rewritten atomically after each result,
and the feedback file of a student as soon as their result is in.

Files in the folder that are not ``*.ipynb`` (``x.IPYNB``, ``x.ipynb.bak``, a symlink, a folder),
and student ids that differ only in case, are reported (``skipped`` and notes), never silently
dropped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.check.registry import find_chapter

from . import sandbox
from .judge import InvalidResult, Plan, empty_submission, submission_from_dict
from .reports import csv_text, write_atomic, write_feedback
from .worker import Settings, sha256_of, state_record

STATE_DIR = ".grading"
#: the sandbox uids the last grade_folder call in this process used (for tests and audits)
LAST_UIDS: list = []


@dataclass
class Listing:
    notebooks: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)       # "name: why"
    case_clashes: dict = field(default_factory=dict)      # student -> the other ids


def list_submissions(folder: Path) -> Listing:
    listing = Listing()
    for entry in sorted(os.listdir(folder)):
        path = Path(folder) / entry
        if entry.startswith(".") and entry in (".", ".."):
            continue
        if path.is_symlink():
            listing.skipped.append(f"{entry}: a symbolic link (not graded)")
        elif not path.is_file():
            listing.skipped.append(f"{entry}: not a file (not graded)")
        elif not entry.endswith(".ipynb") or entry == ".ipynb":
            hint = " (rename it to end in .ipynb)" if ".ipynb" in entry.lower() else ""
            listing.skipped.append(f"{entry}: not a .ipynb file, not graded{hint}")
        else:
            listing.notebooks.append(path)
    by_lower: dict[str, list[str]] = {}
    for path in listing.notebooks:
        by_lower.setdefault(path.stem.lower(), []).append(path.stem)
    for ids in by_lower.values():
        if len(ids) > 1:
            for student in ids:
                listing.case_clashes[student] = [other for other in ids if other != student]
    return listing


def _set_parent_death_signal() -> None:
    """Run in the worker before exec: die with the supervisor (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:  # noqa: BLE001 - not Linux: the worker then outlives a killed supervisor
        pass


def plan_job(plan: Plan | None, tests_path: Path | None) -> dict | None:
    """The plan as a worker's job carries it (the scheme without model answers, the tests' file)."""
    if plan is None:
        return None
    return {"scheme": plan.scheme.to_dict(solutions=False) if plan.scheme is not None else None,
            "tests": str(Path(tests_path).absolute()) if tests_path else None}


def plan_digest(plan_data: dict | None) -> str:
    import hashlib

    from .instructor import file_sha256

    if not plan_data:
        return ""
    data = dict(plan_data)
    if data.get("tests"):
        data["tests_sha256"] = file_sha256(Path(data["tests"]))
        data.pop("tests")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _load_state(path: Path, chapter: str, sha: str, settings: Settings, plan: Plan | None = None):
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("chapter") != chapter or record.get("sha256") != sha or \
                record.get("settings") != settings.fingerprint():
            return None
        return submission_from_dict(record["submission"], chapter, plan)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidResult):
        return None


def grade_folder(folder: Path, chapter: str, out_csv: Path, *, cell_timeout: float = 60,
                 notebook_timeout: float = 600, workers: int = 1, memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
                 use_sandbox: bool = True, progress=None, resume: bool = True, listing_out=None,
                 plan: Plan | None = None, tests_path: Path | None = None, skip_tagged: bool = True,
                 manual_path: Path | None = None, after_due_date: bool = False) -> list:
    """Grade every ``*.ipynb`` in ``folder``; write grades.csv and the feedback files next to it.

    ``plan`` (scheme and instructor tests, whose file is ``tests_path``) adds prose parts, code
    points and instructor tests; then the review pages and the manual-scores template are
    written too, and the manual scores stored next to grades.csv (or given as ``manual_path``,
    validated first and then stored) are merged. Returns the submissions sorted by student id.
    ``listing_out``, a list, receives the names that were not graded and why. Raises
    SandboxUnavailable when the sandbox is asked for and bwrap is missing, and
    ManualScoresError for a manual-scores file that does not fit (before grading anything)."""
    from . import manual as manual_scores
    from .reports import write_reports

    key = find_chapter(chapter).key
    if use_sandbox:
        sandbox.require_sandbox()
    job_plan = plan_job(plan, tests_path)
    settings = Settings(cell_timeout=cell_timeout, notebook_timeout=notebook_timeout, memory_mb=memory_mb,
                        sandbox=use_sandbox, skip_tagged=skip_tagged, plan_digest=plan_digest(job_plan))
    out_csv = Path(out_csv).absolute()
    state_dir = out_csv.parent / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    listing = list_submissions(Path(folder))
    students = [p.stem for p in listing.notebooks]
    manual = {}
    if manual_path is not None:   # validated before anything is graded or written
        manual = manual_scores.read_manual(manual_path, students, plan)
    else:
        manual = manual_scores.load_stored(out_csv, students, plan)
    if listing_out is not None:
        listing_out.extend(listing.skipped)
    not_graded = out_csv.parent / "not_graded.txt"
    if listing.skipped:
        write_atomic(not_graded, "".join(line + "\n" for line in listing.skipped))
    elif not_graded.exists():
        not_graded.unlink()

    results: dict[str, object] = {}
    pending = []
    for path in listing.notebooks:
        sha = sha256_of(path)
        stored = _load_state(state_dir / f"{path.stem}.json", key, sha, settings, plan) if resume else None
        if stored is not None and stored.status != "grader error":
            results[path.stem] = stored
            if progress:
                progress(stored)
        else:
            pending.append((path, sha))

    def finish(sub) -> None:
        clashes = listing.case_clashes.get(sub.student)
        if clashes:
            note = "student id differs only in case from " + ", ".join(clashes)
            if note not in sub.notes:
                sub.notes.append(note)
        results[sub.student] = sub
        write_feedback(sub, key, out_csv, plan, manual, after_due_date)
        write_atomic(out_csv, csv_text(list(results.values()), key, plan, manual))
        if progress:
            progress(sub)

    for sub in list(results.values()):
        finish(sub)

    lock_fd, uid_base = (sandbox.reserve_uids() if use_sandbox and sandbox.is_root() else (None, sandbox.BASE_UID))
    LAST_UIDS[:] = [sandbox.slot_uid(slot, uid_base) for slot in range(max(1, workers))] if lock_fd is not None else []
    try:
        _run_workers(pending, key, settings, state_dir, max(1, workers), uid_base, use_sandbox, notebook_timeout,
                     cell_timeout, finish, plan, job_plan)
    finally:
        if lock_fd is not None:
            os.close(lock_fd)
    subs = sorted(results.values(), key=lambda s: s.student)
    if manual_path is not None:
        manual_scores.store(manual, students, plan, out_csv)
    write_reports(subs, key, out_csv, plan, manual, after_due_date)
    return subs


def _run_workers(pending, key, settings, state_dir, workers, uid_base, use_sandbox, notebook_timeout,
                 cell_timeout, finish, plan=None, job_plan=None) -> None:
    wall = 2 * notebook_timeout + 4 * cell_timeout + 120   # a worker past this is killed
    free_slots = list(range(workers))
    running: dict = {}   # slot -> (process, path, sha, started)
    queue = list(pending)
    while queue or running:
        while queue and free_slots:
            slot = free_slots.pop(0)
            path, sha = queue.pop(0)
            state = state_dir / f"{path.stem}.json"
            try:
                state.unlink()
            except FileNotFoundError:
                pass
            job = {"notebook": str(path.absolute()), "chapter": key, "slot": slot, "state": str(state),
                   "settings": settings.fingerprint(), "uid_base": uid_base, "plan": job_plan}
            with open(state_dir / f"{path.stem}.log", "wb") as log:
                process = subprocess.Popen([sys.executable, "-m", "course_lib.grading.worker", json.dumps(job)],
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                           preexec_fn=_set_parent_death_signal, cwd=str(state_dir))
            running[slot] = (process, path, sha, time.monotonic())
        time.sleep(0.05)
        for slot, (process, path, sha, started) in list(running.items()):
            code = process.poll()
            if code is None and time.monotonic() - started > wall:
                process.kill()
                code = process.wait()
                why = f"the worker overran its wall time of {wall:g} s and was killed"
            elif code is None:
                continue
            else:
                why = f"the worker died (exit code {code})"
            del running[slot]
            free_slots.append(slot)
            free_slots.sort()
            if use_sandbox and sandbox.is_root():
                _kill_leftovers(sandbox.slot_uid(slot, uid_base))
            sub = _load_state(state_dir / f"{path.stem}.json", key, sha, settings, plan)
            if sub is None:
                sub = empty_submission(path.stem, key, status="grader error", notes=[why + "; score 0"], plan=plan)
                write_atomic(state_dir / f"{path.stem}.json",
                             json.dumps(state_record(sub, key, sha, settings)))
            finish(sub)


def _kill_leftovers(uid: int | None) -> None:
    """Belt and braces: no process of a slot's uid survives its submission."""
    if uid is None:
        return
    for pid in sandbox.processes_of_uid(uid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
