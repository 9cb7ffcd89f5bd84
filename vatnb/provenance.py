"""Record where a chapter run came from: parameters, commit, packages, data files, seeds."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from vatnb.credentials import looks_like_secret
from vatnb.data import FILES, COMMIT, REPOSITORY, fetch, sha256_of

PACKAGES = (
    "vatnb", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "torch",
    "transformers", "peft", "trl", "datasets", "papermill", "jupytext", "jupyter-book",
)


def git_state(path: Path | None = None) -> dict[str, str]:
    """Return the project's commit and whether the working tree had uncommitted changes."""
    root = Path(path or Path(__file__).resolve().parent.parent)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown (not a git checkout)", "dirty": "unknown"}
    return {"commit": commit, "dirty": "yes" if status.strip() else "no"}


def package_versions(packages=PACKAGES) -> dict[str, str]:
    """Return the installed version of each package, or 'not installed'."""
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_table(parameters: dict, data_keys=(), seeds: dict | None = None) -> pd.DataFrame:
    """Return a two-column table (item, value) describing one chapter run.

    Parameters that look like credentials (see
    :func:`vatnb.credentials.looks_like_secret`) are shown as ``<redacted>``;
    the name of an environment variable, such as ``OPENAI_API_KEY``, is shown.
    """
    rows: list[tuple[str, str]] = []
    rows.append(("run time (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")))
    state = git_state()
    rows.append(("project commit", state["commit"]))
    rows.append(("uncommitted changes", state["dirty"]))
    rows.append(("python", platform.python_version()))
    for name, value in parameters.items():
        shown = "<redacted>" if looks_like_secret(name, value) else repr(value)
        rows.append((f"parameter {name}", shown))
    for name, value in (seeds or {}).items():
        rows.append((f"seed {name}", str(value)))
    for name, version in package_versions().items():
        rows.append((f"package {name}", version))
    for key in data_keys:
        entry = FILES[key]
        digest = sha256_of(fetch(key, download=False))
        rows.append((f"data {entry.local_path}", f"{REPOSITORY}@{COMMIT[:12]} sha256 {digest}"))
    return pd.DataFrame(rows, columns=["item", "value"])
