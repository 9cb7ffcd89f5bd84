"""The data fetcher verifies every copy against its pinned SHA-256, and its errors name the fix."""

import hashlib

import pytest

from vatnb import data

KEY = "ratings/gpt-4o-mini"


def write_wrong_copy(folder):
    path = folder / data.FILES[KEY].local_path
    path.parent.mkdir(parents=True)
    path.write_text("not the pinned file\n")
    return path


def test_modified_copy_in_data_dir(tmp_path, monkeypatch):
    path = write_wrong_copy(tmp_path)
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(data.ChecksumError) as error:
        data.fetch(KEY, download=False)
    message = str(error.value)
    assert str(path) in message
    assert hashlib.sha256(b"not the pinned file\n").hexdigest() in message
    assert f"This copy comes from {data.DATA_DIR_VARIABLE}" in message
    assert "Delete this cached copy" not in message


def test_modified_copy_in_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_VARIABLE, str(tmp_path))
    path = write_wrong_copy(tmp_path / "value-action-lens")
    with pytest.raises(data.ChecksumError) as error:
        data.fetch(KEY, download=False)
    message = str(error.value)
    assert str(path) in message
    assert "Delete this cached copy" in message


def test_missing_file_in_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(data.DataUnavailableError) as error:
        data.fetch(KEY, download=False)
    assert data.FILES[KEY].local_path in str(error.value)
    assert "does not exist" in str(error.value)


def test_no_copy_and_no_download(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(data.DataUnavailableError) as error:
        data.fetch(KEY, download=False)
    assert "downloads are off" in str(error.value)


def test_folder_in_place_of_file(tmp_path, monkeypatch):
    (tmp_path / data.FILES[KEY].local_path).mkdir(parents=True)
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(data.DataUnavailableError) as error:
        data.fetch(KEY, download=False)
    assert "is not a file" in str(error.value)


def test_cache_setting_is_a_file(tmp_path, monkeypatch):
    from vatnb.simulator import SimulatorSettings, expected_observable_coupling
    from vatnb.tinymodel import tiny_model_cache_dir

    setting = tmp_path / "not-a-folder"
    setting.write_text("")
    monkeypatch.setenv(data.CACHE_DIR_VARIABLE, str(setting))
    for cache_folder in (data.cache_dir, tiny_model_cache_dir,
                         lambda: expected_observable_coupling(SimulatorSettings(rho=0.31), n_samples=500)):
        with pytest.raises(NotADirectoryError, match=f"{data.CACHE_DIR_VARIABLE}={setting} is .*a file, not a folder"):
            cache_folder()
