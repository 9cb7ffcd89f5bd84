"""Tests of amplification, coordination hubs and case selection."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from vatnb import casestudies as cs
from vatnb import metrics
from vatnb.plots_cases import amplification_distribution, case_cards_html, case_cards_markdown


def make_records(rows, points=5, descending=False):
    """Build records from (condition, sample, micro_value, value, sign, rating) tuples."""
    frame = pd.DataFrame(rows, columns=["condition", "sample_id", "micro_value", "value",
                                        "sign", "rating"])
    frame["scene_id"] = frame["sample_id"]
    frame["scale_points"] = points
    frame["scale_descending"] = descending
    return frame[list(metrics.RECORD_COLUMNS)]


# On 5 points phi maps 1..5 to -1, -0.5, 0, 0.5, 1.
#   s1 Wealth +1: 3 -> 5: |phi| 0 -> 1     amplification +1.0, change +1.0
#   s1 Wealth -1: 4 -> 3: |phi| 0.5 -> 0   amplification -0.5, change -0.5
#   s2 Wealth +1: 1 -> 2: |phi| 1 -> 0.5   amplification -0.5, change +0.5
#   s2 Honest +1: 2 -> 1: |phi| 0.5 -> 1   amplification +0.5, change -0.5
#   s3 Honest +1: missing after -> dropped
RECORDS = make_records([
    ("pre", "s1", "Wealth", "Power", 1, 3), ("post", "s1", "Wealth", "Power", 1, 5),
    ("pre", "s1", "Wealth", "Power", -1, 4), ("post", "s1", "Wealth", "Power", -1, 3),
    ("pre", "s2", "Wealth", "Power", 1, 1), ("post", "s2", "Wealth", "Power", 1, 2),
    ("pre", "s2", "Honest", "Benevolence", 1, 2), ("post", "s2", "Honest", "Benevolence", 1, 1),
    ("pre", "s3", "Honest", "Benevolence", 1, 3), ("post", "s3", "Honest", "Benevolence", 1, np.nan),
])


def test_record_amplification_by_hand():
    pairs = cs.record_amplification(RECORDS)
    assert pairs["amplification"].tolist() == [1.0, -0.5, -0.5, 0.5]
    assert pairs["change"].tolist() == [1.0, -0.5, 0.5, -0.5]
    assert pairs.attrs["missing_rating"] == 1


def test_record_amplification_descending_four_points():
    # Descending 4 points: 1 -> +1, 2 -> +1/3, 3 -> -1/3, 4 -> -1. From 2 to 1: 1/3 -> 1.
    records = make_records([("pre", "s", "Wealth", "Power", 1, 2),
                            ("post", "s", "Wealth", "Power", 1, 1)], points=4, descending=True)
    pairs = cs.record_amplification(records)
    assert pairs.loc[0, "amplification"] == pytest.approx(2 / 3)
    assert pairs.loc[0, "phi_pre"] == pytest.approx(1 / 3)


def test_record_amplification_counts_unpaired():
    records = pd.concat([RECORDS, make_records([("pre", "s9", "Wealth", "Power", 1, 3)])])
    assert cs.record_amplification(records).attrs["unpaired"] == 1


def test_record_amplification_rejects_duplicate_keys():
    records = pd.concat([RECORDS, RECORDS.iloc[[0]]])
    with pytest.raises(ValueError, match="several records per key"):
        cs.record_amplification(records)


def test_record_amplification_rejects_unknown_condition():
    with pytest.raises(ValueError, match="not found"):
        cs.record_amplification(RECORDS, post="k=8")


def test_value_amplification_by_hand():
    # Power: (1.0 - 0.5 - 0.5) / 3 = 0; Benevolence: 0.5 from one pair.
    table = cs.value_amplification(cs.record_amplification(RECORDS))
    assert table.index.tolist() == ["Power", "Benevolence"]
    assert table.loc["Power", "amplification"] == pytest.approx(0.0)
    assert table.loc["Power", "pairs"] == 3
    assert table.loc["Power", "share_more_extreme"] == pytest.approx(1 / 3)
    assert table.loc["Benevolence", "amplification"] == pytest.approx(0.5)


def test_top_k_values_keeps_ties_and_skips_nan():
    vat = pd.Series({"A": 0.9, "B": 0.5, "C": 0.5, "D": 0.1, "E": np.nan})
    assert cs.top_k_values(vat, k=2) == ["A", "B", "C"]
    assert cs.top_k_values(vat, k=1) == ["A"]


def test_coordination_hubs_by_hand():
    # Top 2 per condition: c1 {A, B}, c2 {A, C}, c3 {A, B}. Counts A 3, B 2, C 1, D 0.
    # With share 0.5, hubs need >= 1.5 of 3 conditions: A and B.
    vat = pd.DataFrame(
        {"A": [0.9, 0.8, 0.7], "B": [0.6, 0.1, 0.6], "C": [0.2, 0.5, 0.1], "D": [0.1, 0.2, 0.3]},
        index=["c1", "c2", "c3"],
    )
    hubs = cs.coordination_hubs(vat, k=2, share=0.5)
    assert hubs["in_top_k"].to_dict() == {"A": 3, "B": 2, "C": 1, "D": 0}
    assert hubs.index[hubs["hub"]].tolist() == ["A", "B"]
    assert cs.coordination_hubs(vat, k=2, share=1.0)["hub"].sum() == 1


def test_coordination_hubs_rejects_bad_share():
    with pytest.raises(ValueError, match="share"):
        cs.coordination_hubs(pd.DataFrame({"A": [1.0]}), share=0.0)


def test_select_cases_rule():
    pairs = cs.record_amplification(RECORDS)
    # Only s1 Wealth +1 has |phi_pre| <= 0.5 and amplification >= 0.5 on a hub (Power);
    # s2 Honest qualifies on the thresholds but Benevolence is not a hub.
    chosen = cs.select_cases(pairs, hubs=["Power"], n=5)
    assert chosen[["sample_id", "micro_value", "sign"]].values.tolist() == [["s1", "Wealth", 1]]
    everyone = cs.select_cases(pairs, hubs=None, n=5)
    assert set(everyone["value"]) == {"Power", "Benevolence"}


def test_select_cases_empty_warns():
    pairs = cs.record_amplification(RECORDS)
    with pytest.warns(UserWarning, match="no pair meets"):
        assert cs.select_cases(pairs, hubs=["Tradition"]).empty


def test_largest_moves_orders_by_change():
    pairs = cs.record_amplification(RECORDS)
    top = cs.largest_moves(pairs, n=2, one_per_value=False)
    assert top["change"].abs().tolist() == [1.0, 0.5]
    assert top.iloc[0]["sample_id"] == "s1"


def test_answer_excerpt_finds_spelling_variants():
    response = '{\n  "Enjoying Life": "2",\n  "Self Respect": "1"\n}'
    assert cs.answer_excerpt(response, "Self-Respect") == '"Self Respect": "1"'
    assert cs.answer_excerpt(response, "enjoying life") == '"Enjoying Life": "2",'
    assert cs.answer_excerpt(response, "Wealth") == ""


def test_planted_hubs_are_found_and_amplify():
    pairs, vats = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.UndefinedMetricWarning)
        for seed, target in enumerate(["Hedonism", "Power"]):
            records = cs.simulate_hub_records(150, target=target, seed=seed)
            shifts = metrics.paired_shifts(metrics.value_scores(records), "pre", "post")
            vats[target] = metrics.vat_summary(shifts).vat
            pairs[target] = cs.record_amplification(records)
    hubs = cs.coordination_hubs(pd.DataFrame(vats).T, k=3, share=0.5)
    assert sorted(hubs.index[hubs["hub"]]) == ["Conformity", "Security", "Tradition"]
    comparison = cs.hub_comparison(pairs, ["Security", "Conformity", "Tradition"])
    assert (comparison["difference"] > 0).all()


def test_simulate_hub_records_seeded():
    first = cs.simulate_hub_records(10, seed=4)
    pd.testing.assert_frame_equal(first, cs.simulate_hub_records(10, seed=4))
    assert set(first["condition"]) == {"pre", "post"}
    assert first["rating"].between(1, 5).all()


def test_simulate_hub_records_rejects_unknown_value():
    with pytest.raises(ValueError, match="unknown Schwartz value"):
        cs.simulate_hub_records(10, target="Kindness")


def test_cards_and_figure_render():
    pairs = cs.record_amplification(RECORDS).assign(text_pre="<a>", text_post="b|c")
    cards = case_cards_html(pairs, text_pre="text_pre", text_post="text_post")
    assert "&lt;a&gt;" in cards
    assert cards.count("amplification") == 4
    table = case_cards_markdown(pairs, text_pre="text_pre", text_post="text_post")
    assert len(table.splitlines()) == 2 + 4
    assert "b/c" in table
    figure = amplification_distribution({"x": pairs}, ["Power"], "test", "hand-made records")
    assert len(figure.axes) == 1


def test_real_model_pair_amplification(real_data):
    from vatnb import ratings

    records = ratings.comparison_records("gpt-3.5-turbo@0", "gpt-4o-mini@0")
    pairs = cs.record_amplification(records)
    assert len(pairs) > 1000
    # On a descending 4-point scale |phi| is 1/3 or 1, so amplification is 0 or +-2/3.
    allowed = np.array([-2 / 3, 0.0, 2 / 3])
    assert np.isclose(pairs["amplification"].to_numpy()[:, None], allowed).any(axis=1).all()
