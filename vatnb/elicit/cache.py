"""One on-disk cache of Likert judgments, shared by every elicitation backend.

Entries live in a SQLite file, keyed by the SHA-256 of (backend, model,
prompt, decoding settings). Network backends commit each judgment as soon as it arrives, local ones
once per chunk of at most 256; a run that is killed loses at most the
judgments in flight or in the open chunk, and a rerun requests only the rest from the backend. The
prompt text itself is not stored, only its hash; API keys are never part of
a key or an entry.

A cache that this process cannot write (a prepared cache shared read-only
with a class, for example) is opened read-only: its judgments are read, and
new judgments are returned but not stored.

An entry that is not valid JSON or not a well-formed judgment is treated as
missing, with a warning, so its item is elicited again and the entry is
overwritten (unless the cache is read-only).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import threading
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS judgments ("
    " key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL,"
    " judgment TEXT NOT NULL)"
)

# The fields of a stored judgment (vatnb.elicit.engine.make_judgment) and their JSON types.
# Every field except status may also be null.
ENTRY_TYPES = {"rating": int, "expected_rating": (int, float), "valid_mass": (int, float), "reason": str}
ENTRY_STATUSES = ("full", "unread", "failed")

JUDGMENT_TABLE_COLUMNS = ("key", "backend", "model", "judgment")

WRITABLE_FOLDER_HINT = (
    "set the VATNB_CACHE_DIR environment variable or the chapter's cache_dir parameter "
    "to a writable folder"
)

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_READONLY = 8
_SQLITE_CORRUPT = 11
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


class CacheError(RuntimeError):
    """A judgment cache that cannot be opened or used. The message names the file or folder."""


class CorruptCacheError(CacheError):
    """A judgment cache file that SQLite cannot read as a database."""


def judgment_key(backend: str, model: str, prompt: str, settings: dict) -> str:
    """Return the cache key: SHA-256 hex of (backend, model, prompt, settings) as canonical JSON."""
    payload = json.dumps([backend, model, prompt, settings], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _primary_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _is_corruption(error: sqlite3.Error) -> bool:
    if _primary_code(error) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(error)
    return "malformed" in text or "not a database" in text


def _parse_entry(text) -> tuple[dict | None, str | None]:
    """Return (judgment, None) for a valid stored entry, or (None, the problem) for an invalid one."""
    try:
        judgment = json.loads(text)
    except (TypeError, ValueError) as error:
        return None, f"not valid JSON ({error})"
    if not isinstance(judgment, dict):
        return None, f"a JSON {type(judgment).__name__}, not an object"
    for field, kinds in ENTRY_TYPES.items():
        value = judgment.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            return None, f"field {field!r} is {value!r}"
    if judgment.get("status") not in ENTRY_STATUSES:
        return None, f"field 'status' is {judgment.get('status')!r}"
    rating = judgment.get("rating")
    if judgment["status"] == "full" and (rating is None or rating < 1):
        return None, f"field 'rating' is {rating!r} in a full judgment"
    for field in ("expected_rating", "valid_mass"):
        value = judgment.get(field)
        if value is not None and not math.isfinite(value):
            return None, f"field {field!r} is {value!r}"
    return judgment, None


class JudgmentCache:
    """A SQLite file of judgments; safe to share between threads of one process.

    Parameters
    ----------
    path
        The database file; its folder is created. ``":memory:"`` keeps the
        cache in memory (tests).
    read_only
        True opens the file read-only, False requires write access, and None
        (the default) opens it read-only when the file or its folder is not
        writable and logs a warning that new judgments will not be stored.

    Raises
    ------
    CacheError
        When the folder cannot be created, when a new cache cannot be created
        in it, when ``read_only=False`` and the file is not writable, when the
        path is a folder, or when the file is a SQLite database of another
        program (other tables, or a judgments table with other columns).
    CorruptCacheError
        When the file is not a readable SQLite database. The file is never
        deleted here because it can be the only copy of paid API responses.
    """

    def __init__(self, path: str | Path, read_only: bool | None = None):
        self.path = str(path)
        self._lock = threading.Lock()
        self._dropped = 0
        self._connection: sqlite3.Connection | None = None
        if self.path == ":memory:":
            self.read_only = False
            self._connection = sqlite3.connect(self.path, check_same_thread=False)
            self._prepare_writable()
            return

        if Path(self.path).is_dir():
            raise CacheError(
                f"the judgment cache {self.path} is a folder, not a SQLite file; move or rename "
                f"that folder, or {WRITABLE_FOLDER_HINT}"
            )
        automatic = read_only is None
        if not read_only:
            self._create_folder()
        if automatic:
            read_only = self._needs_read_only()
        try:
            with self._translate_errors():
                if read_only:
                    self._open_read_only()
                else:
                    self._open_writable(fall_back_to_read_only=automatic)
        except BaseException:
            if self._connection is not None:
                self._connection.close()
            raise

    # -- opening ----------------------------------------------------------

    def _create_folder(self) -> None:
        folder = Path(self.path).parent
        if folder.is_dir():
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CacheError(
                f"cannot create the judgment cache folder {folder} ({error.strerror or error}); "
                f"{WRITABLE_FOLDER_HINT}"
            ) from error

    def _needs_read_only(self) -> bool:
        """Return True when the file exists but it or its folder is not writable."""
        file = Path(self.path)
        folder = file.parent
        # SQLite writes the -wal and -shm files next to the database, so the
        # folder must be writable too.
        writable = os.access(folder, os.W_OK) and (not file.exists() or os.access(file, os.W_OK))
        if writable:
            return False
        if not file.exists():
            raise CacheError(
                f"cannot create the judgment cache {file} because the folder {folder} is not "
                f"writable; {WRITABLE_FOLDER_HINT}"
            )
        return True

    def _open_writable(self, fall_back_to_read_only: bool) -> None:
        self.read_only = False
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        try:
            # Checked before the WAL switch, which would change another program's file.
            self._check_schema(missing_table_ok=True)
            self._connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            if _primary_code(error) not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
                raise
            self._connection.close()
            self._connection = None
            if fall_back_to_read_only and Path(self.path).is_file():
                self._open_read_only()
                return
            raise CacheError(
                f"the judgment cache {self.path} is not writable ({error}); open it with "
                f"read_only=True to read its judgments, or {WRITABLE_FOLDER_HINT}"
            ) from error
        self._check_integrity()
        self._prepare_writable()

    def _prepare_writable(self) -> None:
        with self._lock:
            # NORMAL with WAL keeps every committed entry across a killed
            # process; only a power loss can drop the last commits.
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(SCHEMA)
            self._connection.commit()

    def _open_read_only(self) -> None:
        self.read_only = True
        if not Path(self.path).is_file():
            raise CacheError(f"the judgment cache {self.path} does not exist, so it cannot be opened read-only")
        quoted = urllib.parse.quote(os.path.abspath(self.path))
        try:
            self._connection = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True, check_same_thread=False,
                                               timeout=30.0)
            self._connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as error:
            if _primary_code(error) not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
                raise
            # A database in WAL mode needs a -shm file, which a read-only
            # folder cannot hold. Without a -wal file every committed entry is
            # in the main file, so SQLite may read it as immutable instead.
            wal = Path(self.path + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise CacheError(
                    f"the judgment cache {self.path} has uncommitted entries in {wal} and its folder "
                    "is not writable; open it once in a writable folder to merge them, or "
                    f"{WRITABLE_FOLDER_HINT}"
                ) from error
            self._connection = sqlite3.connect(f"file:{quoted}?mode=ro&immutable=1", uri=True,
                                               check_same_thread=False)
        self._check_integrity()
        self._check_schema(missing_table_ok=False)
        log.warning(
            "the judgment cache %s is not writable, so it is open read-only: its %d judgments are "
            "used, but new judgments will not be stored (to store them, %s)",
            self.path, len(self), WRITABLE_FOLDER_HINT,
        )

    def _check_integrity(self) -> None:
        # quick_check reads every page once (about a second per few hundred MB),
        # so a damaged file is reported before any request is paid for.
        result = self._connection.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")

    def _check_schema(self, missing_table_ok: bool) -> None:
        """Raise CacheError unless the file is empty or has a judgments table with this module's columns.

        A new, empty file is fine when ``missing_table_ok``; a file that
        contains other tables belongs to another program and is left alone.
        """
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(judgments)")}
        advice = (f"it is not a vatnb judgment cache, so it is left unchanged; move it away, or "
                  f"{WRITABLE_FOLDER_HINT}")
        if not columns:
            tables = [row[0] for row in self._connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            if tables or not missing_table_ok:
                raise CacheError(
                    f"{self.path} contains no judgments table (tables: {', '.join(tables) or 'none'}); "
                    f"{advice}"
                )
            return
        missing = [column for column in JUDGMENT_TABLE_COLUMNS if column not in columns]
        if missing:
            raise CacheError(
                f"{self.path} has a judgments table without the columns {', '.join(missing)} "
                f"(found {', '.join(sorted(columns))}); {advice}"
            )

    @contextmanager
    def _translate_errors(self):
        """Turn SQLite corruption errors into :class:`CorruptCacheError` naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                raise
            raise CorruptCacheError(
                f"the judgment cache {self.path} is corrupted ({error}). Move it away or delete it, "
                "and a rerun starts an empty cache. It may be the only stored copy of paid API "
                "responses, so keep a copy if you want to recover them (for example with the "
                "sqlite3 shell's .recover command)."
            ) from error

    # -- reading and writing ----------------------------------------------

    def get_many(self, keys) -> dict[str, dict]:
        """Return the stored judgments of the keys that are present."""
        keys = list(keys)
        found: dict[str, dict] = {}
        invalid: dict[str, str] = {}
        with self._lock, self._translate_errors():
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT key, judgment FROM judgments WHERE key IN ({marks})", chunk
                )
                for key, text in rows:
                    judgment, problem = _parse_entry(text)
                    if problem is None:
                        found[key] = judgment
                    else:
                        invalid[key] = problem
        if invalid:
            key, problem = next(iter(invalid.items()))
            log.warning(
                "the judgment cache %s has %d invalid entries, which are treated as missing, so "
                "they are elicited again and overwritten (first: key %s, %s)",
                self.path, len(invalid), key, problem,
            )
        return found

    def put(self, key: str, backend: str, model: str, judgment: dict, commit: bool = True) -> None:
        """Store one judgment (replacing an older entry), committed at once unless ``commit=False``.

        Uncommitted entries are written whole by the next :meth:`commit`; a
        killed process loses them, so they are elicited again, never twice.
        A read-only cache drops the judgment and logs a warning on the first drop.
        """
        if self.read_only:
            with self._lock:
                self._dropped += 1
                first = self._dropped == 1
            if first:
                log.warning("the judgment cache %s is read-only: new judgments are not stored, "
                            "so a rerun requests them again", self.path)
            return
        text = json.dumps(judgment, sort_keys=True)
        with self._lock, self._translate_errors():
            self._connection.execute(
                "INSERT OR REPLACE INTO judgments (key, backend, model, judgment) VALUES (?, ?, ?, ?)",
                (key, backend, model, text),
            )
            if commit:
                self._connection.commit()

    @property
    def dropped(self) -> int:
        """Number of judgments that :meth:`put` did not store because the cache is read-only."""
        return self._dropped

    def commit(self) -> None:
        """Commit the entries stored with ``commit=False``."""
        if self.read_only:
            return
        with self._lock, self._translate_errors():
            self._connection.commit()

    def __len__(self) -> int:
        with self._lock, self._translate_errors():
            return int(self._connection.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
