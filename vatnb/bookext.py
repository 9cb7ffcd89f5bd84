"""Sphinx extension of the book: chapter links that survive partial builds, and offline MathJax.

Enabled in ``_config.yml`` (``sphinx: extra_extensions``). It adds

* the role ``{chapter}`` for links from the landing page, the course page and
  the glossary to a chapter, optionally to a section of it::

      {chapter}`04_prompt_steering`                       (link text: the chapter title)
      {chapter}`Table 2 <04_prompt_steering>`             (own link text)
      {chapter}`Table 2 <04_prompt_steering#the-table>`   (a section anchor)

  A chapter whose source ``notebooks/NAME.py`` exists but which is not part
  of this build (not in ``_toc.yml``, or a build of a few chapters) is shown
  as text marked "chapter not in this build", so the strict build does not
  fail. The browser check (:mod:`vatnb.browsercheck`) lists every such mark,
  so a misspelt name shows there. Anchors are not checked here: the browser
  check opens every link and fails on a missing anchor.
* a copy of MathJax 3 from the ``django-static-mathjax`` package into
  ``_static/mathjax`` of the HTML output, so that math renders with no network.
  ``_config.yml`` points ``mathjax_path`` at it.
* the removal of repeated inline scripts from each page
  (:func:`remove_duplicate_scripts`).
"""

from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util import logging

log = logging.getLogger(__name__)

CHAPTER_DOC_PREFIX = "book/chapters/"
MATHJAX_ENTRY = "mathjax/es5/tex-mml-chtml.js"
NOT_IN_BUILD = "chapter not in this build"

# Files of the MathJax es5 folder that the book does not load: the SVG output,
# the other combined bundles and the Node.js entry point (about 15 MB together).
MATHJAX_SKIP = ("*svg*", "*-full*", "mml-chtml.js", "tex-chtml.js", "node-main.js", "latest.js")

_EXPLICIT = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


# ---------------------------------------------------------------------------
# The {chapter} role
# ---------------------------------------------------------------------------


def parse_chapter_target(text: str) -> tuple[str | None, str, str]:
    """Split role text into (link title or None, chapter name, anchor or '')."""
    match = _EXPLICIT.match(text.strip())
    title, target = (match["title"], match["target"]) if match else (None, text.strip())
    name, _, anchor = target.strip().partition("#")
    return title, name.strip(), anchor.strip()


def chapter_uri(from_doc: str, chapter: str, anchor: str = "") -> str:
    """Return the relative URL of a chapter page (and anchor) seen from another page."""
    target = CHAPTER_DOC_PREFIX + chapter + ".html"
    uri = posixpath.relpath(target, posixpath.dirname(from_doc) or ".")
    return f"{uri}#{anchor}" if anchor else uri


def chapter_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """Link to a chapter page, or name it as absent from this build."""
    env = inliner.document.settings.env
    title, chapter, anchor = parse_chapter_target(text)
    docname = CHAPTER_DOC_PREFIX + chapter
    if docname in env.found_docs:
        if anchor:
            node = nodes.reference(
                rawtext, title or chapter, internal=True,
                refuri=chapter_uri(env.docname, chapter, anchor),
            )
            return [node], []
        node = pending_xref(
            rawtext, refdomain="std", reftype="doc", reftarget="/" + docname,
            refexplicit=title is not None, refwarn=True, refdoc=env.docname,
        )
        node += nodes.inline(rawtext, title or chapter)
        return [node], []
    # Not a warning: a build of some chapters (or a chapter still being
    # written) must not fail the strict build. The browser check counts these.
    source = Path(env.srcdir) / "notebooks" / f"{chapter}.py"
    log.info(
        "{chapter}`%s` is not in this build (%s)", chapter,
        "its source exists" if source.is_file() else f"no notebooks/{chapter}.py",
        location=(env.docname, lineno),
    )
    label = title or chapter
    node = nodes.emphasis(rawtext, f"{label} ({NOT_IN_BUILD})")
    return [node], []


# ---------------------------------------------------------------------------
# Offline MathJax
# ---------------------------------------------------------------------------


def mathjax_source() -> Path:
    """Return the es5 folder of the installed MathJax 3 (package ``django-static-mathjax``).

    Raises
    ------
    FileNotFoundError
        If the package is missing; install the project's dependencies.
    """
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError:
        raise FileNotFoundError(
            "MathJax for the offline book is missing: install django-static-mathjax "
            "(pip install -e . installs it)"
        ) from None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / "tex-mml-chtml.js").is_file():
        raise FileNotFoundError(f"MathJax es5 files not found in {folder}")
    return folder


def copy_mathjax(outdir: Path) -> Path:
    """Copy the MathJax files the book loads into ``outdir/_static/mathjax/es5``."""
    target = Path(outdir) / "_static" / "mathjax" / "es5"
    shutil.copytree(
        mathjax_source(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*MATHJAX_SKIP)
    )
    return target


def _copy_mathjax_after_build(app, exception):
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir))


def _check_mathjax_path(app, config):
    if config.mathjax_path != MATHJAX_ENTRY:
        log.warning(
            "mathjax_path is %r; the offline book needs %r (set it in _config.yml)",
            config.mathjax_path, MATHJAX_ENTRY,
        )


# ---------------------------------------------------------------------------
# Duplicate inline scripts
# ---------------------------------------------------------------------------


def _script_key(script) -> tuple:
    # An inline script is registered with filename None, and comes back as ""
    # from a second registration.
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def remove_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated entries from the page's script list, keeping the first.

    sphinx-thebe 0.3.1 registers its inline configuration once per read
    phase (``env-before-read-docs``), so with jupyter-book 1.0.4 every page got
    ``const THEBE_JS_URL`` twice, and the second declaration is a
    JavaScript SyntaxError in the browser.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    """Register the ``chapter`` role, the MathJax copy and the script clean-up with Sphinx."""
    app.add_role("chapter", chapter_role)
    app.connect("config-inited", _check_mathjax_path)
    app.connect("html-page-context", remove_duplicate_scripts)
    app.connect("build-finished", _copy_mathjax_after_build)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
