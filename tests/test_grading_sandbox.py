"""The sandbox is really on, its limits hold, and the supervisor survives dead workers and a
killed grader (resume). Small hand-made notebooks keep these fast; the attack suite
(tests/test_attacks.py) grades hostile warm-up submissions."""

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import sandbox, supervisor
from course_lib.grading.kernel_runner import KernelRunner
from course_lib.grading.reports import csv_text, neutral
from course_lib.tools.grade import grade_folder

ROOT = Path(__file__).resolve().parents[1]

GOOD = '''
import numpy as np

def stable_sigmoid(s):
    s = np.asarray(s, dtype=float)
    e = np.exp(-np.abs(s))
    return np.where(s >= 0, 1 / (1 + e), e / (1 + e))

def sigmoid_grad(s):
    p = stable_sigmoid(s)
    return p * (1 - p)

def bce_from_probabilities(p, y):
    return float(-np.mean(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100)))
'''


from test_attacks import require_bwrap  # noqa: E402 - one definition, shared with test_grade.py


def notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def kernel():
    require_bwrap()
    root = Path(tempfile.mkdtemp(prefix="cg-test-"))
    lock, base = sandbox.reserve_uids() if sandbox.is_root() else (None, sandbox.BASE_UID)
    uid = sandbox.slot_uid(0, base)
    box = sandbox.make_box(root, "box", uid)
    argv = sandbox.bwrap_argv(box, sandbox.Limits(), uid)
    name = sandbox.write_kernel_spec(root / "spec", "course-grade-test", argv)
    runner = KernelRunner(box, name, root / "spec", call_timeout=20)
    runner.start(uid)
    runner.inbox = sandbox.seal_box(box, uid)
    secret = root / "secret.txt"
    secret.write_text("the grader's file", encoding="utf-8")
    assert runner.run("def _try(f):\n    try:\n        return f()\n    except Exception as e:\n"
                      "        return type(e).__name__", 30).status == "ok"
    yield runner, box, secret, uid
    runner.shutdown()
    sandbox.remove_box(root)
    if lock is not None:
        os.close(lock)


def run(runner, code):
    return runner.run(code, 30)


def value(runner, expression):
    """The repr of an expression evaluated in the sandboxed kernel, via the remote server."""
    from course_lib.grading.remote import RemoteFunction

    outcome = run(runner, f"def _probe():\n    return repr({expression})")
    assert outcome.status == "ok", outcome
    return RemoteFunction(runner, "_probe")()


def test_the_kernel_is_sandboxed(kernel):
    runner, box, secret, uid = kernel
    assert int(value(runner, "__import__('os').getpid()")) < 20          # its own PID namespace
    if sandbox.is_root():
        assert value(runner, "__import__('os').getuid()") == str(uid)
    assert value(runner, "sorted(__import__('os').environ)").count("'") <= 2 * 30
    assert "COURSE_GRADER" not in value(runner, "dict(__import__('os').environ)")
    assert value(runner, f"_try(lambda: open({str(secret)!r}).read())") == "'FileNotFoundError'"
    assert value(runner, f"_try(lambda: open({str(ROOT / 'README.md')!r}).read())") == "'FileNotFoundError'"
    assert value(runner, f"_try(lambda: open({str(ROOT / 'course_lib' / 'x.py')!r}, 'w'))") == "'OSError'"
    assert value(runner, f"_try(lambda: open({str(box / 'planted')!r}, 'w'))") == "'PermissionError'"
    assert value(runner, "_try(lambda: open('/home/student/mine.txt', 'w').write('ok'))") == "2"
    assert value(runner, "_try(lambda: __import__('socket').create_connection(('1.1.1.1', 53), 2))") == "'OSError'"


def test_large_requests_go_through_a_read_only_inbox(kernel):
    import numpy as np

    from course_lib.grading.remote import RemoteFunction

    runner, box, *_ = kernel
    assert run(runner, "def _mean_and_mutate(y):\n    m = float(y.mean())\n    y[0] = -1.0\n    return m").status == "ok"
    y = np.ones(300_000)
    assert RemoteFunction(runner, "_mean_and_mutate")(y) == 1.0 and y[0] == -1.0   # changed state copied back
    assert list((box / "inbox").iterdir()) == []                                   # the request file is gone
    if sandbox.is_root():
        assert value(runner, f"_try(lambda: open({str(box / 'inbox' / 'x')!r}, 'w'))") == "'PermissionError'"


def test_limits_hold(kernel):
    runner, *_ = kernel
    assert value(runner, "_try(lambda: __import__('numpy').ones(int(8e8)).sum())") == "'MemoryError'"
    assert value(runner, "_try(lambda: open('/home/student/big', 'wb').write(b'x' * 300 * 2**20))") == "'OSError'"
    assert value(runner, "float(__import__('numpy').ones((1000, 1000)).sum())") == "1000000.0"


def test_sandbox_argv_and_flags():
    argv = sandbox.bwrap_argv(Path("/tmp/cg-x/box"), sandbox.Limits(memory_mb=512), 61003)
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--clearenv" in argv
    assert "--die-with-parent" in argv and f"--as={512 * 2**20}" in argv and "--core=0" in argv
    assert argv[argv.index("--reuid") + 1] == "61003"
    binds = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert str(ROOT) not in binds and str(ROOT / "course_lib") in binds
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"] == ["/tmp/cg-x/box"]


def test_sandbox_argv_for_a_grader_that_is_not_root(monkeypatch):
    monkeypatch.setattr(sandbox, "_user_process_count", lambda: 40)
    argv = sandbox.bwrap_argv(Path("/tmp/cg-x/box"), sandbox.Limits(), None)
    assert "--unshare-user" in argv and "--reuid" not in argv and "--nproc=104" in argv


def test_without_bwrap_the_grader_stops_and_says_how_to_install(monkeypatch, tmp_path, capsys):
    from course_lib.__main__ import main

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install -y bubblewrap"):
        grade_folder(tmp_path, "warmup", tmp_path / "out" / "grades.csv")
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--chapter", "warmup", "--out", str(tmp_path / "o.csv")]) == 2
    assert "apt-get install -y bubblewrap" in capsys.readouterr().err


def test_no_sandbox_warns(tmp_path, capsys):
    from course_lib.__main__ import main

    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--chapter", "warmup", "--no-sandbox",
                 "--out", str(tmp_path / "out" / "grades.csv")]) == 1
    assert "WARNING: --no-sandbox" in capsys.readouterr().err


def test_csv_cells_are_neutralised_and_odd_files_reported(tmp_path):
    assert [neutral(t) for t in ("=1+1", "+x", "-2", "@SUM(A1)", "\tx", "ok", "a=b")] == \
        ["'=1+1", "'+x", "'-2", "'@SUM(A1)", "'\tx", "ok", "a=b"]
    for name in ("Ann.ipynb", "ann.ipynb", "bob.IPYNB", "bob.ipynb.bak", "notes.txt"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    (tmp_path / "folder.ipynb").mkdir()
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "ann.ipynb")
    listing = supervisor.list_submissions(tmp_path)
    assert [p.name for p in listing.notebooks] == ["Ann.ipynb", "ann.ipynb"]
    assert listing.case_clashes == {"Ann": ["ann"], "ann": ["Ann"]}
    assert len(listing.skipped) == 5 and any("bob.IPYNB" in s and "rename" in s for s in listing.skipped)
    from course_lib.grading.judge import empty_submission

    text = csv_text([empty_submission("=HYPERLINK(1)", "warmup", notes=["-bad"])], "warmup")
    assert "'=HYPERLINK(1),0.00" in text and ",'-bad" in text


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a container's init may reap late)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    return "State:\tZ" not in status


def _worker_jobs() -> dict[int, dict]:
    """The jobs of the running grading workers, by PID."""
    jobs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"course_lib.grading.worker" in args and len(args) > 3:
            try:
                jobs[int(entry)] = json.loads(args[3])
            except ValueError:
                pass
    return jobs


def _kill_worker_of(student: str, stop: threading.Event) -> None:
    """Kill the worker process grading ``student`` as soon as it shows up."""
    while not stop.is_set():
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "course_lib.grading.worker" in cmdline and f"{student}.ipynb" in cmdline:
                time.sleep(1.0)
                os.kill(int(entry), signal.SIGKILL)
                return
        time.sleep(0.05)


def test_a_dead_worker_costs_one_submission_and_a_rerun_resumes(tmp_path):
    require_bwrap()
    subs_dir, out = tmp_path / "subs", tmp_path / "out" / "grades.csv"
    subs_dir.mkdir()
    notebook(subs_dir / "ann.ipynb", GOOD)
    notebook(subs_dir / "bea.ipynb", GOOD, "import time\ntime.sleep(4)")
    notebook(subs_dir / "cal.ipynb", GOOD)
    stop = threading.Event()
    killer = threading.Thread(target=_kill_worker_of, args=("bea", stop))
    killer.start()
    try:
        first = {s.student: s for s in grade_folder(subs_dir, "warmup", out, cell_timeout=20, workers=2)}
    finally:
        stop.set()
        killer.join()
    assert first["ann"].total == first["cal"].total == 5.0
    assert first["bea"].status == "grader error" and first["bea"].total == 0.0
    assert "the worker died" in first["bea"].notes[0]
    state = out.parent / ".grading"
    stamps = {name: (state / f"{name}.json").stat().st_mtime_ns for name in ("ann", "cal")}
    second = {s.student: s for s in grade_folder(subs_dir, "warmup", out, cell_timeout=20, workers=2)}
    assert {k: s.total for k, s in second.items()} == {"ann": 5.0, "bea": 5.0, "cal": 5.0}
    assert {name: (state / f"{name}.json").stat().st_mtime_ns for name in ("ann", "cal")} == stamps
    assert out.read_text(encoding="utf-8") == csv_text(list(second.values()), "warmup")


def test_a_killed_grader_loses_nothing_already_graded(tmp_path):
    require_bwrap()
    subs_dir, out = tmp_path / "subs", tmp_path / "out" / "grades.csv"
    subs_dir.mkdir()
    notebook(subs_dir / "ann.ipynb", GOOD)
    notebook(subs_dir / "bea.ipynb", GOOD, "import time\ntime.sleep(60)")
    grader = subprocess.Popen([sys.executable, "-m", "course_lib", "grade", str(subs_dir), "--chapter", "warmup",
                               "--out", str(out), "--workers", "1", "--timeout", "90"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out.parent / ".grading"
    deadline = time.monotonic() + 120
    jobs = {}
    while not (state / "ann.json").exists() or not jobs:
        assert time.monotonic() < deadline and grader.poll() is None
        jobs = {pid: job for pid, job in _worker_jobs().items() if job["notebook"].endswith("bea.ipynb")}
        time.sleep(0.1)
    (job,) = jobs.values()
    time.sleep(2)
    grader.kill()
    grader.wait()
    time.sleep(1)
    if sandbox.is_root():
        assert sandbox.processes_of_uid(sandbox.slot_uid(job["slot"], job["uid_base"])) == []  # kernel gone too
    assert not any(_alive(pid) for pid in jobs)                                      # the worker died with it
    record = json.loads((state / "ann.json").read_text(encoding="utf-8"))
    assert record["submission"]["status"] == "ok" and not (state / "bea.json").exists()
    rows = {r["student"]: r for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines())}
    assert rows["ann"]["total"] == "5.00"   # the code's 5 points (prose columns still empty)
