"""Reuse an executed chapter when nothing it depends on has changed.

An executed chapter (``book/chapters/NAME.ipynb``) is reused when its
*fingerprint* matches: a SHA-256 over the chapter source, its parameters, every
``.py`` file of the ``vatnb`` package, and the data-directory setting (a
chapter runs its real-data sections only when that setting provides the data).
The fingerprint is stored in the executed notebook's metadata under
``vatnb.build_fingerprint``. Anything else a chapter reads (a downloaded file
that changed on disk, the installed package versions) is NOT part of the
fingerprint: delete ``book/chapters/`` or pass ``force=True`` after changing it.

Use from the build loop::

    from vatnb.buildcache import execute_if_changed
    reused = execute_if_changed(source, target, execute=execute_chapter, root=root)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Callable

import nbformat

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
METADATA_KEY = "vatnb"
FINGERPRINT_FIELD = "build_fingerprint"
# Environment settings that change what a chapter computes.
RELEVANT_ENVIRONMENT = ("VATNB_DATA_DIR",)


def fingerprint(source: Path, parameters: dict | None = None,
                package_dir: Path = PACKAGE_DIR) -> str:
    """Return the SHA-256 of a chapter source, its parameters, the package source and settings."""
    digest = hashlib.sha256()
    digest.update(Path(source).read_bytes())
    digest.update(json.dumps(parameters or {}, sort_keys=True, default=repr).encode())
    for path in sorted(Path(package_dir).rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    for name in RELEVANT_ENVIRONMENT:
        digest.update(f"{name}={os.environ.get(name, '')}".encode())
    return digest.hexdigest()


def stored_fingerprint(output: Path) -> str | None:
    """Return the fingerprint stored in an executed notebook, or None if absent or unreadable."""
    try:
        notebook = nbformat.read(str(output), as_version=4)
    except (OSError, ValueError) as error:
        log.info("no reusable output at %s: %s", output, error)
        return None
    return notebook.metadata.get(METADATA_KEY, {}).get(FINGERPRINT_FIELD)


def stamp(output: Path, value: str) -> None:
    """Write the fingerprint into the executed notebook's metadata."""
    notebook = nbformat.read(str(output), as_version=4)
    notebook.metadata.setdefault(METADATA_KEY, {})[FINGERPRINT_FIELD] = value
    nbformat.write(notebook, str(output))


def execute_if_changed(
    source: Path,
    output: Path,
    execute: Callable[..., object],
    parameters: dict | None = None,
    force: bool = False,
    package_dir: Path = PACKAGE_DIR,
    **options,
) -> bool:
    """Execute a chapter unless its output is current; return True when the output was reused.

    ``execute(source, output, parameters, **options)`` runs the chapter (for
    example :func:`vatnb.book.execute_chapter`); its exceptions propagate and
    leave no stamp, so a failed chapter is executed again next time.
    """
    value = fingerprint(source, parameters, package_dir)
    if not force and Path(output).is_file() and stored_fingerprint(output) == value:
        log.info("reusing %s: source, parameters and package unchanged", output)
        return True
    execute(source, output, parameters, **options)
    stamp(output, value)
    return False
