"""The main job: execute every chapter with papermill and build the HTML book."""

import nbformat
import subprocess
import sys
from pathlib import Path

import pytest

from vatnb import book

ROOT = Path(__file__).resolve().parent.parent


def test_toc_chapters_have_sources():
    names = book.chapter_names(ROOT)
    assert names[0] == "01_vat_on_real_judgments"
    for name in names:
        assert (ROOT / "notebooks" / f"{name}.py").is_file(), name


@pytest.mark.book
def test_book_builds_with_every_chapter(real_data):
    result = subprocess.run(
        [sys.executable, "-m", "vatnb.cli", "build"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = ROOT / "book" / "_build" / "html"
    assert (html / "index.html").is_file()
    for name in book.chapter_names(ROOT):
        page = html / "book" / "chapters" / f"{name}.html"
        assert page.is_file(), name
        assert "<img" in page.read_text(), f"{name} has no figure"
    assert "total" in result.stdout


def test_chapter_kernel_uses_unix_sockets(tmp_path, monkeypatch, capfd):
    source = tmp_path / "notebooks" / "99_small.py"
    source.parent.mkdir()
    source.write_text(
        "# %% [markdown]\n# # Small chapter\n\n"
        '# %% tags=["parameters"]\nx = 1  # a number\n\n'
        "# %%\nprint(x + 1)\n"
    )
    kernel_folders = tmp_path / "tmp"
    kernel_folders.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(kernel_folders))
    output = book.execute_chapter(source, tmp_path / "out" / "99_small.ipynb", {"x": 2},
                                  root=tmp_path, progress=False)
    printed = [o.get("text", "") for cell in nbformat.read(output, 4).cells
               if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert "3\n" in printed
    assert "without encryption" not in capfd.readouterr().err
    assert list(kernel_folders.iterdir()) == []


def test_long_temporary_folder_falls_back_to_tcp(tmp_path, monkeypatch):
    from jupyter_client.manager import AsyncKernelManager

    deep = tmp_path / ("x" * 120)
    deep.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(deep))
    with book.unix_socket_kernels() as manager_class:
        assert manager_class is AsyncKernelManager
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with book.unix_socket_kernels() as manager_class:
        assert manager_class is not AsyncKernelManager
        assert manager_class().transport == "ipc"
