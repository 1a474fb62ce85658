"""Write the student edition of the chapters: solutions out, stubs in, plain Markdown.

    python -m course_lib release book/ student/
    python -m course_lib release book/ student-zh/ --language zh_CN     # the Chinese edition

For every chapter of :data:`course_lib.check.registry.CHAPTERS` whose notebook exists in the
book folder, this writes a notebook of the same name in the output folder where

- each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError("<label>: ...")`` at the region's indentation (the ``def`` line,
  the docstring and everything else around the region stay);
- the gate cells (``{solution-start}``, ``{solution-end}``) and the code cells of a gate without
  markers (demonstrations of the solution) are removed; every prose part of an exercise (a run
  of markdown cells in its gate, see :mod:`course_lib.grading.scheme`) becomes an answer cell
  marked ``{"course": {"answer": "<label>", "part": n}}`` in its metadata, where the part was
  (in an exercise with code too); a gate with no marked code keeps one ``# YOUR CODE HERE``
  cell if it had code;
- outputs and execution counts are cleared;
- MyST that only the website understands becomes plain Markdown (numbered exercises, glued
  values from the instructor notebook's stored outputs, author-year citations, admonitions as
  block quotes, figures as images);
- a first cell says that this is the student edition and how to self-check.

It fails closed: a notebook that breaks the exercise format (a marker outside a gate, nested or
unbalanced markers, an unclosed gate, a solution-like directive that is not a well-formed gate,
in any fence spelling MyST accepts, a marker in a raw cell, a near-miss marker in any cell:
another case, a non-breaking space, a missing ``#``), that shows outside the gates a value glued
inside one, whose setup cells import a name the student must write, or that points at an image
outside the book folder (``..``) stops the release with an error naming the notebook and the cell index, and nothing is written. The output is deterministic: cell ids are derived from
the instructor notebook's ids, nothing depends on the time, so a second run writes identical
bytes.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import yaml

from course_lib.check.registry import CHAPTERS
from course_lib.grading.scheme import answer_cell_id, prose_runs
from course_lib.tools import _notebook_format as fmt

ANSWER_PLACEHOLDER = "*Your answer:* ..."
# The placeholder of each language's student edition (the grader treats each as no answer).
ANSWER_PLACEHOLDER_BY_LANGUAGE = {"en": ANSWER_PLACEHOLDER, "zh_CN": "*你的答案：* ..."}
ANSWER_PLACEHOLDERS = frozenset(ANSWER_PLACEHOLDER_BY_LANGUAGE.values())
LANGUAGES = tuple(ANSWER_PLACEHOLDER_BY_LANGUAGE)
# The words the Chinese student edition writes itself (the prose comes from the catalogs).
CHINESE_ADMONITION_TITLES = {"note": "注意", "tip": "提示", "warning": "警告", "important": "重要",
                             "caution": "小心", "hint": "提示", "seealso": "另见", "attention": "注意",
                             "danger": "危险", "error": "错误", "admonition": "", "dropdown": "详情",
                             "margin": "注意", "sidebar": "注意", "topic": ""}


def chapter_numbers(book_dir: Path) -> dict[str, int]:
    """Notebook stem -> chapter number for the numbered parts of ``_toc.yml`` (next to or above
    the book folder), so that exercises get the numbers the website shows (``Exercise 2.3``)."""
    for toc in (book_dir / "_toc.yml", book_dir.parent / "_toc.yml"):
        if toc.exists():
            break
    else:
        return {}
    data = yaml.safe_load(toc.read_text(encoding="utf-8")) or {}
    numbers: dict[str, int] = {}
    for part in data.get("parts", []):
        if not part.get("numbered"):
            continue
        for n, chapter in enumerate(part.get("chapters", []), start=1):
            if "file" in chapter:
                numbers[Path(chapter["file"]).stem] = n
    return numbers


def doc_titles(book_dir: Path) -> dict[str, str]:
    """Page stem -> its first level-1 heading, for ``{doc}`` references without a text."""
    titles: dict[str, str] = {}
    for path in sorted(book_dir.glob("*.md")) + sorted(book_dir.glob("*.ipynb")):
        if path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
        else:
            try:
                nb = nbformat.read(str(path), as_version=4)
            except Exception:  # noqa: BLE001 - a broken page simply has no title here
                continue
            text = "\n".join(fmt.source_of(c) for c in nb.cells if c.cell_type == "markdown")
        for line in text.splitlines():
            if line.startswith("# "):
                titles[path.stem] = line[2:].strip()
                break
    return titles


def _cell_id(base: str, suffix: str) -> str:
    return f"{base}-{suffix}"[:64]


def banner(title: str, checked: list[str], language: str = "en") -> str:
    if language == "zh_CN":
        return chinese_banner(title, checked)
    how = ("After each exercise whose solution is code there is a self-check cell, "
           "for example `check." + checked[0] + "(...)`. " if checked else
           "Exercises whose solution is code are followed by a self-check cell. ")
    return (
        f"> **Student edition.** This is the student edition of *{title}*: the solutions are "
        "taken out.\n>\n"
        "> - Where a cell says `# YOUR CODE HERE`, replace the `raise NotImplementedError(...)` "
        "line with your code (keep the `def` line and the docstring).\n"
        f"> - {how}Run it after your function: it prints one line per test, PASS or FAIL, and for "
        "a failure the input, the expected and the received value, the tolerance and a hint. "
        "Until you write the function it says *not implemented yet*; cells that use your "
        "function stop with `NotImplementedError` until then.\n"
        "> - Write prose answers in the cells that say *Your answer:*.\n"
        "> - Before you hand the notebook in, run it top to bottom (Kernel → Restart Kernel and "
        "Run All Cells).\n"
    )


def chinese_banner(title: str, checked: list[str]) -> str:
    how = ("每道答案为代码的练习之后都有一个自测单元格，例如 `check." + checked[0] + "(...)`。" if checked else
           "每道答案为代码的练习之后都有一个自测单元格。")
    return (
        f"> **学生版。** 这是《{title}》的学生版：解答已被移除。\n>\n"
        "> - 在写着 `# YOUR CODE HERE` 的单元格中，把 `raise NotImplementedError(...)` 这一行换成你的代码"
        "（保留 `def` 行和文档字符串）。\n"
        f"> - {how}写好函数后运行它：每个测试输出一行 PASS 或 FAIL；测试失败时给出输入、期望值、实际值、"
        "容差和提示。在你写出函数之前，它会显示 *not implemented yet*；用到你的函数的单元格在此之前会因 "
        "`NotImplementedError` 而停止。\n"
        "> - 文字题的答案写在标有 *你的答案：* 的单元格中。\n"
        "> - 提交之前，从头到尾运行一遍笔记本（Kernel → Restart Kernel and Run All Cells）。\n"
    )


def student_edition(nb, name: str, *, chapter_number: int | None = None, bib: dict[str, str] | None = None,
                    titles: dict[str, str] | None = None, check_names: list[str] | None = None,
                    warnings: list[str] | None = None, student_names: list[str] | None = None,
                    strict: bool = True, translator=None, language: str = "en"):
    """The student edition of one instructor notebook (a new notebook; the input is unchanged).

    Raises :class:`~course_lib.tools._notebook_format.FormatError` if the format is broken, or if
    a cell outside the gates imports one of ``student_names`` (the functions the student writes),
    or if the text outside the gates shows a value glued inside one; with ``strict=False`` those
    two are reported in ``warnings`` instead (``--lenient``, for a book still being fixed). A
    glued value that the prose uses but the stored outputs lack (a notebook not executed yet) is
    shown as its name in backticks and reported in ``warnings``.

    With ``language="zh_CN"`` and a :class:`~course_lib.tools.translations.MarkdownTranslator`
    of the page's catalog, the prose of the markdown cells is the Chinese edition's (code, stubs,
    checks and outputs as in English); blocks the catalog lacks are collected in
    ``translator.missed``.
    """
    structure = fmt.parse_notebook(nb, name)
    content_errors = fmt.gated_glue_shown(nb, structure, name)
    prefix = f"{chapter_number}." if chapter_number else ""
    ctx = fmt.MarkdownContext(glue=fmt.glue_values(nb), bib=bib or {}, doc_titles=titles or {},
                              exercise_prefix=prefix)
    if language == "zh_CN":
        ctx.exercise_word = "练习"
        ctx.admonition_titles = dict(CHINESE_ADMONITION_TITLES)
    placeholder = ANSWER_PLACEHOLDER_BY_LANGUAGE[language]

    def prose(source: str) -> str:
        return translator.translate(source) if translator is not None else source

    numbered = [label for label, index in structure.exercises]
    ctx.exercise_numbers = {label: f"{prefix}{n}" for n, label in enumerate(numbered, start=1) if label}

    cells = []
    placed: set[int] = set()  # gates that already have their answer placeholder
    runs = prose_runs(nb, structure)
    run_at = {cells_of[0]: (gate, part) for gate, part, cells_of in runs}
    for index, cell in enumerate(nb.cells):
        role, gate = structure.roles[index], structure.gate_of[index]
        cid = cell.get("id") or f"cell{index}"
        if role == fmt.PLAIN:
            if cell.cell_type == "code" and student_names:
                bound = _imported_names(fmt.source_of(cell)) & set(student_names)
                if bound:
                    content_errors.append(fmt.FormatError(
                        name, index, "this cell imports " + ", ".join(sorted(bound)) + ", a name the student "
                        "must write; the student edition would hand it out ready-made (import the module, "
                        "e.g. `from course_lib import functional as F`, and use F.<name>)"))
            if cell.cell_type == "markdown":
                new = nbformat.v4.new_markdown_cell(fmt.to_plain_markdown(prose(fmt.source_of(cell)), ctx))
                if warnings is not None:
                    warnings.extend(f"{name}, cell index {index}: {problem}" for problem in ctx.problems)
                ctx.problems.clear()
            elif cell.cell_type == "code":
                new = nbformat.v4.new_code_cell(fmt.source_of(cell))
            else:
                new = nbformat.v4.new_raw_cell(fmt.source_of(cell))
            new.metadata = _kept_metadata(cell)
            new.id = cid
            cells.append(new)
        elif role == fmt.MARKED_CODE:
            new = nbformat.v4.new_code_cell(fmt.stub_regions(fmt.source_of(cell), gate.label))
            new.metadata = _kept_metadata(cell)
            new.id = cid
            cells.append(new)
        elif role in (fmt.GATE_MARKDOWN, fmt.GATE_CODE) and gate.marked(structure.roles):
            if index in run_at:   # a prose part of an exercise with code: its own answer cell, here
                cells.append(_answer_cell(nb, *run_at[index], placeholder=placeholder))
        elif role in (fmt.GATE_MARKDOWN, fmt.GATE_CODE):
            if id(gate) in placed:
                continue
            placed.add(id(gate))
            cells.extend(_answer_cell(nb, g, part, placeholder=placeholder) for g, part, _ in runs if g is gate)
            if any(structure.roles[i] == fmt.GATE_CODE for i in gate.cells):
                code = nbformat.v4.new_code_cell("# YOUR CODE HERE")
                code.id = _cell_id(nb.cells[gate.start].get("id") or f"cell{gate.start}", "code")
                cells.append(code)
        # gate directives, demonstrations and prose of solutions with code: dropped

    if content_errors:
        if strict:
            raise content_errors[0]
        if warnings is not None:
            warnings.extend(f"{error} (released anyway: lenient)" for error in content_errors)
    title = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                  for line in prose(fmt.source_of(c)).splitlines() if line.startswith("# ")), name)
    top = nbformat.v4.new_markdown_cell(banner(title, check_names or [], language))
    top.id = "student-edition"
    student = nbformat.v4.new_notebook()
    student.cells = [top] + cells
    student.metadata = {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
    student.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    return student


def _answer_cell(nb, gate, part: int, placeholder: str = ANSWER_PLACEHOLDER):
    """The answer cell of one prose part, marked so that the grader finds it wherever it goes."""
    answer = nbformat.v4.new_markdown_cell(placeholder)
    answer.id = answer_cell_id(nb.cells[gate.start].get("id") or f"cell{gate.start}", part)
    answer.metadata = {"course": {"answer": gate.label, "part": part}}
    return answer


def _kept_metadata(cell) -> dict:
    """Cell metadata worth keeping (tags, figure alt text); execution records are dropped."""
    return {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags", "mystnb", "slideshow")}


def _images(nb, name: str = "notebook", index_of: dict[str, int] | None = None) -> list[str]:
    """Local image paths the plain Markdown of a student notebook points at (copied with it).

    A path that could leave the book folder or the output folder when copied (a ``..`` part, a
    backslash, a drive letter) raises :class:`FormatError` naming the instructor cell (found by
    cell id through ``index_of``). Absolute paths and URLs are not copied.
    """
    import re
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for p in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", fmt.source_of(cell)):
            if "://" in p or p.startswith(("/", "data:")):
                continue
            if "\\" in p or re.match(r"^[A-Za-z]:", p) or ".." in Path(p).parts:
                where = (index_of or {}).get(cell.get("id"))
                raise fmt.FormatError(name, where, f"image path {p!r} could leave the book or the output folder "
                                                   "when copied; use a path below the notebook's folder, without '..'")
            found.append(p)
    return found


def _imported_names(source: str) -> set[str]:
    """The names an ``import`` or ``from ... import`` at any level of a code cell binds."""
    import ast

    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def _student_names(stem: str) -> list[str]:
    from course_lib.check import registry
    try:
        return [name for ex in registry.exercises_for(stem) for name in ex.functions]
    except ModuleNotFoundError:
        return []


def _check_names(stem: str) -> list[str]:
    from course_lib.check import registry
    try:
        return [ex.check.__name__ for ex in registry.exercises_for(stem)]
    except ModuleNotFoundError:
        return []


def release(book_dir: Path, out_dir: Path, warnings: list[str] | None = None, *, strict: bool = True,
            language: str = "en", catalogs: Path | None = None) -> list[Path]:
    """Write the student edition of every registered chapter found in ``book_dir``.

    Everything is built in memory first, so that an error in one notebook writes nothing.
    Problems that do not leak anything (a missing glued value) are appended to ``warnings``.
    ``language="zh_CN"`` writes the Chinese edition from the catalogs (``locales/zh_CN``); a
    chapter whose prose the catalogs do not fully translate stops it, like a format error.
    """
    from course_lib.tools import translations

    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    book_dir, out_dir = Path(book_dir), Path(out_dir)
    catalogs = Path(catalogs) if catalogs is not None else translations.CATALOGS
    numbers = chapter_numbers(book_dir)
    bib = fmt.read_bib(book_dir / "references.bib")
    titles = doc_titles(book_dir)
    if language != "en":
        titles = {stem: translations.catalog_messages(f"book/{stem}", catalogs).get(translations._key(title), title)
                  if (catalogs / "book" / f"{stem}.po").exists() else title for stem, title in titles.items()}
    editions = []
    for chapter in CHAPTERS:
        path = book_dir / f"{chapter.notebook}.ipynb"
        if not path.exists():
            continue
        nb = fmt.read_notebook(path)
        translator = None
        if language != "en":
            translator = translations.MarkdownTranslator(
                translations.catalog_messages(f"book/{chapter.notebook}", catalogs))
        student = student_edition(nb, str(path), chapter_number=numbers.get(chapter.notebook), bib=bib,
                                  titles=titles, check_names=_check_names(chapter.notebook), warnings=warnings,
                                  student_names=_student_names(chapter.notebook), strict=strict,
                                  translator=translator, language=language)
        if translator is not None and translator.missed:
            raise ValueError(f"{path}: {len(translator.missed)} blocks of prose have no {language} translation "
                             f"(the first: {translator.missed[0][:80]!r}); run python -m course_lib translations "
                             "update, translate, and check")
        nbformat.validate(student)
        index_of = {cell.get("id"): index for index, cell in enumerate(nb.cells)}
        editions.append((out_dir / path.name, student, _images(student, str(path), index_of)))
    written = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for target, student, images in editions:
        target.write_text(nbformat.writes(student) + "\n", encoding="utf-8")
        written.append(target)
        for image in images:
            source = book_dir / image
            if source.is_file():
                (out_dir / image).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, out_dir / image)
    return written


def add_arguments(parser) -> None:
    parser.add_argument("book_dir", type=Path, help="the folder of the instructor notebooks (book/)")
    parser.add_argument("out_dir", type=Path, help="where to write the student notebooks (created if needed)")
    parser.add_argument("--language", choices=LANGUAGES, default="en",
                        help="the language of the prose: en (the book's) or zh_CN (from locales/zh_CN)")
    parser.add_argument("--lenient", action="store_true",
                        help="release even if a setup cell imports a name the student must write or the text "
                             "shows a value glued inside a solution gate (reported as warnings)")


def main(args) -> int:
    warnings: list[str] = []
    try:
        written = release(args.book_dir, args.out_dir, warnings, strict=not args.lenient, language=args.language)
    except (fmt.FormatError, ValueError, FileNotFoundError) as exc:
        print(f"release stopped, nothing written: {exc}", file=sys.stderr)
        return 1
    if not written:
        print(f"no chapter notebooks found in {args.book_dir}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    for warning in warnings:
        print(f"warning: {warning} (execute the notebook first?)", file=sys.stderr)
    return 0
