"""The exercise format of the chapters, parsed in one place for ``release``, ``grade`` and tests.

A chapter notebook sets an exercise as (see CONTRIBUTING.md, "Exercises"):

- a markdown cell with a ``{exercise}`` directive (``:label: ex-<chapter>-<name>``);
- a markdown cell that is only a ``{solution-start} <label>`` directive (the *gate* opens);
- the solution: code cells, where the student's part sits between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` lines, and/or markdown cells (a prose answer);
- a markdown cell that is only a ``{solution-end}`` directive (the gate closes);
- for a self-checked exercise, a code cell calling ``course_lib.check``.

:func:`parse_notebook` walks the cells once and says what each one is; anything that does not
fit (a marker outside a gate, a nested or unclosed gate, unbalanced markers, a gate directive
sharing its cell with other text, an ungated ``{solution}``) raises :class:`FormatError` naming
the notebook and the cell index, so that a release fails closed instead of leaking a solution.

Directives are recognised the way MyST recognises them: a backtick or tilde fence of three or
more characters, or a colon fence (``:::``), optional spaces, then ``{name}`` with the name in
any case (docutils lowercases it), so ``~~~ {Solution-Start} ex-...`` is a gate just as the
backtick-fenced ``{solution-start}`` is. As a safety net, a markdown cell that is not a well-formed
gate but mentions a solution-like directive anywhere (a fence, optional spaces, ``{`` and a name
starting with "solution", in any case, even nested, quoted, indented or in a code block; or an
reST ``.. solution...::`` for ``{eval-rst}``) raises :class:`FormatError` too.

:func:`to_plain_markdown` turns the MyST of a markdown cell (directives and roles that only
Sphinx understands) into Markdown that reads well in plain JupyterLab.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"

# Roles of the cells of an instructor notebook.
PLAIN = "plain"                  # outside any gate: kept
GATE_START = "gate-start"        # {solution-start}: removed
GATE_END = "gate-end"            # {solution-end}: removed
MARKED_CODE = "marked-code"      # code in a gate with BEGIN/END markers: regions stubbed
GATE_CODE = "gate-code"          # code in a gate without markers: removed
GATE_MARKDOWN = "gate-markdown"  # prose in a gate: removed (or replaced by an answer placeholder)


class FormatError(ValueError):
    """The notebook does not follow the exercise format; the message names notebook and cell."""

    def __init__(self, notebook: str, index: int | None, message: str):
        where = f"{notebook}, cell index {index}" if index is not None else notebook
        super().__init__(f"{where}: {message}")
        self.notebook, self.index = notebook, index


# ---------------------------------------------------------------------------------------------
# Reading notebooks
# ---------------------------------------------------------------------------------------------

def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook (format 4); any problem becomes a ``ValueError`` with a short reason."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - JSON errors, schema errors, I/O errors
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read {Path(path).name} as a notebook: {reason[:200]}") from None


def source_of(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# ---------------------------------------------------------------------------------------------
# MyST directives in markdown
# ---------------------------------------------------------------------------------------------

# MyST (myst_parser's render_fence / render_colon_fence) takes the first word of a fence's info
# string as the name and treats it as a directive when it is wrapped in braces; docutils then
# looks the name up in lower case. CommonMark: at most 3 spaces of indentation, and the info
# string of a backtick fence holds no backtick.
_DIRECTIVE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})[ \t]*"
                             r"\{(?P<name>\S+?)\}(?=[ \t]|$)[ \t]*(?P<arg>.*?)[ \t]*$")
_CODE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# The safety net: anything that could be a solution directive, anywhere in a markdown cell.
_SOLUTION_LIKE = re.compile(r"(?i)(?:`{3,}|~{3,}|:{3,})[ \t]*\{[ \t]*solution|\.\.[ \t]+solution[\w-]*[ \t]*::")
GATE_NAMES = ("solution-start", "solution-end")
EXERCISE_NAMES = ("exercise", "exercise-start")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")


@dataclass
class Directive:
    name: str
    argument: str
    options: dict[str, str]
    body: list[str]


def _closing(fence: str):
    """A closing fence: the opening's character, at least as many, indented at most 3 spaces."""
    return re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")


def _closing_line(lines: list[str], opening: int, fence: str) -> int:
    """The index of the line that closes the fence opened at ``lines[opening]``, or
    ``len(lines)`` when it is never closed (it then runs to the end of the text)."""
    close = _closing(fence)
    j = opening + 1
    while j < len(lines) and not close.match(lines[j]):
        j += 1
    return j


def _fence_open(line: str, pattern: re.Pattern) -> re.Match | None:
    m = pattern.match(line)
    if m and m["fence"][0] == "`" and "`" in line[m.end("fence"):]:
        return None  # not a fence at all in CommonMark
    return m


def split_blocks(text: str) -> list[tuple[str, object]]:
    """Split markdown into ``("text", line)``, ``("code", [lines])`` and ``("directive", Directive)``.

    A fence closes at the first line made only of at least as many of its characters (the
    CommonMark rule MyST follows); an unclosed fence runs to the end of the text.
    """
    lines = text.split("\n")
    blocks: list[tuple[str, object]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _fence_open(line, _DIRECTIVE_OPEN)
        if m:
            j = _closing_line(lines, i, m["fence"])
            inner = lines[i + 1:j]
            options: dict[str, str] = {}
            k = 0
            if inner and inner[0].strip() == "---":  # YAML-style options
                end = next((n for n in range(1, len(inner)) if inner[n].strip() == "---"), None)
                if end is not None:
                    for opt in inner[1:end]:
                        key, _, value = opt.partition(":")
                        options[key.strip()] = value.strip()
                    k = end + 1
            while k < len(inner) and (om := _OPTION.match(inner[k])):
                options[om["key"]] = om["value"].strip()
                k += 1
            blocks.append(("directive", Directive(m["name"].lower(), m["arg"], options, inner[k:])))
            i = j + 1
            continue
        m = _fence_open(line, _CODE_OPEN)
        if m:
            j = _closing_line(lines, i, m["fence"])
            blocks.append(("code", lines[i:j + 1]))
            i = j + 1
            continue
        blocks.append(("text", line))
        i += 1
    return blocks


def directives_in(text: str) -> list[Directive]:
    """Every directive in the text, outer ones before the ones nested in their bodies."""
    found = []
    for kind, block in split_blocks(text):
        if kind == "directive":
            found.append(block)
            found.extend(directives_in("\n".join(block.body)))
    return found


def gate_directive(text: str) -> tuple[str, str] | None:
    """``("start", label)`` or ``("end", "")`` if the cell holds a gate directive, else None.

    Raises ``ValueError`` when a gate directive shares its cell with anything else.
    """
    # blank lines around the directive are fine; indentation is not stripped (4 spaces make it code)
    blocks = [b for b in split_blocks(text) if not (b[0] == "text" and not str(b[1]).strip())]
    names = [b[1].name for b in blocks if b[0] == "directive"]
    gates = [n for n in names if n in GATE_NAMES]
    if not gates:
        return None
    if len(blocks) != 1:
        raise ValueError(f"a {{{gates[0]}}} directive must be alone in its markdown cell")
    d = blocks[0][1]
    others = len(_SOLUTION_LIKE.findall(text)) - 1
    if others:
        raise ValueError(f"the {{{d.name}}} cell holds {others} more solution-like directive(s)")
    if d.name == "solution-start":
        if not d.argument.strip():
            raise ValueError("{solution-start} needs the exercise label as its argument")
        return "start", d.argument.strip()
    return "end", ""


def solution_like(text: str) -> list[str]:
    """The solution-like directive openings of a markdown text (see the module docstring)."""
    return [m.group(0) for m in _SOLUTION_LIKE.finditer(text)]


# ---------------------------------------------------------------------------------------------
# Solution markers in code
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    begin: int   # line index of the BEGIN marker
    end: int     # line index of the END marker
    indent: str  # the BEGIN marker's indentation


def marker_regions(source: str) -> list[Region]:
    """The ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` regions of a code cell.

    Raises ``ValueError`` for nested, unbalanced or unclosed markers.
    """
    regions: list[Region] = []
    open_at: int | None = None
    indent = ""
    for n, line in enumerate(source.split("\n")):
        stripped = line.strip()
        if stripped == BEGIN_MARKER:
            if open_at is not None:
                raise ValueError(f"nested {BEGIN_MARKER!r} on line {n + 1} (the one on line {open_at + 1} is still open)")
            open_at, indent = n, line[: len(line) - len(line.lstrip())]
        elif stripped == END_MARKER:
            if open_at is None:
                raise ValueError(f"{END_MARKER!r} on line {n + 1} without a {BEGIN_MARKER!r} before it")
            regions.append(Region(open_at, n, indent))
            open_at = None
        elif BEGIN_MARKER in line or END_MARKER in line:
            raise ValueError(f"line {n + 1} holds a solution marker with other text; a marker is a line of its own")
    if open_at is not None:
        raise ValueError(f"{BEGIN_MARKER!r} on line {open_at + 1} is never closed by {END_MARKER!r}")
    return regions


def has_marker(source: str) -> bool:
    return BEGIN_MARKER in source or END_MARKER in source


#: a line that looks like a solution marker: any number of #, any case, any (also non-breaking)
#: spaces or underscores between the words
_NEAR_MARKER = re.compile(r"(?i)^\s*#+[\s_]*(?:begin|end)[\s_-]*solution\b")


def near_miss_markers(source: str) -> list[str]:
    """Lines that look like a solution marker but are not exactly one (another case, a
    non-breaking space, a missing ``#``): a release treats them as mistakes."""
    return [line for line in source.split("\n")
            if _NEAR_MARKER.match(line) and line.strip(" \t") not in (BEGIN_MARKER, END_MARKER)]


_GLUE_CALL = re.compile(r"""\bglue\s*\(\s*(?:name\s*=\s*)?["']([^"']+)["']""")
_GLUE_ROLE = re.compile(r"\{glue(?::[a-z]*)?\}`([^`]*)`")


def glued_keys(cell) -> set[str]:
    """The names a code cell glues: from its source (``glue("name", ...)``) and its outputs."""
    keys = set(_GLUE_CALL.findall(source_of(cell)))
    for output in cell.get("outputs", []):
        meta = output.get("metadata", {}).get("scrapbook") if isinstance(output, dict) else None
        if meta and isinstance(meta.get("name"), str):
            keys.add(meta["name"])
    return keys


def glue_uses(text: str) -> set[str]:
    """The glue keys a markdown text shows (``{glue:text}`key:.2f```, ``{glue}`key```, ...)."""
    keys = set()
    for content in _GLUE_ROLE.findall(text):
        key = content.split("::")[-1]
        keys.add(key.rsplit(":", 1)[0] if ":" in key else key)
    return keys


def stub_regions(source: str, label: str) -> str:
    """The code with each marked region replaced by the stub a student fills in."""
    lines = source.split("\n")
    for region in reversed(marker_regions(source)):
        lines[region.begin:region.end + 1] = [
            f"{region.indent}# YOUR CODE HERE",
            f'{region.indent}raise NotImplementedError("{label}: replace this line with your code")',
        ]
    return "\n".join(lines)


def solution_lines(source: str) -> list[str]:
    """The lines strictly inside the marked regions (what the student has to write)."""
    lines = source.split("\n")
    return [line for r in marker_regions(source) for line in lines[r.begin + 1:r.end]]


# ---------------------------------------------------------------------------------------------
# The structure of a whole notebook
# ---------------------------------------------------------------------------------------------

@dataclass
class Gate:
    label: str
    start: int                 # cell index of {solution-start}
    end: int                   # cell index of {solution-end}
    cells: list[int] = field(default_factory=list)  # the cells between them

    def marked(self, roles: list[str]) -> bool:
        return any(roles[i] == MARKED_CODE for i in self.cells)


@dataclass
class Structure:
    roles: list[str]                 # one per cell
    gate_of: list[Gate | None]       # the gate each cell belongs to (None outside)
    gates: list[Gate]
    exercises: list[tuple[str | None, int]]  # (label, cell index) of each {exercise}, in order


def parse_notebook(nb, name: str) -> Structure:
    """Classify every cell of an instructor notebook; :class:`FormatError` if the format is broken."""
    roles: list[str] = []
    gate_of: list[Gate | None] = []
    gates: list[Gate] = []
    exercises: list[tuple[str | None, int]] = []
    gate: Gate | None = None
    for index, cell in enumerate(nb.cells):
        text = source_of(cell)
        if near := near_miss_markers(text):
            raise FormatError(name, index, f"a line that looks like a solution marker but is not one exactly "
                                           f"({near[0].strip()!r}); write {BEGIN_MARKER!r} / {END_MARKER!r} "
                                           "(three #, capitals, plain spaces)")
        if cell.cell_type == "markdown":
            try:
                kind = gate_directive(text)
            except ValueError as exc:
                raise FormatError(name, index, str(exc)) from None
            if kind and kind[0] == "start":
                if gate is not None:
                    raise FormatError(name, index, f"{{solution-start}} {kind[1]} opens a gate inside the "
                                                   f"gate of {gate.label} opened at cell index {gate.start}")
                gate = Gate(kind[1], index, -1)
                roles.append(GATE_START)
                gate_of.append(gate)
                continue
            if kind and kind[0] == "end":
                if gate is None:
                    raise FormatError(name, index, "{solution-end} without a {solution-start} before it")
                gate.end = index
                gates.append(gate)
                roles.append(GATE_END)
                gate_of.append(gate)
                gate = None
                continue
            names = {d.name for d in directives_in(text)}
            if "solution" in names:
                raise FormatError(name, index, "an ungated {solution} directive; use {solution-start} / {solution-end}")
            if any(line.strip() in (BEGIN_MARKER, END_MARKER) for line in text.split("\n")):
                raise FormatError(name, index, "a solution marker in a markdown cell")
            if found := solution_like(text):
                raise FormatError(name, index, f"a solution directive that is not a gate cell ({found[0]!r}); "
                                               "a gate is a markdown cell holding only a {solution-start} "
                                               "<label> or a {solution-end} directive, with its fence at "
                                               "the start of a line")
            if gate is None:
                for d in directives_in(text):
                    if d.name in EXERCISE_NAMES:
                        exercises.append((d.options.get("label"), index))
            roles.append(PLAIN if gate is None else GATE_MARKDOWN)
        elif cell.cell_type == "code":
            if has_marker(text):
                if gate is None:
                    raise FormatError(name, index, "a solution marker outside a solution gate "
                                                   "({solution-start} ... {solution-end})")
                try:
                    marker_regions(text)
                except ValueError as exc:
                    raise FormatError(name, index, str(exc)) from None
                roles.append(MARKED_CODE)
            else:
                roles.append(PLAIN if gate is None else GATE_CODE)
        else:  # raw cells
            if has_marker(text):
                raise FormatError(name, index, "a solution marker in a raw cell")
            roles.append(PLAIN if gate is None else GATE_MARKDOWN)
        gate_of.append(gate)
        if gate is not None:
            gate.cells.append(index)
    if gate is not None:
        raise FormatError(name, gate.start, f"the gate of {gate.label} is never closed by {{solution-end}}")
    return Structure(roles, gate_of, gates, exercises)


def gated_glue_shown(nb, structure: Structure, name: str) -> list[FormatError]:
    """Values glued in a cell inside a solution gate and shown in the text outside the gates:
    computed from the solution, the student edition would print them. One error per value,
    naming the cell that computes it."""
    gated: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(nb.cells):
        gate = structure.gate_of[index]
        if gate is not None and cell.cell_type == "code":
            for key in glued_keys(cell):
                gated.setdefault(key, (index, gate.label))
    errors = []
    for index, cell in enumerate(nb.cells):
        if structure.roles[index] == PLAIN and cell.cell_type == "markdown":
            for key in sorted(glue_uses(source_of(cell)) & set(gated)):
                where, label = gated[key]
                errors.append(FormatError(name, where, f"the glued value {key!r} is computed in this cell, inside "
                                                       f"the solution gate of {label}, and shown outside the gate "
                                                       f"(cell index {index}): the student edition would print a "
                                                       "number of the solution; compute it in a cell outside the "
                                                       "gate"))
    return errors


# ---------------------------------------------------------------------------------------------
# Glue values and bibliography, for plain Markdown
# ---------------------------------------------------------------------------------------------

GLUE_PREFIX = "application/papermill.record/"


def glue_values(nb) -> dict[str, str]:
    """The ``text/plain`` of every value glued in the notebook's stored outputs, by name."""
    values: dict[str, str] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = output.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            prefix = meta.get("mime_prefix", "")
            data = output.get("data", {})
            text = data.get(prefix + "text/plain", data.get("text/plain"))
            if text is not None:
                values[meta["name"]] = "".join(text) if isinstance(text, list) else text
    return values


def format_glued(text: str, fmt: str) -> str:
    """Format a glued ``text/plain`` the way myst-nb's ``{glue:text}`` does."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt == "":
        return str(value)
    kind = fmt[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt)


def read_bib(path: Path) -> dict[str, str]:
    """``key -> "Author Year"`` (``"A and B"``, ``"A et al."``) from a simple BibTeX file."""
    refs: dict[str, str] = {}
    if not path.exists():
        return refs
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", text, re.S):
        key, body = m.group(1), m.group(2)
        author = re.search(r"\bauthor\s*=\s*\{(.*)\}\s*,?\s*$", body, re.M)
        year = re.search(r"\byear\s*=\s*\{?(\d{4})", body)
        names = []
        if author:
            for person in re.split(r"\s+and\s+", author.group(1)):
                person = person.strip()
                if person.startswith("{") and person.endswith("}"):  # a corporate author, kept whole
                    names.append(re.sub(r"[{}\\]", "", person).strip())
                    continue
                surname = person.split(",")[0] if "," in person else person.split()[-1] if person.split() else person
                names.append(re.sub(r"[{}\\']", "", surname).strip())
        if "others" in names[1:]:  # BibTeX's "and others" means et al.
            names = [names[0], "", ""]
        who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2
               else f"{names[0]} et al." if names else key)
        refs[key] = f"{who} {year.group(1)}" if year else who
    return refs


# ---------------------------------------------------------------------------------------------
# MyST -> plain Markdown
# ---------------------------------------------------------------------------------------------

ADMONITION_TITLES = {"note": "Note", "tip": "Tip", "warning": "Warning", "important": "Important",
                     "caution": "Caution", "hint": "Hint", "seealso": "See also", "attention": "Attention",
                     "danger": "Danger", "error": "Error", "admonition": "", "dropdown": "Details",
                     "margin": "Note", "sidebar": "Note", "topic": ""}
CODE_DIRECTIVES = {"code", "code-block", "sourcecode", "code-cell", "literalinclude"}
DROPPED_DIRECTIVES = {"solution-start", "solution-end", "exercise-end", "bibliography", "toctree",
                      "tableofcontents", "glue:figure", "raw", "only"}


@dataclass
class MarkdownContext:
    """What conversion needs to know about the chapter."""

    glue: dict[str, str] = field(default_factory=dict)
    bib: dict[str, str] = field(default_factory=dict)
    doc_titles: dict[str, str] = field(default_factory=dict)
    exercise_prefix: str = ""                     # "2." in a numbered chapter 2, "" otherwise
    exercise_numbers: dict[str, str] = field(default_factory=dict)  # label -> "2.1"
    counter: int = 0
    problems: list[str] = field(default_factory=list)
    # The words the conversion writes itself (the Chinese student edition passes its own).
    exercise_word: str = "Exercise"
    admonition_titles: dict[str, str] = field(default_factory=lambda: dict(ADMONITION_TITLES))

    def next_exercise_number(self) -> str:
        self.counter += 1
        return f"{self.exercise_prefix}{self.counter}"


_ROLE_OR_CODE = re.compile(r"\{(?P<role>[A-Za-z][\w:+-]*)\}`(?P<content>[^`]*)`|(?P<ticks>`+)(?P<code>.+?)(?P=ticks)")


def _explicit(content: str) -> tuple[str | None, str]:
    """Split ``text <target>`` into (text, target); (None, content) without a target."""
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", content.strip(), re.S)
    return (m.group(1).strip(), m.group(2).strip()) if m and m.group(1).strip() else (None, content.strip())


def _role(role: str, content: str, ctx: MarkdownContext) -> str:
    if role in ("glue", "glue:", "glue:any", "glue:text", "glue:md"):
        key, fmt = (content.rsplit(":", 1) if role == "glue:text" and ":" in content else (content, ""))
        key = key.split("::")[-1]
        if key not in ctx.glue:
            ctx.problems.append(f"glue value {key!r} is not in the notebook's outputs")
            return f"`{key}`"
        raw = ctx.glue[key]
        return format_glued(raw, fmt) if role == "glue:text" else (format_glued(raw, "") if role == "glue:md" else raw)
    if role.startswith("cite"):
        keys = [k.strip() for k in content.split(",") if k.strip()]
        if role in ("cite:t", "cite:ts", "cite:author"):
            parts = []
            for k in keys:
                who, _, year = ctx.bib.get(k, k).rpartition(" ")
                parts.append(f"{who} ({year})" if who else ctx.bib.get(k, k))
            return "; ".join(parts)
        return "(" + "; ".join(ctx.bib.get(k, k) for k in keys) + ")"
    if role == "math":
        return f"${content}$"
    if role == "eq":
        return f"({content})"
    if role in ("doc", "ref", "numref", "term", "download", "any"):
        text, target = _explicit(content)
        if text is not None:
            return re.sub(r"\s*%s|\s*\{number\}|\s*\{name\}", "", text) if role == "numref" else text
        if role == "doc":
            stem = Path(target).stem
            return ctx.doc_titles.get(stem, stem)
        if target in ctx.exercise_numbers:
            return f"{ctx.exercise_word} {ctx.exercise_numbers[target]}"
        return target
    text, _ = _explicit(content)
    return text if text is not None else content


def convert_inline(line: str, ctx: MarkdownContext) -> str:
    """Replace the MyST roles of one line, leaving code spans alone."""
    def sub(m: re.Match) -> str:
        if m["role"] is None:
            return m.group(0)
        return _role(m["role"], m["content"], ctx)
    return _ROLE_OR_CODE.sub(sub, line)


def _quote(lines: list[str]) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in lines]


def _directive(d: Directive, ctx: MarkdownContext) -> list[str]:
    body = to_plain_markdown("\n".join(d.body), ctx).split("\n") if d.body else []
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    arg = convert_inline(d.argument, ctx)
    if d.name in ("exercise", "exercise-start"):
        if "nonumber" in d.options:
            head = f"**{ctx.exercise_word}"
        else:
            number = ctx.next_exercise_number()
            head = f"**{ctx.exercise_word} {number}"
        head += f": {arg}**" if arg else "**"
        return [head, ""] + body
    if d.name in DROPPED_DIRECTIVES:
        return []
    if d.name in ADMONITION_TITLES:
        title = arg or ctx.admonition_titles.get(d.name, ADMONITION_TITLES[d.name])
        return _quote(([f"**{title}**", ""] if title else []) + body)
    if d.name in ("figure", "image"):
        alt = d.options.get("alt", "figure")
        lines = [f"![{alt}]({d.argument.strip()})"]
        if body:
            lines += [""] + [f"*{' '.join(line.strip() for line in body if line.strip())}*"]
        return lines
    if d.name == "math":
        return ["$$"] + [line for line in d.body if line.strip()] + ["$$"]
    if d.name in CODE_DIRECTIVES:
        return [f"```{d.argument.strip()}"] + d.body + ["```"]
    if d.name in ("glue:md", "glue:math", "glue", "glue:any"):
        return [_role("glue:md", d.argument.strip(), ctx)]
    return ([f"**{arg}**", ""] if arg else []) + body


def to_plain_markdown(text: str, ctx: MarkdownContext) -> str:
    """MyST markdown to Markdown that plain JupyterLab renders (see the module docstring)."""
    out: list[str] = []
    for kind, block in split_blocks(text):
        if kind == "directive":
            out.extend(_directive(block, ctx))
        elif kind == "code":
            out.extend(block)
        else:
            line = str(block)
            if re.match(r"^\s*\([\w:.-]+\)=\s*$", line) or re.match(r"^%", line):
                continue  # a MyST target or comment
            line = re.sub(r"^(\s*\$\$)\s*\([\w:.-]+\)\s*$", r"\1", line)  # $$ (label)
            out.append(convert_inline(line, ctx))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Stubs back to solutions (tests, sample submissions)
# ---------------------------------------------------------------------------------------------

_STUB = re.compile(r'^(?P<indent>[ \t]*)raise NotImplementedError\("(?P<label>[\w.:-]+): replace this line with your code"\)$')


def solutions_by_label(nb, name: str = "notebook") -> dict[str, list[list[str]]]:
    """The marked solution regions of an instructor notebook: label -> regions in order."""
    structure = parse_notebook(nb, name)
    found: dict[str, list[list[str]]] = {}
    for index, cell in enumerate(nb.cells):
        if structure.roles[index] == MARKED_CODE:
            source = source_of(cell)
            lines = source.split("\n")
            for region in marker_regions(source):
                found.setdefault(structure.gate_of[index].label, []).append(lines[region.begin + 1:region.end])
    return found


def fill_stubs(student_nb, solutions: dict[str, list[list[str]]], labels=None):
    """A copy of a student notebook with the stubs of ``labels`` (all if None) replaced by
    the given solution regions, as a student who solved them would hand it in."""
    import copy

    nb = copy.deepcopy(student_nb)
    used: dict[str, int] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines, out = source_of(cell).split("\n"), []
        for line in lines:
            m = _STUB.match(line)
            if m and (labels is None or m["label"] in labels) and m["label"] in solutions:
                if out and out[-1].strip() == "# YOUR CODE HERE":
                    out.pop()
                n = used.get(m["label"], 0)
                used[m["label"]] = n + 1
                out.extend(solutions[m["label"]][n])
            else:
                out.append(line)
        cell.source = "\n".join(out)
    return nb
