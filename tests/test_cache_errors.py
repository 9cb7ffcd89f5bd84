"""Judgment and simulator caches that are read-only, cannot be created or are corrupted."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat

import numpy as np
import pytest
from test_elicit import CountingBackend, _items

from vatnb import simulator
from vatnb.elicit import JudgmentCache, elicit
from vatnb.elicit import cache as cache_module
from vatnb.elicit.cache import CacheError, CorruptCacheError

RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _filled_cache(path, count: int = 20) -> None:
    """Write a cache of ``count`` judgments for ``_items(count)`` and close it."""
    with JudgmentCache(path) as cache:
        elicit(_items(count), CountingBackend(), cache, progress=False)
        assert len(cache) == count


def _deny_writes(monkeypatch) -> None:
    """Make the cache module see every path as not writable, which chmod cannot do for root."""
    real_access = os.access
    monkeypatch.setattr(cache_module.os, "access",
                        lambda path, mode: False if mode == os.W_OK else real_access(path, mode))


def test_read_only_flag_serves_judgments(tmp_path, caplog):
    path = tmp_path / "judgments.sqlite"
    _filled_cache(path)
    backend = CountingBackend()
    with caplog.at_level(logging.WARNING), JudgmentCache(path, read_only=True) as cache:
        assert cache.read_only
        records = elicit(_items(20), backend, cache, progress=False)
        assert backend.calls == 0
        assert records["rating"].notna().sum() == 17

        elicit(_items(24), backend, cache, progress=False)
        assert backend.calls == 4
        assert cache.dropped == 4
        assert len(cache) == 20
    assert "new judgments will not be stored" in caplog.text
    assert "new judgments are not stored" in caplog.text


def test_unwritable_cache_opens_read_only(tmp_path, monkeypatch, caplog):
    path = tmp_path / "judgments.sqlite"
    _filled_cache(path)
    _deny_writes(monkeypatch)
    with caplog.at_level(logging.WARNING), JudgmentCache(path) as cache:
        assert cache.read_only
        assert len(cache) == 20
    assert str(path) in caplog.text
    assert "VATNB_CACHE_DIR" in caplog.text


def test_unwritable_folder_rejects_new_cache(tmp_path, monkeypatch):
    _deny_writes(monkeypatch)
    with pytest.raises(CacheError, match="VATNB_CACHE_DIR") as raised:
        JudgmentCache(tmp_path / "judgments.sqlite")
    assert str(tmp_path) in str(raised.value)
    assert "cache_dir" in str(raised.value)


@pytest.mark.skipif(RUNNING_AS_ROOT, reason="root can write to a chmod 555 folder, so it stays writable")
def test_chmod_read_only_folder_serves_judgments(tmp_path):
    folder = tmp_path / "shared"
    path = folder / "judgments.sqlite"
    _filled_cache(path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        backend = CountingBackend()
        with JudgmentCache(path) as cache:
            assert cache.read_only
            elicit(_items(20), backend, cache, progress=False)
        assert backend.calls == 0
        with pytest.raises(CacheError, match="not writable"):
            JudgmentCache(folder / "other.sqlite")
    finally:
        folder.chmod(stat.S_IRWXU)


def test_uncreatable_folder_named_in_error(tmp_path):
    # A regular file where a folder is expected stops mkdir, for root too.
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    folder = blocker / ".cache" / "vatnb"
    with pytest.raises(CacheError, match="cannot create the judgment cache folder") as raised:
        JudgmentCache(folder / "judgments.sqlite")
    assert str(folder) in str(raised.value)
    assert "VATNB_CACHE_DIR" in str(raised.value)


def test_overwritten_pages_reported_corrupt(tmp_path):
    path = tmp_path / "judgments.sqlite"
    _filled_cache(path, count=400)
    size = path.stat().st_size
    assert size > 4 * 4096
    with open(path, "r+b") as file:
        file.seek(2 * 4096)
        file.write(b"\xab" * (size - 2 * 4096))
    with pytest.raises(CorruptCacheError, match="is corrupted") as raised:
        JudgmentCache(path)
    assert str(path) in str(raised.value)
    assert "delete" in str(raised.value)
    # The only copy of the judgments is left in place.
    assert path.stat().st_size == size


def test_garbage_file_reported_corrupt(tmp_path):
    path = tmp_path / "judgments.sqlite"
    path.write_bytes(b"these bytes are not a SQLite database\n" * 200)
    with pytest.raises(CorruptCacheError, match="not a database") as raised:
        JudgmentCache(path)
    assert str(path) in str(raised.value)
    assert path.exists()


@pytest.mark.parametrize("read_only", [None, True, False])
def test_folder_as_cache_path_rejected(tmp_path, read_only):
    path = tmp_path / "judgments.sqlite"
    path.mkdir()
    with pytest.raises(CacheError, match="is a folder, not a SQLite file") as raised:
        JudgmentCache(path, read_only=read_only)
    assert str(path) in str(raised.value)
    assert "VATNB_CACHE_DIR" in str(raised.value)


def _foreign_database(path, statement: str) -> bytes:
    with sqlite3.connect(path) as connection:
        connection.execute(statement)
        connection.execute("INSERT INTO judgments VALUES (1, 'x')" if "judgments" in statement
                           else "INSERT INTO people VALUES (1)")
    connection.close()
    return path.read_bytes()


@pytest.mark.parametrize("read_only", [None, True])
def test_foreign_judgments_table_rejected(tmp_path, read_only):
    path = tmp_path / "judgments.sqlite"
    contents = _foreign_database(path, "CREATE TABLE judgments (id INTEGER, text TEXT)")
    with pytest.raises(CacheError, match="judgments table without the columns key, backend, model, "
                                         "judgment") as raised:
        JudgmentCache(path, read_only=read_only)
    assert str(path) in str(raised.value)
    assert "not a vatnb judgment cache" in str(raised.value)
    assert path.read_bytes() == contents


def test_database_of_other_program_rejected(tmp_path):
    path = tmp_path / "judgments.sqlite"
    contents = _foreign_database(path, "CREATE TABLE people (id INTEGER)")
    with pytest.raises(CacheError, match="contains no judgments table .tables: people") as raised:
        JudgmentCache(path)
    assert str(path) in str(raised.value)
    # The WAL switch and the judgments table would change the file, so it is checked first.
    assert path.read_bytes() == contents


INVALID_ENTRIES = {
    "not JSON": "{broken",
    "text rating": json.dumps({"rating": "abc", "status": "full"}),
    "list rating": json.dumps({"rating": [1, 2], "status": "full"}),
    "boolean rating": json.dumps({"rating": True, "status": "full"}),
    "zero rating": json.dumps({"rating": 0, "status": "full"}),
    "full without rating": json.dumps({"rating": None, "status": "full"}),
    "unknown status": json.dumps({"rating": 3, "status": "done"}),
    "text valid mass": json.dumps({"rating": 3, "valid_mass": "high", "status": "full"}),
    "NaN expected rating": json.dumps({"rating": 3, "expected_rating": float("nan"), "status": "full"}),
    "JSON list": json.dumps([3, "full"]),
}


@pytest.mark.parametrize("entry", INVALID_ENTRIES.values(), ids=INVALID_ENTRIES.keys())
def test_invalid_entry_recomputed(tmp_path, caplog, entry):
    path = tmp_path / "judgments.sqlite"
    _filled_cache(path, count=6)
    with sqlite3.connect(path) as connection:
        (key,) = connection.execute("SELECT key FROM judgments WHERE judgment LIKE '%\"rating\": 2%'").fetchone()
        connection.execute("UPDATE judgments SET judgment = ? WHERE key = ?", (entry, key))
    connection.close()

    backend = CountingBackend()
    with caplog.at_level(logging.WARNING, logger="vatnb.elicit.cache"), JudgmentCache(path) as cache:
        records = elicit(_items(6), backend, cache, progress=False)
        assert cache.get_many([key])[key]["rating"] == 2
    assert backend.calls == 1
    assert records["rating"].tolist()[1] == 2
    assert f"the judgment cache {path} has 1 invalid entries" in caplog.text
    assert key in caplog.text


def test_truncated_simulator_cache_recomputed(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("VATNB_CACHE_DIR", str(tmp_path))
    settings = simulator.SimulatorSettings()
    simulator.expected_observable_coupling.cache_clear()
    first = simulator.expected_observable_coupling(settings, n_samples=2_000)
    (cached,) = (tmp_path / "simulator").glob("expected_*.npy")
    cached.write_bytes(cached.read_bytes()[:40])

    simulator.expected_observable_coupling.cache_clear()
    with caplog.at_level(logging.WARNING, logger="vatnb.simulator"):
        again = simulator.expected_observable_coupling(settings, n_samples=2_000)
    simulator.expected_observable_coupling.cache_clear()
    assert str(cached) in caplog.text
    assert "recomputing" in caplog.text
    np.testing.assert_allclose(again.to_numpy(), first.to_numpy())
    np.testing.assert_allclose(np.load(cached), first.to_numpy())
