"""The "Rerun this chapter" box at the top of every executed chapter.

The box is built from the chapter's parameters cell (read by
:func:`vatnb.book.chapter_parameters`), so it cannot fall out of step with the
chapter: a table of every parameter (name, type, default, meaning) and the
exact ``vatnb run`` command that reruns the chapter with those values. The
book build inserts it into each executed notebook right after the title cell
(:func:`add_rerun_box`).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import nbformat

from vatnb.credentials import looks_like_secret
from vatnb.book import (
    Parameter,
    ParameterError,
    chapter_parameters,
    _coerce,
)

# Tag of the inserted cell, so that inserting twice replaces the box.
RERUN_BOX_TAG = "vatnb-rerun-box"


def cli_value(value) -> str:
    """Write a parameter value the way ``vatnb run -p NAME VALUE`` reads it back.

    Booleans become ``true``/``false``, None becomes ``none`` and lists are
    comma-separated, as :func:`vatnb.book.coerce_parameters` expects.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(cli_value(item) for item in value)
    return str(value)


def _credential_like(parameter: Parameter) -> bool:
    return looks_like_secret(parameter.name, parameter.default)


def unsettable_parameters(source: Path, parameters: list[Parameter] | None = None) -> dict:
    """Return the parameters that ``vatnb run -p`` cannot set to their default, with the reason.

    Two kinds exist. The command line rejects values that look like
    credentials (a key itself, not the name of its environment variable). It also cannot convert some
    annotations back to the default: a bare ``list`` stays a string, so it
    needs an element type such as ``list[int]``.
    """
    parameters = chapter_parameters(source) if parameters is None else parameters
    reasons = {}
    for parameter in parameters:
        if _credential_like(parameter):
            reasons[parameter.name] = "its name looks like a credential"
            continue
        default = parameter.default
        expected = list(default) if isinstance(default, tuple) else default
        # The converter behind `vatnb run -p`; calling it per parameter avoids
        # rereading the chapter for each one.
        try:
            read_back = _coerce(parameter, cli_value(default))
        except ParameterError as error:
            reasons[parameter.name] = str(error)
            continue
        if read_back != expected:
            reason = (
                f"the command line reads {cli_value(default)!r} as {read_back!r}, "
                f"not as the {parameter.annotation} {default!r}"
            )
            if parameter.annotation in ("list", "tuple"):
                reason += " (annotate it with an element type, such as list[int])"
            reasons[parameter.name] = reason
    return reasons


def rerun_command(
    chapter: str, parameters: list[Parameter], values: dict | None = None, skip=()
) -> str:
    """Return the shell command that executes ``chapter`` with every parameter set explicitly.

    ``values`` overrides the defaults (for example the values a page was
    executed with); each value is shell-quoted. Names in ``skip`` (see
    :func:`unsettable_parameters`) are left out.
    """
    values = values or {}
    parts = ["vatnb", "run", chapter]
    for parameter in parameters:
        if parameter.name in skip:
            continue
        value = values.get(parameter.name, parameter.default)
        parts += ["-p", parameter.name, shlex.quote(cli_value(value))]
    return " ".join(parts)


def _table_cell(text: str) -> str:
    """Escape text for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Wrap text as inline code, with a longer fence when it contains backticks."""
    fence = "``" if "`" in text else "`"
    padding = " " if "`" in text else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def parameter_table(parameters: list[Parameter], values: dict | None = None) -> str:
    """Return the Markdown table of the parameters: name, type, default and meaning.

    When ``values`` sets a parameter to something other than its default, a
    column "this page" shows the value the page was executed with.
    """
    values = values or {}
    changed = {
        p.name for p in parameters if p.name in values and values[p.name] != p.default
    }
    header = ["parameter", "type", "default"]
    if changed:
        header.append("this page")
    header.append("meaning")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for parameter in parameters:
        row = [
            _code(parameter.name),
            _table_cell(_code(parameter.annotation)),
            _table_cell(_code(repr(parameter.default))),
        ]
        if changed:
            shown = repr(values[parameter.name]) if parameter.name in changed else "default"
            row.append(_table_cell(_code(shown) if parameter.name in changed else shown))
        row.append(_table_cell(parameter.help) or "(no description)")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def rerun_box(source: Path, values: dict | None = None) -> str:
    """Return the Markdown (a MyST dropdown admonition) of the chapter's rerun box.

    Parameters
    ----------
    source : Path
        The chapter's percent-format source ``notebooks/NAME.py``.
    values : dict, optional
        Parameter values the page was executed with, when they are not all
        the defaults (papermill stores them in the notebook's metadata).
    """
    source = Path(source)
    chapter = source.stem
    parameters = chapter_parameters(source)
    values = values or {}
    changed = any(values.get(p.name, p.default) != p.default for p in parameters)
    unsettable = unsettable_parameters(source, parameters)
    command = rerun_command(chapter, parameters, skip=unsettable)
    lines = [
        "````{admonition} Rerun this chapter",
        ":class: tip dropdown",
        "",
        f"This page is one papermill run of `notebooks/{chapter}.py`. To run it again, on "
        "your own data, model or settings, use this command from the repository root (after "
        "`make setup`). It repeats every default; change the values you need and drop the rest.",
        "",
        "```bash",
        command,
        "```",
        "",
    ]
    if changed:
        lines += [
            "This page itself was executed with other values than the defaults:",
            "",
            "```bash",
            rerun_command(chapter, parameters, values, skip=unsettable),
            "```",
            "",
        ]
    if unsettable:
        lines += ["The command leaves these parameters at their default, because the command "
                  "line cannot set them; change them in a copy of the notebook instead:", ""]
        lines += [f"- `{name}`: {reason}." for name, reason in unsettable.items()]
        lines.append("")
    lines += [
        parameter_table(parameters, values),
        "",
        f"`vatnb run {chapter} --list` prints the same table. Lists are comma-separated. "
        f"The executed notebook is written to `runs/{chapter}.ipynb` (another folder: "
        "`-o FOLDER`). API keys are never parameters: they are read from environment "
        "variables only. The download button at the top of this page gives the executed "
        "notebook (`.ipynb`) with all its outputs.",
        "````",
    ]
    return "\n".join(lines)


def insert_rerun_box(notebook, source: Path):
    """Insert the rerun box as a Markdown cell right after the first Markdown cell.

    The first Markdown cell of a chapter contains its title; a notebook with
    no Markdown cell gets the box as its first cell. A box inserted before
    (tagged ``vatnb-rerun-box``) is replaced, so inserting twice leaves one
    box. The notebook is changed in place and returned.
    """
    values = dict(notebook.metadata.get("papermill", {}).get("parameters", {}) or {})
    cell = nbformat.v4.new_markdown_cell(
        rerun_box(source, values), metadata={"tags": [RERUN_BOX_TAG]}
    )
    notebook.cells = [
        c for c in notebook.cells if RERUN_BOX_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    titles = [i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"]
    notebook.cells.insert(titles[0] + 1 if titles else 0, cell)
    return notebook


def add_rerun_box(notebook_path: Path, source: Path) -> Path:
    """Read an executed notebook, insert its rerun box and write it back in place."""
    notebook_path = Path(notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    insert_rerun_box(notebook, source)
    nbformat.write(notebook, notebook_path)
    return notebook_path
