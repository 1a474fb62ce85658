"""Build, serve and inspect the website: the shared helpers of the site tests and the benchmark.

- :func:`build_book` runs ``jupyter-book build`` into a folder of your choice;
  :func:`built_site` does it once per process (in a temporary folder), adds the Chinese edition
  under ``zh/`` (:func:`add_chinese_edition`) and returns the HTML folder.
- :func:`toc_pages` lists the pages ``_toc.yml`` names, as paths of their HTML files.
- :func:`serve` serves a folder on 127.0.0.1 (a free port) in a background thread. Besides the
  site it answers :data:`HARNESS_PATH`: a small page that loads one page of the site in an iframe,
  waits for MathJax and reports what a reader would see (typeset math, loaded images, collapsed
  solutions, computed styles) as JSON in its own DOM, which ``chromium --dump-dom`` prints. The
  harness is never written into the site.
- :func:`chromium` runs headless Chromium once; :func:`inspect_page` and :func:`screenshot` use it.
- :func:`remote_requests` reads a Chromium net log and lists the requests a page made to any host
  other than the local server; :func:`remote_references` scans built files for remote resources.
- :func:`built_student_site` builds the student website (``COURSE_EDITION=student``) once per
  process; :func:`book_secrets`, :func:`leaks_in_text`, :func:`secret_words`,
  :func:`search_index_terms` and :func:`downloadable_texts` are the leak check that
  tests/test_student_site.py and tests/test_pdf.py apply to pages, the search index, downloads
  and the PDFs' text.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HARNESS_PATH = "/__site_check__/harness.html"
# Reuse an existing build instead of building (handy while editing the tests).
SITE_ENV = "COURSE_SITE_HTML"
STUDENT_SITE_ENV = "COURSE_STUDENT_SITE_HTML"

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    "--disable-features=AutofillServerCommunication,Translate,MediaRouter,OptimizationHints",
    # Only the local server resolves: a page that needed the internet fails here as it would
    # in a classroom without one.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
INSTALL_HINT = "install it with `apt-get update && apt-get install -y chromium` (Debian/Ubuntu)"


# ----------------------------------------------------------------------------------- building
def jupyter_book_command() -> list[str]:
    """The ``jupyter-book`` next to this Python (the virtual environment's), else the one on PATH."""
    local = Path(sys.executable).with_name("jupyter-book")
    return [str(local)] if local.exists() else ["jupyter-book"]


def build_book(path_output: Path, *, config: Path | None = None, strict: bool = False,
               root: Path = ROOT, edition: str | None = None) -> Path:
    """Build the book from ``root`` into ``path_output`` and return its ``_build/html`` folder.

    ``config`` replaces ``_config.yml`` (e.g. a copy that forces execution); ``strict`` adds
    ``-W`` (warnings are errors); ``edition="student"`` builds the student website (see
    ``book/_ext/course_editions.py``). Raises ``RuntimeError`` with the build's last output lines
    when the build fails.
    """
    env = dict(os.environ)
    if edition is not None:
        env["COURSE_EDITION"] = edition
    command = [*jupyter_book_command(), "build", str(root), "--path-output", str(path_output),
               "-n", "--keep-going"]
    if strict:
        command.append("-W")
    if config is not None:
        command += ["--config", str(config)]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}):\n{tail}")
    return Path(path_output) / "_build" / "html"


def _given_or_built(env: str, prefix: str, build) -> Path:
    """The HTML folder named by the environment variable ``env``, or ``build(folder)`` into a
    temporary folder removed at exit."""
    if os.environ.get(env):
        html_dir = Path(os.environ[env])
        if not (html_dir / "index.html").exists():
            raise FileNotFoundError(f"{env}={html_dir} holds no index.html")
        return html_dir
    out = Path(tempfile.mkdtemp(prefix=prefix))
    import atexit
    atexit.register(shutil.rmtree, out, True)
    return build(out)


def add_chinese_edition(html_dir: Path, root: Path = ROOT) -> Path:
    """Build the Chinese edition (``locales/zh_CN``, -W) and place it in ``html_dir/zh/``, as
    ``bash scripts/build.sh`` does; return ``html_dir``."""
    from course_lib.tools import translations

    with tempfile.TemporaryDirectory(prefix="course-site-zh-") as tmp:
        config = translations.edition_config(Path(tmp) / "config" / "_config.yml")
        zh_html = build_book(Path(tmp) / "zh", config=config, strict=True, root=root)
        shutil.rmtree(html_dir / "zh", ignore_errors=True)
        shutil.copytree(zh_html, html_dir / "zh")
    return html_dir


@functools.lru_cache(maxsize=1)
def built_site() -> Path:
    """The book built once per process from the stored outputs, both languages (the Chinese
    edition in ``zh/``), or ``$COURSE_SITE_HTML``."""
    return _given_or_built(SITE_ENV, "course-site-", lambda out: add_chinese_edition(build_book(out)))


@functools.lru_cache(maxsize=1)
def built_student_site() -> Path:
    """The student website built once per process, or ``$COURSE_STUDENT_SITE_HTML``."""
    return _given_or_built(STUDENT_SITE_ENV, "course-student-site-",
                           lambda out: build_book(out, edition="student", strict=True))


def toc_pages(root: Path = ROOT) -> list[str]:
    """The HTML path of every page that ``_toc.yml`` lists, root first, in reading order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", name) + ".html" for name in names]


def chapter_pages(root: Path = ROOT) -> list[str]:
    """The pages built from notebooks (chapters and the warm-up)."""
    return [page for page in toc_pages(root)
            if (root / page).with_suffix(".ipynb").exists()]


# ----------------------------------------------------------------------------------- serving
HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>site check</title>
<style>body{margin:0} iframe{border:0;width:100vw;height:100vh;display:block}
#site-check-result{display:none}</style></head>
<body><pre id="site-check-result">pending</pre><iframe id="page"></iframe>
<script>
const params = new URLSearchParams(location.search);
const mode = params.get("mode") || "light";
localStorage.setItem("mode", mode);
localStorage.setItem("theme", mode);
const frame = document.getElementById("page");
const out = document.getElementById("site-check-result");
// A narrow viewport (a phone): the page gets a frame that wide (headless Chromium's own window
// is at least 500 px wide).
if (params.get("width")) frame.style.width = params.get("width") + "px";
frame.addEventListener("load", async () => {
  const win = frame.contentWindow, doc = frame.contentDocument;
  const result = {mathjax: false};
  try {
    if (win.MathJax && win.MathJax.startup && win.MathJax.startup.promise) {
      await win.MathJax.startup.promise;
      result.mathjax = true;
    }
  } catch (err) { result.mathjax_error = String(err); }
  await new Promise(resolve => setTimeout(resolve, 300));
  const mathNodes = [...doc.querySelectorAll("span.math, div.math")];
  result.math_nodes = mathNodes.length;
  result.untypeset = mathNodes.filter(e => !e.querySelector("mjx-container"))
                              .map(e => e.textContent.slice(0, 80));
  result.mjx = doc.querySelectorAll("mjx-container").length;
  result.merror = [...doc.querySelectorAll("mjx-merror, merror, [data-mjx-error]")]
                    .map(e => (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 80));
  const main = (doc.querySelector("main") || doc.body).cloneNode(true);
  main.querySelectorAll("pre, code, script, style, mjx-container, textarea, .highlight")
      .forEach(e => e.remove());
  const text = main.textContent;
  result.raw_tex = [...text.matchAll(/(\\\\\\(|\\\\\\[|\\$\\$|\\\\begin\\{)/g)]
                     .map(m => text.slice(Math.max(0, m.index - 30), m.index + 40));
  result.images = [...doc.images].map(img => ({
    src: img.currentSrc || img.src, attr_src: img.getAttribute("src"),
    alt: img.getAttribute("alt"), complete: img.complete,
    width: img.naturalWidth, height: img.naturalHeight,
    in_article: !!img.closest("article"),
    background: win.getComputedStyle(img).backgroundColor,
    filter: win.getComputedStyle(img).filter}));
  result.solutions = [...doc.querySelectorAll(".solution")].map(s => {
    const shown = [...s.querySelectorAll(".admonition-title ~ *")].filter(e => {
      const style = win.getComputedStyle(e);
      return style.display !== "none" && style.visibility !== "hidden"
             && e.getBoundingClientRect().height > 0;
    });
    return {id: s.id, dropdown: s.classList.contains("dropdown"),
            hidden: s.classList.contains("toggle-hidden"),
            open_details: s.querySelectorAll("details[open]").length + (s.matches("details[open]") ? 1 : 0),
            visible_parts: shown.length};
  });
  // Narrow screens: how far the page scrolls sideways, and code blocks whose lines are cut off
  // (wider than their box, so the reader must scroll inside them to see a line's end).
  result.page_overflow = doc.documentElement.scrollWidth - doc.documentElement.clientWidth;
  result.viewport_width = doc.documentElement.clientWidth;
  result.too_wide = [...doc.querySelectorAll("article *")]
      .filter(e => e.getBoundingClientRect().right > result.viewport_width + 1
                   && ![...e.children].some(c => c.getBoundingClientRect().right > result.viewport_width + 1))
      .slice(0, 5).map(e => e.tagName.toLowerCase() + "." + [...e.classList].join(".") + ": "
                            + (e.textContent || "").slice(0, 60));
  result.cut_code = [...doc.querySelectorAll("article pre")]
      .filter(p => p.scrollWidth > p.clientWidth + 1)
      .map(p => p.textContent.split("\\n").sort((a, b) => b.length - a.length)[0].slice(0, 80));
  result.theme = doc.documentElement.getAttribute("data-theme");
  result.title = doc.title;
  out.textContent = JSON.stringify(result);
});
frame.src = params.get("page");
</script></body></html>
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        if urlsplit(self.path).path == HARNESS_PATH:
            body = HARNESS.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 in a thread; yields the base URL (``http://127.0.0.1:PORT``)."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------------- chromium
def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium(url: str, *args: str, budget_ms: int = 15000, timeout: float = 90) -> str:
    """Run headless Chromium on ``url`` with a fresh profile and return its standard output.

    ``budget_ms`` is Chromium's virtual time budget: timers and network run until the page is
    idle or that much virtual time has passed, so MathJax and the search can finish.
    """
    executable = find_chromium()
    if executable is None:
        raise FileNotFoundError(f"Chromium is not installed; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="course-chromium-") as profile:
        command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={budget_ms}", *args, url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode} on {url}:\n{result.stderr[-2000:]}")
    return result.stdout


def dump_dom(url: str, budget_ms: int = 15000) -> str:
    """The page's DOM after its scripts ran, as HTML."""
    return chromium(url, "--dump-dom", budget_ms=budget_ms)


def screenshot(url: str, path: Path, width: int = 1280, height: int = 2000,
               budget_ms: int = 15000) -> Path:
    """Save a PNG screenshot of ``url`` (the top ``width`` x ``height`` pixels)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chromium(url, f"--screenshot={path}", f"--window-size={width},{height}", budget_ms=budget_ms)
    return path


def inspect_page(base_url: str, page: str, mode: str = "light", budget_ms: int = 20000,
                 net_log: Path | None = None, width: int = 1280) -> dict:
    """What a reader sees on ``page`` (a path under the site), reported by the harness.

    With ``net_log``, Chromium also writes every network request to that file (see
    :func:`remote_requests`).
    """
    url = f"{base_url}{HARNESS_PATH}?mode={mode}&width={width}&page=/{page}"
    args = ["--dump-dom", f"--window-size={max(width, 1280)},2000"]
    if net_log is not None:
        args.append(f"--log-net-log={net_log}")
    dom = chromium(url, *args, budget_ms=budget_ms)
    match = re.search(r'<pre id="site-check-result">(.*?)</pre>', dom, re.S)
    if match is None or match.group(1) == "pending":
        raise RuntimeError(f"the page {page} did not finish loading in {budget_ms} ms of virtual time")
    return json.loads(html.unescape(match.group(1)))


def remote_requests(net_log: Path, base_url: str) -> list[str]:
    """URLs that pages served from ``base_url`` requested from any other host.

    A request counts as the page's when the page's origin started it (scripts, styles, fonts,
    images, fetches, frames) or when it is made for the page's site (navigations). Chromium's own
    background traffic (updates, accounts, autofill) has no initiating origin and no site, so it
    is not counted.
    """
    data = json.loads(Path(net_log).read_text(encoding="utf-8", errors="replace"))
    types = {value: key for key, value in data["constants"]["logEventTypes"].items()}
    local = urlsplit(base_url)
    site = f"{local.scheme}://{local.hostname}"
    found = []
    for event in data["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        from_page = (params.get("initiator", "").startswith(site)
                     or f"site={site}" in params.get("site_for_cookies", ""))
        if from_page and urlsplit(params["url"]).hostname != local.hostname:
            found.append(params["url"])
    return sorted(set(found))


# ----------------------------------------------------------------------------------- static scan
# Attributes that make a browser fetch something as soon as the page loads.
_LOADING_ATTRIBUTES = {
    "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "frame": ("src",),
    "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
    "track": ("src",), "embed": ("src",), "object": ("data",), "input": ("src",),
    "image": ("href", "xlink:href"), "use": ("href", "xlink:href"),
}
# <link rel=...> kinds that are plain navigation, not fetched resources.
_NAVIGATION_RELS = {"canonical", "alternate", "next", "prev", "index", "search", "author",
                    "license", "help", "bookmark", "me", "home", "up", "first", "last", "copyright"}
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.I)
_CSS_REMOTE = re.compile(r"""url\(\s*['"]?\s*(?:https?:)?//|@import\s+(?:url\(\s*)?['"]?\s*(?:https?:)?//""", re.I)


class _ResourceParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        names = list(_LOADING_ATTRIBUTES.get(tag, ()))
        if tag == "link":
            rels = set((values.get("rel") or "").lower().split())
            if not rels or rels - _NAVIGATION_RELS:
                names.append("href")
        for name in names:
            value = values.get(name) or ""
            candidates = [part.strip().split(" ")[0] for part in value.split(",")] \
                if name == "srcset" else [value]
            self.found.extend(f"<{tag} {name}={c}>" for c in candidates if _REMOTE.match(c))
        style = values.get("style") or ""
        if _CSS_REMOTE.search(style):
            self.found.append(f"<{tag} style={style[:80]}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style and _CSS_REMOTE.search(data):
            self.found.append(f"<style> {_CSS_REMOTE.search(data).group(0)}")


def remote_references(html_dir: Path) -> dict[str, list[str]]:
    """Remote resources referenced by the built site: {file: [what]} (empty when offline-clean).

    HTML: tags that fetch on load (scripts, stylesheets, icons, images, frames, media, inline
    styles); plain ``<a href>`` links are navigation and are allowed. CSS and JS files:
    ``url(http...)`` and remote ``@import``.
    """
    problems: dict[str, list[str]] = {}
    for path in sorted(Path(html_dir).rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(html_dir).as_posix()
        if path.suffix == ".html":
            parser = _ResourceParser()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            found = parser.found
        elif path.suffix in {".css", ".js"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found = [m.group(0) for m in _CSS_REMOTE.finditer(text)]
        else:
            continue
        if found:
            problems[rel] = found
    return problems


# ----------------------------------------------------------------------------------- leak check
# The student website and PDF must hold no solution. What is secret is decided as in
# tests/test_release.py's leak check (independently of the release's own parser): every line
# from a ``{solution-start}`` line to the next ``{solution-end}`` line, whatever the cell, and
# every line strictly between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; lines that also
# appear outside the solutions (the ``def`` line and docstring of a stub, ``import numpy``) are
# not secret.
_GATE_START = re.compile(r"(?i)^\s*(`{3,}|~{3,}|:{3,})\s*\{\s*solution-start")
_GATE_END = re.compile(r"(?i)^\s*(`{3,}|~{3,}|:{3,})\s*\{\s*solution-end")
BEGIN_MARKER, END_MARKER = "### BEGIN SOLUTION", "### END SOLUTION"
# A secret line is looked for in rendered text by its letters and digits only (markup, math
# delimiters and code highlighting differ between a source line and its HTML); lines shorter
# than this are too generic to be a finding (``return s``, ``)``).
MIN_SECRET_CHARS = 16


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def secret_and_public_lines(nb) -> tuple[set[str], set[str]]:
    """Stripped secret and public lines of an instructor notebook (a dict as json.load gives)."""
    secret, public = set(), set()
    in_gate = False
    for cell in nb["cells"]:
        lines = _source(cell).split("\n")
        code = cell.get("cell_type") == "code"
        marked = code and any(line.strip() == BEGIN_MARKER for line in lines)
        in_region = False
        for line in lines:
            if not code and _GATE_START.match(line):
                in_gate = True
            stripped = line.strip()
            target = public
            if stripped in (BEGIN_MARKER, END_MARKER):
                in_region = stripped == BEGIN_MARKER
                target = secret
            elif in_region or (in_gate and not marked):
                target = secret
            if stripped:
                target.add(stripped)
            if not code and _GATE_END.match(line):
                in_gate = False
    return secret, public


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def book_secrets(book_dir: Path, public_extra: list[str] = ()) -> dict[str, str]:
    """{letters-only form: the secret line} over every notebook of ``book_dir``, minus what any
    notebook, page or ``public_extra`` text shows outside the solutions (so never a false alarm
    for a line the student edition keeps)."""
    secrets, public = {}, []
    for path in sorted(Path(book_dir).glob("*.ipynb")):
        secret, pub = secret_and_public_lines(json.loads(path.read_text(encoding="utf-8")))
        public.extend(pub)
        for line in secret:
            key = _letters(line)
            if len(key) >= MIN_SECRET_CHARS:
                secrets.setdefault(key, line)
    public_text = _letters("\n".join([*public, *public_extra,
                                       *(p.read_text(encoding="utf-8") for p in Path(book_dir).glob("*.md"))]))
    return {key: line for key, line in secrets.items() if key not in public_text}


class _TextParser(html.parser.HTMLParser):
    def __init__(self, skipped=("script", "style")):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._skipped = skipped

    def handle_starttag(self, tag, attrs):
        if tag in self._skipped:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in self._skipped and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(text: str) -> str:
    """The text of an HTML page (no tags, scripts or styles)."""
    parser = _TextParser()
    parser.feed(text)
    return " ".join(parser.parts)


def prose_text(text: str) -> str:
    """The text of an HTML page without scripts, styles and preformatted blocks (code and its
    printed output, which both languages share)."""
    parser = _TextParser(skipped=("script", "style", "pre"))
    parser.feed(text)
    return " ".join(" ".join(parser.parts).split())


def leaks_in_text(text: str, secrets: dict[str, str]) -> list[str]:
    """The secret lines whose letters appear, in order, in ``text``."""
    letters = _letters(text)
    return sorted(line for key, line in secrets.items() if key in letters)


def downloadable_texts(html_dir: Path):
    """(name, text) of everything a reader can download from the site: the page sources, every
    notebook, and each member of each zip in it (the course bundle)."""
    import zipfile
    for path in sorted(Path(html_dir).rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(html_dir).as_posix()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name.endswith((".ipynb", ".md", ".txt", ".py", ".csv")):
                        yield f"{rel}!{name}", zf.read(name).decode("utf-8", errors="replace")
                    elif name.endswith(".whl"):
                        import io
                        with zipfile.ZipFile(io.BytesIO(zf.read(name))) as wheel:
                            for member in wheel.namelist():
                                yield f"{rel}!{name}!{member}", wheel.read(member).decode("utf-8", errors="replace")
        elif rel.startswith("_sources/") or path.suffix in (".ipynb", ".md", ".txt", ".py"):
            yield rel, path.read_text(encoding="utf-8", errors="replace")


def search_index_terms(html_dir: Path) -> set[str]:
    """The (stemmed) words of the site's search index."""
    text = (Path(html_dir) / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("(") + 1:text.rindex(")")])
    return set(data.get("terms", {})) | set(data.get("titleterms", {}))


def secret_words(book_dir: Path, public_extra: list[str] = ()) -> set[str]:
    """Stems (Sphinx's English stemmer) of words that occur only inside solutions."""
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish(None).stem  # type: ignore[arg-type]
    secret_text, public_text = [], list(public_extra)
    for path in sorted(Path(book_dir).glob("*.ipynb")):
        secret, public = secret_and_public_lines(json.loads(path.read_text(encoding="utf-8")))
        secret_text.extend(secret)
        public_text.extend(public)
        public_text.extend(_outputs_text(json.loads(path.read_text(encoding="utf-8"))))
    # the pages and the bibliography (the reference list and the citations print it)
    public_text.extend(p.read_text(encoding="utf-8") for pattern in ("*.md", "*.bib")
                       for p in Path(book_dir).glob(pattern))
    def words(lines, shortest):
        return set(re.findall(rf"[a-z]{{{shortest},}}", "\n".join(lines).lower()))

    public = words(public_text, 2)
    return {stem(w) for w in words(secret_text, 5)} - ({stem(w) for w in public} | public)


def _outputs_text(nb) -> list[str]:
    """The text outputs of every code cell (what the page shows besides the sources)."""
    texts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            for value in [output.get("text", "")] + [output.get("data", {}).get(k, "")
                                                     for k in ("text/plain", "text/markdown", "text/html")]:
                texts.append("".join(value) if isinstance(value, list) else value)
    return texts
