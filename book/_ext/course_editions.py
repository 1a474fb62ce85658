"""The course's editions and downloads, as a small Sphinx extension (loaded by ``_config.yml``).

- **Student edition** (``COURSE_EDITION=student``, set by ``bash scripts/build.sh student``):
  every solution is removed from the doctree right after sphinx-exercise has merged the gated
  ``{solution-start}``/``{solution-end}`` cells into one solution node (a transform of priority
  11; sphinx-exercise merges at 10). Exercises, their numbers and references stay; the search
  index and the LaTeX never see the solutions. (sphinx-exercise's own ``hide_solutions`` crashes
  on gated solutions in 1.2.1.) The page sources (``_sources/``, the ".ipynb" download) are
  replaced after the build by the student notebooks that ``python -m course_lib release`` writes.
- **Downloads** (HTML): the course bundle (``course_lib.tools.bundle``: notebooks, a wheel of
  course_lib, requirements.txt, README) is written to ``downloads/`` at the end of every HTML
  build, and the PDF is copied there when ``bash scripts/build.sh pdf`` has built it. Each
  page's download menu gets entries for them, and the role ``{course-download}`bundle``` (or
  ``pdf``) links them from the text.
- **PDF** (LaTeX): the pages before the first numbered chapter and after the last one print as
  unnumbered chapters (on the website they are unnumbered too), so chapter 1 is chapter 1 and the
  exercise numbers match; in the instructor PDF the solutions move to an appendix at the end,
  each under its "Solution to Exercise N.M.K" title; in the student PDF they are gone.
- The tag ``student_edition`` or ``instructor_edition`` is set, for the few sentences that
  differ (``{only}`` directive).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

logger = logging.getLogger(__name__)

EDITION_ENV = "COURSE_EDITION"
EDITIONS = ("instructor", "student")
DOWNLOADS = "downloads"
# File names of what the reader downloads (the same stem for the book and the bundle).
STEM = "logistic-regression-bce"


def file_names(edition: str, language: str = "en") -> dict[str, str]:
    """The names of the downloads of an edition: {"bundle": ..., "pdf": ...}.

    The Chinese edition has its own PDF (``-zh``) and shares the English bundle (the notebooks
    and their code are the same), which stays in the English site's ``downloads/``."""
    suffix = "" if edition == "instructor" else f"-{edition}"
    pdf_suffix = suffix + ("" if language == "en" else "-zh")
    return {"bundle": f"{STEM}-course{suffix}.zip", "pdf": f"{STEM}{pdf_suffix}.pdf"}


def _language(config) -> str:
    """``en`` or ``zh_CN``: the language of the edition being built."""
    return "zh_CN" if (config.language or "en").startswith("zh") else "en"


def download_path(config, what: str) -> str:
    """Where a download lies, relative to the site's root: the Chinese site (``zh/`` of the
    English one) links the English site's bundle."""
    names = file_names(_edition(config), _language(config))
    shared = what == "bundle" and _language(config) != "en"
    return ("../" if shared else "") + f"{DOWNLOADS}/{names[what]}"


# Words the extension writes itself, by language.
WORDS = {
    "en": {"solutions": "Solutions to the exercises",
           "solutions_intro": "The solution of every exercise, in the book's order; each box names its exercise by number.",
           "bundle": "course (.zip)", "bundle_tip": "Download the notebooks with course_lib, ready to install and run",
           "pdf": "book (.pdf)", "pdf_tip": "Download the whole book as a PDF"},
    "zh_CN": {"solutions": "练习解答",
              "solutions_intro": "按本书顺序列出每道练习的解答；每个框都标明了它所对应练习的编号。",
              "bundle": "课程（.zip）", "bundle_tip": "下载笔记本和 course_lib，安装后即可运行",
              "pdf": "本书（.pdf）", "pdf_tip": "下载整本书的 PDF"},
}


def _edition(config) -> str:
    edition = config.course_edition
    if edition not in EDITIONS:
        raise ValueError(f"{EDITION_ENV}={edition!r}: use one of {', '.join(EDITIONS)}")
    return edition


# ------------------------------------------------------------------------------- student edition
class RemoveSolutions(SphinxTransform):
    """Student edition: drop every solution node (with everything the gate held)."""

    default_priority = 11  # just after sphinx-exercise's MergeGatedSolutions (10)

    def apply(self, **kwargs) -> None:
        if _edition(self.config) != "student":
            return
        for kind in (solution_node, solution_start_node, solution_end_node):
            for node in list(self.document.findall(kind)):
                node.parent.remove(node)


# ------------------------------------------------------------------------------------ LaTeX/PDF
class ArrangeBookForLatex(SphinxPostTransform):
    """On the assembled LaTeX document: unnumbered front and back matter, solutions appendix."""

    default_priority = 30  # after sphinx-exercise resolved the solution titles (21)
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        if not self.document.get("docname") == self.config.root_doc:
            return
        # A long MyST table (over 30 rows: a longtable) gets "l" columns, one unbreakable line
        # per cell (the notation page's ran 940pt off the page): give its columns the widths of
        # its source (\X columns wrap).
        for table in list(self.document.findall(nodes.table)):
            if "colwidths-auto" in table["classes"]:
                table["classes"].remove("colwidths-auto")
            if "colwidths-given" not in table["classes"]:
                table["classes"].append("colwidths-given")
            # Wide tables of numbers (chapter 3's comparisons, the execution record) in a
            # smaller type with narrower gaps, so that a number like 2.061153618e-09 fits its column.
            columns = max((len(list(group.findall(nodes.colspec))) for group in table.findall(nodes.tgroup)),
                          default=0)
            if columns >= 6:
                size = r"\scriptsize" if columns >= 8 else r"\footnotesize"
                index = table.parent.index(table)
                table.parent.insert(index + 1, nodes.raw("", "\\endgroup\n", format="latex"))
                table.parent.insert(index, nodes.raw("", f"\\begingroup{size}\\setlength{{\\tabcolsep}}{{3pt}}\n",
                                                     format="latex"))
        numbered = {doc for doc, numbers in self.env.toc_secnumbers.items() if numbers}
        for start in list(self.document.findall(_start_of_file)):
            doc = start.get("docname")
            if doc is None:
                continue
            tex = r"\coursenumbered" if doc in numbered else r"\courseunnumbered"
            start.parent.insert(start.parent.index(start), nodes.raw("", tex + "\n", format="latex"))


class SolutionsToAppendix(SphinxPostTransform):
    """Instructor PDF: every solution moves, in the book's order, to an appendix chapter at the
    end of the last part (after sphinx-jupyterbook-latex has made the parts, priority 700)."""

    default_priority = 800
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        if not self.document.get("docname") == self.config.root_doc:
            return
        solutions = list(self.document.findall(solution_node))
        if not solutions:
            return
        for node in solutions:
            node.parent.remove(node)
        # A raw \chapter: the document's top-level sections print as parts here.
        words = WORDS[_language(self.config)]
        self.document += nodes.raw("", "\\appendix\\coursenumbered\n"
                                       f"\\chapter{{{words['solutions']}}}\\label{{course-solutions}}\n",
                                   format="latex")
        self.document += nodes.paragraph("", words["solutions_intro"])
        self.document.extend(solutions)


def _start_of_file(node) -> bool:
    return node.__class__.__name__ == "start_of_file"


LATEX_PREAMBLE = r"""
% course_editions: chapters without numbers outside the numbered part (as on the website)
\newcounter{coursesecnumdepth}
\setcounter{coursesecnumdepth}{\value{secnumdepth}}
\newcommand{\courseunnumbered}{\setcounter{secnumdepth}{-1}}
\newcommand{\coursenumbered}{\setcounter{secnumdepth}{\value{coursesecnumdepth}}}
% Long file names in tables (ch1_logistic_regression.ipynb) may break after an underscore
\let\courseunderscore\_
\renewcommand{\_}{\courseunderscore\allowbreak}
% DejaVu Sans Mono (code) has ᵀ and ᵢ but no ℓ: take that one from FreeSerif
\usepackage{newunicodechar}
\newfontfamily\coursefallbackfont{FreeSerif}
\newunicodechar{ℓ}{{\coursefallbackfont\symbol{"2113}}}
"""


# ------------------------------------------------------------------------------------- downloads
def course_download_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{course-download}`bundle``` or ``pdf``: a link to that download of the edition built."""
    what = text.strip()
    config = inliner.document.settings.env.config
    names = file_names(_edition(config), _language(config))
    if what not in names:
        message = inliner.reporter.error(f"course-download: unknown download {what!r} (bundle or pdf)",
                                         line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    node = course_download("", names[what], target=download_path(config, what))
    return [node], []


class course_download(nodes.literal):
    """A link to ``<target>`` (relative to the site's root) in HTML; the file name elsewhere."""


def visit_course_download_html(self, node):
    docname = self.builder.current_docname
    href = self.builder.get_target_uri(docname)
    depth = href.count("/")
    url = "../" * depth + node["target"]
    self.body.append(f'<a class="reference download external" href="{url}"><code class="docutils literal notranslate">')


def depart_course_download_html(self, node):
    self.body.append("</code></a>")


def visit_course_download_other(self, node):
    self.visit_literal(node)


def depart_course_download_other(self, node):
    self.depart_literal(node)


def add_download_buttons(app, pagename, templatename, context, doctree):
    """Entries in the theme's download menu: the course bundle and the PDF."""
    pathto = context["pathto"]
    words = WORDS[_language(app.config)]
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        group["buttons"].append({
            "type": "link", "url": pathto(download_path(app.config, "bundle"), 1), "text": words["bundle"],
            "tooltip": words["bundle_tip"], "icon": "fas fa-file-archive", "label": "download-course-bundle-button"})
        group["buttons"].append({
            "type": "link", "url": pathto(download_path(app.config, "pdf"), 1), "text": words["pdf"],
            "tooltip": words["pdf_tip"], "icon": "fas fa-book", "label": "download-book-pdf-button"})


def write_downloads(app, exception) -> None:
    """After an HTML build: the bundle, the PDF (if built) and the student sources."""
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    edition = _edition(app.config)
    names = file_names(edition, _language(app.config))
    out = Path(app.outdir) / DOWNLOADS
    out.mkdir(parents=True, exist_ok=True)
    if _language(app.config) == "en":  # the Chinese site links the English site's bundle
        _write_bundle(root, Path(app.outdir), edition, out / names["bundle"])
    pdf = root / "_build" / "pdf" / names["pdf"]
    if os.environ.get("COURSE_PDF_DIR"):
        pdf = Path(os.environ["COURSE_PDF_DIR"]) / names["pdf"]
    if pdf.exists():
        shutil.copyfile(pdf, out / names["pdf"])
    else:
        logger.info(f"course_editions: no {pdf} yet (bash scripts/build.sh pdf builds it); "
                    f"the PDF link of this site is dead until it is copied to {out}")


def _write_bundle(root: Path, outdir: Path, edition: str, target: Path) -> None:
    import sys
    sys.path.insert(0, str(root))
    from course_lib.tools import bundle  # noqa: E402 (the working copy's, like the notebooks')

    with tempfile.TemporaryDirectory(prefix="course-downloads-") as tmp:
        notebooks = None
        if edition == "student":
            notebooks = bundle.student_notebooks(root / "book", Path(tmp) / "student")
            replace_sources(outdir, notebooks)
        bundle.write_bundle(target, root=root, edition=edition, notebooks=notebooks)


def replace_sources(outdir: Path, student_dir: Path) -> None:
    """Student site: serve the student notebooks as the page sources (never the instructor's)."""
    sources = outdir / "_sources"
    for path in sources.rglob("*.ipynb"):
        student = student_dir / path.name
        if student.exists():
            shutil.copyfile(student, path)
        else:
            path.unlink()  # a notebook the release does not cover: no source at all


def config_inited(app, config) -> None:
    # The edition is also a Sphinx tag, for text that differs: ```{only} student_edition```.
    app.tags.add(f"{_edition(config)}_edition")
    config.latex_elements = dict(config.latex_elements or {})
    config.latex_elements["preamble"] = config.latex_elements.get("preamble", "") + LATEX_PREAMBLE


def setup(app):
    app.add_config_value("course_edition", os.environ.get(EDITION_ENV, "instructor"), "env")
    app.setup_extension("sphinx_exercise")
    app.add_transform(RemoveSolutions)
    app.add_post_transform(ArrangeBookForLatex)
    app.add_post_transform(SolutionsToAppendix)
    app.add_role("course-download", course_download_role)
    app.add_node(course_download,
                 html=(visit_course_download_html, depart_course_download_html),
                 singlehtml=(visit_course_download_html, depart_course_download_html),
                 latex=(visit_course_download_other, depart_course_download_other),
                 text=(visit_course_download_other, depart_course_download_other))
    app.connect("config-inited", config_inited, priority=900)
    app.connect("html-page-context", add_download_buttons, priority=502)
    app.connect("build-finished", write_downloads)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
