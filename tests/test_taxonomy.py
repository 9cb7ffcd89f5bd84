"""The Schwartz taxonomy: Table 4 counts, circumplex order, and every real spelling."""

import math

import pytest

from vatnb import taxonomy
from vatnb.taxonomy import UnknownValueError

# Micro-values per value in the VAT paper's Table 4.
TABLE_4_COUNTS = {
    "Power": 5, "Achievement": 6, "Hedonism": 2, "Stimulation": 3, "Self-Direction": 5,
    "Universalism": 9, "Benevolence": 9, "Tradition": 6, "Conformity": 4, "Security": 7,
}


def test_fifty_six_micro_values_in_table_4_counts():
    assert len(taxonomy.MICRO_VALUES) == 56
    for value, count in TABLE_4_COUNTS.items():
        assert len(taxonomy.micro_values_of(value)) == count, value


def test_circumplex_angles():
    assert taxonomy.VALUES[0] == "Self-Direction"
    assert taxonomy.VALUE_ANGLES["Power"] == pytest.approx(4 * 2 * math.pi / 10)
    assert taxonomy.circumplex_distance("Universalism", "Self-Direction") == 1
    assert taxonomy.circumplex_distance("Power", "Universalism") == 5


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("Preserving my Public Image", "Preserving My Public Image"),
        ("Preserving My Public Image", "Preserving My Public Image"),
        ("Unity With Nature", "Unity with Nature"),
        ("Enjoying life", "Enjoying Life"),
        ("Accepting portion in life", "Accepting My Portion in Life"),
        ("Accepting my Portion in Life", "Accepting My Portion in Life"),
        ("Self-Discipline ", "Self-Discipline"),
        ("Spiritual Life", "A Spiritual Life"),
        ("broad minded", "Broad-Minded"),
    ],
)
def test_known_spellings(spelling, canonical):
    assert taxonomy.canonical_micro_value(spelling) == canonical


def test_unknown_micro_value_is_named():
    with pytest.raises(UnknownValueError, match="'Options'"):
        taxonomy.canonical_micro_value("Options")


def test_value_names():
    assert taxonomy.canonical_value("self direction") == "Self-Direction"
    assert taxonomy.value_of("Wealth") == "Power"
    with pytest.raises(UnknownValueError, match="'Kindness'"):
        taxonomy.canonical_value("Kindness")


def test_every_name_in_real_files_is_known(real_data):
    import zipfile

    import pandas as pd

    with zipfile.ZipFile(real_data / "value_action_gap_full_data_generation.zip") as archive:
        with archive.open("value_action_gap_full_data_generation.csv") as handle:
            actions = pd.read_csv(handle, usecols=["value"])
    names = set(actions["value"])
    assert len(names) == 56
    assert {taxonomy.canonical_micro_value(name) for name in names} == set(taxonomy.MICRO_VALUES)
