"""Tests of the annotation summaries, worked by hand or against textbook values."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from vatnb import humaneval as he
from vatnb import paper_humaneval
from vatnb.metrics import UndefinedMetricWarning

NAN = float("nan")


def long_table(matrix, dimension="quality") -> pd.DataFrame:
    """Turn an items x annotators list of lists into the long annotation format."""
    rows = []
    for item, ratings in enumerate(matrix):
        for annotator, rating in enumerate(ratings):
            rows.append({"item": item, "annotator": f"r{annotator}",
                         "dimension": dimension, "rating": rating})
    return pd.DataFrame(rows)


# Three annotators, five items, 5-point scale (stance: 4-5 agree, 3 neutral, 1-2 disagree).
#   item 0: 5 4 2 -> agree agree disagree       -> counts A2 N0 D1: agreement yes, max 2 -> 2/3
#   item 1: 3 3 3 -> neutral x3                 -> agreement yes, max 3 -> 3/3
#   item 2: 1 3 5 -> disagree neutral agree     -> agreement no,  max 1 -> 1/3
#   item 3: 2 1 4 -> disagree disagree agree    -> agreement yes, max 2 -> 2/3
#   item 4: 4 . . -> one rating only            -> left out of both
# agreement = 3/4; majority ratio = (2/3 + 1 + 1/3 + 2/3) / 4 = (8/3) / 4 = 2/3.
THREE_ANNOTATORS = [[5, 4, 2], [3, 3, 3], [1, 3, 5], [2, 1, 4], [4, NAN, NAN]]


def test_stance_on_five_points():
    assert he.stance([1, 2, 3, 4, 5]).tolist() == [
        "disagree", "disagree", "neutral", "agree", "agree"]


def test_stance_binary_and_missing():
    assert he.stance([0, 1, NAN], scale="binary").tolist() == ["disagree", "agree", None]


def test_stance_even_scale_has_no_neutral():
    assert he.stance([1, 2, 3, 4], points=4).tolist() == [
        "disagree", "disagree", "agree", "agree"]


def test_agreement_three_annotators_by_hand():
    table = long_table(THREE_ANNOTATORS)
    assert he.agreement(table) == pytest.approx(3 / 4)


def test_majority_ratio_three_annotators_by_hand():
    table = long_table(THREE_ANNOTATORS)
    assert he.majority_ratio(table) == pytest.approx(2 / 3)


def test_agreement_unanimous_items():
    # Every item unanimous (after mapping 4 and 5 to agree): agreement 1, majority ratio 1.
    table = long_table([[4, 5, 4], [1, 2, 1], [3, 3, 3]])
    assert he.agreement(table) == 1.0
    assert he.majority_ratio(table) == 1.0


def test_agreement_two_annotators_is_percent_agreement():
    # Binary: items agree on 0 and 2, differ on 1 -> 2/3; majority ratio (1 + 1/2 + 1) / 3 = 5/6.
    table = long_table([[1, 1], [1, 0], [0, 0]])
    assert he.agreement(table, scale="binary") == pytest.approx(2 / 3)
    assert he.majority_ratio(table, scale="binary") == pytest.approx(5 / 6)


def test_agreement_without_pairs_is_nan():
    table = long_table([[4, NAN], [NAN, 2]])
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(he.agreement(table))


def test_chance_agreement_by_enumeration():
    # Enumerate all 3^3 stance triples with uniform probability: 6 of 27 are all distinct.
    triples = list(itertools.product(range(3), repeat=3))
    share = sum(len(set(t)) < 3 for t in triples) / len(triples)
    assert share == pytest.approx(7 / 9)
    assert he.chance_agreement([1 / 3, 1 / 3, 1 / 3], 3) == pytest.approx(share)


def test_chance_agreement_skewed_and_many_raters():
    # P(all distinct) = 3! * 0.5 * 0.3 * 0.2 = 0.18 -> 0.82; four raters on three stances always agree.
    assert he.chance_agreement([0.5, 0.3, 0.2], 3) == pytest.approx(0.82)
    assert he.chance_agreement([0.5, 0.3, 0.2], 4) == 1.0


def test_chance_agreement_rejects_bad_probabilities():
    with pytest.raises(ValueError, match="sum to 1"):
        he.chance_agreement([0.5, 0.6, 0.1])


def test_majority_ratio_bounds_hold_for_paper_tables():
    # Table 8's majority ratio must lie within the range its agreement allows.
    merged = paper_humaneval.table_8()
    for dimension, row in merged.iterrows():
        low, high = he.majority_ratio_bounds(row["agreement"])
        assert low - 0.01 <= row["majority_ratio"] <= high + 0.01, dimension


def test_majority_ratio_bounds_by_hand():
    # A = 0.75: low (1.5 + 0.25) / 3 = 7/12, high (2.25 + 0.25) / 3 = 5/6.
    assert he.majority_ratio_bounds(0.75) == pytest.approx((7 / 12, 5 / 6))


def test_cohen_kappa_two_by_two_by_hand():
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    # p_o = 35/50 = 0.7; A says yes 25/50, B 30/50; p_e = 0.5*0.6 + 0.5*0.4 = 0.5.
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    first = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    second = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert he.cohen_kappa(first, second) == pytest.approx(0.4)


def test_cohen_kappa_perfect_and_missing_pairs():
    assert he.cohen_kappa(["a", "b", "a", None], ["a", "b", "a", "b"]) == pytest.approx(1.0)


def test_cohen_kappa_single_category_is_nan():
    with pytest.warns(UndefinedMetricWarning, match="single category"):
        assert np.isnan(he.cohen_kappa([1, 1, 1], [1, 1, 1]))


def test_cohen_kappa_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="same items"):
        he.cohen_kappa([1, 0], [1])


def test_fleiss_kappa_small_by_hand():
    # Counts per item (yes, no) with 3 raters: (3,0), (2,1), (0,3).
    # P_i = 1, (4+1-3)/6 = 1/3, 1 -> P-bar = 7/9; p = (5/9, 4/9), P_e = 41/81.
    # kappa = (63/81 - 41/81) / (40/81) = 22/40 = 0.55.
    assert he.fleiss_kappa([[3, 0], [2, 1], [0, 3]]) == pytest.approx(0.55)


def test_fleiss_kappa_textbook_example():
    # The 10 subjects x 14 raters x 5 categories example used on the Wikipedia page
    # "Fleiss' kappa": P-bar = 0.378, P_e = 0.213, kappa = 0.210.
    counts = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    assert he.fleiss_kappa(counts) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_perfect_agreement():
    assert he.fleiss_kappa([[3, 0, 0], [0, 3, 0], [0, 0, 3]]) == pytest.approx(1.0)


# Krippendorff's reliability data example: 4 observers, 12 units, values 1-5, gaps missing.
# Published values (Krippendorff, "Computing Krippendorff's alpha-reliability", 2011):
# nominal 0.743, ordinal 0.815, interval 0.849.
KRIPPENDORFF_DATA = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]).T


@pytest.mark.parametrize(("level", "expected"), [
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_alpha_textbook_values(level, expected):
    assert he.krippendorff_alpha(KRIPPENDORFF_DATA, level) == pytest.approx(expected, abs=5e-4)


def pairwise_alpha(matrix, level):
    """Independent alpha by looping over pairs of values within and across units."""
    units = [row[~np.isnan(row)] for row in matrix]
    units = [unit for unit in units if unit.size >= 2]
    pooled = np.concatenate(units)
    scale = np.unique(pooled)
    frequency = {value: int((pooled == value).sum()) for value in scale}

    def delta(c, k):
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return (c - k) ** 2
        low, high = min(c, k), max(c, k)
        between = sum(frequency[g] for g in scale if low <= g <= high)
        return (between - (frequency[c] + frequency[k]) / 2) ** 2

    within = sum(
        sum(delta(unit[i], unit[j]) for i in range(unit.size) for j in range(unit.size) if i != j)
        / (unit.size - 1)
        for unit in units
    )
    n = pooled.size
    across = sum(delta(pooled[i], pooled[j]) for i in range(n) for j in range(n) if i != j)
    return 1 - (n - 1) * within / across


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_alpha_matches_pairwise_formula(level):
    rng = np.random.default_rng(3)
    matrix = rng.integers(1, 6, size=(15, 4)).astype(float)
    matrix[rng.random(matrix.shape) < 0.2] = NAN
    assert he.krippendorff_alpha(matrix, level) == pytest.approx(pairwise_alpha(matrix, level))


def test_krippendorff_alpha_binary_nominal_equals_ordinal():
    matrix = np.array([[1, 1, 0], [0, 0, 0], [1, 0, 1], [1, 1, 1.0]])
    assert he.krippendorff_alpha(matrix, "ordinal") == pytest.approx(
        he.krippendorff_alpha(matrix, "nominal"))


def test_krippendorff_alpha_constant_is_nan():
    with pytest.warns(UndefinedMetricWarning, match="all values are equal"):
        assert np.isnan(he.krippendorff_alpha([[2, 2], [2, 2.0]]))


def test_kappa_picks_cohen_for_two_and_fleiss_for_three():
    two = long_table([[1, 1], [1, 0], [0, 0], [0, 0]])
    three = long_table([[5, 4, 2], [3, 3, 3], [1, 1, 5]])
    assert he.kappa(two, scale="binary")[1] == "Cohen's kappa"
    assert he.kappa(three)[1] == "Fleiss' kappa"


def test_kappa_on_stances_by_hand():
    # Two raters, binary: both 1 on items 0,1; differ on 2; both 0 on 3.
    # p_o = 3/4; rater 1 says 1 on 3/4, rater 2 on 2/4; p_e = 3/8 + 1/8 = 1/2; kappa = 1/2.
    two = long_table([[1, 1], [1, 1], [1, 0], [0, 0]])
    assert he.kappa(two, scale="binary")[0] == pytest.approx(0.5)


def test_summarize_three_annotators():
    table = long_table(THREE_ANNOTATORS)
    summary = he.summarize(table)
    row = summary.loc["quality"]
    assert row["items"] == 5
    assert row["items_paired"] == 4
    assert row["annotators"] == 3
    assert row["ratings"] == 13
    assert row["mean"] == pytest.approx(np.mean([5, 4, 2, 3, 3, 3, 1, 3, 5, 2, 1, 4, 4]))
    assert row["agreement"] == pytest.approx(0.75)
    assert row["majority_ratio"] == pytest.approx(2 / 3)
    # Item means 11/3, 3, 3, 7/3, 4 -> sample standard deviation over five items.
    assert row["std_items"] == pytest.approx(np.std([11 / 3, 3, 3, 7 / 3, 4], ddof=1))
    assert row["kappa_kind"] == "Fleiss' kappa"


def test_summarize_bootstrap_is_seeded():
    table = he.simulate_study({"a": 3.5, "b": 4.0}, n_items=30, seed=1)
    first = he.summarize(table, n_boot=50, seed=7)
    second = he.summarize(table, n_boot=50, seed=7)
    pd.testing.assert_frame_equal(first, second)
    for name in ("mean", "agreement", "alpha"):
        assert (first[f"{name}_low"] <= first[f"{name}_high"]).all(), name


def test_bootstrap_interval_brackets_mean():
    rng = np.random.default_rng(0)
    matrix = rng.integers(1, 6, size=(200, 3)).astype(float)
    low, high = he.bootstrap_interval(matrix, he.item_statistics()["mean"], n_boot=200, seed=0)
    assert low < np.mean(matrix) < high
    assert high - low < 0.5


def test_bootstrap_interval_constant_statistic():
    matrix = np.full((10, 3), 4.0)
    low, high = he.bootstrap_interval(matrix, he.item_statistics()["mean"], n_boot=20)
    assert (low, high) == (4.0, 4.0)


def test_validate_rejects_off_scale_rating():
    table = long_table([[6, 5, 4]])
    with pytest.raises(ValueError, match="must be in"):
        he.summarize(table)


def test_validate_rejects_duplicate_rating():
    table = pd.concat([long_table([[5, 4]]), long_table([[5, 4]])])
    with pytest.raises(ValueError, match="duplicates"):
        he.validate_annotations(table)


def test_validate_rejects_missing_column():
    with pytest.raises(ValueError, match="missing columns"):
        he.validate_annotations(pd.DataFrame({"item": [1], "rating": [3]}))


def test_rating_matrix_needs_dimension_when_several():
    table = pd.concat([long_table([[5, 4]], "x"), long_table([[1, 2]], "y")])
    with pytest.raises(ValueError, match="pass dimension"):
        he.rating_matrix(table)


def test_simulate_study_shape_and_seed():
    means = {"one": 3.0, "two": 4.2}
    table = he.simulate_study(means, n_items=54, n_annotators=3, seed=5)
    assert len(table) == 54 * 3 * 2
    assert set(table["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    pd.testing.assert_frame_equal(table, he.simulate_study(means, n_items=54, seed=5))


def test_simulate_study_without_noise_is_unanimous():
    table = he.simulate_study({"d": 3.0}, item_sd=1.0, rater_noise=0.0, annotator_bias_sd=0.0)
    assert he.agreement(table) == 1.0
    assert he.majority_ratio(table) == 1.0


def test_simulate_study_more_noise_lowers_alpha():
    means = {"d": 3.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        quiet = he.alpha(he.simulate_study(means, item_sd=1.0, rater_noise=0.3, n_items=300))
        noisy = he.alpha(he.simulate_study(means, item_sd=1.0, rater_noise=1.5, n_items=300))
    assert quiet > noisy


def test_paper_tables_cover_eight_dimensions():
    assert len(paper_humaneval.table_1()) == 8
    assert paper_humaneval.table_8().index.tolist() == list(paper_humaneval.DIMENSIONS)
    assert paper_humaneval.table_8()["majority_ratio"].notna().all()


@pytest.mark.parametrize(
    ("ratings", "scale", "points", "shown"),
    [
        ([0, 6, 2.5], "likert", 5, "3 of 3 ratings are not on the 5-point scale [1, 2, 3, 4, 5]: [0.0, 2.5, 6.0]"),
        ([1, 4, 5], "likert", 4, "1 of 3 ratings are not on the 4-point scale [1, 2, 3, 4]: [5.0]"),
        ([1, float("inf")], "likert", 5, "[inf]"),
        ([0, 1, 2], "binary", 5, "1 of 3 ratings are not on the binary scale [0, 1]: [2.0]"),
        ([0.5], "binary", 5, "[0.5]"),
    ],
)
def test_stance_rejects_off_scale_ratings(ratings, scale, points, shown):
    with pytest.raises(ValueError) as error:
        he.stance(ratings, scale=scale, points=points)
    message = str(error.value)
    assert shown in message
    assert "NaN" in message


def test_stance_rejects_text_rating():
    with pytest.raises(ValueError, match="numbers or missing"):
        he.stance(["agree"])


def test_agreement_rejects_off_scale_rating():
    # agreement reads the table without validate_annotations, so stance must check.
    with pytest.raises(ValueError, match="not on the 5-point scale"):
        he.agreement(long_table([[5, 4, 7], [3, 3, 3]]))
