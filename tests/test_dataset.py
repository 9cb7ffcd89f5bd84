"""Dataset schema and loaders: real ValueActionLens actions, HF datasets, user tables, built-in set."""

from __future__ import annotations

import pandas as pd
import pytest

from vatnb.action_json import parse_action_output, parse_action_outputs
from vatnb.dataset import (
    BUILTIN_PROVENANCE,
    SCHEMA_COLUMNS,
    builtin_offline_set,
    canonical_polarity,
    load_hf_dataset,
    load_table,
    load_value_action_lens,
    map_columns,
    sign_of,
    validate_records,
)
from vatnb.taxonomy import UnknownValueError


def test_real_actions_all_read(real_data):
    records, report = load_value_action_lens()
    assert len(records) == 14784
    assert report.total == 14784
    assert report.clean + report.repaired + report.unreadable == 14784
    assert report.repaired > 0
    assert records["action"].isna().sum() == report.unreadable
    # Unreadable outputs are refusals or broken text: few, and never silently dropped.
    assert report.unreadable < 100
    assert list(records.columns[: len(SCHEMA_COLUMNS)]) == list(SCHEMA_COLUMNS)
    assert records["micro_value"].nunique() == 56
    assert records["scene_id"].nunique() == 132
    assert records.groupby("polarity").size().to_dict() == {"express": 7392, "suppress": 7392}
    assert records["scene"].isna().all()


CLEAN = '{"Human Action": "I vote.", "Feature Attributions": ["vote"], "Natural Language Explanation": "x"}'


@pytest.mark.parametrize(
    ("text", "action", "kind"),
    [
        (CLEAN, "I vote.", "clean"),
        ("```json\n" + CLEAN + "\n```", "I vote.", "code fence or prose removed"),
        ("Sure! Here it is:\n" + CLEAN, "I vote.", "code fence or prose removed"),
        ("{'Human Action': 'I vote.', 'Feature Attributions': []}", "I vote.", "single quotes"),
        (
            "{'Human Action': 'I praise India's parks.', 'Feature Attributions': ['x'], "
            "'Natural Language Explanation': 'it's fine'}",
            "I praise India's parks.",
            "fields cut at key positions",
        ),
        ('{\n "Human Action": "I help my aunt.",\n "Feature Attributions": ["help', "I help my aunt.",
         "fields cut at key positions"),
        ("I'm sorry, but I can't assist with that request.", None, "unreadable"),
        ("", None, "unreadable"),
        (float("nan"), None, "unreadable"),
    ],
)
def test_action_output_repairs(text, action, kind):
    assert parse_action_output(text) == (action, kind)


def test_action_report_counts():
    actions, report = parse_action_outputs([CLEAN, "```" + CLEAN + "```", "no json"])
    assert actions == ["I vote.", "I vote.", None]
    assert (report.clean, report.repaired, report.unreadable) == (1, 1, 1)
    assert report.unreadable_rows == [2]
    assert report.as_dict()["repaired: code fence or prose removed"] == 1


def test_builtin_set_design_counts():
    records = builtin_offline_set()
    assert len(records) == 12 * 11 * 2 * 56 * 2 == 29568
    assert records["scene_id"].nunique() == 264
    assert (records["provenance"] == BUILTIN_PROVENANCE).all()
    assert records["action"].str.startswith("[template]").all()
    small = builtin_offline_set(countries=["India"], topics=["Work"], scenes_per_pair=1, micro_values=["Wealth"])
    assert len(small) == 2
    assert small["value"].tolist() == ["Power", "Power"]


def test_builtin_set_rejects_zero_scenes():
    with pytest.raises(ValueError, match="scenes_per_pair"):
        builtin_offline_set(scenes_per_pair=0)


def test_validate_canonicalizes_names():
    table = pd.DataFrame(
        {
            "scene_id": [1, 2],
            "country": ["India", "India"],
            "topic": ["Work", "Work"],
            "micro_value": ["Enjoying life", "Accepting portion in life"],
            "polarity": ["positive", "negative"],
            "action": ["I rest.", "I complain."],
        }
    )
    records = validate_records(table)
    assert records["micro_value"].tolist() == ["Enjoying Life", "Accepting My Portion in Life"]
    assert records["value"].tolist() == ["Hedonism", "Tradition"]
    assert records["polarity"].tolist() == ["express", "suppress"]
    assert records["scene_id"].tolist() == ["1", "2"]
    assert records["split"].isna().all()


def test_validate_rejects_unknown_names():
    table = pd.DataFrame(
        {"scene_id": ["s"], "country": ["x"], "topic": ["y"], "micro_value": ["Telepathy"],
         "polarity": ["express"], "action": ["I."]}
    )
    with pytest.raises(UnknownValueError, match="Telepathy"):
        validate_records(table)
    with pytest.raises(ValueError, match="unknown polarity 'sideways'"):
        canonical_polarity("sideways")


def test_polarity_signs():
    assert sign_of("positive") == 1
    assert sign_of("suppress") == -1
    assert sign_of(-1) == -1


def test_map_columns_error_lists_columns():
    table = pd.DataFrame({"land": ["India"], "subvalue": ["Wealth"], "what_i_do": ["I save."]})
    with pytest.raises(ValueError) as error:
        map_columns(table, source="my table")
    message = str(error.value)
    assert "['land', 'subvalue', 'what_i_do']" in message
    assert "'polarity'" in message
    assert "column_map" in message


def test_load_table_csv_and_parquet(tmp_path):
    table = pd.DataFrame(
        {
            "Country": ["India", "India", "Egypt"],
            "Topic": ["Work", "Work", "Work"],
            "Scenario": ["A shop.", "A shop.", "A farm."],
            "sub_value": ["Wealth", "Wealth", "Honest"],
            "direction": ["express", "suppress", "express"],
            "text_of_action": ["I sell.", "I give.", "I tell."],
        }
    )
    csv_path = tmp_path / "mine.csv"
    table.to_csv(csv_path, index=False)
    records = load_table(csv_path, column_map={"action": "text_of_action"})
    assert len(records) == 3
    assert records["scene_id"].nunique() == 2
    assert records.loc[0, "scene_id"] == records.loc[1, "scene_id"]
    assert records["provenance"].eq("file:mine.csv").all()

    parquet_path = tmp_path / "mine.parquet"
    table.to_parquet(parquet_path)
    assert load_table(parquet_path, column_map={"action": "text_of_action"}).equals(
        records.assign(provenance="file:mine.parquet")
    )


def test_load_table_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "absent.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(ValueError, match="csv or .parquet"):
        load_table(tmp_path / "x.txt")


def test_hf_loader_local_dataset(tmp_path):
    import datasets

    train = datasets.Dataset.from_dict(
        {
            "scenario_id": ["a", "a"],
            "country": ["India", "India"],
            "topic": ["Work", "Work"],
            "scenario": ["A shop.", "A shop."],
            "value": ["Wealth", "Humble"],
            "polarity": ["positive", "negative"],
            "action": ["I sell.", "I boast."],
        }
    )
    test = train.select([0])
    folder = tmp_path / "hf"
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(folder))
    records = load_hf_dataset(str(folder))
    assert len(records) == 3
    assert records["split"].tolist() == ["train", "train", "test"]
    assert records["micro_value"].tolist() == ["Wealth", "Humble", "Wealth"]
    assert records["provenance"].str.startswith("huggingface:").all()


def test_hf_loader_unmappable_lists_columns(tmp_path):
    import datasets

    folder = tmp_path / "odd"
    datasets.Dataset.from_dict({"foo": [1], "bar": [2]}).save_to_disk(str(folder))
    with pytest.raises(ValueError, match=r"Columns found: \['foo', 'bar'\]"):
        load_hf_dataset(str(folder))


HEADER = "country,topic,micro_value,polarity,action\n"


def write_csv(tmp_path, text, name="mine.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_table_needs_scene_columns(tmp_path):
    path = write_csv(tmp_path, "micro_value,polarity,action\nWealth,express,I save.\n")
    with pytest.raises(ValueError) as error:
        load_table(path)
    message = str(error.value)
    assert "mine.csv" in message
    assert "['micro_value', 'polarity', 'action']" in message
    assert "'scene_id', or both 'country' and 'topic'" in message


def test_load_table_country_without_topic_rejected(tmp_path):
    path = write_csv(tmp_path, "country,micro_value,polarity,action\nIndia,Wealth,express,I save.\n")
    with pytest.raises(ValueError, match=r"matched only \['country'\]"):
        load_table(path)


def test_load_table_scene_id_alone_suffices(tmp_path):
    path = write_csv(tmp_path, "scene_id,micro_value,polarity,action\n7,Wealth,express,I save.\n")
    records = load_table(path)
    assert records["scene_id"].tolist() == ["7"]
    assert records["country"].isna().all()


def test_load_table_warns_unknown_country(tmp_path):
    path = write_csv(tmp_path, HEADER + "Atlantis,Work,Wealth,express,I save.\nIndia,Work,Wealth,suppress,I give.\n")
    with pytest.warns(UserWarning, match=r"\['Atlantis'\]"):
        records = load_table(path)
    assert records["country"].tolist() == ["Atlantis", "India"]


def test_load_table_design_countries_no_warning(tmp_path):
    import warnings

    path = write_csv(tmp_path, HEADER + "India,Work,Wealth,express,I save.\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_table(path)) == 1


@pytest.mark.parametrize("column", ["schwartz_value", "value"])
def test_load_table_rejects_wrong_parent_value(tmp_path, column):
    text = (
        f"country,topic,micro_value,{column},polarity,action\n"
        "India,Work,Wealth,Power,express,I save.\n"
        "India,Work,Wealth,Benevolence,express,I give.\n"
        "India,Work,Humble,Tradition,express,I bow.\n"
        "India,Work,Humble,Power,suppress,I boast.\n"
    )
    path = write_csv(tmp_path, text)
    with pytest.raises(ValueError) as error:
        load_table(path)
    message = str(error.value)
    assert "mine.csv, row 3" in message
    assert "'Benevolence'" in message
    assert "'Power'" in message
    assert "rows 3, 5" in message


def test_load_table_keeps_matching_parent_value(tmp_path):
    text = (
        "country,topic,micro_value,schwartz_value,polarity,action\n"
        "India,Work,Wealth,power,express,I save.\n"
        "India,Work,Humble,,suppress,I boast.\n"
    )
    records = load_table(write_csv(tmp_path, text))
    assert records["value"].tolist() == ["Power", "Tradition"]


def test_load_table_unknown_parent_value_names_row(tmp_path):
    text = "country,topic,micro_value,schwartz_value,polarity,action\nIndia,Work,Wealth,Greed,express,I.\n"
    with pytest.raises(UnknownValueError, match="mine.csv, row 2.*'Greed'"):
        load_table(write_csv(tmp_path, text))


def test_load_table_unknown_micro_value_names_row(tmp_path):
    text = HEADER + "India,Work,Wealth,express,I save.\nIndia,Work,Telepathy,express,I read minds.\n"
    with pytest.raises(UnknownValueError, match="mine.csv, row 3, column 'micro_value'.*'Telepathy'"):
        load_table(write_csv(tmp_path, text))


def test_load_table_unknown_polarity_names_row(tmp_path):
    text = HEADER + "India,Work,Wealth,sideways,I save.\n"
    with pytest.raises(ValueError, match="mine.csv, row 2, column 'polarity'.*'sideways'"):
        load_table(write_csv(tmp_path, text))


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("India,Work,,express,I save.", "'micro_value'"),
        ("India,Work,Wealth,,I save.", "'polarity'"),
        ("India,Work,Wealth,express,", "'action'"),
        (",Work,Wealth,express,I save.", "'country'"),
        ("India,,Wealth,express,I save.", "'topic'"),
    ],
)
def test_load_table_empty_cell_names_row(tmp_path, row, column):
    text = HEADER + "Egypt,Work,Wealth,express,I save.\n" + row + "\n"
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, text))
    message = str(error.value)
    assert "mine.csv" in message
    assert f"column {column}" in message
    assert "row 3" in message


def test_load_table_empty_file(tmp_path):
    with pytest.raises(ValueError, match="mine.csv is empty"):
        load_table(write_csv(tmp_path, ""))
    with pytest.raises(ValueError, match="no data rows"):
        load_table(write_csv(tmp_path, HEADER))


def test_load_table_latin1_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "Côte d'Ivoire,Work,Wealth,express,I save.\n").encode("latin-1"))
    with pytest.raises(ValueError) as error:
        load_table(path)
    message = str(error.value)
    assert "latin.csv" in message
    assert "UTF-8" in message
    assert "Parquet" in message


def test_load_table_reads_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes((HEADER + "India,Work,Wealth,express,I save.\n").encode("utf-8-sig"))
    records = load_table(path)
    assert records["country"].tolist() == ["India"]
    assert records["scene_id"].tolist() == ["India|Work"]


ROWS = "India,Work,Wealth,express,I save.\nIndia,Work,Wealth,suppress,I give.\n"


def test_load_table_rejects_repeated_rows(tmp_path):
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, HEADER + ROWS + ROWS))
    message = str(error.value)
    assert "mine.csv: 2 of 4 rows repeat an earlier row" in message
    assert "rows 4, 5" in message
    assert "row 4 repeats row 2" in message


def test_load_table_repeat_compares_canonical_names(tmp_path):
    text = HEADER + ROWS + "India,Work,wealth,positive,I save.\n"
    with pytest.raises(ValueError, match="row 4 repeats row 2"):
        load_table(write_csv(tmp_path, text))


def test_load_table_keeps_same_action_in_other_scene(tmp_path):
    text = HEADER + ROWS + "Egypt,Work,Wealth,express,I save.\n"
    assert len(load_table(write_csv(tmp_path, text))) == 3


@pytest.mark.parametrize("blank", ["   ", '"\t "'])
def test_load_table_rejects_whitespace_action(tmp_path, blank):
    text = HEADER + ROWS + f"India,Work,Humble,express,{blank}\n"
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, text))
    message = str(error.value)
    assert "column 'action' is empty or only whitespace in row 4" in message


def test_load_table_rejects_cut_off_last_row(tmp_path):
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, HEADER + ROWS + "India,Work,Wea"))
    message = str(error.value)
    assert "mine.csv looks cut off" in message
    assert "row 4" in message
    assert "3 of the header's 5 cells" in message


def test_load_table_rejects_unclosed_quote(tmp_path):
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, HEADER + ROWS + 'India,Work,Wealth,express,"I sa'))
    message = str(error.value)
    assert "quoted cell that starts in row 4 is never closed" in message


@pytest.mark.parametrize(
    ("row", "cells"),
    [("India,Work,Wealth\n", "3 cells"), ("India,Work,Wealth,express,I save.,again\n", "6 cells")],
)
def test_load_table_rejects_row_of_wrong_width(tmp_path, row, cells):
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, HEADER + row + ROWS))
    message = str(error.value)
    assert f"row 2 has {cells}, but the header has 5" in message


def test_load_table_skips_blank_lines(tmp_path):
    records = load_table(write_csv(tmp_path, HEADER + "\n  \n" + ROWS + "\n\t\n"))
    assert len(records) == 2


def test_load_table_keeps_multiline_cells(tmp_path):
    text = HEADER + 'India,Work,Wealth,express,"I save,\nthen I spend."\n' + ROWS
    records = load_table(write_csv(tmp_path, text))
    assert len(records) == 3
    assert records.loc[0, "action"] == "I save,\nthen I spend."


def test_load_table_accepts_missing_final_line_break(tmp_path):
    assert len(load_table(write_csv(tmp_path, HEADER + ROWS.rstrip("\n")))) == 2


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_load_table_names_wrong_delimiter(tmp_path, delimiter, name):
    text = (HEADER + ROWS).replace(",", delimiter)
    with pytest.raises(ValueError) as error:
        load_table(write_csv(tmp_path, text))
    message = str(error.value)
    assert "mine.csv is not comma-separated" in message
    assert name in message


def test_unmapped_columns_advise_renaming_header(tmp_path):
    path = write_csv(tmp_path, "country,topic,sub,polarity,action\nIndia,Work,Wealth,express,I.\n")
    with pytest.raises(ValueError) as error:
        load_table(path)
    message = str(error.value)
    assert "Rename the columns in the header" in message
    assert "chapter's dataset parameter" in message
    assert "column_map={'micro_value': 'my_micro_value_column'}" in message
