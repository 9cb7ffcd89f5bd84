"""The "Rerun this chapter" box: its command round-trips, its table is complete."""

import shlex
from pathlib import Path

import nbformat
import pytest

from vatnb import book, rerun

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))

TINY_CHAPTER = '''# %% [markdown]
# # A tiny chapter

# %% tags=["parameters"]
n: int = 3  # number of draws
names: list[str] = ["a", "b c"]  # labels | with a bar
flag: bool = True  # a switch
label: str = ""  # may be empty

# %%
print(n)
'''


@pytest.fixture
def tiny_source(tmp_path):
    path = tmp_path / "99_tiny.py"
    path.write_text(TINY_CHAPTER)
    return path


def _pairs(command: str) -> list[tuple[str, str]]:
    words = shlex.split(command)
    return [(words[i + 1], words[i + 2]) for i, word in enumerate(words) if word == "-p"]


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_command_reproduces_defaults(source):
    parameters = book.chapter_parameters(source)
    unsettable = rerun.unsettable_parameters(source, parameters)
    command = rerun.rerun_command(source.stem, parameters, skip=unsettable)
    assert command.startswith(f"vatnb run {source.stem} ")
    values = book.coerce_parameters(source, _pairs(command))
    for parameter in parameters:
        if parameter.name in unsettable:
            continue
        expected = parameter.default
        if isinstance(expected, tuple):
            expected = list(expected)
        assert values[parameter.name] == expected, parameter.name


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_chapter_parameters_settable(source):
    # A parameter that `vatnb run -p` cannot set is a chapter bug, except a
    # credential-like name, which the command line rejects on purpose.
    unsettable = rerun.unsettable_parameters(source)
    problems = {name: why for name, why in unsettable.items() if "credential" not in why}
    assert problems == {}


def test_credential_values_left_out(tiny_source):
    # A default that is itself a key is left out of the command; the name of an
    # environment variable is an ordinary value.
    source = tiny_source.parent / "98_keyed.py"
    source.write_text(TINY_CHAPTER.replace('label: str = ""', 'api_key: str = "abc123"'))
    box = rerun.rerun_box(source)
    assert "-p api_key" not in box
    assert "- `api_key`: its name looks like a credential." in box
    assert "| `api_key` |" in box


def test_key_variable_name_settable(tiny_source):
    source = tiny_source.parent / "96_variable.py"
    text = TINY_CHAPTER.replace('label: str = ""', 'api_key_variable: str = "OPENAI_API_KEY"')
    source.write_text(text)
    assert "api_key_variable" not in rerun.unsettable_parameters(source)


def test_bare_list_reported(tmp_path):
    source = tmp_path / "97_bare.py"
    source.write_text(TINY_CHAPTER.replace("names: list[str]", "names: list"))
    unsettable = rerun.unsettable_parameters(source)
    assert list(unsettable) == ["names"]
    assert "-p names" not in rerun.rerun_box(source)


def test_cli_value_forms():
    assert rerun.cli_value(True) == "true"
    assert rerun.cli_value(None) == "none"
    assert rerun.cli_value([1, 2.5]) == "1,2.5"
    assert rerun.cli_value("x y") == "x y"


def test_box_lists_every_parameter(tiny_source):
    box = rerun.rerun_box(tiny_source)
    assert box.startswith("````{admonition} Rerun this chapter")
    assert box.rstrip().endswith("````")
    for name in ("n", "names", "flag", "label"):
        assert f"| `{name}` |" in box
    assert "labels \\| with a bar" in box
    assert "-p names 'a,b c'" in box
    assert "-p label ''" in box
    assert "| this page |" not in box


def test_box_shows_executed_values(tiny_source):
    box = rerun.rerun_box(tiny_source, {"n": 7})
    assert "| this page |" in box
    assert "-p n 7" in box
    assert "-p n 3" in box


def test_insert_after_title_once(tiny_source, tmp_path):
    notebook = book.read_notebook(tiny_source)
    notebook.metadata["papermill"] = {"parameters": {"flag": False}}
    path = tmp_path / "out.ipynb"
    nbformat.write(notebook, path)
    rerun.add_rerun_box(path, tiny_source)
    rerun.add_rerun_box(path, tiny_source)
    cells = nbformat.read(path, as_version=4).cells
    tagged = [i for i, c in enumerate(cells) if rerun.RERUN_BOX_TAG in c.metadata.get("tags", [])]
    assert tagged == [1]
    assert cells[0].source.startswith("# A tiny chapter")
    assert "-p flag false" in cells[1].source
    nbformat.validate(nbformat.read(path, as_version=4))


def test_insert_without_markdown_cell(tiny_source):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    rerun.insert_rerun_box(notebook, tiny_source)
    assert [cell.cell_type for cell in notebook.cells] == ["markdown", "code"]
    assert rerun.RERUN_BOX_TAG in notebook.cells[0].metadata["tags"]
