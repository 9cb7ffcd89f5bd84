"""Locate the public ValueActionLens files: a local copy, the user cache, or a download.

The files come from the predecessor study "Mind the Value-Action Gap" (Shen,
Clark and Mitra, EMNLP 2025), published in the GitHub repository
``huashen218/value_action_gap``. That repository has no licence file, so this
project never redistributes them: :func:`fetch` downloads each file from the
pinned commit into a cache and checks its SHA-256.

Lookup order for a file:

1. ``$VATNB_DATA_DIR/<local path>`` when the environment variable is set
   (tests and CI point it at a local copy);
2. ``$VATNB_CACHE_DIR/value-action-lens/<local path>`` (default cache folder
   ``~/.cache/vatnb``);
3. a download from GitHub into that cache.

Every file found is checked against its SHA-256 before use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIR_VARIABLE = "VATNB_DATA_DIR"
CACHE_DIR_VARIABLE = "VATNB_CACHE_DIR"
REPOSITORY = "huashen218/value_action_gap"
COMMIT = "3c5e0133221499619abcc8c7fc802b31e7c4a144"
URL_PATTERN = "https://github.com/{repository}/raw/{commit}/{path}"


@dataclass(frozen=True)
class DataFile:
    """One public file: its path in our data folder, in the source repository, and its hash."""

    key: str
    local_path: str
    source_path: str
    sha256: str

    @property
    def url(self) -> str:
        return URL_PATTERN.format(
            repository=REPOSITORY, commit=COMMIT, path=urllib.parse.quote(self.source_path)
        )


FILES: dict[str, DataFile] = {
    entry.key: entry
    for entry in (
        DataFile(
            "actions",
            "value_action_gap_full_data_generation.zip",
            "outputs/data_release/value_action_gap_full_data_generation.zip",
            "48a79b14dc8112ebc6b237b3defca853b0a6b6002984ec41e647289cb4d001aa",
        ),
        DataFile(
            "ratings/gpt-4o-mini",
            "ratings/gpt-4o-mini_t1.csv",
            "outputs/evaluation/gpt-4o-mini_t1.csv",
            "47a91a9f2c4664213f3f731efe01f17ef163baeea807ca1ea1e9d81c1ab471c5",
        ),
        DataFile(
            "ratings/gpt-3.5-turbo",
            "ratings/gpt-3.5-turbo_t1.csv",
            "outputs/evaluation/gpt-3.5-turbo_t1.csv",
            "73924ac302c3da31d3a9e996ab25fea9bcc365fe6f6d60d0677d496dae1636e1",
        ),
        DataFile(
            "ratings/gpt-4o",
            "ratings/openai-gpt-4o_t1.csv",
            "outputs/evaluation/openai-gpt-4o_t1.csv",
            "1ec17ab45ca79fa0dbd586534eb878ce3009be9dfd89c7ba2670006f9932a1c4",
        ),
        DataFile(
            "ratings/Llama-3.3-70B-Instruct",
            "ratings/Llama-3.3-70B-Instruct_t1.csv",
            "outputs/evaluation/Llama-3.3-70B-Instruct_t1.csv",
            "ffe3fe6facbbd8949b0dd706604afee9d92b66fe541c4ff8394e33f890d9df01",
        ),
        DataFile(
            "annotations/a",
            "annotations/annotator_a.csv",
            "outputs/human_annotation/human_annotation_value_actions_gpt_4o - Hua.csv",
            "4e1c48e87171a46c471104acc50f4eb2f8f3d12673002e20cadbff40caf812b5",
        ),
        DataFile(
            "annotations/b",
            "annotations/annotator_b.csv",
            "outputs/human_annotation/human_annotation_value_actions_gpt_4o - Nick.csv",
            "ad0bc00eb52b806dc35b38f5e43cf55600eb2af854ce31231e34593533aa982c",
        ),
    )
}

RATING_MODELS = ("gpt-3.5-turbo", "gpt-4o-mini", "gpt-4o", "Llama-3.3-70B-Instruct")


class DataUnavailableError(RuntimeError):
    """A data file is neither in the data folder, nor in the cache, nor downloadable."""


class ChecksumError(RuntimeError):
    """A data file does not have the pinned SHA-256."""


def cache_root() -> Path:
    """Return vatnb's cache folder, ``$VATNB_CACHE_DIR`` or ``~/.cache/vatnb``.

    Raises NotADirectoryError with the fix when that path exists but is not a folder.
    """
    setting = os.environ.get(CACHE_DIR_VARIABLE)
    root = Path(setting) if setting else Path.home() / ".cache" / "vatnb"
    if root.exists() and not root.is_dir():
        source = f"{CACHE_DIR_VARIABLE}={setting}" if setting else "the default cache folder"
        raise NotADirectoryError(f"{source} is {root}, which is a file, not a folder; point "
                                 f"{CACHE_DIR_VARIABLE} at a folder (it is created if missing)")
    return root


def cache_dir() -> Path:
    """Return the folder that downloads go to, ``value-action-lens`` under :func:`cache_root`."""
    return cache_root() / "value-action-lens"


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, entry: DataFile, in_data_dir: bool = False) -> Path:
    actual = sha256_of(path)
    if actual != entry.sha256:
        if in_data_dir:
            fix = (f"This copy comes from {DATA_DIR_VARIABLE}: replace it with the file of that commit, "
                   f"or unset {DATA_DIR_VARIABLE} to download a verified copy into the cache.")
        else:
            fix = ("Delete this cached copy and fetch it again, or point "
                   f"{DATA_DIR_VARIABLE} at an unmodified copy.")
        raise ChecksumError(
            f"{path} has SHA-256 {actual}, expected {entry.sha256} "
            f"(the file at commit {COMMIT[:12]} of {REPOSITORY}). {fix}"
        )
    return path


def fetch(key: str, download: bool = True) -> Path:
    """Return a verified local path of one public data file, downloading it if needed.

    Parameters
    ----------
    key
        One of :data:`FILES`, e.g. ``"ratings/gpt-4o-mini"`` or ``"actions"``.
    download
        When False, never touch the network.

    Raises
    ------
    DataUnavailableError
        With the environment variable to set, when no copy is found and the
        download fails or is disabled.
    ChecksumError
        When a copy exists but its SHA-256 differs from the pinned one.
    """
    if key not in FILES:
        raise KeyError(f"unknown data file {key!r}; known files: {', '.join(FILES)}")
    entry = FILES[key]
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    if data_dir:
        candidate = Path(data_dir).expanduser() / entry.local_path
        if candidate.is_file():
            return _verified(candidate, entry, in_data_dir=True)
        problem = "is not a file" if candidate.exists() else "does not exist"
        raise DataUnavailableError(
            f"{DATA_DIR_VARIABLE}={data_dir} is set but {candidate} {problem}. "
            f"Point {DATA_DIR_VARIABLE} at a folder laid out like the original "
            f"(e.g. ratings/, annotations/), or unset it to download into {cache_dir()}."
        )
    cached = cache_dir() / entry.local_path
    if cached.is_file():
        return _verified(cached, entry)
    if not download:
        raise DataUnavailableError(
            f"{entry.local_path} is not in the cache {cache_dir()} and downloads are off. "
            f"Set {DATA_DIR_VARIABLE} to a folder with a local copy."
        )
    return _download(entry, cached)


def _download(entry: DataFile, target: Path) -> Path:
    import requests

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    log.info("downloading %s from %s", entry.local_path, entry.url)
    try:
        with requests.get(entry.url, stream=True, timeout=60) as response:
            response.raise_for_status()
            with open(partial, "wb") as handle:
                for block in response.iter_content(1 << 20):
                    handle.write(block)
    except requests.RequestException as error:
        partial.unlink(missing_ok=True)
        raise DataUnavailableError(
            f"could not download {entry.url} ({error.__class__.__name__}: {error}). "
            f"Without network access, set {DATA_DIR_VARIABLE} to a folder that holds "
            f"{entry.local_path} (a copy of the files at commit {COMMIT[:12]} of {REPOSITORY})."
        ) from None
    try:
        _verified(partial, entry)
    except ChecksumError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return target


def describe(key: str) -> dict[str, str]:
    """Return the provenance of one data file: source, commit, local path and SHA-256."""
    entry = FILES[key]
    path = fetch(key)
    return {
        "file": entry.local_path,
        "source": f"{REPOSITORY}@{COMMIT[:12]}:{entry.source_path}",
        "path": str(path),
        "sha256": entry.sha256,
    }
