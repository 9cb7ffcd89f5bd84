"""The browser check: it catches each kind of breakage on a tiny site, and passes the built book.

The Chromium tests skip when no Chromium is installed; `.ci/run` installs
Debian's `chromium`, so CI runs them. The built-book test runs after
tests/test_book.py has built the book (pytest runs files in name order).
"""

import base64
import os
from pathlib import Path

import pytest

from vatnb import bookext, browsercheck

ROOT = Path(__file__).resolve().parent.parent
BUILT = ROOT / "book" / "_build" / "html"
CHROMIUM = browsercheck.find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

# A 1 x 1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
MATHJAX = '<script defer src="_static/mathjax/es5/tex-mml-chtml.js"></script>'

GOOD_PAGE = f"""<!DOCTYPE html><html><head><title>good</title>{MATHJAX}</head><body>
<h1 id="top">Good</h1>
<p><img src="pixel.png" alt="pixel"></p>
<p>Inline math <span class="math">\\(x^2 + \\alpha\\)</span>.</p>
<p><a href="bad.html">a page</a> <a href="#top">an anchor</a>
<a href="https://example.org/">an outside link loads nothing</a></p>
<pre>code may contain $\\alpha$ and \\( freely</pre>
</body></html>"""

BAD_PAGE = """<!DOCTYPE html><html><head><title>bad</title></head><body>
<p><img src="missing.png" alt="missing"></p>
<p><a href="nowhere.html">broken</a> <a href="index.html#no-such-anchor">bad anchor</a></p>
<p><span class="math">\\(y\\)</span> and raw $\\beta + 1$ in the text.</p>
<script>undefinedFunction();</script>
</body></html>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    (folder / "index.html").write_text(GOOD_PAGE)
    (folder / "bad.html").write_text(BAD_PAGE)
    (folder / "pixel.png").write_bytes(PIXEL)
    bookext.copy_mathjax(folder)
    return folder


@pytest.fixture(scope="module")
def site_report(site, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    return browsercheck.check_book(site, tmp_path_factory.mktemp("shots"), CHROMIUM)


def _problems(report, page):
    return [p for p in report.problems if p.startswith(f"{page}:")]


def test_static_scan_flags_cdn(tmp_path):
    (tmp_path / "page.html").write_text(
        '<script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/y.css">'
        '<a href="https://example.org/">a link is fine</a>'
    )
    (tmp_path / "style.css").write_text("@import url(https://fonts.example.org/f.css);")
    found = browsercheck.static_external_references(tmp_path)
    assert len(found) == 3
    assert any("x.js" in item for item in found)
    assert any("y.css" in item for item in found)
    assert any("fonts.example.org" in item for item in found)


def test_redirect_target_read(tmp_path):
    page = tmp_path / "index.html"
    page.write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />')
    assert browsercheck.redirect_target(page) == "book/intro.html"
    page.write_text("<p>no redirect</p>")
    assert browsercheck.redirect_target(page) is None


@needs_chromium
def test_good_page_passes(site_report):
    assert _problems(site_report, "index.html") == []


@needs_chromium
def test_good_page_screenshot(site_report):
    page = next(p for p in site_report.pages if p.path == "index.html")
    assert page.screenshot.read_bytes().startswith(b"\x89PNG")
    assert page.title == "good"


@needs_chromium
@pytest.mark.parametrize("expected", [
    "bad.html: missing image: missing.png",
    "bad.html: broken link to nowhere.html",
    "bad.html: link to a missing anchor index.html#no-such-anchor",
    "bad.html: unrendered math: \\(y\\)",
    "bad.html: raw TeX in the text:",
    "bad.html: JavaScript error: ReferenceError: undefinedFunction is not defined",
])
def test_bad_page_caught(site_report, expected):
    assert any(problem.startswith(expected) for problem in site_report.problems), (
        site_report.summary()
    )


@needs_chromium
def test_built_book_passes(tmp_path):
    # Jupyter Book writes index.html (a redirect) only once, so the landing page's
    # own file tells when the book was last built. In CI, where tests/test_book.py
    # builds the book first, a missing or stale book is a failure, not a skip.
    landing = BUILT / "book" / "intro.html"
    reason = None
    if not landing.is_file():
        reason = "the book is not built (tests/test_book.py or make book builds it)"
    elif landing.stat().st_mtime < (ROOT / "_config.yml").stat().st_mtime:
        reason = "the built book is older than _config.yml; rebuild it with make book"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    report = browsercheck.check_book(BUILT, tmp_path / "screenshots", CHROMIUM)
    assert report.ok, report.summary()
    chapters = [p for p in report.pages if p.path.startswith("book/chapters/")]
    assert chapters, "no chapter pages were checked"
    assert all(p.screenshot and p.screenshot.is_file() for p in chapters)
