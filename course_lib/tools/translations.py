"""The translation catalogs of the Chinese edition: update them, check them, configure the build.

    python -m course_lib translations update    # after changing English prose: new/changed messages
    python -m course_lib translations check     # every message translated, none fuzzy, markup kept
    python -m course_lib translations config OUT.yml   # the Chinese edition's _config.yml

The English pages are the source. Sphinx's gettext builder extracts their prose, one message per
paragraph, heading, list item, table cell or exercise title (``book/_ext/course_languages.py``),
into one template per page; the catalogs ``locales/zh_CN/LC_MESSAGES/book/<page>.po`` hold the
Chinese for each message. ``update`` rebuilds the templates and merges them into the catalogs
(sphinx-intl): a new message arrives untranslated, a changed one arrives *fuzzy* with its old
translation as a suggestion, and a message with nothing to translate (only math, numbers, code or
references) is filled with itself. ``check`` fails while any message is untranslated or fuzzy,
while a translation changes the message's math, glued numbers, references, citations or code, and
while a translation of a sentence is a copy of its English: the README's test command runs it
(``tests/test_translations.py``), so an English sentence cannot change without its translation.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
# What the Chinese edition's configuration changes in _config.yml (title, author, language).
OVERRIDES = LOCALES / LANGUAGE / "config.yml"

# Markup a translation must keep exactly (as a multiset): roles with their targets (glue, ref,
# doc, numref, cite, eq, course-download, ...; the link text of {doc}`text <target>` is prose),
# inline math, inline code and the targets of Markdown links.
ROLE = re.compile(r"(?<!`)\{[a-zA-Z][\w:-]*\}`[^`]*`")
MATH = re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+\$")
CODE = re.compile(r"(?<![`}])`[^`]+`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
URL = re.compile(r"<?https?://[^\s>)]+>?")
# A word of English prose (two letters or more) in what is left after markup is removed.
WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A translation identical to its English is accepted for short labels (a table's header "lr",
# a name like "PyTorch"); a sentence copied unchanged is an untranslated message.
MAX_WORDS_LEFT_AS_IS = 3
# The glossary's first column names the English terms: in the Chinese edition too.
ENGLISH_KEPT = {"book/glossary.po"}


EXPLICIT_TITLE = re.compile(r"^(\{[^}]+\}`)[^`<]*?\s*(<[^`>]+>`)$")


# A glued value that is English text (chapter 4 glues a few phrases: "lower", "batch 2048 at lr
# 3e-3") has a Chinese twin glued next to it, ``<key>_zh``, which the translation uses instead.
CHINESE_TWIN = re.compile(r"^(\{glue(?::[a-z]+)?\}`)([^`:]+)_zh((?::[^`]*)?`)$")


def _role_key(role: str) -> str:
    """A role as a translation must keep it: the link text of ``{doc}`Chapter 3 <ch3>``` is
    prose (translated), its name and target are not; ``{glue:text}`key_zh``` stands for
    ``{glue:text}`key```."""
    match = EXPLICIT_TITLE.match(role)
    if match:
        return match.group(1) + match.group(2)
    twin = CHINESE_TWIN.match(role)
    return twin.group(1) + twin.group(2) + twin.group(3) if twin else role


def markup(text: str) -> Counter:
    """The roles, inline math and inline code of a message, with their counts."""
    found = Counter(_role_key(role) for role in ROLE.findall(text))
    rest = ROLE.sub(" ", text)
    found.update(f"math:{m}" for m in MATH.findall(rest))
    rest = MATH.sub(" ", rest)
    found.update(f"code:{c}" for c in CODE.findall(rest))
    found.update(f"link:{target}" for target in LINK.findall(rest))
    return found


FILE_NAME = re.compile(r"[\w./-]+\.(?:ipynb|md|py|csv|zip|pdf|txt|json|yml)\b")


def prose_words(text: str) -> list[str]:
    """The English words of a message outside its markup, links, file names and HTML."""
    rest = URL.sub(" ", text)
    rest = FILE_NAME.sub(" ", rest)
    rest = ROLE.sub(" ", rest)
    rest = MATH.sub(" ", rest)
    rest = CODE.sub(" ", rest)
    rest = re.sub(r"<[^>]+>", " ", rest)
    return WORD.findall(rest)


def nothing_to_translate(msgid: str) -> bool:
    """Only math, numbers, code, references or Chinese: the translation is the message itself."""
    return not prose_words(msgid)


@dataclass
class Report:
    messages: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, catalog: str, msgid: str, what: str) -> None:
        short = msgid if len(msgid) <= 90 else msgid[:87] + "..."
        self.problems.append(f"{catalog}: {what}: {short!r}")


def build_templates(out: Path) -> Path:
    """Run Sphinx's gettext builder on the English book; return the folder of .pot files."""
    out.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "--path-output", str(out),
               "--builder", "custom", "--custom-builder", "gettext", "-W", "-n", "--keep-going"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the gettext build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return out / "_build" / "gettext"


def _read(path: Path):
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        return read_po(handle, ignore_obsolete=True)


def check(templates: Path, catalogs: Path = CATALOGS) -> Report:
    """Compare every message of the templates with its catalog entry."""
    report = Report()
    pots = sorted(templates.rglob("*.pot"))
    if not pots:
        report.problems.append(f"no message templates under {templates}")
    for pot in pots:
        relative = pot.relative_to(templates).with_suffix(".po")
        po_path = catalogs / relative
        name = str(relative)
        if not po_path.exists():
            report.problems.append(f"{name}: no catalog (run: python -m course_lib translations update)")
            continue
        translations = {m.id: m for m in _read(po_path) if m.id}
        for message in _read(pot):
            if not message.id:
                continue
            report.messages += 1
            entry = translations.get(message.id)
            if entry is None or not entry.string:
                report.add(name, message.id, "untranslated")
                continue
            if entry.fuzzy:
                report.add(name, message.id, "fuzzy (the English changed after it was translated)")
                continue
            if markup(entry.string) != markup(message.id):
                missing = markup(message.id) - markup(entry.string)
                extra = markup(entry.string) - markup(message.id)
                detail = "; ".join(part for part in (
                    "lost " + ", ".join(sorted(missing)) if missing else "",
                    "added " + ", ".join(sorted(extra)) if extra else "") if part)
                report.add(name, message.id, f"math, code or references changed ({detail})")
            if (entry.string == message.id and len(prose_words(message.id)) > MAX_WORDS_LEFT_AS_IS
                    and not CJK.search(message.id) and name not in ENGLISH_KEPT):
                report.add(name, message.id, "the English copied, not translated")
    return report


def fill_nothing_to_translate(catalogs: Path = CATALOGS) -> int:
    """Give every message with nothing to translate itself as its translation."""
    from babel.messages.pofile import read_po, write_po

    filled = 0
    for po_path in sorted(catalogs.rglob("*.po")):
        with open(po_path, "rb") as handle:
            catalog = read_po(handle)
        changed = False
        for message in catalog:
            if message.id and nothing_to_translate(message.id) and (not message.string or message.fuzzy):
                message.string = message.id
                message.flags.discard("fuzzy")
                changed = True
                filled += 1
        if changed:
            with open(po_path, "wb") as handle:
                write_po(handle, catalog, width=0, include_previous=True)
    return filled


def update(work: Path) -> int:
    templates = build_templates(work)
    done = subprocess.run([sys.executable, "-m", "sphinx_intl", "update", "-p", str(templates),
                           "-l", LANGUAGE, "-d", str(LOCALES), "-w", "0"],
                          cwd=ROOT, capture_output=True, text=True)
    print(done.stdout.strip())
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    filled = fill_nothing_to_translate()
    print(f"{filled} messages with nothing to translate filled with themselves")
    report = check(templates)
    print(f"{report.messages} messages; {len(report.problems)} to translate or fix "
          "(python -m course_lib translations check lists them)")
    return 0


def edition_config(out: Path) -> Path:
    """Write the Chinese edition's _config.yml: the English one with OVERRIDES merged in."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    overrides = yaml.safe_load(OVERRIDES.read_text(encoding="utf-8"))

    def merge(base: dict, extra: dict) -> dict:
        merged = copy.deepcopy(base)
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = merge(merged[key], value)
            else:
                merged[key] = value
        return merged

    merged = merge(config, overrides)
    # Jupyter Book finds local extensions relative to the configuration file (everything else
    # relative to the book): name their folders absolutely, since this file lives elsewhere.
    extensions = merged.get("sphinx", {}).get("local_extensions") or {}
    for name, folder in extensions.items():
        extensions[name] = str((ROOT / folder).resolve()) + "/"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Written by python -m course_lib translations config: _config.yml with "
                   f"{OVERRIDES.relative_to(ROOT)} merged in. Do not edit.\n"
                   + yaml.safe_dump(merged, allow_unicode=True, sort_keys=False),
                   encoding="utf-8")
    return out


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="action")
    sub.add_parser("update", help="rebuild the message templates and merge them into the catalogs")
    checking = sub.add_parser("check", help="fail on untranslated, fuzzy or damaged messages")
    checking.add_argument("--templates", type=Path, default=None,
                          help="a folder of .pot files already built (default: build them now)")
    configure = sub.add_parser("config", help="write the Chinese edition's _config.yml")
    configure.add_argument("out", type=Path)


def main(args) -> int:
    if args.action == "config":
        print(edition_config(args.out))
        return 0
    with tempfile.TemporaryDirectory(prefix="course-gettext-") as tmp:
        if args.action == "update":
            return update(Path(tmp))
        templates = args.templates or build_templates(Path(tmp))
        report = check(templates)
        for problem in report.problems:
            print(problem)
        print(f"{report.messages} messages, {len(report.problems)} problems")
        return 1 if report.problems else 0


# ------------------------------------------------------------------ the Chinese student edition
def catalog_messages(page: str, catalogs: Path = CATALOGS) -> dict[str, str]:
    """The translated, non-fuzzy messages of one page's catalog (``book/ch1_...``), keyed by the
    message with its whitespace collapsed (how a paragraph's lines join into one message)."""
    path = catalogs / f"{page}.po"
    if not path.exists():
        raise FileNotFoundError(f"no catalog {path} (run: python -m course_lib translations update)")
    return {_key(m.id): m.string for m in _read(path) if m.id and m.string and not m.fuzzy}


def _key(text: str) -> str:
    return " ".join(text.split())


# Directives whose body is not prose (code, math, tables of data, generated content).
OPAQUE_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "literalinclude", "math", "csv-table",
                     "glue", "glue:md", "glue:math", "glue:any", "glue:figure", "bibliography", "toctree",
                     "tableofcontents", "raw", "solution-start", "solution-end", "exercise-end"}
_HEADING = re.compile(r"^(?P<prefix>\s{0,3}#{1,6}\s+)(?P<text>.*?)\s*$")
_ITEM = re.compile(r"^(?P<prefix>\s*(?:[-*+]|\d+[.)])\s+)(?P<text>.*)$")
_QUOTE = re.compile(r"^(?P<prefix>\s*>\s?)(?P<text>.*)$")
_STRUCTURAL = re.compile(r"^\s*(?:\([\w:.-]+\)=\s*$|%|<!--|\$\$|\|)")


class MarkdownTranslator:
    """Translate the MyST source of markdown cells with a page's catalog, block by block.

    A block (a paragraph, a heading, a list item, a quoted paragraph, a table cell, an exercise
    title) is looked up as the message Sphinx extracted from it; math, code and directives that
    hold no prose are copied. Blocks with English prose that the catalog lacks are collected in
    ``missed``: the release reports them, and the tests require none for the committed catalogs.
    """

    def __init__(self, messages: dict[str, str]):
        self.messages = messages
        self.missed: list[str] = []

    def lookup(self, text: str) -> str | None:
        key = _key(text)
        if not key:
            return None
        found = self.messages.get(key)
        if found is None and prose_words(key):
            self.missed.append(key)
        return found

    def translate(self, source: str) -> str:
        return "\n".join(self._lines(source.split("\n")))

    def _lines(self, lines: list[str]) -> list[str]:
        from course_lib.tools import _notebook_format as fmt

        out: list[str] = []
        block: list[str] = []   # the lines of the paragraph or list item being read
        prefix = ""

        def flush() -> None:
            nonlocal block, prefix
            if block:
                text = " ".join(line.strip() for line in block)
                translated = self.lookup(text)
                if translated is None:
                    out.extend(([prefix + block[0].lstrip()] if prefix else [block[0]]) + block[1:])
                else:
                    out.append(prefix + translated)
            block, prefix = [], ""

        i = 0
        while i < len(lines):
            line = lines[i]
            directive = fmt._fence_open(line, fmt._DIRECTIVE_OPEN)
            code = None if directive else fmt._fence_open(line, fmt._CODE_OPEN)
            if directive or code:
                flush()
                j = fmt._closing_line(lines, i, (directive or code)["fence"])
                inner = lines[i + 1:j]
                closing = lines[j:j + 1]
                if code or directive["name"].lower() in OPAQUE_DIRECTIVES:
                    out.extend([line] + inner + closing)
                else:
                    argument = directive["arg"]
                    if argument and not argument.startswith((":", "{")):
                        translated = self.lookup(argument)
                        if translated is not None:
                            line = line[:directive.start("arg")] + translated + line[directive.end("arg"):]
                    k = 0
                    if inner and inner[0].strip() == "---":
                        end = next((n for n in range(1, len(inner)) if inner[n].strip() == "---"), None)
                        k = end + 1 if end is not None else 0
                    while k < len(inner) and fmt._OPTION.match(inner[k]):
                        k += 1
                    out.extend([line] + inner[:k] + self._lines(inner[k:]) + closing)
                i = j + 1
                continue
            stripped = line.strip()
            if stripped.startswith("$$"):   # display math: copied up to its closing $$
                flush()
                j = i
                if not (len(stripped) > 2 and stripped.endswith("$$")):
                    j = next((n for n in range(i + 1, len(lines)) if lines[n].strip().endswith("$$")), len(lines) - 1)
                out.extend(lines[i:j + 1])
                i = j + 1
                continue
            if not stripped:
                flush()
                out.append(line)
            elif (m := _HEADING.match(line)):
                flush()
                translated = self.lookup(m["text"])
                out.append(m["prefix"] + translated if translated is not None else line)
            elif stripped.startswith("|"):
                flush()
                out.append(self._table_row(line))
            elif _STRUCTURAL.match(line):
                flush()
                out.append(line)
            elif (m := _ITEM.match(line)):
                flush()
                prefix, block = m["prefix"], [m["text"]]
            elif (m := _QUOTE.match(line)) and not block:
                flush()
                prefix, block = m["prefix"], [m["text"]]
            elif (m := _QUOTE.match(line)) and prefix.strip().startswith(">"):
                block.append(m["text"])
            else:
                block.append(line)
            i += 1
        flush()
        return out

    def _table_row(self, line: str) -> str:
        if re.match(r"^\s*\|[\s:|-]+\|\s*$", line):  # the header's separator
            return line
        cells = re.split(r"(?<!\\)\|", line)
        inner = cells[1:-1] if len(cells) >= 3 else cells
        done = []
        for cell in inner:
            translated = self.lookup(cell) if cell.strip() else None
            done.append(f" {translated} " if translated is not None else cell)
        return "|".join([cells[0]] + done + [cells[-1]]) if len(cells) >= 3 else "|".join(done)
