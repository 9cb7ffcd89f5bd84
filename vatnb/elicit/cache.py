"""One on-disk cache of Likert judgments, shared by every elicitation backend.

Entries live in a SQLite file, keyed by the SHA-256 of (backend, model,
prompt, decoding settings). Network backends commit each judgment as soon as it arrives, local ones
once per chunk of at most 256; a run that is killed loses at most the
judgments in flight or in the open chunk, and a rerun requests only the rest from the backend. The
prompt text itself is not stored, only its hash; API keys are never part of
a key or an entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS judgments ("
    " key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL,"
    " judgment TEXT NOT NULL)"
)


def judgment_key(backend: str, model: str, prompt: str, settings: dict) -> str:
    """Return the cache key: SHA-256 hex of (backend, model, prompt, settings) as canonical JSON."""
    payload = json.dumps([backend, model, prompt, settings], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class JudgmentCache:
    """A SQLite file of judgments; safe to share between threads of one process.

    Parameters
    ----------
    path
        The database file; its folder is created. ``":memory:"`` keeps the
        cache in memory (tests).
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock:
            if self.path != ":memory:":
                self._connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL with WAL keeps every committed entry across a killed
            # process; only a power loss can drop the last commits.
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(SCHEMA)
            self._connection.commit()

    def get_many(self, keys) -> dict[str, dict]:
        """Return the stored judgments of the keys that are present."""
        keys = list(keys)
        found: dict[str, dict] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT key, judgment FROM judgments WHERE key IN ({marks})", chunk
                )
                found.update((key, json.loads(text)) for key, text in rows)
        return found

    def put(self, key: str, backend: str, model: str, judgment: dict, commit: bool = True) -> None:
        """Store one judgment (replacing an older entry), committed at once unless ``commit=False``.

        Uncommitted entries are written whole by the next :meth:`commit`; a
        killed process loses them, so they are elicited again, never twice.
        """
        text = json.dumps(judgment, sort_keys=True)
        with self._lock:
            self._connection.execute(
                "INSERT OR REPLACE INTO judgments (key, backend, model, judgment) VALUES (?, ?, ?, ?)",
                (key, backend, model, text),
            )
            if commit:
                self._connection.commit()

    def commit(self) -> None:
        """Commit the entries stored with ``commit=False``."""
        with self._lock:
            self._connection.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
