"""Replay backend: records files with invalid ratings, signs, statuses and repeated rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_elicit import CountingBackend, _items

from vatnb.elicit import JudgmentCache, ReplayBackend, elicit

ROWS_NOTE = "(numbered from 1 after the header)"


@pytest.fixture
def recorded() -> pd.DataFrame:
    """Records of six items: item i has rating 1 + i % 5, except item 0, which is unread."""
    return elicit(_items(6), CountingBackend(), None, progress=False)


def _saved(table: pd.DataFrame, tmp_path) -> str:
    path = tmp_path / "records.csv"
    table.to_csv(path, index=False)
    return str(path)


def _with_ratings(records: pd.DataFrame, changes: dict) -> pd.DataFrame:
    table = records.assign(rating=records["rating"].astype(object))
    for position, rating in changes.items():
        table.loc[position, "rating"] = rating
    return table


def test_fractional_ratings_rejected(recorded, tmp_path):
    path = _saved(_with_ratings(recorded, {1: 2.7, 4: 4.9}), tmp_path)
    with pytest.raises(ValueError) as raised:
        ReplayBackend(path)
    message = str(raised.value)
    assert f"replay file {path}, column 'rating', rows 2, 5 {ROWS_NOTE}" in message
    assert "invalid values 2.7, 4.9 (not a whole number)" in message


@pytest.mark.parametrize("rating", [9, -3, 0, 6])
def test_out_of_range_rating_rejected(recorded, tmp_path, rating):
    path = _saved(_with_ratings(recorded, {2: rating}), tmp_path)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(ValueError) as raised:
            elicit(_items(6), ReplayBackend(path), cache, progress=False)
        assert len(cache) == 0
    message = str(raised.value)
    assert f"replay file {path}, column 'rating', row 3 {ROWS_NOTE}" in message
    assert "outside 1 to the row's scale_points" in message


def test_rating_above_item_scale_rejected(recorded, tmp_path):
    # Without a scale_points column the scale is only known when the items arrive.
    table = _with_ratings(recorded, {3: 6}).drop(columns=["scale_points"])
    path = _saved(table, tmp_path)
    with pytest.raises(ValueError) as raised:
        elicit(_items(6), ReplayBackend(path), None, progress=False)
    message = str(raised.value)
    assert f"replay file {path}, row 4 {ROWS_NOTE}, column 'rating'" in message
    assert "invalid value 6 (outside the item's 5-point scale)" in message


def test_other_scale_rejected(recorded, tmp_path):
    path = _saved(recorded.assign(scale_points=6), tmp_path)
    with pytest.raises(ValueError, match="on a 6-point scale .* asked on a 5-point scale"):
        elicit(_items(6), ReplayBackend(path), None, progress=False)


def test_text_rating_rejected(recorded, tmp_path):
    path = _saved(_with_ratings(recorded, {1: "four"}), tmp_path)
    with pytest.raises(ValueError) as raised:
        ReplayBackend(path)
    message = str(raised.value)
    assert f"replay file {path}, column 'rating', row 2 {ROWS_NOTE}" in message
    assert "invalid value 'four' (not a number)" in message


@pytest.mark.parametrize(("sign", "problem"), [
    (np.nan, "value missing"),
    ("plus", "invalid value 'plus' (not a number)"),
    (2, "invalid value 2 (neither 1 nor -1)"),
    (0.5, "invalid value 0.5 (neither 1 nor -1)"),
])
def test_invalid_sign_rejected(recorded, tmp_path, sign, problem):
    table = recorded.assign(sign=recorded["sign"].astype(object))
    table.loc[4, "sign"] = sign
    path = _saved(table, tmp_path)
    with pytest.raises(ValueError) as raised:
        ReplayBackend(path)
    message = str(raised.value)
    assert f"replay file {path}, column 'sign', row 5 {ROWS_NOTE}: {problem}" in message
    assert "sign must be 1" in message


def test_conflicting_duplicates_rejected(recorded, tmp_path):
    table = pd.concat([recorded, recorded.iloc[[1]].assign(rating=5.0)], ignore_index=True)
    path = _saved(table, tmp_path)
    with pytest.raises(ValueError) as raised:
        ReplayBackend(path)
    message = str(raised.value)
    assert f"replay file {path}, rows 2, 7 {ROWS_NOTE}" in message
    assert "the rows of the item ('pre', 's0', 'Helpful', 1) disagree" in message
    assert "keep one row per item" in message


def test_identical_duplicates_read_once(recorded, tmp_path):
    table = pd.concat([recorded, recorded.iloc[[1, 2]]], ignore_index=True)
    replayed = elicit(_items(6), ReplayBackend(_saved(table, tmp_path)), None, progress=False)
    np.testing.assert_array_equal(replayed["rating"], recorded["rating"])


def test_table_errors_name_index_labels(recorded):
    table = _with_ratings(recorded, {2: 0, 3: 7}).set_axis([10, 11, 12, 13, 14, 15])
    with pytest.raises(ValueError) as raised:
        ReplayBackend(table)
    message = str(raised.value)
    assert "replay records table, column 'rating', index labels 12, 13" in message
    assert "invalid values 0, 7" in message


def test_many_invalid_rows_counted():
    table = pd.DataFrame({"prompt": [f"item {i}" for i in range(9)], "rating": [1.5] * 9})
    with pytest.raises(ValueError, match="index labels 0, 1, 2, 3, 4 and 4 more"):
        ReplayBackend(table)


def test_missing_prompt_rejected():
    table = pd.DataFrame({"prompt": ["item 0", None], "rating": [1, 2]})
    with pytest.raises(ValueError, match="column 'prompt', index label 1: value missing"):
        ReplayBackend(table)


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("status", "done", "invalid value 'done' (not one of full, unread, failed)"),
    ("valid_mass", 1.5, "invalid value 1.5 (outside 0 to 1)"),
    ("expected_rating", "high", "invalid value 'high' (not a number)"),
    ("scale_points", 4.5, "invalid value 4.5 (not a whole number)"),
])
def test_invalid_judgment_fields_rejected(recorded, tmp_path, column, value, problem):
    table = recorded.assign(**{column: recorded[column].astype(object)})
    table.loc[2, column] = value
    path = _saved(table, tmp_path)
    with pytest.raises(ValueError) as raised:
        ReplayBackend(path)
    assert f"replay file {path}, column {column!r}, row 3 {ROWS_NOTE}: {problem}" in str(raised.value)


def test_missing_rating_keeps_status(recorded, tmp_path):
    table = recorded.copy()
    table.loc[3, ["rating", "expected_rating", "valid_mass", "status"]] = [np.nan, np.nan, np.nan, "failed"]
    replayed = elicit(_items(6), ReplayBackend(_saved(table, tmp_path)), None, progress=False)
    assert replayed["status"].tolist() == ["unread", "full", "full", "failed", "full", "full"]
    assert replayed["rating"].isna().tolist() == [True, False, False, True, False, False]


def test_miss_names_table():
    table = pd.DataFrame({"prompt": ["other prompt"], "rating": [3]})
    with pytest.raises(KeyError, match="replay records table has no judgment for item"):
        elicit(_items(2), ReplayBackend(table), None, progress=False)
