"""Scene-level stratified splits, value-specific training splits and the Table 9 layout."""

from __future__ import annotations

import pandas as pd
import pytest

from vatnb.dataset import builtin_offline_set
from vatnb.splits import paper_table_9, split_scenes, split_table, value_training_splits
from vatnb.taxonomy import VALUES


@pytest.fixture(scope="module")
def design():
    return builtin_offline_set()


def test_no_scene_in_both_parts(design):
    split = split_scenes(design, seed=3)
    parts_per_scene = split.groupby("scene_id")["split"].nunique()
    assert (parts_per_scene == 1).all()
    train = set(split.loc[split["split"] == "train", "scene_id"])
    test = set(split.loc[split["split"] == "test", "scene_id"])
    assert train.isdisjoint(test)
    assert len(train | test) == 264


def test_test_share_is_thirty_percent(design):
    split = split_scenes(design, seed=0)
    test_scenes = split.loc[split["split"] == "test", "scene_id"].nunique()
    assert test_scenes == round(0.3 * 264) == 79
    assert (split["split"] == "test").sum() == 79 * 112


def test_split_is_seeded(design):
    first = split_scenes(design, seed=5)["split"]
    assert first.equals(split_scenes(design, seed=5)["split"])
    assert not first.equals(split_scenes(design, seed=6)["split"])


def test_strata_get_proportional_shares():
    # 10 scenes in stratum A and 20 in B: 30% gives exactly 3 and 6 test scenes.
    rows = [(f"A{i}", "X", "a") for i in range(10)] + [(f"B{i}", "X", "b") for i in range(20)]
    records = pd.DataFrame(rows, columns=["scene_id", "country", "topic"])
    split = split_scenes(records, seed=1)
    tested = split[split["split"] == "test"].groupby("topic").size().to_dict()
    assert tested == {"a": 3, "b": 6}


def test_split_rejects_bad_arguments(design):
    with pytest.raises(ValueError, match="test_fraction"):
        split_scenes(design, test_fraction=1.0)
    with pytest.raises(ValueError, match="columns"):
        split_scenes(design.drop(columns=["topic"]))
    clash = pd.DataFrame({"scene_id": ["s", "s"], "country": ["A", "B"], "topic": ["t", "t"]})
    with pytest.raises(ValueError, match="more than one"):
        split_scenes(clash)


def test_value_splits_cover_train(design):
    split = split_scenes(design, seed=0)
    per_value = value_training_splits(split)
    assert list(per_value) == list(VALUES)
    assert sum(len(frame) for frame in per_value.values()) == (split["split"] == "train").sum()
    assert (per_value["Hedonism"]["value"] == "Hedonism").all()
    with pytest.raises(ValueError, match="split_scenes"):
        value_training_splits(design)


def test_split_table_layout(design):
    split = split_scenes(design, seed=0)
    table = split_table(split)
    assert table["split"].tolist() == ["Train"] * 10 + ["Test"]
    assert table["samples"].iloc[:10].is_monotonic_decreasing
    # Universalism has 9 micro-values: 185 train scenes x 9 x 2 actions.
    assert set(table["value"].iloc[:2]) == {"Universalism", "Benevolence"}
    assert table.iloc[0]["samples"] == 185 * 9 * 2
    assert table.iloc[-1]["samples"] == 79 * 112
    paper = paper_table_9()
    assert paper["samples"].tolist()[-1] == 9002
    # Table 9's train rows add up to 21,078, not the 20,566 that section 4 of the paper states.
    assert paper["samples"].iloc[:10].sum() == 21078
