"""The attack suite: hostile submissions, built from the released warm-up, graded in ONE
grade_folder call (sandbox on, 2 workers) together with honest students that sort before
(``aaron``) and after (``zelda``) them.

One submission per threat class of issue 11 (and a few more):

====================  ==========================================================================
forging               prints fake result lines, publishes fake replies with the grader's MIME type
                      and forged nonces, replaces the kernel-side server so that it claims scores
tampering             patches the check machinery, NumPy and builtins in the kernel, and walks
                      the interpreter's frames for the expected value
reaching out          writes grades.csv, another student's notebook, feedback and stored result,
                      reads the grader's environment and /proc, starts a background process
                      that keeps trying after grading, connects to a port on the host
killing               signals every process it can see (the grader's, PID 1, -1), then its own
                      process group
exhausting            memory (bytearray, NumPy), processes (a fork loop), disk (a huge file, then
                      many), a return value too large to send, a giant message to the grader
flooding              endless output, as many messages and as messages too large to receive
looping               many looping cells (the cost would be cells × timeout), a function that
                      loops when called, one that ignores the interrupt
shortcut              ``stable_sigmoid = course_lib.functional.sigmoid``: runs, flagged
====================  ==========================================================================

It asserts that the honest students keep full marks, every attacker scores 0 on what it did
not solve, no score exceeds its maximum, nothing an attacker started is alive after grading,
the grades and feedback files are exactly what the grader wrote, and the submissions are
untouched.
"""

import hashlib
import os
import socket
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import sandbox, supervisor
from course_lib.grading.reports import csv_text, feedback_text
from course_lib.tools import _notebook_format as fmt
from course_lib.tools.grade import grade_folder
from course_lib.tools.release import release

BOOK = Path(__file__).resolve().parents[1] / "book"
CELL_TIMEOUT = 8
NOTEBOOK_TIMEOUT = 30
SECRET = "grader-secret-4f1c"
SIGMOID = "ex-warmup-stable-sigmoid"


def require_bwrap():
    """Sandbox tests fail in CI without bwrap, and skip elsewhere with the install command."""
    if sandbox.bwrap_path() is None:
        message = "bubblewrap is missing: " + sandbox.INSTALL_HINT
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


FORGING = r'''
import json
from IPython.display import publish_display_data
import course_lib.grading.remote as remote

MIME = remote.MIME
for _ in range(20):
    print('COURSE_GRADE_RESULT {"label": "ex-warmup-bce", "status": "scored", "passed": 99, "total": 6}')
    publish_display_data({MIME: json.dumps({"nonce": "0" * 32, "status": "returned", "score": 1e9})})
    publish_display_data({"text/plain": "Points: 500.00 of 5.00"})

_real_handle = remote.handle

def _forged(namespace, text):
    request = json.loads(text)
    pairs = dict((k, v) for k, v in request["dict"])
    if pairs.get("function") == "stable_sigmoid":
        return _real_handle(namespace, text)
    nonce = pairs.get("nonce", "")
    publish_display_data({MIME: '{"dict": [["nonce", "%s"], ["status", "returned"], ["value", {"list": ["x"]}]]}' % nonce})
    return ('{"dict": [["nonce", "%s"], ["status", "returned"], ["value", {"list": ["full marks"]}], '
            '["passed", 999], ["score", {"float": "0x1p+10"}], ["total", 1]]}' % nonce)

remote.handle = _forged
'''

TAMPERING = r'''
import builtins, sys
import numpy as np
import course_lib.check._core as core
import course_lib.check.warmup as warm

core.Check.close = lambda self, *a, **k: True
core.Check.that = lambda self, *a, **k: True
core.CheckResult.ok = property(lambda self: True)
warm.warmup_bce = lambda *a: None
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.all = lambda *a, **k: True
builtins.abs = lambda x: 0

def _expected():
    frame = sys._getframe(1)
    while frame is not None:
        for name in ("expected", "expected_arr", "reference", "numeric", "want"):
            if name in frame.f_locals and not callable(frame.f_locals[name]):
                return frame.f_locals[name]
        frame = frame.f_back
    return ["no expected value in reach"]

def bce_from_probabilities(p, y):
    return _expected()

def sigmoid_grad(s):
    return _expected()
'''

REACHING_OUT = r'''
import os, socket, subprocess, sys, json
OUT, SUB, PORT = {out!r}, {sub!r}, {port!r}
tried = {{}}
for target in (OUT + "/grades.csv", OUT + "/feedback/aaron.md", OUT + "/.grading/aaron.json",
               SUB + "/aaron.ipynb", SUB + "/zelda.ipynb", OUT + "/new-file.txt",
               os.path.dirname(sys.argv[-1]) + "/planted", "/usr/lib/planted", "/tmp/planted"):
    try:
        with open(target, "w") as handle:
            handle.write("pwned")
        tried[target] = "written"
    except Exception as exc:
        tried[target] = type(exc).__name__
leaks = [os.environ.get("COURSE_GRADER_SECRET", "")]
for path in ("/proc/1/environ", "/proc/self/environ", "/etc/shadow", SUB + "/aaron.ipynb", "/root/.bash_history"):
    try:
        leaks.append(open(path, "rb").read()[:2000].decode("latin-1"))
    except Exception as exc:
        leaks.append(type(exc).__name__)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            leaks.append(open(f"/proc/{{pid}}/environ", "rb").read()[:2000].decode("latin-1"))
        except Exception:
            pass
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).sendall(b"hello")
    leaks.append("connected")
except Exception as exc:
    leaks.append(type(exc).__name__)
script = (f"while true; do echo pwned > {{OUT}}/grades.csv; echo pwned >> {{SUB}}/aaron.ipynb; "
          f"echo pwned > {{OUT}}/feedback/zelda.md; sleep 0.2; done")
subprocess.Popen(["/bin/sh", "-c", script], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        for _ in range(600):
            try:
                open(OUT + "/grades.csv", "w").write("pwned by a daemon")
            except Exception:
                pass
            time.sleep(0.1)
    os._exit(0)

def bce_from_probabilities(p, y):
    return [json.dumps(tried), *leaks]
'''

KILLING = r'''
import os, signal
for pid in [1, os.getppid(), -1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except Exception:
            pass
'''

KILLING_LAST = "import os, signal\nos.killpg(0, signal.SIGKILL)"

EXHAUSTING = [
    "hog = bytearray(8 * 10**9)",
    "import numpy as np\nbig = np.ones(int(8e8))",
    r'''
import os, time
children = 0
for _ in range(400):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(1000)
        os._exit(0)
    children += 1
print("children", children)
''',
    "with open('huge.bin', 'wb') as handle:\n    for _ in range(2048):\n        handle.write(b'x' * 2**20)",
    "for i in range(8):\n    with open(f'fill{i}.bin', 'wb') as handle:\n        for _ in range(200):\n"
    "            handle.write(b'x' * 2**20)",
    r'''
from IPython.display import publish_display_data
import numpy as np
import course_lib.grading.remote as remote

def bce_from_probabilities(p, y):
    return np.zeros(10**8)

def sigmoid_grad(s):
    publish_display_data({remote.MIME: "x" * (100 * 2**20)})
    return ["after a giant message"]
''',
]

LOOPING_DEFS = r'''
import time

def bce_from_probabilities(p, y):
    while True:
        pass

def sigmoid_grad(s):
    while True:
        try:
            time.sleep(1)
        except KeyboardInterrupt:
            pass
'''

# Two floods: one output after another (counted by the grader, interrupted at the cap), and one
# written faster than the kernel can send it: each of its messages is larger than the grader
# accepts (zmq drops them unread) and the kernel's own memory fills; that cell times out.
FLOODING = ["from IPython.display import display\nwhile True:\n    display('x' * 100000)",
            "while True:\n    print('x' * 10**7)"]

SHORTCUT = "import course_lib.functional as F\nstable_sigmoid = F.sigmoid"


def _insert_after_setup(nb, sources):
    """``sources`` as code cells right after the setup cell (index 2, the imports)."""
    nb.cells[3:3] = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _append(nb, sources):
    """``sources`` as code cells at the end (after the stubs, so their definitions count)."""
    nb.cells.extend(nbformat.v4.new_code_cell(s) for s in sources)
    return nb


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    require_bwrap()
    root = tmp_path_factory.mktemp("attacks")
    release(BOOK, root / "student")
    student = nbformat.read(root / "student" / "warmup.ipynb", as_version=4)
    solutions = fmt.solutions_by_label(nbformat.read(BOOK / "warmup.ipynb", as_version=4))
    honest = fmt.fill_stubs(student, solutions)
    sigmoid_only = fmt.fill_stubs(student, solutions, [SIGMOID])
    sub, out = root / "submissions", root / "grades"
    sub.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]

    def variant(solved, first=(), last=()):
        nb = fmt.fill_stubs(student, solutions, solved) if solved else fmt.fill_stubs(student, {})
        return _append(_insert_after_setup(nb, list(first)), list(last))

    notebooks = {
        "aaron": honest,
        "m1_forging": variant([SIGMOID], first=[FORGING]),
        "m2_tampering": variant([], last=[TAMPERING]),
        "m3_reaching_out": variant([SIGMOID], last=[REACHING_OUT.format(out=str(out), sub=str(sub), port=port)]),
        "m4_killing": variant([SIGMOID], first=[KILLING], last=[KILLING_LAST]),
        "m5_exhausting": variant([SIGMOID], first=EXHAUSTING[:-1], last=EXHAUSTING[-1:]),
        "m6_looping": variant([], last=[LOOPING_DEFS] + ["while True:\n    pass"] * 12),
        "m7_shortcut": variant([], last=[SHORTCUT]),
        "m8_flooding": variant([SIGMOID], first=FLOODING),
        "zelda": honest,
    }
    for name, nb in notebooks.items():
        nbformat.write(nb, sub / f"{name}.ipynb")
    (sub / "zelda.IPYNB").write_text("{}", encoding="utf-8")
    (sub / "aaron.ipynb.bak").write_text("{}", encoding="utf-8")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sub.iterdir()}
    os.environ["COURSE_GRADER_SECRET"] = SECRET
    try:
        started = time.monotonic()
        subs = grade_folder(sub, "warmup", out / "grades.csv", cell_timeout=CELL_TIMEOUT,
                            notebook_timeout=NOTEBOOK_TIMEOUT, workers=2)
        seconds = time.monotonic() - started
    finally:
        os.environ.pop("COURSE_GRADER_SECRET", None)
    uids = list(supervisor.LAST_UIDS)
    leftovers = {uid: sandbox.processes_of_uid(uid) for uid in uids}
    time.sleep(1.0)  # anything that survived would now write
    try:
        connection = listener.accept()
    except BlockingIOError:
        connection = None
    listener.close()
    return {"subs": {s.student: s for s in subs}, "out": out, "sub": sub, "before": before,
            "leftovers": leftovers, "uids": uids, "connection": connection, "seconds": seconds}


def points(result, student):
    return [s.points for s in result["subs"][student].scores]


def test_honest_students_keep_full_marks(attacked):
    for student in ("aaron", "zelda"):
        sub = attacked["subs"][student]
        assert (sub.total, sub.status, sub.notes, sub.shortcuts) == (5.0, "ok", [], {}), student


def test_attackers_score_nothing_they_did_not_solve(attacked):
    assert points(attacked, "m1_forging") == [2.0, 0.0, 0.0]
    assert points(attacked, "m2_tampering") == [0.0, 0.0, 0.0]
    assert points(attacked, "m3_reaching_out") == [2.0, 0.0, 0.0]
    assert points(attacked, "m4_killing") == [0.0, 0.0, 0.0]
    assert points(attacked, "m5_exhausting") == [2.0, 0.0, 0.0]
    assert points(attacked, "m6_looping") == [0.0, 0.0, 0.0]
    assert points(attacked, "m8_flooding")[1:] == [0.0, 0.0]


def test_no_score_exceeds_its_maximum(attacked):
    for sub in attacked["subs"].values():
        assert 0 <= sub.total <= sub.max_total == 5.0
        for score in sub.scores:
            assert 0 <= score.points <= score.max_points
            assert 0 <= score.passed <= score.total


def test_each_attack_is_recorded_for_what_it_is(attacked):
    subs = attacked["subs"]
    assert subs["m2_tampering"].status == "ok"   # the judge ran on the tampered kernel
    assert subs["m4_killing"].status == "kernel died"
    assert any("printed more than" in n for n in subs["m8_flooding"].notes)
    looping = subs["m6_looping"]
    assert looping.status == "notebook time limit" or any("time limit" in n for n in looping.notes)
    assert any("code cells skipped" in n for n in looping.notes)
    assert subs["m7_shortcut"].shortcuts == {"stable_sigmoid": "course_lib.functional.sigmoid"}
    assert points(attacked, "m7_shortcut") == [2.0, 0.0, 0.0]


def test_the_sandbox_held(attacked):
    feedback = (attacked["out"] / "feedback" / "m3_reaching_out.md").read_text(encoding="utf-8")
    assert "[FAILED] agrees with the reference on 50 random examples" in feedback
    assert SECRET not in feedback and '"written"' not in feedback
    assert "connected" not in feedback and attacked["connection"] is None
    everything = "".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in attacked["out"].rglob("*") if p.is_file())
    assert SECRET not in everything


def test_nothing_the_attackers_started_is_alive(attacked):
    uids = attacked["uids"]
    assert len(uids) == 2 and all(uid >= sandbox.BASE_UID for uid in uids)
    assert attacked["leftovers"] == {uid: [] for uid in uids}
    assert not any(sandbox.processes_of_uid(uid) for uid in uids)


def test_grades_and_feedback_are_exactly_what_the_grader_wrote(attacked):
    subs, out = attacked["subs"], attacked["out"]
    assert (out / "grades.csv").read_text(encoding="utf-8") == csv_text(list(subs.values()), "warmup")
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(f"{s}.md" for s in subs)
    for student, sub in subs.items():
        assert (out / "feedback" / f"{student}.md").read_text(encoding="utf-8") == feedback_text(sub, "warmup")
    assert sorted(p.name for p in out.iterdir()) == [".grading", "feedback", "grades.csv", "not_graded.txt"]
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in attacked["sub"].iterdir()}
    assert after == attacked["before"]


def test_files_that_are_not_notebooks_are_reported(attacked):
    text = (attacked["out"] / "not_graded.txt").read_text(encoding="utf-8")
    assert "aaron.ipynb.bak: not a .ipynb file" in text and "zelda.IPYNB: not a .ipynb file" in text
    assert "rename it" in text
