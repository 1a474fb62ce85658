"""The built website needs no other host: no remote scripts, styles, fonts, images or frames.

The site is built once per test session from the stored notebook outputs (execute off), into a
temporary folder (see :func:`course_lib.tools.site_check.built_site`). A real browser check of
the same promise, with the network cut off, is in ``test_site.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course_lib.tools import site_check

PAGES = site_check.toc_pages()
LOCAL_MATHJAX = "_static/mathjax/tex-chtml.js"


@pytest.fixture(scope="module")
def site() -> Path:
    return site_check.built_site()


def test_no_remote_resources_anywhere_in_the_site(site):
    problems = site_check.remote_references(site)
    assert problems == {}, "remote resources would fail offline:\n" + "\n".join(
        f"{page}: {found}" for page, found in problems.items())


@pytest.mark.parametrize("page", PAGES)
def test_page_with_math_loads_mathjax_from_the_site(site, page):
    # Sphinx adds MathJax only to the pages that contain math.
    text = (site / page).read_text(encoding="utf-8")
    sources = re.findall(r'<script[^>]*\ssrc="([^"]*mathjax[^"]*)"', text, re.I)
    if re.search(r'class="math[ "]', text):
        assert sources, f"{page} shows math but loads no MathJax"
    for src in sources:
        assert not re.match(r"(https?:)?//", src), f"{page} loads MathJax from {src}"
        assert src.endswith(LOCAL_MATHJAX), f"{page} loads an unexpected MathJax: {src}"
        assert (site / page).parent.joinpath(src).resolve().is_file(), f"{src} is missing"


def test_mathjax_bundle_has_its_fonts_and_extensions(site):
    mathjax = site / "_static" / "mathjax"
    assert any((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")), \
        "MathJax's CHTML fonts are missing: math would render with fallback fonts"
    assert (mathjax / "input" / "tex" / "extensions" / "ams.js").is_file()


@pytest.mark.parametrize("page", PAGES)
def test_no_live_code_button_that_would_fetch_thebe(site, page):
    # sphinx-thebe's script holds the CDN address of thebe and fetches it only when a reader
    # presses the live-code button; with launch_buttons.thebe off there is no such button.
    text = (site / page).read_text(encoding="utf-8")
    assert "thebe-launch-button" not in text
    assert 'class="thebe-cell' not in text


def test_scanner_finds_every_kind_of_remote_resource(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.example/a.css">'
        '<link rel="preload" as="font" href="//fonts.example/f.woff2">'
        '<link rel="icon" href="http://example.org/favicon.ico">'
        '<link rel="next" href="https://example.org/next.html">'
        '<script src="https://cdn.example/x.js"></script>'
        '<style>@import url("https://fonts.example/css");</style></head>'
        '<body><img src="https://example.org/i.png"><img srcset="a.png 1x, https://e.org/b.png 2x">'
        '<iframe src="https://example.org/embed"></iframe><div style="background:url(http://e.org/x.png)"></div>'
        '<a href="https://doi.org/10.1000/182">a citation, fine</a>'
        '<img src="../_images/local.png"></body></html>', encoding="utf-8")
    (tmp_path / "style.css").write_text("@import 'https://fonts.example/x.css'; a{}", encoding="utf-8")
    (tmp_path / "ok.css").write_text("b{background:url(data:image/png;base64,AAAA)} c{background:url(img.png)}",
                                     encoding="utf-8")
    found = site_check.remote_references(tmp_path)
    assert set(found) == {"page.html", "style.css"}
    assert len(found["page.html"]) == 9, found["page.html"]
    assert not any("doi.org" in item or "next.html" in item or "local.png" in item
                   for item in found["page.html"])
