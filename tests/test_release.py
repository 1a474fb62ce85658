"""The student edition: no leak, stubs that read "not implemented", a round trip, determinism,
fail-closed parsing and the MyST-to-Markdown conversion.

The chapter tests are parametrized over every chapter of the registry, so they cover the
chapters as they are written; a chapter notebook that does not exist yet is skipped, and one with
no exercises passes trivially.
"""

import ast
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib.check import STRICT_ENV
from course_lib.check.registry import CHAPTERS, available_modules, exercises_for
from course_lib.tools import _notebook_format as fmt
from course_lib.grading.scheme import prose_runs
from course_lib.tools.release import ANSWER_PLACEHOLDER, chapter_numbers, release

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTER_IDS = [c.key for c in CHAPTERS]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    release(BOOK, out)
    return out


def _pair(chapter, student_dir):
    path = BOOK / f"{chapter.notebook}.ipynb"
    if not path.exists():
        pytest.skip(f"{path.name} does not exist yet")
    return nbformat.read(path, as_version=4), nbformat.read(student_dir / path.name, as_version=4)


def _exercises(chapter):
    return exercises_for(chapter.key) if chapter.module in available_modules() else []


def _stripped(lines):
    return {line.strip() for line in lines if line.strip()}


# --- no leak ---------------------------------------------------------------------------------

# Deliberately independent of fmt.parse_notebook: what is secret is decided here, conservatively.
_GATE_START = re.compile(r"(?i)^\s*(`{3,}|~{3,}|:{3,})\s*\{\s*solution-start")
_GATE_END = re.compile(r"(?i)^\s*(`{3,}|~{3,}|:{3,})\s*\{\s*solution-end")
_ANY_SOLUTION = re.compile(r"(?i)\{\s*solution")
_ANY_DIRECTIVE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*\{", re.M)


def _secret_and_public(nb) -> tuple[set[str], set[str]]:
    """Stripped lines of an instructor notebook: secret ones (everything from a solution-start
    line to the next solution-end line, whatever the cell, and every line strictly between
    ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and public ones (all the others). In a gate,
    the lines of a code cell with markers outside its marked regions (the ``def`` line, the
    docstring) count as public: they are the scaffold the student gets."""
    secret, public = [], []
    in_gate = False
    for cell in nb.cells:
        lines = fmt.source_of(cell).split("\n")
        marked = cell.cell_type == "code" and any(line.strip() == fmt.BEGIN_MARKER for line in lines)
        in_region = False
        for line in lines:
            if cell.cell_type != "code" and _GATE_START.match(line):
                in_gate = True
            stripped = line.strip()
            if stripped in (fmt.BEGIN_MARKER, fmt.END_MARKER):
                in_region = stripped == fmt.BEGIN_MARKER
                secret.append(line)
            elif in_region or (in_gate and not marked):
                secret.append(line)
            else:
                public.append(line)
            if cell.cell_type != "code" and _GATE_END.match(line):
                in_gate = False
    return _stripped(secret), _stripped(public)


def _assert_no_leak(instructor, student):
    secret, public = _secret_and_public(instructor)
    # A line that also appears outside the solutions (e.g. "import numpy as np") is not a leak.
    student_lines = _stripped(line for cell in student.cells for line in fmt.source_of(cell).split("\n"))
    assert not (secret - public) & student_lines
    for index, cell in enumerate(student.cells):
        text = fmt.source_of(cell)
        assert fmt.BEGIN_MARKER not in text and fmt.END_MARKER not in text, index
        assert not _ANY_SOLUTION.search(text), f"a solution directive left in cell {index}"
        if cell.cell_type == "markdown":
            assert not _ANY_DIRECTIVE.search(text), f"directive left in cell {index}"
    return secret - public


def test_the_leak_check_sees_secrets():
    """The leak check itself: it flags prose and code of a gate under any fence spelling."""
    nb = _nb(("markdown", "~~~ {Solution-Start} ex-warmup-x\n~~~"), ("markdown", "Prose answer."),
             ("code", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
             ("markdown", ":::{SOLUTION-END}\n:::"), ("markdown", "Public text."))
    secret, public = _secret_and_public(nb)
    assert {"Prose answer.", "return 2 * x", "~~~ {Solution-Start} ex-warmup-x"} <= secret
    assert {"def f(x):", "Public text."} <= public
    with pytest.raises(AssertionError):
        _assert_no_leak(nb, _nb(("markdown", "Prose answer.")))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_no_solution_leaks(chapter, student_dir):
    instructor, student = _pair(chapter, student_dir)
    secret = _assert_no_leak(instructor, student)
    assert secret or not _exercises(chapter), "the leak check found no solution lines at all"

    for index, cell in enumerate(student.cells):
        text = fmt.source_of(cell)
        if cell.cell_type == "markdown":
            assert not re.search(r"\{(glue|cite|doc|ref|numref|eq|math)[\w:]*\}`", text), f"role left in cell {index}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, index
    nbformat.validate(student)
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert "Student edition" in fmt.source_of(student.cells[0])
    # every cell outside the solutions is kept, code unchanged
    structure = fmt.parse_notebook(instructor, chapter.notebook)
    kept = [fmt.source_of(c) for i, c in enumerate(instructor.cells)
            if structure.roles[i] == fmt.PLAIN and c.cell_type == "code"]
    assert kept == [fmt.source_of(c) for c in student.cells if c.cell_type == "code"
                    and "raise NotImplementedError(" not in fmt.source_of(c)
                    and fmt.source_of(c) != "# YOUR CODE HERE"]


def test_warmup_has_exercises_and_a_prose_answer(student_dir):
    instructor = nbformat.read(BOOK / "warmup.ipynb", as_version=4)
    structure = fmt.parse_notebook(instructor, "warmup")
    assert len(structure.exercises) >= 4 and len(structure.gates) == len(structure.exercises)
    student = nbformat.read(student_dir / "warmup.ipynb", as_version=4)
    texts = [fmt.source_of(c) for c in student.cells]
    parts = prose_runs(instructor, structure)
    assert texts.count(ANSWER_PLACEHOLDER) == len(parts) >= 1
    marked = [c.metadata["course"] for c in student.cells if "course" in c.metadata]
    assert marked == [{"answer": gate.label, "part": part} for gate, part, _ in parts]
    headings = [line for t in texts for line in t.splitlines() if line.startswith("**Exercise ")]
    assert [h.split(":")[0] for h in headings] == ["**Exercise 1", "**Exercise 2", "**Exercise 3", "**Exercise 4"]
    stubs = [fmt.source_of(c) for c in student.cells if c.cell_type == "code" and "raise NotImplementedError(" in c.source]
    assert len(stubs) == 3
    assert 'raise NotImplementedError("ex-warmup-stable-sigmoid: replace this line with your code")' in stubs[0]
    assert stubs[0].splitlines()[:2] == ["def stable_sigmoid(s):", '    """σ(s) = 1 / (1 + e^(−s)) for a number or an '
                                         'array s, without overflow for any finite s."""']
    assert "    # YOUR CODE HERE" in stubs[0]


# --- the self-checks on the stubs and on the solutions ---------------------------------------

def _definitions(nb) -> dict:
    """The functions and classes a notebook defines, with its imports and literal constants,
    without running anything else (no training, no plots)."""
    namespace: dict = {"__name__": "student_notebook"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(fmt.source_of(cell))
        except SyntaxError:
            continue
        for node in tree.body:
            keep = isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
            if isinstance(node, ast.Assign):
                try:
                    ast.literal_eval(node.value)
                    keep = True
                except ValueError:
                    pass
            if keep:
                try:  # a definition that needs the notebook's computed data is left out
                    exec(compile(ast.Module([node], []), "<notebook>", "exec"), namespace)  # noqa: S102
                except Exception:  # noqa: BLE001
                    pass
    return namespace


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_every_self_check_reports_not_implemented_on_the_stubs(chapter, student_dir, monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "0")
    _, student = _pair(chapter, student_dir)
    namespace = _definitions(student)
    for ex in _exercises(chapter):
        missing = [name for name in ex.functions if name not in namespace]
        assert not missing, f"{ex.label}: the student edition does not define {missing}"
        result = ex.check(*(namespace[name] for name in ex.functions))
        assert result.not_implemented and result.passed == 0, f"{ex.label}: {result.report()}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_solutions_put_back_pass_every_check(chapter, student_dir, monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "0")
    instructor, student = _pair(chapter, student_dir)
    filled = fmt.fill_stubs(student, fmt.solutions_by_label(instructor, chapter.notebook))
    assert "NotImplementedError(" not in "".join(fmt.source_of(c) for c in filled.cells if c.cell_type == "code")
    namespace = _definitions(filled)
    for ex in _exercises(chapter):
        result = ex.check(*(namespace[name] for name in ex.functions))
        assert result.ok, result.report()


# --- determinism and the command line --------------------------------------------------------

def test_release_is_deterministic(tmp_path):
    first = release(BOOK, tmp_path / "a")
    release(BOOK, tmp_path / "b")
    assert first
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
    release(BOOK, tmp_path / "a")  # over an earlier release
    assert all(p.read_bytes() == (tmp_path / "b" / p.name).read_bytes() for p in first)


def test_command_line(tmp_path, capsys):
    from course_lib.__main__ import main

    assert main(["release", str(BOOK), str(tmp_path)]) == 0
    assert (tmp_path / "warmup.ipynb").exists() and "wrote" in capsys.readouterr().out


# --- failing closed --------------------------------------------------------------------------

def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for n, (kind, text) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(text) if kind == "code" else nbformat.v4.new_markdown_cell(text)
        cell.id = f"c{n}"
        nb.cells.append(cell)
    return nb


OPEN = "```{solution-start} ex-warmup-x\n:class: dropdown\n```"
CLOSE = "```{solution-end}\n```"
MARKED = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"


@pytest.mark.parametrize("cells, index, message", [
    ([("code", MARKED)], 0, "outside a solution gate"),
    ([("markdown", OPEN), ("code", "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n"
                                   "    ### END SOLUTION\n    ### END SOLUTION"), ("markdown", CLOSE)], 1, "nested"),
    ([("markdown", OPEN), ("code", "def f():\n    ### END SOLUTION"), ("markdown", CLOSE)], 1, "without"),
    ([("markdown", OPEN), ("code", "def f():\n    ### BEGIN SOLUTION\n    return 1"), ("markdown", CLOSE)], 1,
     "never closed"),
    ([("markdown", OPEN), ("code", MARKED)], 0, "never closed"),
    ([("markdown", OPEN), ("markdown", OPEN), ("markdown", CLOSE)], 1, "inside the gate"),
    ([("markdown", CLOSE)], 0, "without a {solution-start}"),
    ([("markdown", OPEN + "\n\nSome prose."), ("markdown", CLOSE)], 0, "alone in its markdown cell"),
    ([("markdown", "```{solution} ex-warmup-x\nThe answer.\n```")], 0, "ungated"),
])
def test_broken_format_stops_the_release(tmp_path, cells, index, message):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb(*cells), book / "warmup.ipynb")
    with pytest.raises(fmt.FormatError) as info:
        release(book, tmp_path / "out")
    assert f"warmup.ipynb, cell index {index}: " in str(info.value) and message in str(info.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# Fence spellings MyST accepts for the gate (the website renders each as a solution): each must
# be recognised as a gate, so that the prose and the demonstration inside stay out.
GATE_SPELLINGS = {
    "tilde": ("~~~{solution-start} ex-warmup-x\n~~~", "~~~{solution-end}\n~~~"),
    "space after the fence": ("``` {solution-start} ex-warmup-x\n```", "``` {solution-end}\n```"),
    "capitalised": ("```{Solution-Start} ex-warmup-x\n```", "```{Solution-End}\n```"),
    "upper case, colon fence, spaces": ("::: {SOLUTION-START} ex-warmup-x\n:::", ":::  {SOLUTION-END}\n:::"),
    "colon fence": (":::{solution-start} ex-warmup-x\n:class: dropdown\n:::", ":::{solution-end}\n:::"),
    "four backticks": ("````{solution-start} ex-warmup-x\n````", "````{solution-end}\n````"),
    "five tildes, longer close": ("~~~~~ {solution-start} ex-warmup-x\n:class: dropdown\n~~~~~~",
                                  "~~~~~{solution-end}\n~~~~~"),
    "indented three spaces": ("   ```{solution-start} ex-warmup-x\n   ```", "   ```{solution-end}\n   ```"),
    # a closing fence of another character does not close: the fence runs to the end of the cell
    "close of another char": ("```{solution-start} ex-warmup-x\n~~~", "```{solution-end}\n:::"),
    "short close": ("````{solution-start} ex-warmup-x\n```", "````{solution-end}\n```"),
}


@pytest.mark.parametrize("spelling", GATE_SPELLINGS, ids=list(GATE_SPELLINGS))
def test_gate_spellings_myst_accepts_are_gates(tmp_path, spelling):
    open_, close = GATE_SPELLINGS[spelling]
    nb = _nb(("markdown", "# Title"), ("markdown", "```{exercise} Explain\n:label: ex-warmup-x\n```"),
             ("markdown", open_), ("markdown", "SECRET prose answer."), ("code", "print('SECRET demo')"),
             ("markdown", close), ("markdown", "After the gate."))
    structure = fmt.parse_notebook(nb, "warmup")
    assert [(g.label, g.start, g.end) for g in structure.gates] == [("ex-warmup-x", 2, 5)]
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(nb, book / "warmup.ipynb")
    release(book, tmp_path / "out")
    student = nbformat.read(tmp_path / "out" / "warmup.ipynb", as_version=4)
    sources = [c.source for c in student.cells[1:]]
    assert sources == ["# Title", "**Exercise 1: Explain**\n", ANSWER_PLACEHOLDER, "# YOUR CODE HERE", "After the gate."]
    assert "SECRET" not in "".join(c.source for c in student.cells)
    assert _assert_no_leak(nb, student) >= {"SECRET prose answer.", "print('SECRET demo')"}


# Solution-like directives that are not a well-formed gate: each fails closed, naming the cell.
FAILS_CLOSED = {
    "capitalised {Solution}": ("```{Solution} ex-warmup-x\nSECRET\n```", "ungated"),
    "tilde {solution}": ("~~~{solution} ex-warmup-x\nSECRET\n~~~", "ungated"),
    "space before {solution}": ("``` {solution} ex-warmup-x\nSECRET\n```", "ungated"),
    "colon {SOLUTION}": ("::: {SOLUTION} ex-warmup-x\nSECRET\n:::", "ungated"),
    "{solution} in an admonition": ("````{note}\n~~~{solution} ex-warmup-x\nSECRET\n~~~\n````", "ungated"),
    "spaces inside the braces": ("```{ solution-start } ex-warmup-x\n```", "not a gate cell"),
    "indented four spaces": ("    ```{solution-start} ex-warmup-x\n    ```", "not a gate cell"),
    "in a block quote": ("> ```{solution-start} ex-warmup-x\n> ```", "not a gate cell"),
    "in a list item": ("- ```{Solution} ex-warmup-x\n  SECRET\n  ```", "not a gate cell"),
    "gate nested in a note": ("````{note}\n```{solution-start} ex-warmup-x\n```\n````", "not a gate cell"),
    "gate in an exercise's body": ("````{exercise} E\n:label: ex-warmup-x\n```{solution-start} ex-warmup-x\n```\n````",
                                   "not a gate cell"),
    "unknown {solutions}": ("```{solutions} ex-warmup-x\nSECRET\n```", "not a gate cell"),
    "unknown {Solution-Begin}": ("~~~{Solution-Begin} ex-warmup-x\n~~~", "not a gate cell"),
    "reST in eval-rst": ("```{eval-rst}\n.. solution:: ex-warmup-x\n\n   SECRET\n```", "not a gate cell"),
    "backtick in the info": ("```{solution-start} `ex-warmup-x`\n```", "not a gate cell"),
    "gate sharing its cell": ("Text.\n\n~~~{Solution-Start} ex-warmup-x\n~~~", "alone in its markdown cell"),
    "gate holding a {solution}": ("````{solution-start} ex-warmup-x\n```{solution}\nSECRET\n```\n````",
                                  "more solution-like"),
    "gate without a label": ("~~~ {Solution-Start}\n~~~", "needs the exercise label"),
}


@pytest.mark.parametrize("variant", FAILS_CLOSED, ids=list(FAILS_CLOSED))
def test_solution_like_directives_that_are_not_gates_fail_closed(tmp_path, variant):
    text, message = FAILS_CLOSED[variant]
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb(("markdown", "```{exercise} Explain\n:label: ex-warmup-x\n```"), ("markdown", text),
                       ("markdown", "SECRET prose.")), book / "warmup.ipynb")
    with pytest.raises(fmt.FormatError) as info:
        release(book, tmp_path / "out")
    assert "warmup.ipynb, cell index 1: " in str(info.value) and message in str(info.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spelling", ["```{exercise} Explain", "~~~{Exercise} Explain", "``` {exercise} Explain",
                                      ":::{EXERCISE} Explain", "~~~~ {exercise-start} Explain"])
def test_exercise_spellings_are_numbered(spelling):
    fence = re.match(r"[`~:]+", spelling).group(0)
    nb = _nb(("markdown", f"{spelling}\n:label: ex-warmup-a\n\nDo it.\n{fence}"),
             ("markdown", "```{exercise} Next\n:label: ex-warmup-b\n```"))
    assert fmt.parse_notebook(nb, "warmup").exercises == [("ex-warmup-a", 0), ("ex-warmup-b", 1)]
    from course_lib.tools.release import student_edition
    student = student_edition(nb, "warmup", chapter_number=2)
    assert [c.source for c in student.cells[1:]] == ["**Exercise 2.1: Explain**\n\nDo it.", "**Exercise 2.2: Next**\n"]


@pytest.mark.parametrize("path", ["../secret.png", "figures/../../secret.png", "..\\secret.png", "C:/secret.png"])
@pytest.mark.parametrize("how", ["figure", "markdown"])
def test_image_paths_that_leave_the_folder_are_refused(tmp_path, path, how):
    book = tmp_path / "book"
    (book / "figures").mkdir(parents=True)
    (tmp_path / "secret.png").write_bytes(b"png")
    cell = f"```{{figure}} {path}\n:alt: A plot\n```" if how == "figure" else f"See ![a plot]({path})."
    nbformat.write(_nb(("markdown", "# Title"), ("markdown", cell)), book / "warmup.ipynb")
    with pytest.raises(fmt.FormatError) as info:
        release(book, tmp_path / "out" / "student")
    assert "warmup.ipynb, cell index 1: " in str(info.value) and "image path" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_images_below_the_book_are_copied(tmp_path):
    book = tmp_path / "book"
    (book / "figures").mkdir(parents=True)
    (book / "figures" / "a.png").write_bytes(b"png")
    nbformat.write(_nb(("markdown", "```{figure} figures/a.png\n:alt: A plot\n```"),
                       ("markdown", "![web](https://example.org/b.png) ![abs](/c.png)")), book / "warmup.ipynb")
    release(book, tmp_path / "out")
    assert (tmp_path / "out" / "figures" / "a.png").read_bytes() == b"png"
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["a.png", "figures", "warmup.ipynb"]


def test_a_missing_glue_value_is_a_warning(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb(("markdown", "Value {glue:text}`missing:.2f`.")), book / "warmup.ipynb")
    warnings = []
    release(book, tmp_path / "out", warnings)
    assert warnings == ["%s, cell index 0: glue value 'missing' is not in the notebook's outputs" % (book / "warmup.ipynb")]
    student = nbformat.read(tmp_path / "out" / "warmup.ipynb", as_version=4)
    assert student.cells[1].source == "Value `missing`."


def test_command_line_reports_a_broken_notebook(tmp_path, capsys):
    from course_lib.__main__ import main

    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb(("code", MARKED)), book / "warmup.ipynb")
    assert main(["release", str(book), str(tmp_path / "out")]) == 1
    assert "cell index 0" in capsys.readouterr().err


def test_a_small_notebook_end_to_end(tmp_path):
    """Stub at the region's indentation, demos dropped, prose answer replaced, ids stable."""
    nb = _nb(("markdown", "# Title"),
             ("markdown", "```{exercise} Write f\n:label: ex-warmup-x\n\nReturn x.\n```"),
             ("markdown", OPEN),
             ("code", "class A:\n    def f(self, x):\n        '''Doc.'''\n        ### BEGIN SOLUTION\n"
                      "        y = x\n        return y\n        ### END SOLUTION\n\nprint('kept')"),
             ("code", "A().f(3)"), ("markdown", "Because y."), ("markdown", CLOSE),
             ("markdown", "```{exercise} Explain\n:label: ex-warmup-y\n```"),
             ("markdown", OPEN.replace("-x", "-y")), ("markdown", "Secret prose."), ("code", "print('demo')"),
             ("markdown", CLOSE), ("code", "check.something(A)"))
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(nb, book / "warmup.ipynb")
    release(book, tmp_path / "out")
    student = nbformat.read(tmp_path / "out" / "warmup.ipynb", as_version=4)
    sources = [(c.id, c.cell_type, c.source) for c in student.cells[1:]]
    assert sources == [
        ("c0", "markdown", "# Title"),
        ("c1", "markdown", "**Exercise 1: Write f**\n\nReturn x."),
        ("c3", "code", "class A:\n    def f(self, x):\n        '''Doc.'''\n        # YOUR CODE HERE\n"
                       '        raise NotImplementedError("ex-warmup-x: replace this line with your code")\n\n'
                       "print('kept')"),
        ("c2-answer", "markdown", "*Your answer:* ..."),
        ("c7", "markdown", "**Exercise 2: Explain**\n"),
        ("c8-answer", "markdown", "*Your answer:* ..."),
        ("c8-code", "code", "# YOUR CODE HERE"),
        ("c12", "code", "check.something(A)"),
    ]


# --- MyST to plain Markdown ------------------------------------------------------------------

def test_markdown_conversion():
    ctx = fmt.MarkdownContext(glue={"b0": "-6.359363", "name": "'fraud'"},
                              bib={"lin2017focal": "Lin et al. 2017", "bishop2006prml": "Bishop 2006"},
                              doc_titles={"ch3_cross_entropy": "Binary cross-entropy"},
                              exercise_prefix="4.", exercise_numbers={"ex-ch4-a": "4.1"})
    text = "\n".join([
        "(sec-bias)=",
        "% a comment",
        "The bias is {glue:text}`b0:.3f` for {glue}`name` {cite:p}`lin2017focal,bishop2006prml`, "
        "as {cite:t}`bishop2006prml` shows; see {doc}`ch3_cross_entropy`, {ref}`the start <sec-bias>`, "
        "{ref}`ex-ch4-a`, {numref}`Figure %s <fig-a>`, {eq}`eq-loss` and {math}`\\sigma(s)`.",
        "Code spans stay: `` {glue:text}`b0:.5f` `` and `{doc}`.",
        "```{exercise} Prior bias",
        ":label: ex-ch4-a",
        "",
        "Compute $b_0$.",
        "```",
        ":::{note}",
        "Read this.",
        "",
        "Twice.",
        ":::",
        "````{admonition} Careful",
        ":class: warning",
        "```python",
        "x = 1",
        "```",
        "````",
        "```{figure} figures/a.png",
        ":alt: A plot",
        ":name: fig-a",
        "",
        "The caption.",
        "```",
        "```{math}",
        ":label: eq-loss",
        "L = 1",
        "```",
        "$$",
        "x",
        "$$ (eq-x)",
    ])
    assert fmt.to_plain_markdown(text, ctx).split("\n") == [
        "The bias is -6.359 for 'fraud' (Lin et al. 2017; Bishop 2006), as Bishop (2006) shows; see "
        "Binary cross-entropy, the start, Exercise 4.1, Figure, (eq-loss) and $\\sigma(s)$.",
        "Code spans stay: `` {glue:text}`b0:.5f` `` and `{doc}`.",
        "**Exercise 4.1: Prior bias**",
        "",
        "Compute $b_0$.",
        "> **Note**",
        ">",
        "> Read this.",
        ">",
        "> Twice.",
        "> **Careful**",
        ">",
        "> ```python",
        "> x = 1",
        "> ```",
        "![A plot](figures/a.png)",
        "",
        "*The caption.*",
        "$$",
        "L = 1",
        "$$",
        "$$",
        "x",
        "$$",
    ]


def test_glue_formatting_matches_myst_nb():
    assert fmt.format_glued("0.0127147", ".4f") == "0.0127"
    assert fmt.format_glued("284807", ",d") == "284,807"
    assert fmt.format_glued("'text'", "") == "text"
    assert fmt.format_glued("0.001727", ".2%") == "0.17%"


def test_chapter_numbers_follow_the_toc():
    numbers = chapter_numbers(BOOK)
    assert numbers.get("ch1_logistic_regression") == 1 and numbers.get("ch4_prior_bias") == 4
    assert "warmup" not in numbers


def test_markers_are_found_with_their_indentation():
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    assert fmt.marker_regions(source) == [fmt.Region(1, 3, "    ")]
    assert fmt.solution_lines(source) == ["    return 1"]
    assert np.all([fmt.has_marker(source), not fmt.has_marker("x = 1")])


# --- release item 5 of issue 11: more mistakes stop the release -----------------------------------

RAW = "raw"


def _nb_with_raw(*cells):
    nb = _nb(*[(k if k != RAW else "markdown", t) for k, t in cells])
    for cell, (kind, _) in zip(nb.cells, cells):
        if kind == RAW:
            cell.cell_type = "raw"
            cell.pop("attachments", None)
    return nb


@pytest.mark.parametrize("cells, index, message", [
    ([(RAW, "### BEGIN SOLUTION\nsecret\n### END SOLUTION")], 0, "raw cell"),
    ([("markdown", OPEN), ("code", "def f(x):\n    ### begin solution\n    return x\n    ### END SOLUTION"),
      ("markdown", CLOSE)], 1, "looks like a solution marker"),
    ([("markdown", OPEN), ("code", "def f(x):\n    ###\u00a0BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
      ("markdown", CLOSE)], 1, "looks like a solution marker"),
    ([("markdown", OPEN), ("code", "def f(x):\n    ## BEGIN SOLUTION\n    return x\n    ## END SOLUTION"),
      ("markdown", CLOSE)], 1, "looks like a solution marker"),
    ([("code", "x = 1\n# BEGIN  SOLUTION")], 0, "looks like a solution marker"),
    ([(RAW, "#### End_Solution")], 0, "looks like a solution marker"),
    ([("markdown", "The answer is {glue:text}`secret:.2f`."), ("markdown", OPEN),
      ("code", "from myst_nb import glue\nglue('secret', 42.0, display=False)"), ("markdown", CLOSE)], 2,
     "glued value 'secret' is computed in this cell"),
    ([("code", "from course_lib.functional import sigmoid as stable_sigmoid")], 0,
     "imports stable_sigmoid, a name the student must write"),
    ([("code", "import numpy as np\nif True:\n    from course_lib.losses import bce as bce_from_probabilities")], 0,
     "imports bce_from_probabilities"),
])
def test_more_mistakes_stop_the_release(tmp_path, cells, index, message):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb_with_raw(*cells), book / "warmup.ipynb")
    with pytest.raises(fmt.FormatError) as info:
        release(book, tmp_path / "out")
    assert f"warmup.ipynb, cell index {index}: " in str(info.value) and message in str(info.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_glue_inside_a_gate_used_only_inside_it_is_fine(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb(("markdown", OPEN), ("code", "from myst_nb import glue\nglue('inner', 1.0, display=False)"),
                       ("markdown", "Inside: {glue:text}`inner:.1f`."), ("markdown", CLOSE),
                       ("code", "from course_lib.functional import sigmoid\nimport course_lib")), book / "warmup.ipynb")
    assert release(book, tmp_path / "out")


def test_lenient_release_reports_the_two_content_rules_as_warnings(tmp_path, capsys):
    from course_lib.__main__ import main

    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(_nb(("code", "from course_lib.functional import sigmoid as stable_sigmoid"),
                       ("markdown", "Shown: {glue:text}`secret:.1f`."), ("markdown", OPEN),
                       ("code", "from myst_nb import glue\nglue('secret', 1.0, display=False)"), ("markdown", CLOSE)),
                   book / "warmup.ipynb")
    assert main(["release", str(book), str(tmp_path / "strict")]) == 1
    assert not (tmp_path / "strict").exists()
    assert main(["release", str(book), str(tmp_path / "lenient"), "--lenient"]) == 0
    err = capsys.readouterr().err
    assert "cell index 0: this cell imports stable_sigmoid" in err and "glued value 'secret'" in err
    assert (tmp_path / "lenient" / "warmup.ipynb").exists()


def test_every_prose_part_gets_a_marked_answer_cell_code_exercises_too(tmp_path):
    """Issue 15, deliverable 1: an exercise with code and prose keeps a place for each prose part
    (where the part was), marked in the cell's metadata; a gate note marked answer: false gets none."""
    note = nbformat.v4.new_markdown_cell("A note on the code only.")
    note.metadata = {"course": {"answer": False}}
    nb = _nb(("markdown", "```{exercise} Write f, then explain\n:label: ex-warmup-x\n```"),
             ("markdown", OPEN), ("markdown", "SECRET part one."),
             ("code", "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
             ("code", "print('SECRET demo')"), ("markdown", "SECRET part two."), ("markdown", CLOSE))
    nb.cells.insert(4, note)
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(nb, book / "warmup.ipynb")
    release(book, tmp_path / "out")
    student = nbformat.read(tmp_path / "out" / "warmup.ipynb", as_version=4)
    cells = [(c.cell_type, c.source[:20], c.metadata.get("course")) for c in student.cells[2:]]
    assert cells == [("markdown", ANSWER_PLACEHOLDER, {"answer": "ex-warmup-x", "part": 1}),
                     ("code", "def f(x):\n    # YOUR", None),
                     ("markdown", ANSWER_PLACEHOLDER, {"answer": "ex-warmup-x", "part": 2})]
    assert [c.id for c in student.cells[2:]] == ["c1-answer", "c3", "c1-answer-2"]
    assert "SECRET" not in "".join(c.source for c in student.cells)


@pytest.mark.parametrize("chapter", [c.notebook for c in CHAPTERS if (BOOK / f"{c.notebook}.ipynb").exists()])
def test_each_chapter_has_one_marked_answer_cell_per_prose_part(student_dir, chapter):
    instructor = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    parts = prose_runs(instructor, fmt.parse_notebook(instructor, chapter))
    student = nbformat.read(student_dir / f"{chapter}.ipynb", as_version=4)
    marked = [(c.metadata["course"]["answer"], c.metadata["course"]["part"]) for c in student.cells
              if "course" in c.metadata]
    assert marked == [(gate.label, part) for gate, part, _ in parts]
