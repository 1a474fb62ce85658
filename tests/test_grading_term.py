"""The whole term on the warm-up (issue 15): prose answers collected into review pages, manual
scores merged, instructor-only tests, feedback pages, and the Gradescope bundle graded on the same
notebooks as ``grade``.

Three submissions from the warm-up's student edition, graded once (sandboxed, 2 workers) and
shared by every test here:

- ``alice``: every function written, every answer written (one of them hostile HTML), one answer
  cell moved to the end of the notebook;
- ``bob``: nothing written, but one answer whose cell lost its metadata, continued in a cell he
  added below it;
- ``carol``: every function written, every answer cell deleted.
"""

import csv
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import manual
from course_lib.grading.scheme import scheme_for
from course_lib.tools import _notebook_format as fmt
from course_lib.tools.grade import grade_folder, make_plan
from course_lib.tools.release import ANSWER_PLACEHOLDER, release

BOOK = Path(__file__).resolve().parents[1] / "book"
TIMEOUT = 30
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SECRET_INPUT = "123.456"

INSTRUCTOR_TESTS = f'''
import numpy as np
from course_lib.check import Check
from course_lib.grading.instructor import instructor_test


@instructor_test("ex-warmup-stable-sigmoid", points=1, visibility="visible")
def sigmoid_at_three(stable_sigmoid):
    c = Check("sigmoid_at_three", "σ(3)")
    c.close("σ(3)", lambda: stable_sigmoid(3.0), 1 / (1 + np.exp(-3.0)), inputs="s = 3.0")
    return c.done(quiet=True)


@instructor_test("ex-warmup-stable-sigmoid", points=2, visibility="hidden")
def sigmoid_at_a_secret_point(stable_sigmoid):
    c = Check("sigmoid_at_a_secret_point", "σ at a point of my own")
    c.close("σ(s) at s = {SECRET_INPUT}", lambda: stable_sigmoid({SECRET_INPUT}), 1.0, rtol=1e-12,
            inputs="s = {SECRET_INPUT}")
    return c.done(quiet=True)


@instructor_test("ex-warmup-stable-sigmoid", points=0, visibility="visible")
def sigmoid_of_five_is_two(stable_sigmoid):
    c = Check("sigmoid_of_five_is_two", "a test every right answer fails (to show a failure's details)")
    c.close("σ(5) = 2", lambda: stable_sigmoid(5.0), 2.0, inputs="s = 5.0")
    return c.done(quiet=True)


@instructor_test("ex-warmup-stable-sigmoid", points=1, visibility="after_due_date")
def sigmoid_is_never_one_half_off(stable_sigmoid):
    return abs(float(stable_sigmoid(0.0)) - 0.5) < 1e-15
'''


def release_chapter(notebook: str, root: Path) -> Path:
    """The student edition of one chapter only (another chapter being edited cannot stop it)."""
    book = root / f"book-{notebook}"
    book.mkdir()
    for name in (f"{notebook}.ipynb", "references.bib"):
        if (BOOK / name).exists():
            shutil.copy(BOOK / name, book / name)
    release(book, root / "student")
    return root / "student" / f"{notebook}.ipynb"


def _answer_cells(nb):
    return [c for c in nb.cells if "course" in c.metadata and "answer" in c.metadata["course"]]


def make_submissions(folder: Path, student_dir: Path) -> None:
    student = nbformat.read(student_dir / "warmup.ipynb", as_version=4)
    solutions = fmt.solutions_by_label(nbformat.read(BOOK / "warmup.ipynb", as_version=4))
    folder.mkdir()
    alice = fmt.fill_stubs(student, solutions)
    cells = _answer_cells(alice)
    assert len(cells) >= 2, "the warm-up has at least two prose parts"
    for n, cell in enumerate(cells):
        cell.source = f"Alice's answer {n + 1}: " + (HOSTILE if n == 0 else "because floats are spaced 2^-52.")
    alice.cells.remove(cells[-1])
    alice.cells.append(cells[-1])      # moved to the end
    nbformat.write(alice, folder / "alice.ipynb")

    bob = nbformat.read(student_dir / "warmup.ipynb", as_version=4)
    cell = _answer_cells(bob)[-1]
    del cell.metadata["course"]        # the marker deleted (by hand, or by a tool)
    cell.source = "Bob's answer, first half."
    added = nbformat.v4.new_markdown_cell("Bob's answer, second half.")
    bob.cells.insert(bob.cells.index(cell) + 1, added)
    nbformat.write(bob, folder / "bob.ipynb")

    carol = fmt.fill_stubs(student, solutions)
    carol.cells = [c for c in carol.cells if c not in _answer_cells(carol)]
    nbformat.write(carol, folder / "carol.ipynb")


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    from test_attacks import require_bwrap

    require_bwrap()
    root = tmp_path_factory.mktemp("term")
    release_chapter("warmup", root)
    make_submissions(root / "submissions", root / "student")
    tests = root / "instructor" / "my_tests.py"
    tests.parent.mkdir()
    tests.write_text(INSTRUCTOR_TESTS, encoding="utf-8")
    plan = make_plan("warmup", BOOK, tests)
    out = root / "grades" / "grades.csv"
    subs = grade_folder(root / "submissions", "warmup", out, cell_timeout=TIMEOUT, workers=2, plan=plan,
                        tests_path=tests)
    return {"root": root, "out": out, "plan": plan, "tests": tests, "subs": {s.student: s for s in subs}}


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_grades_csv_has_code_instructor_and_prose_columns(term):
    plan, rows = term["plan"], {r["student"]: r for r in _rows(term["out"])}
    keys = [p.key for p in plan.scheme.prose]
    assert set(keys) <= set(rows["alice"]) and "instructor/sigmoid_at_a_secret_point" in rows["alice"]
    assert all(rows[s][k] == "" for s in rows for k in keys)          # not graded by hand yet
    alice = rows["alice"]
    assert alice["instructor/sigmoid_at_three"] == "1.00" and alice["instructor/sigmoid_at_a_secret_point"] == "2.00"
    assert alice["instructor/sigmoid_is_never_one_half_off"] == "1.00"
    code = sum(float(alice[e]) for e in plan.scheme.code_points)
    assert float(alice["total"]) == code + 4
    assert float(alice["max_total"]) == sum(plan.scheme.code_points.values()) + 4 + plan.scheme.max_prose()
    assert rows["bob"]["instructor/sigmoid_at_three"] == "0.00"


def test_prose_answers_are_found_wherever_they_went(term):
    subs, plan = term["subs"], term["plan"]
    keys = [p.key for p in plan.scheme.prose]
    alice = {a[0]: a for a in subs["alice"].answers}
    assert [alice[k][2] for k in keys] == ["found"] * len(keys)
    assert HOSTILE in alice[keys[0]][1] and alice[keys[-1]][1].startswith(f"Alice's answer {len(keys)}")
    bob = {a[0]: a for a in subs["bob"].answers}
    assert bob[keys[-1]][1] == "Bob's answer, first half.\n\nBob's answer, second half."
    assert bob[keys[-1]][2].startswith("found by cell id")
    assert bob[keys[0]][1] == "" and bob[keys[0]][2] == "found"     # the placeholder is no answer
    assert {a[2] for a in subs["carol"].answers} == {"no answer cell found"}


def test_review_pages_escape_student_text_and_show_solution_and_rubric(term):
    plan, folder = term["plan"], term["out"].parent / "review"
    scheme = scheme_for("warmup", BOOK)
    label = plan.scheme.prose[0].label
    page = (folder / f"{label}.html").read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script" not in page and "Content-Security-Policy" in page
    assert html.escape(scheme.prose[0].rubric) in page
    assert html.escape(scheme.prose[0].solution.split("\n")[0][:40]) in page
    assert page.index("<h3>alice</h3>") < page.index("<h3>bob</h3>") < page.index("<h3>carol</h3>")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert all(f"{p.label}.html" in index for p in plan.scheme.prose)


def test_feedback_pages_name_hidden_tests_without_their_inputs_and_never_the_solution(term):
    feedback = term["out"].parent / "feedback"
    assert sorted(p.name for p in feedback.iterdir()) == ["alice.md", "bob.md", "carol.md"]
    scheme = scheme_for("warmup", BOOK)
    for student in ("alice", "bob", "carol"):
        text = (feedback / f"{student}.md").read_text(encoding="utf-8")
        assert text.startswith(f"# Feedback for {student}, chapter warmup")
        assert "## Instructor test sigmoid_at_a_secret_point (exercise ex-warmup-stable-sigmoid)" in text
        assert SECRET_INPUT not in text
        assert "### BEGIN SOLUTION" not in text
        for part in scheme.prose:
            assert part.solution[:60] not in text
    alice = (feedback / "alice.md").read_text(encoding="utf-8")
    assert "[PASS] σ(3)" in alice                                                  # visible
    assert "[FAILED] σ(5) = 2" in alice and "input:     s = 5.0" in alice and "expected:  2" in alice
    assert alice.count("(the details of this test are not shown)") == 2           # hidden, after_due_date
    assert "still to be graded by hand" in alice


def _write(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_manual_scores_bad_rows_are_refused_with_the_row_and_nothing_changes(term, tmp_path):
    out, plan = term["out"], term["plan"]
    key, top = plan.scheme.prose[0].key, plan.scheme.prose[0].points
    before = {p: p.read_bytes() for p in out.parent.rglob("*") if p.is_file() and ".grading" not in p.parts}
    head = ["student", "part", "max_points", "score", "comment"]
    cases = {
        "unknown student 'mallory'": [head, ["alice", key, top, top, ""], ["mallory", key, top, "1", ""]],
        "unknown part": [head, ["alice", "ex-warmup-nope/prose1", 1, "1", ""]],
        "outside 0": [head, ["alice", key, top, str(top + 1), ""]],
        "is not a number": [head, ["alice", key, top, "full marks", ""]],
        "a second row": [head, ["alice", key, top, "0", ""], ["alice", key, top, "0", ""]],
        "lacks the column": [["student", "score"], ["alice", "1"]],
    }
    for message, rows in cases.items():
        path = _write(tmp_path / "scores.csv", rows)
        with pytest.raises(manual.ManualScoresError, match=message) as err:
            grade_folder(term["root"] / "submissions", "warmup", out, cell_timeout=TIMEOUT, plan=plan,
                         tests_path=term["tests"], manual_path=path)
        if message != "lacks the column":
            assert "line" in str(err.value)
    after = {p: p.read_bytes() for p in out.parent.rglob("*") if p.is_file() and ".grading" not in p.parts}
    assert after == before


def test_manual_scores_merge_into_grades_and_stay(term, tmp_path, capsys):
    from course_lib.__main__ import main

    out, plan = term["out"], term["plan"]
    template = _rows(out.parent / "manual_scores_template.csv")
    assert {(r["student"], r["part"]) for r in template} == {(s, p.key) for s in term["subs"] for p in plan.scheme.prose}
    for row in template:
        row["score"] = str(row["max_points"]) if row["student"] == "alice" else ""
        row["comment"] = "=clear and right" if row["student"] == "alice" else ""
    path = tmp_path / "scores.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(template[0]))
        writer.writeheader()
        writer.writerows(template)
    argv = ["grade", str(term["root"] / "submissions"), "--chapter", "warmup", "--out", str(out),
            "--timeout", str(TIMEOUT), "--book", str(BOOK), "--instructor-tests", str(term["tests"])]
    assert main(argv + ["--manual", str(path)]) == 0        # every result resumed: nothing re-run
    assert "merged the manual scores" in capsys.readouterr().out
    rows = {r["student"]: r for r in _rows(out)}
    prose = plan.scheme.max_prose()
    assert float(rows["alice"]["total"]) == float(rows["alice"]["max_total"])
    assert all(rows["alice"][p.key] == f"{p.points:.2f}" for p in plan.scheme.prose)
    assert all(rows["bob"][p.key] == "" for p in plan.scheme.prose)
    feedback = (out.parent / "feedback" / "alice.md").read_text(encoding="utf-8")
    assert "graded by hand: 1.00 of 1.00 points" in feedback and "=clear and right" in feedback
    assert main(argv) == 0                                   # a later run keeps the merged scores
    again = {r["student"]: r for r in _rows(out)}
    assert again == rows and prose > 0
    assert "'=clear and right" in (out.parent / "manual_scores.csv").read_text(encoding="utf-8")


def test_instructor_tests_in_a_folder_the_kernel_reads_are_refused(tmp_path):
    from course_lib.grading.instructor import load_tests
    from course_lib.grading.sandbox import course_lib_folder

    inside = course_lib_folder() / "check"
    with pytest.raises(ValueError, match="sandboxed kernels can read"):
        load_tests(inside / "warmup.py", "warmup")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no function is marked"):
        load_tests(empty, "warmup")


# -- Gradescope --------------------------------------------------------------------------------

def check_results_schema(results: dict) -> None:
    """Gradescope's results.json, as its public specification describes it."""
    allowed = {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
               "extra_data", "tests", "leaderboard"}
    assert set(results) <= allowed and isinstance(results["score"], (int, float))
    assert results.get("stdout_visibility", "hidden") in ("hidden", "visible", "after_due_date", "after_published")
    assert isinstance(results.get("output", ""), str)
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("visibility", "visible") in ("hidden", "visible", "after_due_date", "after_published")
        assert isinstance(test.get("output", ""), str)


PROBE = """
import os
def _try(action):
    try:
        action()
        return True
    except Exception:
        return False
_escaped = [_try(lambda: open("ROOT/source/instructor_tests.py").read()),
            _try(lambda: open("ROOT/results/results.json", "w").write("{}")),
            _try(lambda: open("ROOT/submission_metadata.json").read()),
            _try(lambda: os.listdir("ROOT")),
            _try(lambda: os.listdir("ROOT/submission")), os.getuid() == 0]
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "LINGER"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if any(_escaped):                       # any success costs her every point: the scores would differ
    def stable_sigmoid(s):
        return 0.0 * s
"""


def test_gradescope_bundle_grades_like_grade(term, tmp_path):
    from course_lib.tools.autograder import build_bundle, unpack

    bundle = build_bundle("warmup", tmp_path / "warmup-autograder.zip", instructor_tests=term["tests"], book=BOOK,
                          cell_timeout=TIMEOUT)
    rows = {r["student"]: r for r in _rows(term["out"])}
    for student in ("alice", "bob"):
        root = tmp_path / f"autograder-{student}"
        unpack(bundle, root / "source")
        assert {"setup.sh", "run_autograder", "requirements.txt", "autograder.json", "instructor_tests.py",
                "pyproject.toml"} <= {p.name for p in (root / "source").iterdir()}
        assert os.access(root / "source" / "run_autograder", os.X_OK)
        assert "torch==" in (root / "source" / "setup.sh").read_text(encoding="utf-8")
        config = json.loads((root / "source" / "autograder.json").read_text(encoding="utf-8"))
        assert all(part["solution"] == "" for part in config["scheme"]["prose"])   # no model answers
        config["use_bwrap"] = False          # as in Gradescope's container: no bubblewrap
        (root / "source" / "autograder.json").write_text(json.dumps(config), encoding="utf-8")
        (root / "submission").mkdir()
        nb = nbformat.read(term["root"] / "submissions" / f"{student}.ipynb", as_version=4)
        if student == "alice":   # she tries to read the tests, write the results and be root
            nb.cells.append(nbformat.v4.new_code_cell(PROBE.replace("ROOT", str(root))))
        nbformat.write(nb, root / "submission" / "warmup.ipynb")
        # what Gradescope puts next to source/: the student's email and earlier results
        (root / "submission_metadata.json").write_text('{"users": [{"email": "alice@uni.edu"}]}', encoding="utf-8")
        for folder in [root, *root.parents]:   # pytest's 0700 folders would hide the root from the kernel anyway
            if folder == Path(tempfile.gettempdir()) or folder == Path("/"):
                break
            os.chmod(folder, 0o711)
        linger = f"linger-{student}-{os.getpid()}"
        if student == "alice":
            nb = nbformat.read(root / "submission" / "warmup.ipynb", as_version=4)
            nb.cells[-1].source = nb.cells[-1].source.replace("LINGER", linger)
            nbformat.write(nb, root / "submission" / "warmup.ipynb")
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
               "PYTHONPATH": str(root / "source")}
        done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        lingering = _processes_with(linger)
        for pid in lingering:
            os.kill(pid, 9)
        assert not lingering, "a process the student's kernel started outlived run_autograder"
        results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        check_results_schema(results)
        scores = {t["name"]: t["score"] for t in results["tests"]}
        for label in term["plan"].scheme.code_points:
            assert f"{scores[label]:.2f}" == rows[student][label], (student, label)
        for test in term["plan"].tests:
            assert f"{scores['instructor test ' + test.name]:.2f}" == rows[student][test.label]
        visibility = {t["name"]: t["visibility"] for t in results["tests"]}
        assert visibility["instructor test sigmoid_at_a_secret_point"] == "hidden"
        assert visibility["instructor test sigmoid_is_never_one_half_off"] == "after_due_date"
        code = sum(float(rows[student][k]) for k in list(term["plan"].scheme.code_points) +
                   [t.label for t in term["plan"].tests])
        assert round(results["score"], 2) == round(code, 2)
        assert "graded by hand" in results["output"]


def test_run_autograder_without_a_notebook_writes_a_results_file_that_says_so(tmp_path):
    from course_lib.grading.gradescope import run
    from course_lib.tools.autograder import build_bundle, unpack

    unpack(build_bundle("warmup", tmp_path / "b.zip", book=BOOK), tmp_path / "ag" / "source")
    (tmp_path / "ag" / "submission").mkdir()
    results = run(tmp_path / "ag")
    check_results_schema(results)
    assert results["score"] == 0 and "no .ipynb file was submitted" in results["output"]
    assert json.loads((tmp_path / "ag" / "results" / "results.json").read_text(encoding="utf-8")) == results


def test_autograder_command_line(tmp_path, capsys):
    from course_lib.__main__ import main

    assert main(["autograder", "--chapter", "warmup", "--out", str(tmp_path / "w.zip"), "--book", str(BOOK)]) == 0
    assert (tmp_path / "w.zip").exists() and "Zip file upload" in capsys.readouterr().out
    assert main(["autograder", "--chapter", "nope", "--out", str(tmp_path / "x.zip")]) == 2


def test_placeholder_is_the_release_one():
    assert ANSWER_PLACEHOLDER == "*Your answer:* ..."


def test_a_submitted_symlink_is_not_read(tmp_path):
    from course_lib.grading.gradescope import find_submission

    secret = tmp_path / "instructor_tests.py"
    secret.write_text("SECRET", encoding="utf-8")
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "warmup.ipynb").symlink_to(secret)
    with pytest.raises(ValueError, match="no .ipynb file was submitted"):
        find_submission(tmp_path / "submission", "warmup")


def _processes_with(marker: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    pids.append(int(entry))
        except (OSError, ValueError):
            pass
    return pids


# -- red-team findings (2026-12): each of these failed before its fix ----------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="the autograder root is protected only as root")
def test_protect_leaves_only_the_venv_readable_in_the_autograder_root(tmp_path):
    """Finding 1: Gradescope's submission_metadata.json (email, earlier results with hidden tests'
    output) and anything else in /autograder were readable by the kernel's uid."""
    from course_lib.grading.gradescope import _protect

    root = tmp_path / "autograder"
    for name in ("source", "submission", "results", "venv/bin", "other"):
        (root / name).mkdir(parents=True)
    (root / "venv" / "bin" / "python").write_text("", encoding="utf-8")
    os.chmod(root / "venv" / "bin" / "python", 0o755)
    (root / "submission_metadata.json").write_text("{}", encoding="utf-8")
    os.chmod(root / "submission_metadata.json", 0o644)
    _protect(root)
    assert root.stat().st_mode & 0o777 == 0o711                       # passed through, not listed
    for name in ("source", "submission", "results", "other", "submission_metadata.json"):
        assert (root / name).stat().st_mode & 0o077 == 0, name
    assert (root / "venv").stat().st_mode & 0o005 == 0o005
    assert (root / "venv" / "bin" / "python").stat().st_mode & 0o777 == 0o755


def test_gradescope_output_caps_the_kernel_error_note():
    """Finding 1: the first error note is a channel back to the student: short, few."""
    from course_lib.grading.gradescope import NOTE_CHARS, results_of
    from course_lib.grading.judge import Plan, empty_submission

    sub = empty_submission("alice", "warmup")
    sub.notes = ["first error in cell index 28: RuntimeError: " + "x" * 400] * 20
    output = results_of(sub, Plan("warmup"))["output"]
    assert max(len(line) for line in output.splitlines()) <= NOTE_CHARS + 4
    assert output.count("first error") <= 5


MALLORY_ERROR = ("ValueError: <img src=x onerror=alert(document.domain)><script>alert(1)</script>"
                 "[click](javascript:alert(2))")
MALLORY_MODULE = "course_lib.x\n\n## ex-warmup-bce: 2.00 of 2.00 points (FAKE)\n\n<script>alert(3)</script>"


def _outside_fences(text: str) -> list[str]:
    lines, fence = [], None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line[:len(line) - len(line.lstrip("`"))]
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def test_feedback_fences_what_the_kernel_wrote_and_drops_bad_shortcut_names():
    """Finding 2: error notes and the kernel's module name were raw Markdown in feedback/<id>.md."""
    from course_lib.grading.judge import InvalidResult, clean_shortcuts, empty_submission, validate_submission
    from course_lib.grading.reports import feedback_text

    assert clean_shortcuts({"sigmoid_grad": f"a function of {MALLORY_MODULE}", "bce": "course_lib.ref.bce",
                            "sigmoid": "a function of course_lib.warmup", "x": "os.system"}) == \
        {"bce": "course_lib.ref.bce", "sigmoid": "a function of course_lib.warmup"}
    sub = empty_submission("mallory", "warmup")
    sub.notes = [f"first error in cell index 3: {MALLORY_ERROR}", "n" * 10_000]
    sub.shortcuts = {"bce": "course_lib.ref.bce"}
    validate_submission(sub, "warmup")
    assert len(sub.notes[1]) <= 400                                     # cut for real, not just checked
    sub.shortcuts = {"sigmoid_grad": f"a function of {MALLORY_MODULE}"}
    with pytest.raises(InvalidResult, match="shortcut"):
        validate_submission(sub, "warmup")
    sub.shortcuts = {"sigmoid_grad": "course_lib.ref.sigmoid_grad"}
    sub.notes.append(MALLORY_MODULE)
    outside = _outside_fences(feedback_text(sub, "warmup"))
    assert not any(c in line for line in outside for c in "<[") and "alert" not in "\n".join(outside)
    assert not [line for line in outside if line.startswith("#") and "FAKE" in line]


def test_hidden_instructor_test_errors_show_no_detail(tmp_path):
    """Finding 3: a hidden test that raised showed its exception text (expected values)."""
    from course_lib.grading.instructor import load_tests
    from course_lib.grading.judge import CHECK_ERROR, Plan, empty_submission
    from course_lib.grading.reports import feedback_text

    tests = tmp_path / "t.py"
    tests.write_text(INSTRUCTOR_TESTS, encoding="utf-8")
    plan = Plan("warmup", None, load_tests(tests, "warmup"))
    sub = empty_submission("probe", "warmup", plan=plan)
    secret = "DESIRED: array([0.952574, 0.982014])"
    for score in sub.extra:
        score.status, score.detail = CHECK_ERROR, f"AssertionError: {secret}"
    text = feedback_text(sub, "warmup", plan)
    visible = sum(t.visibility == "visible" for t in plan.tests)
    assert text.count(secret) == visible and text.count("check error (the details") == len(plan.tests) - visible
    later = feedback_text(sub, "warmup", plan, after_due_date=True)
    assert later.count(secret) == visible + sum(t.visibility == "after_due_date" for t in plan.tests)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_kill_uid_stops_a_detached_process_of_the_kernel_uid():
    """Finding 4: in container mode nothing killed what the kernel's uid had started."""
    from course_lib.grading import sandbox

    uid = sandbox.BASE_UID + 4999
    proc = subprocess.Popen(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "setsid",
                             shutil.which("sleep") or "/bin/sleep", "60"])
    try:
        for _ in range(100):
            if sandbox.processes_of_uid(uid):
                break
            import time
            time.sleep(0.05)
        assert sandbox.processes_of_uid(uid)
        assert sandbox.kill_uid(uid) == [] and sandbox.processes_of_uid(uid) == []
    finally:
        proc.kill()
        proc.wait()
    with pytest.raises(ValueError):
        sandbox.kill_uid(0)


def test_run_autograder_does_not_import_from_its_working_directory(tmp_path):
    """Finding 5: ``python -m`` put the working directory first on the root grader's import path."""
    from course_lib.tools.autograder import build_bundle, unpack

    root = tmp_path / "ag"
    unpack(build_bundle("warmup", tmp_path / "b.zip", book=BOOK), root / "source")
    (root / "submission").mkdir()
    evil = tmp_path / "cwd" / "course_lib"
    evil.mkdir(parents=True)
    marker = tmp_path / "imported"
    (evil / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n", encoding="utf-8")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, cwd=evil.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not marker.exists()
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert "no .ipynb file was submitted" in results["output"]


def test_a_part_claimed_by_several_cells_is_flagged_on_the_review_page(term):
    """Finding 6: a cell added above the answer cell, with its metadata, silently stood in for it."""
    from course_lib.grading.judge import empty_submission, validate_submission
    from course_lib.grading.scheme import collect_answers

    plan = term["plan"]
    nb = nbformat.read(term["root"] / "submissions" / "alice.ipynb", as_version=4)
    real = _answer_cells(nb)[0]
    fake = nbformat.v4.new_markdown_cell("I am alice.", metadata={"course": dict(real.metadata["course"])})
    nb.cells.insert(0, fake)
    answers = collect_answers(nb, plan.scheme)
    assert answers[0][1] == "I am alice." and "2 cells claim this part" in answers[0][2]
    assert all(a[2] == "found" for a in answers[1:])
    sub = empty_submission("alice", "warmup", plan=plan)
    sub.answers = answers
    validate_submission(sub, "warmup", plan)
    part = plan.scheme.prose[0]
    page = manual.review_page(part.label, [p for p in plan.scheme.prose if p.label == part.label], [sub])
    assert "2 cells claim this part" in page
