"""Tests of the transcribed paper tables: shape, spot values and metadata."""

from __future__ import annotations

import pandas as pd
import pytest

from vatnb.paper_tables import TABLE_NUMBERS, paper_table, table_index


@pytest.mark.parametrize("number", TABLE_NUMBERS)
def test_table_metadata_present(number):
    frame = paper_table(number)
    assert frame.attrs["table"] == number
    assert frame.attrs["section"]
    assert frame.attrs["caption"].endswith(".")
    for column in frame.attrs["decimals"]:
        assert column in frame.columns


@pytest.mark.parametrize(
    ("number", "rows"),
    [(1, 8), (2, 48), (3, 12), (8, 8), (9, 11), (10, 24), (11, 3), (12, 2), (13, 8)],
)
def test_table_row_counts(number, rows):
    # Tables 2 and 10 are long: 16 and 8 (model, target) rows times three shot counts.
    assert len(paper_table(number)) == rows


def test_table2_spot_values():
    table = paper_table(2).set_index(["model", "target", "shots"])
    assert table.loc[("Gemini", "Hedonism", 8), "gain"] == 0.83
    assert table.loc[("GPT", "Stimulation", 4), "gain"] == -0.18
    assert table.loc[("DeepSeek", "Power", 4), "nvat"] == 0.09
    assert table.loc[("Qwen", "Stimulation", 8), "gini"] == 0.15
    assert table.loc[("DeepSeek", "Security", 4), "nvat_std"] == 0.02


def test_table10_spot_values():
    table = paper_table(10).set_index(["model", "target", "shots"])
    assert table.loc[("DeepSeek", "Benevolence", 8), "gini"] == 0.205
    assert table.loc[("GPT", "Universalism", 2), "gain"] == -0.094
    assert table.loc[("Qwen", "Universalism", 4), "gain"] == 0.341


def test_table3_marks_as_printed():
    table = paper_table(3)
    marked = table[table["pareto"]][["method", "checkpoint"]].values.tolist()
    assert marked == [["DPO", 40], ["DPO", 120], ["DPO", 240], ["SFT", 120], ["SFT", 280]]
    assert table["stage"].tolist()[:6] == ["Early", "Mid", "Mid", "Late", "Late", "Late"]


def test_table9_counts_as_printed():
    table = paper_table(9)
    assert table["total_samples"].tolist() == [
        3398, 3384, 2646, 2270, 2264, 1876, 1874, 1500, 1118, 748, 9002,
    ]


def test_tables_11_to_13_spot_values():
    sweep = paper_table(11).set_index("beta")
    assert sweep.loc[0.05, "gain_min"] == -0.01
    assert sweep.loc[0.01, "nvat_std"] == 0.010
    assert paper_table(12)["spearman_rho"].tolist() == [0.94, 0.78]
    summary = paper_table(13).set_index(["target", "method"])
    assert summary.loc[("Power", "SFT"), "mean_gain"] == -0.011
    assert summary.loc[("Hedonism", "SFT"), "n_checkpoints"] == 1


def test_paper_table_returns_copy():
    first = paper_table(1)
    first.loc[0, "mean"] = 99.0
    assert paper_table(1).loc[0, "mean"] == 3.77


def test_paper_table_unknown_number():
    with pytest.raises(ValueError, match="Table 4"):
        paper_table(4)


def test_table_index_lists_all():
    index = table_index()
    assert isinstance(index, pd.DataFrame)
    assert index["table"].tolist() == list(TABLE_NUMBERS)
