"""The course in two languages: what Sphinx's gettext translation needs for this book.

The Chinese edition is built from the same notebooks with ``language: zh_CN`` and the catalogs in
``locales/zh_CN/LC_MESSAGES/book/<page>.po`` (``bash scripts/build.sh zh``); only prose is
translated, code, outputs, figures and glued numbers are shared. This extension, loaded by both
editions, does the following:

- **Display math is not a message.** A translated ``math_block`` renders as ``\\[::\\]``, and math
  is the same in both languages, so math blocks are marked untranslatable (extraction and
  translation both honour that) before the Locale transform runs.
- **Exercise titles are messages.** sphinx-exercise parses a title (the directive's argument)
  into a subtitle node without a source, which gettext skips; it gets its source, line and raw
  text here, so it is extracted and translated like any heading. Solution titles, which
  sphinx-exercise copies from its registry of untranslated exercise nodes, are translated when
  they are resolved.
- **Glue keys in translations.** Sphinx parses each translated message as a document of its own,
  which has no glue data, so a same-page ``{glue:text}`key``` would fail. Before a message is
  parsed, its same-page keys are written as ``<notebook>.ipynb::key``, the form myst-nb looks up
  across pages; the catalogs keep the short form that the English source uses.
- **A language switch on every page** of the instructor website: a link to the same page in the
  other language (the Chinese edition lives under ``zh/`` of the English site), and
  ``<link rel="alternate" hreflang=...>`` for both.
- **Figures' alt text** (set in the drawing cell's metadata) is extracted too (the Locale
  transform translates it).
- **The Chinese site's page downloads** (``_sources/``) hold the Markdown in Chinese.
- **The parts of the table of contents** (``_toc.yml``'s captions) are translated too, and the
  Chinese PDF prints chapters as "1 逻辑回归" rather than "Chapter 1" (babel is English there).
"""

from __future__ import annotations

import os
import re
from html import escape

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.transforms import i18n as sphinx_i18n

from sphinx_exercise.nodes import exercise_subtitle

# The site's languages: Sphinx's language code -> (folder under the English site, hreflang,
# the switch's text, written in the language it leads to).
LANGUAGES = {
    "en": ("", "en", "English"),
    "zh_CN": ("zh/", "zh-CN", "简体中文"),
}
SWITCH_TO = {"en": "zh_CN", "zh_CN": "en"}

GLUE_ROLE = re.compile(r"(\{glue(?::[a-z]+)?\}`)([^`:]+(?::[^`]*)?)`")


def site_language(config) -> str:
    """``en`` or ``zh_CN`` (Sphinx's ``language``; ``None`` and ``en_*`` mean English)."""
    language = config.language or "en"
    if language not in LANGUAGES:
        return "en"
    return language


def page_catalog(app, docname: str):
    """The translations of one page (``gettext``-style ``catalog.gettext(message)``)."""
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    dirs = [os.path.join(app.srcdir, folder) for folder in app.config.locale_dirs]
    catalog, _ = init_locale(dirs, app.config.language, docname_to_domain(docname, app.config.gettext_compact))
    return catalog


class MathIsNotAMessage(SphinxTransform):
    """Display math keeps its source in every language: not extracted, never translated."""

    default_priority = 5  # before the Locale transform (20)

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False


class ExerciseTitlesAreMessages(SphinxTransform):
    """An exercise's title (sphinx-exercise's subtitle node) becomes a translatable message."""

    default_priority = 5

    def apply(self, **kwargs) -> None:
        for subtitle in self.document.findall(exercise_subtitle):
            holder = subtitle.parent
            while holder is not None and not holder.source:
                holder = holder.parent
            subtitle.source = holder.source if holder is not None else self.document["source"]
            subtitle.line = holder.line if holder is not None else 0
            subtitle.rawsource = subtitle.astext()


class ExerciseTitlesForGettext(SphinxPostTransform):
    """The gettext builder reads doctrees after sphinx-exercise has folded each title into a new
    heading without a source (post-transform 20): keep a copy of the title it can extract."""

    default_priority = 1
    builders = ("gettext",)

    def run(self, **kwargs) -> None:
        for subtitle in list(self.document.findall(exercise_subtitle)):
            if not subtitle.rawsource:
                continue
            copy = nodes.paragraph(subtitle.rawsource, subtitle.rawsource)
            copy.source, copy.line = subtitle.source, subtitle.line
            copy.uid = getattr(subtitle, "uid", "")  # the gettext catalog skips nodes without one
            exercise = subtitle.parent.parent
            exercise += copy


class TranslateTocCaptions(SphinxTransform):
    """The parts' captions of ``_toc.yml`` (in the sidebar and the PDF): sphinx-external-toc adds
    its toctrees after the Locale transform (at 100), so they are translated here, from the root
    page's catalog, where gettext extracts them."""

    default_priority = 101

    def apply(self, **kwargs) -> None:
        if site_language(self.config) == "en":
            return
        from sphinx import addnodes

        toctrees = [node for node in self.document.findall(addnodes.toctree) if node.get("rawcaption")]
        if not toctrees:
            return
        catalog = page_catalog(self.app, self.env.docname)
        for node in toctrees:
            translated = catalog.gettext(node["rawcaption"])
            if translated and translated != node["rawcaption"]:
                node["caption"] = translated


class FigureAltTextsForGettext(SphinxPostTransform):
    """A figure's alt text (the drawing cell's ``mystnb.image.alt`` metadata) is prose too, and
    the Locale transform translates it (the image nodes of stored outputs exist when it runs).
    But for the gettext builder myst-nb then keeps only the text/plain rendering of each output
    (its post-transform at 4), so the images are gone when the messages are extracted: keep a
    copy of each alt text where gettext sees it."""

    default_priority = 3
    builders = ("gettext",)

    def run(self, **kwargs) -> None:
        for image in list(self.document.findall(nodes.image)):
            if not image.get("alt") or not hasattr(image, "uid"):
                continue
            bundle = image.parent  # the output's mime bundle, which myst-nb reduces to text/plain
            while bundle is not None and bundle.get("nb_element") != "mime_bundle":
                bundle = bundle.parent
            anchor = bundle if bundle is not None and bundle.parent is not None else image
            copy = nodes.paragraph(image["alt"], image["alt"])
            copy.source, copy.line, copy.uid = image.source, image.line, image.uid
            anchor.parent.insert(anchor.parent.index(anchor), copy)


def glue_keys_across_pages(source: str, source_path: str) -> str:
    """``{glue:text}`key:fmt``` -> ``{glue:text}`<notebook>::key:fmt``` for a same-page key.

    ``source_path`` is the node's source (a notebook path, possibly with ``:line:<translated>``
    appended by Sphinx); keys that already name a page are left as they are.
    """
    if ".ipynb" not in source_path:
        return source
    notebook = os.path.basename(source_path.split(".ipynb")[0]) + ".ipynb"

    def rewrite(match: re.Match) -> str:
        role, body = match.group(1), match.group(2)
        if "::" in body:
            return match.group(0)
        if role == "{glue:text}`" and ":" not in body:
            body += ":s"  # the role's own default, written out: "page::key" alone splits at its last ":"
        return f"{role}{notebook}::{body}`"

    return GLUE_ROLE.sub(rewrite, source)


_original_publish_msgstr = sphinx_i18n.publish_msgstr


def _publish_msgstr(app, source, source_path, source_line, config, settings):
    return _original_publish_msgstr(app, glue_keys_across_pages(source, source_path), source_path,
                                    source_line, config, settings)


def translate_solution_titles(app, doctree, docname) -> None:
    """Solution titles name their exercise from sphinx-exercise's untranslated copy: translate
    the exercise title inside each "Solution to Exercise N (title)" with the page's catalog
    (sphinx-exercise writes the title as a text node of its own)."""
    if site_language(app.config) == "en":
        return
    from sphinx_exercise.nodes import solution_node

    for node in doctree.findall(solution_node):
        if not node.children:
            continue
        # The page the solution (and its exercise) is on: in the LaTeX build every page is one
        # document, resolved as the root page.
        catalog = page_catalog(app, node.get("docname") or docname)
        for text in list(node.children[0].findall(nodes.Text)):
            value = str(text)
            translated = catalog.gettext(value.strip()) if value.strip() else value
            if translated and translated != value.strip():
                text.parent.replace(text, nodes.Text(value.replace(value.strip(), translated)))


def language_links(app, pagename, templatename, context, doctree) -> None:
    """The switch to the same page in the other language, and hreflang alternates."""
    if app.builder.format != "html" or getattr(app.config, "course_edition", "instructor") != "instructor":
        return
    here = site_language(app.config)
    there = SWITCH_TO[here]
    root = "../" * pagename.count("/")
    page = f"{pagename}.html"
    # From the English site down into zh/, or from zh/ up to the English site.
    to_there = root + (LANGUAGES[there][0] if here == "en" else "../") + page
    to_here = root + page
    alternates = (f'<link rel="alternate" hreflang="{LANGUAGES[here][1]}" href="{escape(to_here)}" />\n'
                  f'<link rel="alternate" hreflang="{LANGUAGES[there][1]}" href="{escape(to_there)}" />\n')
    context["metatags"] = context.get("metatags", "") + alternates
    if "body" in context and context["body"]:
        _, hreflang, label = LANGUAGES[there]
        switch = (f'<p class="course-language-switch"><a class="reference external" href="{escape(to_there)}" '
                  f'hreflang="{hreflang}" lang="{hreflang}">{label}</a></p>\n')
        context["body"] = switch + context["body"]


CHINESE_LATEX = r"""
% course_languages: no English words in the Chinese edition's headings (babel stays English, for
% hyphenation of the English code and names): "1 逻辑回归" rather than "Chapter 1", "附录 A"
\AtBeginDocument{\renewcommand{\chaptername}{}\renewcommand{\partname}{}\renewcommand{\appendixname}{附录}\renewcommand{\contentsname}{目录}}
"""


def chinese_latex(app, config) -> None:
    if site_language(config) != "en":
        config.latex_elements = dict(config.latex_elements or {})
        config.latex_elements["preamble"] = config.latex_elements.get("preamble", "") + CHINESE_LATEX


def chinese_notebook_sources(app, exception) -> None:
    """The Chinese site's ".ipynb" and ".md" downloads: the pages with their Markdown in Chinese
    (from the catalogs; code and stored outputs as in English), so that a reader who runs a
    chapter in Jupyter reads what the Chinese page shows."""
    if exception is not None or app.builder.format != "html" or site_language(app.config) == "en":
        return
    import sys
    from pathlib import Path

    import nbformat

    sys.path.insert(0, str(app.srcdir))
    from course_lib.tools import translations  # noqa: E402 (the working copy's)

    sources = Path(app.outdir) / "_sources"
    for path in sorted(sources.rglob("*.ipynb")) + sorted(sources.rglob("*.md")):
        page = path.relative_to(sources).with_suffix("").as_posix()
        if not (translations.CATALOGS / f"{page}.po").exists():
            continue
        translator = translations.MarkdownTranslator(translations.catalog_messages(page))
        if path.suffix == ".md":
            path.write_text(translator.translate(path.read_text(encoding="utf-8")), encoding="utf-8")
            continue
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = translator.translate(cell.source)
        nbformat.write(nb, str(path))


def setup(app):
    sphinx_i18n.publish_msgstr = _publish_msgstr
    app.add_transform(MathIsNotAMessage)
    app.add_transform(ExerciseTitlesAreMessages)
    app.add_post_transform(ExerciseTitlesForGettext)
    app.add_transform(TranslateTocCaptions)
    app.add_post_transform(FigureAltTextsForGettext)
    app.connect("config-inited", chinese_latex, priority=901)
    app.connect("doctree-resolved", translate_solution_titles)
    app.connect("html-page-context", language_links, priority=600)
    app.connect("build-finished", chinese_notebook_sources)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
