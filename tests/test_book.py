"""The main job: execute every chapter with papermill and build the HTML book."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

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
        assert issubclass(manager_class, AsyncKernelManager)
        assert manager_class().transport == "tcp"
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with book.unix_socket_kernels() as manager_class:
        assert manager_class().transport == "ipc"


PROGRESS_CHAPTER = (
    "# %% [markdown]\n# # Progress\n\n"
    '# %% tags=["parameters"]\nn: int = 3  # iterations\n\n'
    "# %%\nimport os\nfrom tqdm import tqdm\nfor _ in tqdm(range(n)):\n    pass\n"
    'print("kernel TQDM_DISABLE=" + str(os.environ.get("TQDM_DISABLE")))\n'
)

# Runs in a fresh process, because tqdm reads TQDM_* variables once, when it is imported.
EXECUTE_WITH_PROGRESS = (
    "import os, sys\nfrom pathlib import Path\nfrom vatnb import book\n"
    "book.execute_chapter(Path(sys.argv[1]), Path(sys.argv[2]), root=Path(sys.argv[3]), progress=True)\n"
    'print("parent TQDM_DISABLE=" + str(os.environ.get("TQDM_DISABLE")))\n'
)


def test_progress_bar_outside_kernel_only(tmp_path):
    source = tmp_path / "96_progress.py"
    source.write_text(PROGRESS_CHAPTER)
    output = tmp_path / "out" / "96_progress.ipynb"
    environment = {key: value for key, value in os.environ.items() if key != "TQDM_DISABLE"}
    environment["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", EXECUTE_WITH_PROGRESS, str(source), str(output), str(tmp_path)],
        capture_output=True, text=True, env=environment, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Executing: 100%" in result.stderr
    assert "parent TQDM_DISABLE=None" in result.stdout
    printed = "".join(
        output_.get("text", "") for cell in nbformat.read(output, 4).cells
        if cell.cell_type == "code" for output_ in cell.get("outputs", [])
    )
    assert "kernel TQDM_DISABLE=1" in printed
    assert "it/s" not in printed


SLOW_CHAPTER = (
    "# %% [markdown]\n# # Slow\n\n"
    '# %% tags=["parameters"]\nmarker: str = ""  # file to create when the slow cell starts\n\n'
    "# %%\nimport pathlib, time\npathlib.Path(marker).touch()\ntime.sleep(120)\n\n"
    '# %%\nprint("after the slow cell")\n'
)


def start_interruptible(arguments: list[str], marker: Path) -> subprocess.Popen:
    """Start ``python -c`` with ``arguments`` and SIGINT handled, and wait until the slow cell runs."""
    # A process started in the background by a non-interactive shell inherits SIGINT as
    # ignored, and Python then installs no handler of its own, so install it here.
    prelude = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    process = subprocess.Popen(
        [sys.executable, "-c", prelude + arguments[0], *arguments[1:]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the slow cell never started"
        time.sleep(0.1)
    return process


def test_interrupted_run_stops_cleanly(tmp_path):
    source = tmp_path / "95_slow.py"
    source.write_text(SLOW_CHAPTER)
    marker = tmp_path / "started"
    output_folder = tmp_path / "out"
    command = "import sys\nfrom vatnb import cli\nsys.exit(cli.main(sys.argv[1:]))\n"
    process = start_interruptible(
        [command, "run", str(source), "-p", "marker", str(marker), "-o", str(output_folder)], marker
    )
    start = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - start < 30
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "ZMQError" not in stderr
    output = output_folder / "95_slow.ipynb"
    lines = [line for line in stderr.splitlines() if line.startswith("vatnb:")]
    assert lines == [
        f"vatnb: interrupted during chapter 95_slow; the partly executed notebook {output} is incomplete."
    ]
    outputs = [output_ for cell in nbformat.read(output, 4).cells if cell.cell_type == "code"
               for output_ in cell.get("outputs", [])]
    assert any(output_.get("ename") == "KeyboardInterrupt" for output_ in outputs)
    assert not any("after the slow cell" in output_.get("text", "") for output_ in outputs)


def test_interrupted_build_removes_partial_notebook(tmp_path):
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    marker = tmp_path / "started"
    (root / "notebooks" / "95_slow.py").write_text(
        SLOW_CHAPTER.replace('marker: str = ""', f"marker: str = {str(marker)!r}")
    )
    (root / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n- file: book/chapters/95_slow\n")
    command = (
        "import sys\nfrom pathlib import Path\nfrom vatnb import book\n"
        "try:\n    book.execute_chapters(Path(sys.argv[1]))\n"
        "except book.ChapterInterrupted as interrupted:\n"
        "    print(interrupted.chapter, interrupted.output_kept)\n"
    )
    process = start_interruptible([command, str(root)], marker)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-3000:]
    assert stdout.splitlines()[-1] == "95_slow False"
    assert not (root / "book" / "chapters" / "95_slow.ipynb").exists()


def test_no_interrupt_during_shutdown():
    import asyncio

    class RecordingManager:
        shutting_down = False
        interrupts = 0

        async def _async_interrupt_kernel(self):
            self.interrupts += 1

    manager = book._chapter_manager_class(RecordingManager, None, None)()
    asyncio.run(manager._async_interrupt_kernel())
    assert manager.interrupts == 1
    manager.shutting_down = True
    asyncio.run(manager._async_interrupt_kernel())
    assert manager.interrupts == 1
