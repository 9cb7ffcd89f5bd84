"""Command line: ``vatnb run CHAPTER -p name value ...`` and ``vatnb build``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from vatnb import book

# Exit statuses: 1 when chapters failed during `vatnb build`, 2 for an error
# reported on one line, and 130 (128 + SIGINT, as shells report it) after Ctrl-C.
EXIT_CHAPTERS_FAILED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vatnb", description="Execute the chapters of the Value Alignment Tax book."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute one chapter with new parameters")
    run.add_argument("chapter", help="chapter name (e.g. 01_vat_on_real_judgments) or .py path")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="set one parameter of the chapter's parameters cell (repeatable); lists are "
        "comma-separated",
    )
    run.add_argument(
        "-o", "--output", default="runs", help="folder for the executed notebook (default: runs)"
    )
    run.add_argument("--list", action="store_true", help="list the chapter's parameters and exit")

    build = commands.add_parser("build", help="execute every chapter and build the HTML book")
    build.add_argument(
        "--chapters", nargs="*", help="execute only these chapters (default: all in _toc.yml)"
    )
    build.add_argument(
        "--force", action="store_true",
        help="execute every chapter even when its stored output is current",
    )
    return parser


def _run(arguments) -> int:
    source = book.chapter_source(arguments.chapter)
    if arguments.list:
        for parameter in book.chapter_parameters(source):
            print(f"{parameter.name}: {parameter.annotation} = {parameter.default!r}  "
                  f"# {parameter.help}")
        return 0
    values = book.coerce_parameters(source, [tuple(pair) for pair in arguments.parameter])
    output = Path(arguments.output) / f"{source.stem}.ipynb"
    start = time.perf_counter()
    # Papermill's cell bar is shown only on a terminal, where it redraws in place.
    book.execute_chapter(source, output, values, progress=sys.stderr.isatty())
    print(f"executed {source.stem} in {time.perf_counter() - start:.1f} s -> {output}")
    return 0


def _build(arguments) -> int:
    timings, failures = book.execute_chapters(
        chapters=arguments.chapters, force=arguments.force, progress=sys.stderr.isatty()
    )
    print(book.format_timings(timings))
    if failures:
        for failure in failures.values():
            print(f"FAILED: {failure}", file=sys.stderr)
        print(f"{len(failures)} chapter(s) failed; the book was not built, so any pages "
              "already in book/_build/html are from an earlier build.", file=sys.stderr)
        return EXIT_CHAPTERS_FAILED
    try:
        index = book.run_jupyter_book()
    except book.BookBuildError as error:
        print(f"vatnb: error: {error}", file=sys.stderr)
        return EXIT_CHAPTERS_FAILED
    except KeyboardInterrupt:
        print("vatnb: interrupted while Jupyter Book built the HTML pages; the executed chapters "
              "are kept, so running `vatnb build` again reuses them.", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"book built: open {index}")
    return 0


def _report_interrupt(interrupted: book.ChapterInterrupted) -> None:
    if interrupted.output_kept:
        notebook = f"the partly executed notebook {interrupted.output} is incomplete"
    else:
        notebook = f"its partly executed notebook {interrupted.output} was removed"
    print(f"vatnb: interrupted during chapter {interrupted.chapter}; {notebook}.\n"
          "Judgments, generated texts and training checkpoints already written to the cache are "
          "kept, so running the same command again resumes from them.", file=sys.stderr)


def _describe_os_error(error: OSError) -> str:
    if error.filename is None or isinstance(error, book.OutputFolderError):
        return str(error)
    return (f"cannot access {error.filename}: {error.strerror or error}; check that the path "
            "exists and that you may read and write it")


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    arguments = _parser().parse_args(argv)
    try:
        if arguments.command == "run":
            return _run(arguments)
        return _build(arguments)
    except (book.ParameterError, book.ChapterSourceError, book.ChapterFailed) as error:
        print(f"vatnb: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:
        print(f"vatnb: error: {_describe_os_error(error)}", file=sys.stderr)
        return EXIT_ERROR
    except book.ChapterInterrupted as interrupted:
        _report_interrupt(interrupted)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("vatnb: interrupted while no chapter was executing, so no partly executed "
              "notebook was left.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
