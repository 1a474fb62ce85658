"""Grades one submission: its own box, its own sandboxed kernel, the judge in this process.

    python -m course_lib.grading.worker '<json settings>'

is how the supervisor starts it (one process per submission, so that a worker killed by
anything costs only that submission). The result is written atomically to the state file the
supervisor names, with the notebook's sha256, and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from course_lib.check.registry import exercises_for, find_chapter

from . import sandbox
from .judge import CHECK_ERROR, NOT_RUN, Plan, clean_shortcuts, empty_submission, find_shortcuts, judge_chapter, validate_submission
from .scheme import collect_answers, is_skipped
from .kernel_runner import KernelRunner, clean_error, run_cells
from .reports import write_atomic


@dataclass(frozen=True)
class Settings:
    cell_timeout: float = 60
    notebook_timeout: float = 600
    memory_mb: int = sandbox.DEFAULT_MEMORY_MB
    sandbox: bool = True
    output_mb: int = 4
    #: no bubblewrap (Gradescope's container): the kernel runs as an unprivileged uid with limits
    container: bool = False
    #: skip the code cells tagged grade-skip (scheme.SKIP_TAG)
    skip_tagged: bool = True
    #: sha256 of the plan (scheme and instructor tests): a changed plan grades again on resume
    plan_digest: str = ""

    def fingerprint(self) -> dict:
        return asdict(self)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _font_cache() -> Path | None:
    """Matplotlib's font list of the grader (built once here if missing): copied into each box,
    it spares every kernel the seconds it takes to build its own."""
    try:
        import matplotlib

        folder = Path(matplotlib.get_cachedir())
        found = sorted(folder.glob("fontlist-v*.json"))
        if not found:
            import matplotlib.font_manager  # noqa: F401 - builds the list

            found = sorted(folder.glob("fontlist-v*.json"))
        return found[-1] if found else None
    except Exception:  # noqa: BLE001 - without it a kernel just builds its own
        return None


def grade_notebook(path: Path, chapter: str, settings: Settings = Settings(), slot: int = 0,
                   uid_base: int = sandbox.BASE_UID, plan: Plan | None = None):
    """Run one submission in its sandbox and judge it; never raises for a bad submission."""
    from course_lib.tools import _notebook_format as fmt

    path = Path(path)
    key = find_chapter(chapter).key
    sub = empty_submission(path.stem, key, plan=plan)
    try:
        nb = fmt.read_notebook(path)
    except ValueError as exc:
        sub.status = "unreadable"
        sub.notes.append(str(exc)[:400])
        return sub
    if plan is not None and plan.scheme is not None:
        try:
            sub.answers = collect_answers(nb, plan.scheme)
        except Exception as exc:  # noqa: BLE001 - a notebook whose cells are not what they seem
            sub.notes.append(f"prose answers could not be read: {type(exc).__name__}")
    sources = [(i, cell.source) for i, cell in enumerate(nb.cells)
               if cell.get("cell_type") == "code" and isinstance(cell.get("source"), str)
               and not (settings.skip_tagged and is_skipped(cell))]
    names = [name for e in exercises_for(key) for name in e.functions]
    static = find_shortcuts([source for _, source in sources], names)

    uid = sandbox.slot_uid(slot, uid_base) if settings.sandbox or settings.container else None
    root = Path(tempfile.mkdtemp(prefix="cg-", dir="/tmp" if os.path.isdir("/tmp") else None))
    runner = None
    try:
        box = sandbox.make_box(root, "box", uid)
        fonts = _font_cache()
        if fonts is not None:   # a copy the sandbox binds read-only (outside the box)
            copy = root / fonts.name
            copy.write_bytes(fonts.read_bytes())
            os.chmod(copy, 0o644)
            os.chmod(root, 0o711)
        if settings.container:
            os.chmod(root, 0o711)
            limits = sandbox.Limits(memory_mb=settings.memory_mb,
                                    cpu_s=int(2 * settings.notebook_timeout + 120))
            argv, env = sandbox.container_argv(box, limits, uid), {}
        elif settings.sandbox:
            limits = sandbox.Limits(memory_mb=settings.memory_mb,
                                    cpu_s=int(2 * settings.notebook_timeout + 120))
            argv, env = sandbox.bwrap_argv(box, limits, uid, font_cache=copy if fonts else None), {}
        else:
            argv, env = sandbox.plain_argv(), sandbox.unsandboxed_env(box)
        name = sandbox.write_kernel_spec(root / "spec", f"course-grade-{slot}", argv, env)
        runner = KernelRunner(box, name, root / "spec", output_cap=settings.output_mb * 2**20,
                              call_timeout=settings.cell_timeout)
        started = time.monotonic()
        runner.start(uid)
        runner.inbox = sandbox.seal_box(box, uid)
        ready = time.monotonic()
        run = run_cells(runner, sources, cell_timeout=settings.cell_timeout,
                        notebook_timeout=settings.notebook_timeout)
        ran = time.monotonic()
        sub.status, sub.notes = run.status, list(run.notes)
        if not run.ended:
            runner.call_deadline = time.monotonic() + settings.notebook_timeout
            judge_chapter(key, runner, sub, plan=plan)
            for test, score in zip(getattr(plan, "tests", None) or [], sub.extra):
                if score.status == CHECK_ERROR and score.detail:   # for the instructor's log only
                    print(f"{path.name}: instructor test {test.name}: check error: {score.detail}",
                          file=sys.stderr, flush=True)
        else:
            for score in sub.scores + sub.extra:
                score.status = NOT_RUN
        # for the log the supervisor keeps next to the result (.grading/<student>.log)
        print(f"{path.name}: kernel start {ready - started:.2f} s, cells {ran - ready:.2f} s, "
              f"checks {time.monotonic() - ran:.2f} s", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - a kernel that cannot start, ...
        sub.status = "grader error"
        sub.notes.append(clean_error(f"{type(exc).__name__}: {exc}"))
        for score in sub.scores + sub.extra:
            score.status = NOT_RUN
    finally:
        if runner is not None:
            runner.shutdown()
        if settings.container and uid is not None:
            # no PID namespace there: what the student's code started (setsid, double fork) outlives
            # the kernel unless it is killed here, before the results are written
            left = sandbox.kill_uid(uid)
            if left:
                sub.notes.append(f"{len(left)} process(es) of the kernel could not be stopped")
        sandbox.remove_box(root)
    sub.shortcuts = clean_shortcuts({**sub.shortcuts, **static})
    return validate_submission(sub, key, plan)


def plan_from_job(job: dict) -> Plan | None:
    """The plan a job describes: the scheme (JSON) and the instructor-tests file, imported here."""
    from .instructor import load_tests
    from .scheme import Scheme

    data = job.get("plan")
    if not data:
        return None
    scheme = Scheme.from_dict(data["scheme"]) if data.get("scheme") else None
    tests = load_tests(Path(data["tests"]), job["chapter"]) if data.get("tests") else []
    return Plan(job["chapter"], scheme, tests)


def state_record(sub, chapter: str, sha256: str, settings: Settings) -> dict:
    return {"chapter": chapter, "sha256": sha256, "settings": settings.fingerprint(), "submission": sub.to_dict()}


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    settings = Settings(**job["settings"])
    sha = sha256_of(Path(job["notebook"]))
    sub = grade_notebook(Path(job["notebook"]), job["chapter"], settings, int(job["slot"]),
                         int(job.get("uid_base", sandbox.BASE_UID)), plan_from_job(job))
    write_atomic(Path(job["state"]), json.dumps(state_record(sub, job["chapter"], sha, settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
