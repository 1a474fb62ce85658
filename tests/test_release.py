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

@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_no_solution_leaks(chapter, student_dir):
    instructor, student = _pair(chapter, student_dir)
    structure = fmt.parse_notebook(instructor, chapter.notebook)
    secret, public = [], []
    for index, cell in enumerate(instructor.cells):
        lines = fmt.source_of(cell).split("\n")
        role = structure.roles[index]
        if role == fmt.PLAIN:
            public += lines
        elif role == fmt.MARKED_CODE:
            inside = set(fmt.solution_lines(fmt.source_of(cell)))
            secret += list(inside)
            public += [line for line in lines if line not in inside]
        else:  # gate directives, demonstrations, prose answers
            secret += lines
    # A line that also appears outside the solutions (e.g. "import numpy as np") is not a leak.
    leaked_candidates = _stripped(secret) - _stripped(public)
    student_lines = _stripped(line for cell in student.cells for line in fmt.source_of(cell).split("\n"))
    assert not leaked_candidates & student_lines

    for index, cell in enumerate(student.cells):
        text = fmt.source_of(cell)
        assert fmt.BEGIN_MARKER not in text and fmt.END_MARKER not in text, index
        assert "solution-start" not in text and "solution-end" not in text and "{solution}" not in text, index
        assert not re.search(r"^\s*(```|:::)\{", text, re.M), f"directive left in cell {index}"
        if cell.cell_type == "markdown":
            assert not re.search(r"\{(glue|cite|doc|ref|numref|eq|math)[\w:]*\}`", text), f"role left in cell {index}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, index
    nbformat.validate(student)
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert "Student edition" in fmt.source_of(student.cells[0])
    # every cell outside the solutions is kept, code unchanged
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
    assert texts.count(ANSWER_PLACEHOLDER) == 1
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
