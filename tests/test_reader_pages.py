"""The reader pages: chapter links, offline MathJax, the landing figure and the course commands."""

import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from vatnb import book, bookext

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "book").glob("*.md"))


def test_chapter_target_forms():
    assert bookext.parse_chapter_target("01_vat") == (None, "01_vat", "")
    assert bookext.parse_chapter_target("Table 2 <04_steer>") == ("Table 2", "04_steer", "")
    assert bookext.parse_chapter_target("Step 1 <02_data#the-design>") == (
        "Step 1", "02_data", "the-design"
    )


def test_chapter_uri_relative():
    assert bookext.chapter_uri("book/intro", "02_data", "splits") == "chapters/02_data.html#splits"
    assert bookext.chapter_uri("book/chapters/01_vat", "02_data") == "02_data.html"


def test_duplicate_scripts_removed():
    first = SimpleNamespace(filename=None, attributes={"body": "const A = 1"})
    again = SimpleNamespace(filename="", attributes={"body": "const A = 1"})
    other = SimpleNamespace(filename="x.js", attributes={})
    context = {"script_files": [first, other, again]}
    bookext.remove_duplicate_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == [first, other]


def test_mathjax_copy_is_complete(tmp_path):
    target = bookext.copy_mathjax(tmp_path)
    assert (target / "tex-mml-chtml.js").is_file()
    assert (target / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert not list(target.rglob("*svg*"))
    assert bookext.MATHJAX_ENTRY == "mathjax/es5/tex-mml-chtml.js"
    assert f"mathjax_path: {bookext.MATHJAX_ENTRY}" in (ROOT / "_config.yml").read_text()


def test_landing_figure_reproducible(tmp_path):
    target = tmp_path / "figure.svg"
    subprocess.run(
        [sys.executable, str(ROOT / "book" / "make_figures.py"), str(target)],
        cwd=ROOT, check=True, capture_output=True,
    )
    committed = ROOT / "book" / "figures" / "vat_pipeline.svg"
    assert target.read_bytes() == committed.read_bytes(), "rerun book/make_figures.py"


def _run_commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("vatnb run ")]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_commands_valid(page):
    # Every `vatnb run` command shown on a page names real parameters with valid values.
    for command in _run_commands(page.read_text()):
        words = shlex.split(command.split("#")[0])
        chapter = words[2]
        source = ROOT / "notebooks" / f"{chapter}.py"
        if not source.is_file():
            continue  # a chapter still being written; the {chapter} role marks it
        pairs = [(words[i + 1], words[i + 2]) for i, word in enumerate(words) if word == "-p"]
        book.coerce_parameters(source, pairs)


def test_toc_lists_reader_pages():
    toc = (ROOT / "_toc.yml").read_text()
    for name in ("course", "exercises_howto", "glossary", "bibliography"):
        assert f"- file: book/{name}" in toc


def test_citations_defined():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text()))
    for page in PAGES:
        for cited in re.findall(r"\{cite:[pt]\}`([^`]+)`", page.read_text()):
            for key in cited.split(","):
                assert key.strip() in keys, f"{page.name} cites unknown {key}"


GLUE_REFERENCE = re.compile(r"\{glue:text\}`chapters/(\w+)\.ipynb::(\w+):[^`]+`")
GLUE_CALL = re.compile(r"""\bglue\(\s*["'](\w+)["']""")


def test_glue_references_name_glued_keys():
    # A reference to a key that its chapter never glues only fails late, in the -W book build.
    references = [(page.name, *match) for page in PAGES
                  for match in GLUE_REFERENCE.findall(page.read_text(encoding="utf-8"))]
    assert len(references) >= 30
    for page, chapter, key in references:
        source = ROOT / "notebooks" / f"{chapter}.py"
        assert source.exists(), f"{page} quotes {chapter}, which has no notebook source"
        glued = set(GLUE_CALL.findall(source.read_text(encoding="utf-8")))
        assert key in glued, f"{page} quotes {key!r}, which {chapter} never glues"
