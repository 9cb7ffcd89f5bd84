"""Execute chapters with papermill and build the Jupyter Book from the executed copies.

A chapter is a jupytext percent-format file ``notebooks/NAME.py`` with one cell
tagged ``parameters``. The table of contents (``_toc.yml``) lists the executed
copies ``book/chapters/NAME``; :func:`build_book` executes each chapter there
and then runs Jupyter Book with its own execution turned off, so one papermill
run is the only source of every output in the book.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from vatnb.credentials import looks_like_secret, redact

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_DIR = Path("book") / "chapters"
NOTEBOOK_DIR = Path("notebooks")
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


MAX_SOCKET_PATH_BYTES = 103  # macOS allows 103 bytes, Linux 107


def _chapter_manager_class(base, environment: dict[str, str] | None, started: list | None):
    """Subclass ``base`` so that kernels start with ``environment`` and are appended to ``started``."""

    class ChapterKernelManager(base):
        async def start_kernel(self, **options):
            if environment is not None:
                options["env"] = dict(environment)
            await super().start_kernel(**options)
            if started is not None:
                started.append(self)

        async def _async_interrupt_kernel(self):
            # jupyter_client (8.x) interrupts the kernel at the start of every shutdown. A
            # finished chapter's kernel has nothing to stop, and when the signal lands while
            # it handles a message it logs "KeyboardInterrupt caught in kernel" as an error.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return ChapterKernelManager


@contextlib.contextmanager
def unix_socket_kernels(environment: dict[str, str] | None = None, started: list | None = None):
    """Yield a kernel manager class whose kernels talk to papermill over Unix sockets.

    With the default TCP transport every kernel listens on loopback ports and
    logs a warning that the traffic is unencrypted. Unix sockets in a private
    temporary folder (mode 0700) need no port and are removed afterwards. On
    Windows, which has no such sockets in pyzmq, and where the temporary
    folder's path is too long for a socket path, TCP on loopback is used.

    Kernels start with ``environment`` (None: this process's environment),
    and each manager whose kernel has started is appended to ``started``.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    if os.name == "nt":
        yield _chapter_manager_class(AsyncKernelManager, environment, started)
        return
    with tempfile.TemporaryDirectory(prefix="vatnb-kernel-") as folder:
        # jupyter_client names the sockets kernel-ipc-1 to kernel-ipc-5 in this folder.
        if len(os.path.join(folder, "kernel-ipc-99").encode()) > MAX_SOCKET_PATH_BYTES:
            log.info("temporary folder %s is too long for kernel sockets; using TCP on loopback", folder)
            yield _chapter_manager_class(AsyncKernelManager, environment, started)
            return

        class UnixSocketKernelManager(AsyncKernelManager):
            @default("transport")
            def _transport_default(self):
                return "ipc"

            @default("connection_file")
            def _connection_file_default(self):
                return os.path.join(folder, "kernel.json")

        yield _chapter_manager_class(UnixSocketKernelManager, environment, started)


def kernel_environment() -> dict[str, str]:
    """Return the environment for chapter kernels: this process's, adjusted for static pages.

    Only the kernel gets these changes, so this process keeps its own
    settings and papermill's cell progress bar here still shows.
    """
    environment = dict(os.environ)
    # A non-interactive MPLBACKEND (such as Agg, common in CI) would stop the
    # kernel from using the inline backend, and every figure would be lost.
    environment.pop("MPLBACKEND", None)
    # Progress bars inside a chapter are noise in a static page.
    environment["TQDM_DISABLE"] = "1"
    # tqdm.autonotebook, imported by transformers and datasets, warns in every kernel
    # without ipywidgets; the book shows no widgets, so that one message is dropped.
    environment["PYTHONWARNINGS"] = ",".join(
        filter(None, [environment.get("PYTHONWARNINGS"), "ignore:IProgress not found"])
    )
    return environment


class _StopBeforeCell(Exception):
    """Raised before a cell starts when the user has pressed Ctrl-C."""


class _InterruptForwarder:
    """Turn the first Ctrl-C into an interrupt of the chapter's kernel, as Jupyter's stop button does.

    The kernel raises KeyboardInterrupt in the running cell, papermill saves
    the notebook, and :meth:`stop_before_cell` stops the run before another
    cell starts. A second Ctrl-C raises KeyboardInterrupt here at once, for a
    kernel that does not react. The handler is installed only in the main
    thread on POSIX systems and only where SIGINT is not ignored (as it is
    for a job that a non-interactive shell starts in the background).
    Elsewhere Ctrl-C keeps its former effect.
    """

    def __init__(self, chapter: str, managers: list):
        self.chapter = chapter
        self.managers = managers
        self.requested = False

    @contextlib.contextmanager
    def installed(self):
        if (
            os.name == "nt"
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        ):
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    def _on_interrupt(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            print(f"\n[vatnb] interrupting chapter {self.chapter}; press Ctrl-C again to stop at once",
                  file=sys.stderr, flush=True)
        for manager in self.managers:
            _send_interrupt(manager)

    def stop_before_cell(self, cell=None, cell_index=None) -> None:
        """nbclient's ``on_cell_start`` hook: raise once an interrupt was requested."""
        if self.requested:
            raise _StopBeforeCell


def _send_interrupt(manager) -> None:
    """Send SIGINT to a local kernel's process group, as ``LocalProvisioner.send_signal`` does.

    That method is a coroutine, and a signal handler cannot wait for one.
    """
    provisioner = getattr(manager, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None or process.poll() is not None:
        return
    pgid = getattr(provisioner, "pgid", None)
    try:
        if pgid and hasattr(os, "killpg"):
            os.killpg(pgid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
    except OSError:
        log.debug("kernel process %s exited before it could be interrupted", process.pid)


class ParameterError(ValueError):
    """A chapter parameter given on the command line is unknown, repeated or ill-typed."""


class ChapterSourceError(ValueError):
    """A file given as a chapter has no readable parameters cell."""


class OutputFolderError(OSError):
    """The folder for an executed notebook is a file, cannot be created or is not writable."""


class ChapterFailed(RuntimeError):
    """A chapter raised an error while papermill executed it."""

    def __init__(self, chapter: str, cell: int | None, error: str):
        self.chapter, self.cell, self.error = chapter, cell, error
        where = f"cell {cell}" if cell is not None else "before any cell ran"
        super().__init__(f"chapter {chapter} failed at {where}: {error}")


class ChapterInterrupted(KeyboardInterrupt):
    """The user pressed Ctrl-C while papermill executed a chapter.

    ``output`` is the partly executed notebook, and ``output_kept`` is False
    once :func:`execute_chapters` has removed it.
    """

    def __init__(self, chapter: str, output: Path, output_kept: bool = True):
        self.chapter, self.output, self.output_kept = chapter, output, output_kept
        super().__init__(f"chapter {chapter} was interrupted")


@dataclass(frozen=True)
class Parameter:
    """One knob of a chapter's parameters cell: name, annotated type, default and help."""

    name: str
    annotation: str
    default: object
    help: str


# ---------------------------------------------------------------------------
# Chapters and their parameters
# ---------------------------------------------------------------------------


def chapter_names(root: Path = ROOT) -> list[str]:
    """Return the chapter names listed in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names: list[str] = []

    def visit(node):
        if isinstance(node, dict):
            file = node.get("file")
            if isinstance(file, str) and file.startswith(CHAPTER_DIR.as_posix() + "/"):
                names.append(file.split("/")[-1])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(toc)
    return names


def chapter_source(chapter: str, root: Path = ROOT) -> Path:
    """Resolve a chapter given by name (``01_vat_on_real_judgments``), a unique prefix (``01``) or a path."""
    candidate = Path(chapter)
    if candidate.suffix == ".py" and candidate.is_file():
        return candidate.resolve()
    stem = candidate.stem if candidate.suffix else candidate.name
    path = root / NOTEBOOK_DIR / f"{stem}.py"
    if path.is_file():
        return path
    known = [p.stem for p in sorted((root / NOTEBOOK_DIR).glob("*.py"))]
    starting = [name for name in known if stem and name.startswith(stem)]
    if len(starting) == 1:
        return root / NOTEBOOK_DIR / f"{starting[0]}.py"
    if len(starting) > 1:
        raise FileNotFoundError(
            f"chapter {chapter!r} matches several chapters: {', '.join(starting)}. Give more of the name."
        )
    close = difflib.get_close_matches(stem, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else f" Known chapters: {', '.join(known)}."
    raise FileNotFoundError(f"chapter {chapter!r} not found in {root / NOTEBOOK_DIR}.{hint}")


def read_notebook(source: Path):
    """Read a percent-format chapter into a notebook with a Python 3 kernelspec."""
    import jupytext

    try:
        notebook = jupytext.read(source)
    except UnicodeDecodeError as error:
        raise ChapterSourceError(
            f"{source} is not a UTF-8 text file ({error.reason} at byte {error.start}); "
            "a chapter is a jupytext percent-format .py file"
        ) from None
    notebook.metadata["kernelspec"] = dict(KERNEL_SPEC)
    notebook.metadata.setdefault("language_info", {"name": "python"})
    return notebook


def chapter_parameters(source: Path) -> list[Parameter]:
    """Read the annotated assignments of the cell tagged ``parameters``.

    Each knob is written ``name: type = default  # help``.

    Raises
    ------
    ChapterSourceError
        When the file has no cell tagged ``parameters``, the cell is not valid
        Python, or a default is not a literal.
    """
    notebook = read_notebook(source)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ChapterSourceError(
            f"{source} has no cell tagged 'parameters', so it is not a chapter; give a chapter "
            "name or a jupytext .py file whose parameters cell starts with "
            "'# %% tags=[\"parameters\"]'"
        )
    text = cells[0].source
    lines = text.splitlines()
    try:
        body = ast.parse(text).body
    except SyntaxError as error:
        raise ChapterSourceError(
            f"the parameters cell of {source} is not valid Python: {error.msg} at line "
            f"{error.lineno} of the cell; fix that cell"
        ) from None
    parameters = []
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            line = lines[node.lineno - 1]
            comment = line.split("#", 1)[1].strip() if "#" in line else ""
            default = _literal_default(source, node)
            parameters.append(
                Parameter(node.target.id, ast.unparse(node.annotation), default, comment)
            )
    return parameters


def _literal_default(source: Path, node: ast.AnnAssign):
    if node.value is None:
        return None
    try:
        return ast.literal_eval(node.value)
    except (ValueError, TypeError):
        raise ChapterSourceError(
            f"parameter {node.target.id!r} in {source} has the default {ast.unparse(node.value)!r}, "
            "which is not a literal; a parameters cell may assign only literals such as numbers, "
            "strings and lists"
        ) from None


def _coerce(parameter: Parameter, raw: str):
    """Convert one command-line string to the parameter's annotated type."""
    kind = parameter.annotation.replace(" ", "")
    optional = kind.endswith("|None") or kind.startswith("Optional[")
    kind = kind.removesuffix("|None").removeprefix("Optional[").rstrip("]") if optional else kind
    if optional and raw.lower() in ("none", "null"):
        return None
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            number = float(raw)
            if not math.isfinite(number):
                raise ParameterError(
                    f"parameter {parameter.name!r} must be a finite number, got {raw!r}"
                )
            return number
        if kind == "bool":
            lowered = raw.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(raw)
        if kind == "str":
            return raw
        if kind.startswith("list[") or kind.startswith("tuple["):
            inner = kind[kind.index("[") + 1 : kind.rindex("]")].split(",")[0]
            # An empty string is an empty list. An empty item ("1,,2" or "1,2,") is
            # most likely a typo, and dropping it would run with other values than intended.
            items = [item.strip() for item in raw.split(",")] if raw.strip() else []
            if "" in items:
                raise ParameterError(
                    f"parameter {parameter.name!r} has an empty item in {raw!r}; separate the "
                    "items with single commas and no trailing comma"
                )
            element = Parameter(parameter.name, inner, None, "")
            return [_coerce(element, item) for item in items]
    except ParameterError:
        raise
    except ValueError:
        raise ParameterError(
            f"parameter {parameter.name!r} expects {parameter.annotation}, got {raw!r}"
        ) from None
    return raw


def coerce_parameters(source: Path, pairs: list[tuple[str, str]]) -> dict:
    """Check command-line parameters against the chapter's parameters cell and convert them.

    Raises
    ------
    ParameterError
        For an unknown name (with the closest known name), a name given twice,
        an ill-typed value, or something that looks like a credential.
    """
    known = {parameter.name: parameter for parameter in chapter_parameters(source)}
    values = {}
    first_values: dict[str, str] = {}
    for name, raw in pairs:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            raise ParameterError(f"unknown parameter {name!r} for {source.stem}; {hint}")
        if looks_like_secret(name, raw) or str(raw).startswith("Bearer "):
            raise ParameterError(
                f"parameter {name!r} looks like a credential; papermill would write it into "
                "the executed notebook. Put the key in an environment variable instead "
                "(for example OPENAI_API_KEY) and pass only the variable's name."
            )
        if name in first_values:
            raise ParameterError(
                f"parameter {name!r} is given twice ({first_values[name]!r}, then {raw!r}); give each "
                "parameter once, and a list parameter its items comma-separated in one value"
            )
        first_values[name] = raw
        values[name] = _coerce(known[name], raw)
        if looks_like_secret(name, values[name]):
            raise ParameterError(
                f"parameter {name!r} contains something that looks like an API key; papermill "
                "would write it into the executed notebook. Put the key in an environment "
                "variable instead (for example OPENAI_API_KEY) and pass only the variable's name."
            )
    return values


# ---------------------------------------------------------------------------
# Execution and the book
# ---------------------------------------------------------------------------


def execute_chapter(
    source: Path, output: Path, parameters: dict | None = None, root: Path = ROOT,
    progress: bool = True,
) -> Path:
    """Execute one chapter with papermill into ``output`` (an .ipynb path).

    The kernel runs in the repository root with :func:`kernel_environment`.
    ``progress`` shows papermill's bar of executed cells on stderr.

    Raises
    ------
    ChapterFailed
        With the chapter name and the failing cell, when a cell raises.
    ChapterInterrupted
        When the user presses Ctrl-C. The first press interrupts the running
        cell, and papermill saves the partly executed notebook at ``output``.
    OutputFolderError
        When ``output``'s folder is a file, cannot be created or is not writable.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = read_notebook(source)
    prepare_output_folder(output.parent)
    started_managers: list = []
    forwarder = _InterruptForwarder(source.stem, started_managers)
    try:
        with unix_socket_kernels(kernel_environment(), started_managers) as kernel_manager_class:
            with forwarder.installed():
                papermill.execute_notebook(
                    notebook,
                    str(output),
                    parameters=parameters or {},
                    kernel_name=KERNEL_SPEC["name"],
                    language="python",
                    cwd=str(root),
                    progress_bar=progress,
                    log_output=False,
                    kernel_manager_class=kernel_manager_class,
                    on_cell_start=forwarder.stop_before_cell,
                )
    except PapermillExecutionError as error:
        if forwarder.requested or error.ename == "KeyboardInterrupt":
            raise ChapterInterrupted(source.stem, output) from None
        message = redact(f"{error.ename}: {error.evalue}")
        raise ChapterFailed(source.stem, error.exec_count, message) from None
    except (_StopBeforeCell, KeyboardInterrupt):
        raise ChapterInterrupted(source.stem, output) from None
    from vatnb.rerun import add_rerun_box  # imported here: rerun imports this module

    add_rerun_box(output, source)
    return output


def prepare_output_folder(folder: Path) -> None:
    """Create ``folder`` for an executed notebook, or raise :class:`OutputFolderError`."""
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(
            f"output folder {folder} exists but is a file; give a folder path for the notebook"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(
            f"cannot create output folder {folder}: {error.strerror or error}; give a folder "
            "path you can write to"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFolderError(
            f"output folder {folder} is not writable; give a folder you can write to, or "
            "change its permissions"
        )


def execute_chapters(
    root: Path = ROOT, chapters: list[str] | None = None, force: bool = False,
    progress: bool = False,
) -> tuple[dict, dict]:
    """Execute every chapter of the book, continuing past failures.

    A chapter whose source, parameters and ``vatnb`` package are unchanged
    since its last successful run is reused (see :mod:`vatnb.buildcache`)
    unless ``force`` is set. ``progress`` shows papermill's cell bar for each
    chapter. Returns ``(timings, failures)``: seconds per chapter (the key
    gets " (reused)" when reused), and the :class:`ChapterFailed` of each
    chapter that failed. A :class:`ChapterInterrupted` stops the build, and
    the interrupted chapter's partial notebook is removed first.
    """
    from vatnb.buildcache import execute_if_changed

    timings: dict[str, float] = {}
    failures: dict[str, ChapterFailed] = {}
    for requested in chapters or chapter_names(root):
        source = chapter_source(requested, root)
        name = source.stem
        target = root / CHAPTER_DIR / f"{name}.ipynb"
        log.info("building chapter %s", name)
        print(f"[vatnb] {name} ...", flush=True)
        start = time.perf_counter()
        reused = False
        try:
            reused = execute_if_changed(
                source, target, execute_chapter, force=force, root=root, progress=progress
            )
        except ChapterFailed as failure:
            failures[name] = failure
            # A failed chapter must not reach the book with partial outputs.
            target.unlink(missing_ok=True)
        except ChapterInterrupted as interrupted:
            target.unlink(missing_ok=True)
            interrupted.output_kept = False
            raise
        elapsed = time.perf_counter() - start
        if name not in failures:
            outcome = "reused: unchanged since its last run" if reused else f"executed in {elapsed:.1f} s"
            print(f"[vatnb] {name}: {outcome}", flush=True)
        timings[name + (" (reused)" if reused else "")] = elapsed
    return timings, failures


class BookBuildError(RuntimeError):
    """The Jupyter Book step failed after the chapters were executed."""


def run_jupyter_book(root: Path = ROOT) -> Path:
    """Build the HTML book from the executed chapters; return the index page's path."""
    executable = Path(sys.executable).parent / "jupyter-book"
    command = [
        str(executable) if executable.exists() else "jupyter-book", "build", str(root),
        "--path-output", str(root / "book"), "--builder", "html",
        "--all", "-W", "-n", "--keep-going",
    ]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-6000:])
        raise BookBuildError(
            f"jupyter-book build failed with exit code {result.returncode}; its output above names "
            "the page and the problem (warnings count as errors). If a chapter's executed notebook "
            "is missing, run `vatnb build` without --chapters to execute every chapter"
        )
    return root / "book" / "_build" / "html" / "index.html"


def format_timings(timings: dict[str, float]) -> str:
    """Return the per-chapter execution times as an aligned text table."""
    width = max((len(name) for name in timings), default=10)
    lines = [f"{'chapter'.ljust(width)}  seconds"]
    lines += [f"{name.ljust(width)}  {seconds:7.1f}" for name, seconds in timings.items()]
    lines.append(f"{'total'.ljust(width)}  {sum(timings.values()):7.1f}")
    return "\n".join(lines)
