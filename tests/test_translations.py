"""The Chinese edition cannot drift from the English: the catalogs are complete, current and keep
every formula, glued number and reference; the student edition's Chinese comes from them.

The drift check builds the English message templates with Sphinx's gettext builder (about 20 s)
and compares every message with ``locales/zh_CN``: an English sentence changed without its
translation (fuzzy after ``translations update``) or never translated fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import scheme
from course_lib.tools import site_check, translations
from course_lib.tools.release import ANSWER_PLACEHOLDER_BY_LANGUAGE, release

ROOT = translations.ROOT
CHAPTERS = ["warmup", "ch1_logistic_regression", "ch2_backprop", "ch3_cross_entropy", "ch4_prior_bias",
            "ch5_softmax"]


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    return translations.build_templates(tmp_path_factory.mktemp("gettext"))


def test_every_message_is_translated_current_and_keeps_its_markup(templates):
    report = translations.check(templates)
    assert report.messages > 1000  # the whole book: about 1,500 messages in December 2026
    assert report.problems == [], "\n".join(report.problems[:20]) + (
        "\n(update with `python -m course_lib translations update`, translate, see CONTRIBUTING.md)")


def test_every_page_of_the_book_has_a_catalog(templates):
    pages = {path.relative_to(templates).with_suffix("").as_posix() for path in templates.rglob("*.pot")}
    expected = {f"book/{Path(page).stem}" for page in site_check.toc_pages()}
    assert expected <= pages
    for page in expected:
        assert (translations.CATALOGS / f"{page}.po").exists(), page


def _catalog_copy(tmp_path: Path, templates: Path) -> tuple[Path, Path]:
    """A copy of the catalogs and of one page's template, to break on purpose."""
    catalogs = tmp_path / "catalogs"
    shutil.copytree(translations.CATALOGS, catalogs)
    one = tmp_path / "templates" / "book"
    one.mkdir(parents=True)
    shutil.copyfile(templates / "book" / "intro.pot", one / "intro.pot")
    return catalogs, tmp_path / "templates"


def test_a_changed_english_sentence_fails_the_check(tmp_path, templates):
    from babel.messages.pofile import read_po, write_po

    catalogs, pots = _catalog_copy(tmp_path, templates)
    assert translations.check(pots, catalogs).problems == []
    pot = pots / "book" / "intro.pot"
    with open(pot, "rb") as handle:
        template = read_po(handle)
    message = next(m for m in template if m.id and len(translations.prose_words(m.id)) > 5)
    template.delete(message.id)
    template.add(message.id.replace(" ", "  ", 1) + " A new clause.")
    with open(pot, "wb") as handle:
        write_po(handle, template)
    problems = translations.check(pots, catalogs).problems
    assert len(problems) == 1 and "untranslated" in problems[0]


def test_fuzzy_lost_markup_and_copied_english_fail_the_check(tmp_path, templates):
    from babel.messages.pofile import read_po, write_po

    catalogs, pots = _catalog_copy(tmp_path, templates)
    po = catalogs / "book" / "intro.po"
    with open(po, "rb") as handle:
        catalog = read_po(handle)
    with_role = [m for m in catalog if m.id and "{cite:p}" in m.id and len(translations.prose_words(m.id)) > 5]
    plain = [m for m in catalog if m.id and m not in with_role and len(translations.prose_words(m.id)) > 5]
    with_role[0].string = with_role[0].string.replace("{cite:p}", "{cite:t}")
    plain[0].flags.add("fuzzy")
    plain[1].string = plain[1].id
    with open(po, "wb") as handle:
        write_po(handle, catalog)
    problems = translations.check(pots, catalogs).problems
    kinds = sorted(problem.split(": ")[1] for problem in problems)
    assert len(problems) == 3, problems
    assert any("math, code or references changed" in kind for kind in kinds)
    assert any(kind.startswith("fuzzy") for kind in kinds)
    assert any("copied" in kind for kind in kinds)


def test_markup_is_compared_not_the_words_around_it():
    english = "The loss is {glue:text}`loss:.4f` at $s = 0$ (see {doc}`Chapter 3 <ch3_cross_entropy>`, `bce`)."
    assert translations.markup("损失在 $s = 0$ 处为 {glue:text}`loss:.4f`（见 {doc}`第 3 章 <ch3_cross_entropy>`，`bce`）。") \
        == translations.markup(english)
    assert translations.markup("损失为 {glue:text}`loss:.3f`") != translations.markup("loss {glue:text}`loss:.4f`")
    assert translations.markup("在 $s=0$ 处") != translations.markup("at $s = 0$")
    # a Chinese twin of a glued English phrase stands for its key
    assert translations.markup("{glue:text}`delta_direction_zh`") == translations.markup("{glue:text}`delta_direction`")
    # a role's name inside inline code is code, not a role
    assert translations.markup("an `{exercise}` directive and a label `ex-1`") == \
        translations.markup("一条 `{exercise}` 指令和标签 `ex-1`")
    assert translations.nothing_to_translate("$\\mathbf{x} \\in \\mathbb{R}^d$")
    assert translations.nothing_to_translate("`ch1_logistic_regression.ipynb`")
    assert not translations.nothing_to_translate("the weights")


def test_glued_keys_of_a_translation_name_their_notebook():
    import importlib.util
    spec = importlib.util.spec_from_file_location("course_languages", ROOT / "book" / "_ext" / "course_languages.py")
    languages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(languages)
    source = "权重 {glue:text}`w1:.4f`，{glue:text}`data_name_zh`，{glue:text}`other.ipynb::k:.2f`"
    assert languages.glue_keys_across_pages(source, "/x/book/ch1_logistic_regression.ipynb:12:<translated>") == (
        "权重 {glue:text}`ch1_logistic_regression.ipynb::w1:.4f`，"
        "{glue:text}`ch1_logistic_regression.ipynb::data_name_zh:s`，{glue:text}`other.ipynb::k:.2f`")
    assert languages.glue_keys_across_pages(source, "/x/book/notation.md") == source


@pytest.mark.parametrize("page", CHAPTERS)
def test_the_student_edition_finds_every_message_of_its_chapter(page):
    """The Chinese student edition looks paragraphs, items, headings, cells and titles up as the
    messages Sphinx extracted: with an identity catalog every block of prose is found."""
    identity = {translations._key(m.id): m.id for m in translations._read(translations.CATALOGS / "book" / f"{page}.po")
                if m.id}
    translator = translations.MarkdownTranslator(identity)
    nb = nbformat.read(str(ROOT / "book" / f"{page}.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            translator.translate(cell.source)
    assert translator.missed == []


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    release(ROOT / "book", out / "en")
    release(ROOT / "book", out / "zh", language="zh_CN")
    return out / "en", out / "zh"


@pytest.mark.parametrize("page", CHAPTERS)
def test_the_chinese_student_edition_is_the_english_one_in_chinese(editions, page):
    english, chinese = (nbformat.read(str(folder / f"{page}.ipynb"), as_version=4) for folder in editions)
    assert [c.cell_type for c in chinese.cells] == [c.cell_type for c in english.cells]
    assert [c.get("id") for c in chinese.cells] == [c.get("id") for c in english.cells]
    for en, zh in zip(english.cells, chinese.cells):
        assert zh.get("metadata", {}) == en.get("metadata", {})
        if en.cell_type == "code":
            assert zh.source == en.source  # code, stubs and self-checks as in English
        elif translations.prose_words(en.source) and en.source != ANSWER_PLACEHOLDER_BY_LANGUAGE["en"]:
            assert translations.CJK.search(zh.source), f"{page}: a markdown cell without Chinese: {zh.source[:120]!r}"
    assert "学生版" in chinese.cells[0].source
    answers = [c for c in chinese.cells if c.get("metadata", {}).get("course", {}).get("answer")]
    assert all(c.source == ANSWER_PLACEHOLDER_BY_LANGUAGE["zh_CN"] for c in answers)


def test_the_grader_reads_the_chinese_placeholder_as_no_answer(editions):
    """A Chinese student notebook handed in untouched has no prose answers, like an English one."""
    _, chinese = editions
    nb = nbformat.read(str(chinese / "warmup.ipynb"), as_version=4)
    answers = scheme.collect_answers(nb, scheme.scheme_for("warmup", ROOT / "book"))
    assert answers and all(text == "" and how == "found" for _, text, how in answers), answers
    answer_cells = [c for c in nb.cells if c.get("metadata", {}).get("course", {}).get("answer")]
    answer_cells[0].source = "我的答案。"
    assert scheme.collect_answers(nb, scheme.scheme_for("warmup", ROOT / "book"))[0][1] == "我的答案。"


def test_release_stops_when_a_chapter_is_not_fully_translated(tmp_path):
    from babel.messages.pofile import read_po, write_po

    catalogs = tmp_path / "catalogs"
    shutil.copytree(translations.CATALOGS, catalogs)
    po = catalogs / "book" / "warmup.po"
    with open(po, "rb") as handle:
        catalog = read_po(handle)
    message = next(m for m in catalog if m.id and len(translations.prose_words(m.id)) > 5)
    message.string = ""
    with open(po, "wb") as handle:
        write_po(handle, catalog)
    with pytest.raises(ValueError, match="no zh_CN translation"):
        release(ROOT / "book", tmp_path / "out", language="zh_CN", catalogs=catalogs)
    assert not (tmp_path / "out").exists()


def test_the_chinese_student_edition_leaks_no_solution(editions):
    """The release's leak check (every line of every solution) on the Chinese student notebooks."""
    _, chinese = editions
    secrets = site_check.book_secrets(ROOT / "book")
    text = "\n".join(cell.source for path in sorted(chinese.glob("*.ipynb"))
                     for cell in nbformat.read(str(path), as_version=4).cells)
    assert secrets and site_check.leaks_in_text(text, secrets) == []
