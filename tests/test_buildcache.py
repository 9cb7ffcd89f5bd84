"""Reuse of executed chapters when source, parameters and package are unchanged."""

from __future__ import annotations

import nbformat
import pytest

from vatnb import buildcache


@pytest.fixture
def layout(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "metrics.py").write_text("X = 1\n")
    source = tmp_path / "01_chapter.py"
    source.write_text("# %%\nprint(1)\n")
    return source, tmp_path / "out" / "01_chapter.ipynb", package


def fake_execute(calls):
    def execute(source, output, parameters, **options):
        calls.append((source, parameters))
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(), str(output))
    return execute


def test_second_run_reuses_output(layout):
    source, output, package = layout
    calls = []
    first = buildcache.execute_if_changed(source, output, fake_execute(calls), package_dir=package)
    second = buildcache.execute_if_changed(source, output, fake_execute(calls), package_dir=package)
    assert (first, second) == (False, True)
    assert len(calls) == 1


@pytest.mark.parametrize("change", ["source", "package", "parameters", "data", "force"])
def test_any_change_executes_again(layout, change, monkeypatch):
    source, output, package = layout
    calls = []
    buildcache.execute_if_changed(source, output, fake_execute(calls), package_dir=package)
    parameters, force = None, False
    if change == "source":
        source.write_text("# %%\nprint(2)\n")
    elif change == "package":
        (package / "metrics.py").write_text("X = 2\n")
    elif change == "parameters":
        parameters = {"seed": 1}
    elif change == "data":
        monkeypatch.setenv("VATNB_DATA_DIR", "/somewhere/else")
    else:
        force = True
    reused = buildcache.execute_if_changed(source, output, fake_execute(calls), parameters,
                                           force=force, package_dir=package)
    assert reused is False
    assert len(calls) == 2


def test_failed_execution_leaves_no_stamp(layout):
    source, output, package = layout

    def failing(source, output, parameters, **options):
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(), str(output))
        raise RuntimeError("cell 3 failed")

    with pytest.raises(RuntimeError, match="cell 3"):
        buildcache.execute_if_changed(source, output, failing, package_dir=package)
    assert buildcache.stored_fingerprint(output) is None


def test_unreadable_output_is_not_reused(layout):
    source, output, package = layout
    output.parent.mkdir(parents=True)
    output.write_text("not a notebook")
    calls = []
    assert buildcache.execute_if_changed(source, output, fake_execute(calls), package_dir=package) is False
