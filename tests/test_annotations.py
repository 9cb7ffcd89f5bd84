"""Tests of the annotator-file loaders, on small synthetic exports and on the real files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from vatnb import annotations as an
from vatnb import humaneval as he
from vatnb.taxonomy import UnknownValueError


def write_export(path, items, instruction=False, summary=True):
    """Write a small export laid out like the real files (8 prompts, 3 judgments each)."""
    header = ["No.", "country", "topic", "value", "polarity"]
    for k in range(8):
        header += [f"generation_prompt_id_{k}", "ACT", "ATTR", "EXP"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if instruction:
            writer.writerow(["Annotation Requirements:\nACT (Action): correct"] + [""] * 36)
        writer.writerow(header)
        for number, (key, judgment) in enumerate(items):
            row = [str(number), *key]
            for k in range(8):
                row += [f'{{"Human Action": "action {k}"}}', judgment, "", ""]
            writer.writerow(row)
        if summary:
            writer.writerow([""] * 5 + ["", "0.4375", "#DIV/0!", "#DIV/0!"] + [""] * 28)
    return path


KEYS = [
    ("Philippines", "Politics", "Humble", "positive"),
    ("Philippines", "Politics", "Humble", "negative"),
]


def test_read_skips_instruction_and_summary(tmp_path):
    path = write_export(tmp_path / "b.csv", [(KEYS[0], "1"), (KEYS[1], "0")], instruction=True)
    table = an.read_annotator_file(path)
    assert len(table) == 2
    assert table.attrs["skipped_rows"] == 2
    assert table["ACT_0"].tolist() == [1.0, 0.0]
    assert np.isnan(table["ATTR_0"]).all()


def test_read_accepts_one_point_zero(tmp_path):
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1.0"), (KEYS[1], "0.0")])
    assert an.read_annotator_file(path)["ACT_7"].tolist() == [1.0, 0.0]


def test_read_canonicalizes_micro_value(tmp_path):
    key = ("United States", "Politics", "Enjoying life", "positive")
    table = an.read_annotator_file(write_export(tmp_path / "a.csv", [(key, "1")]))
    assert table.loc[0, "micro_value"] == "Enjoying Life"
    assert table.loc[0, "schwartz_value"] == "Hedonism"


def test_read_rejects_error_cell_in_item_row(tmp_path):
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "#DIV/0!")])
    with pytest.raises(ValueError, match="must be 0, 1 or blank"):
        an.read_annotator_file(path)


def test_read_rejects_file_without_header(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no header row"):
        an.read_annotator_file(path)


def test_to_long_item_per_prompt(tmp_path):
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1"), (KEYS[1], "0")])
    table = an.read_annotator_file(path)
    long = an.to_long({"a": table, "b": table})
    # 2 annotators x 2 rows x 8 prompts x 3 judgments.
    assert len(long) == 2 * 2 * 8 * 3
    assert long["item"].nunique() == 2 * 8
    act = long[long["dimension"] == "ACT"]
    assert he.agreement(act, scale="binary") == 1.0


def test_real_files_load_same_80_items(real_data):
    tables = an.load_pair(download=False)
    keys = {}
    for name, table in tables.items():
        assert len(table) == an.N_ITEMS, name
        keys[name] = list(map(tuple, table[list(an.KEY_COLUMNS)].to_numpy()))
    assert keys["a"] == keys["b"]
    assert len(set(keys["a"])) == 80


def test_real_files_skip_leftover_rows(real_data):
    tables = an.load_pair(download=False)
    # a: one summary block of 12 rows; b: the instruction row above the header and one summary row.
    assert tables["a"].attrs["skipped_rows"] == 12
    assert tables["b"].attrs["skipped_rows"] == 2


def test_real_files_show_same_actions(real_data):
    tables = an.load_pair(download=False)
    for k in range(an.N_PROMPTS):
        assert (tables["a"][f"action_{k}"] == tables["b"][f"action_{k}"]).all(), k


def test_real_act_agreement(real_data):
    long = an.to_long(an.load_pair(download=False))
    act = long[long["dimension"] == "ACT"]
    counts = an.judged_counts(long)
    assert counts.loc["ACT", "judged by all"] == 635
    share = he.agreement(act, scale="binary")
    kappa, kind = he.kappa(act, scale="binary")
    assert kind == "Cohen's kappa"
    assert 0.5 < share <= 1.0
    assert 0.0 < kappa < share


def append_row(path, cells):
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(cells)
    return path


def test_read_rejects_unknown_polarity_row(tmp_path):
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1")], summary=False)
    append_row(path, ["999", "Mars", "Cooking", "Wealth", "sideways"])
    with pytest.raises(ValueError) as error:
        an.read_annotator_file(path)
    message = str(error.value)
    assert "a.csv, row 3" in message
    assert "No. 999" in message
    assert "'sideways'" in message


def test_read_rejects_unknown_micro_value_row(tmp_path):
    key = ("Philippines", "Politics", "Telepathy", "positive")
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1"), (key, "1")], instruction=True)
    with pytest.raises(UnknownValueError, match="a.csv, row 4 .*'Telepathy'"):
        an.read_annotator_file(path)


def test_read_warns_unknown_country(tmp_path):
    key = ("Mars", "Politics", "Humble", "positive")
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1"), (key, "0")])
    with pytest.warns(UserWarning, match=r"\['Mars'\]"):
        table = an.read_annotator_file(path)
    assert table["country"].tolist() == ["Philippines", "Mars"]


def test_read_accepts_byte_order_mark(tmp_path):
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1"), (KEYS[1], "0")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    table = an.read_annotator_file(path)
    assert len(table) == 2
    assert table["ACT_0"].tolist() == [1.0, 0.0]


def test_read_rejects_latin1_file(tmp_path):
    path = write_export(tmp_path / "a.csv", [(KEYS[0], "1")])
    path.write_bytes(path.read_bytes().replace(b"action 0", "acción 0".encode("latin-1")))
    with pytest.raises(ValueError, match="a.csv is not UTF-8 text"):
        an.read_annotator_file(path)
