"""VAT metrics on hand-worked cases, properties, and scipy as an independent check."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vatnb import metrics
from vatnb.metrics import UndefinedMetricWarning

# Hand example: three values, five samples, no ties, so Spearman's rho is
# 1 - 6 * sum(d^2) / (n (n^2 - 1)) with n (n^2 - 1) = 5 * 24 = 120.
#   A = 1 2 3 4 5, B = 2 1 4 3 5, C = 5 4 3 2 1
#   rho(A, B): d = -1 1 -1 1 0, sum d^2 = 4   -> 1 - 24/120  =  0.8
#   rho(A, C): C is A reversed                  -> -1
#   rho(B, C): d = -3 -3 1 1 4, sum d^2 = 36  -> 1 - 216/120 = -0.8
HAND_SHIFTS = pd.DataFrame(
    {"A": [1, 2, 3, 4, 5], "B": [2, 1, 4, 3, 5], "C": [5, 4, 3, 2, 1]}, dtype=float
)


def test_phi_five_point_ascending():
    assert metrics.phi([1, 2, 3, 4, 5], 5).tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]


def test_phi_four_point_descending():
    expected = [1.0, 1 / 3, -1 / 3, -1.0]
    assert np.allclose(metrics.phi([1, 2, 3, 4], 4, descending=True), expected)


def test_phi_keeps_missing_and_rejects_out_of_range():
    assert np.isnan(metrics.phi([np.nan], 5)[0])
    with pytest.raises(ValueError, match="1..5"):
        metrics.phi([6], 5)
    with pytest.raises(ValueError, match="1..4"):
        metrics.phi([2.5], 4)


def test_coupling_hand_example():
    coupling = metrics.coupling_matrix(HAND_SHIFTS)
    assert coupling.loc["A", "B"] == pytest.approx(0.8)
    assert coupling.loc["A", "C"] == pytest.approx(-1.0)
    assert coupling.loc["B", "C"] == pytest.approx(-0.8)
    assert coupling.loc["A", "A"] == 1.0


def test_taxes_hand_example():
    coupling = metrics.coupling_matrix(HAND_SHIFTS)
    vat = metrics.vat_per_value(coupling)
    # VAT(A) = sqrt(0.8^2 + 1^2), VAT(B) = sqrt(0.8^2 + 0.8^2), VAT(C) = sqrt(1^2 + 0.8^2)
    assert vat["A"] == pytest.approx(math.sqrt(1.64))
    assert vat["B"] == pytest.approx(math.sqrt(1.28))
    assert vat["C"] == pytest.approx(math.sqrt(1.64))
    # nVAT = sqrt(2 * (0.64 + 1 + 0.64)) / sqrt(3) = sqrt(1.52)
    assert metrics.nvat(coupling) == pytest.approx(math.sqrt(1.52))
    # Gini: only the pairs with B differ, |1.2806 - 1.1314| each, counted 4 times.
    loads = [math.sqrt(1.64), math.sqrt(1.28), math.sqrt(1.64)]
    expected_gini = 4 * (loads[0] - loads[1]) / (2 * 9 * np.mean(loads))
    assert metrics.gini(vat) == pytest.approx(expected_gini)
    assert expected_gini == pytest.approx(0.026946, abs=1e-5)


def test_constant_trajectory_is_nan_and_named():
    shifts = HAND_SHIFTS.assign(C=0.5)
    with pytest.warns(UndefinedMetricWarning, match="constant shift trajectory.*C"):
        coupling = metrics.coupling_matrix(shifts)
    assert coupling.loc["C"].isna().all()
    assert coupling["C"].isna().all()
    vat = metrics.vat_per_value(coupling)
    assert np.isnan(vat["C"])
    # Only A and B remain: nVAT = sqrt(2 * 0.8^2) / sqrt(2) = 0.8.
    assert metrics.nvat(coupling) == pytest.approx(0.8)


def test_zero_gain_gives_nan_gnd_with_warning():
    shifts = pd.DataFrame({"A": [1.0, -1.0, 0.0], "B": [0.5, 0.5, 0.5]})
    assert metrics.gain(shifts, "A") == 0.0
    with pytest.warns(UndefinedMetricWarning, match="undefined for target 'A'"):
        gnd = metrics.gain_normalized_deviation(shifts, "A")
    assert gnd.isna().all()


def test_gain_direction_and_gnd():
    shifts = pd.DataFrame({"A": [-0.5, -0.3], "B": [0.2, 0.0]})
    # Raw target shift is -0.4; a suppression target reports Gain +0.4.
    assert metrics.gain(shifts, "A", "suppress") == pytest.approx(0.4)
    assert metrics.gain(shifts, "A", "reinforce") == pytest.approx(-0.4)
    gnd = metrics.gain_normalized_deviation(shifts, "A", "suppress")
    assert gnd["A"] == pytest.approx(-1.0)
    assert gnd["B"] == pytest.approx(0.1 / 0.4)


def _records(rows):
    frame = pd.DataFrame(
        rows, columns=["condition", "sample_id", "micro_value", "value", "sign", "rating"]
    )
    return frame.assign(scene_id=frame["sample_id"], scale_points=5, scale_descending=False)


def test_value_scores_average_micro_values_first():
    # Sample s1, pre: Wealth rated 5 and 3 (phi 1, 0 -> mean 0.5); Authority rated 1 by a
    # suppressing action (e = -1 * -1 = 1). E(Power) = mean(0.5, 1) = 0.75, not the
    # record mean (1 + 0 + 1) / 3. Post: Wealth 4 (0.5), Authority 2 (e = 0.5) -> 0.5.
    records = _records(
        [
            ("pre", "s1", "Wealth", "Power", 1, 5),
            ("pre", "s1", "Wealth", "Power", 1, 3),
            ("pre", "s1", "Authority", "Power", -1, 1),
            ("post", "s1", "Wealth", "Power", 1, 4),
            ("post", "s1", "Authority", "Power", -1, 2),
            ("post", "s2", "Wealth", "Power", 1, 4),
        ]
    )
    scores = metrics.value_scores(records)
    assert scores.loc[("pre", "s1"), "Power"] == pytest.approx(0.75)
    assert scores.loc[("post", "s1"), "Power"] == pytest.approx(0.5)
    shifts = metrics.paired_shifts(scores, "pre", "post")
    assert list(shifts.index) == ["s1"]
    assert shifts.loc["s1", "Power"] == pytest.approx(-0.25)
    assert shifts.attrs["unpaired"] == {"pre": 0, "post": 1}


def test_missing_rating_excluded_not_imputed():
    records = _records(
        [
            ("pre", "s1", "Wealth", "Power", 1, 5),
            ("pre", "s1", "Wealth", "Power", 1, np.nan),
        ]
    )
    scores = metrics.value_scores(records)
    assert scores.loc[("pre", "s1"), "Power"] == 1.0
    counts = metrics.missing_rating_counts(records)
    assert counts.loc[0, "missing"] == 1


def test_nvat_is_rms_of_vat():
    rng = np.random.default_rng(1)
    shifts = pd.DataFrame(rng.normal(size=(60, 7)), columns=list("ABCDEFG"))
    shifts["B"] += shifts["A"]
    coupling = metrics.coupling_matrix(shifts)
    vat = metrics.vat_per_value(coupling)
    assert metrics.nvat(coupling) == pytest.approx(float(np.sqrt(np.mean(vat**2))))


def test_gini_equal_and_single_carrier():
    assert metrics.gini([0.3, 0.3, 0.3, 0.3]) == 0.0
    assert metrics.gini([0, 0, 0, 2.0]) == pytest.approx(3 / 4)


def test_gini_all_zero_warns():
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(metrics.gini([0.0, 0.0]))


def test_swapping_pre_and_post_keeps_coupling():
    rng = np.random.default_rng(2)
    shifts = pd.DataFrame(rng.normal(size=(40, 5)), columns=list("ABCDE"))
    forward = metrics.coupling_matrix(shifts)
    backward = metrics.coupling_matrix(-shifts)
    assert np.allclose(forward.to_numpy(), backward.to_numpy())


def test_spearman_and_kendall_match_scipy_with_ties():
    rng = np.random.default_rng(3)
    shifts = pd.DataFrame(rng.integers(-2, 3, size=(50, 4)).astype(float), columns=list("ABCD"))
    spearman = metrics.coupling_matrix(shifts, "spearman")
    kendall = metrics.coupling_matrix(shifts, "kendall")
    assert spearman.loc["A", "C"] == pytest.approx(
        stats.spearmanr(shifts["A"], shifts["C"]).statistic
    )
    assert kendall.loc["B", "D"] == pytest.approx(
        stats.kendalltau(shifts["B"], shifts["D"]).statistic
    )


def test_pairwise_complete_spearman():
    shifts = HAND_SHIFTS.copy()
    shifts.loc[4, "B"] = np.nan
    coupling = metrics.coupling_matrix(shifts)
    expected = stats.spearmanr(shifts["A"][:4], shifts["B"][:4]).statistic
    assert coupling.loc["A", "B"] == pytest.approx(expected)


def test_null_floors():
    assert metrics.null_floor(10, 132) == pytest.approx(math.sqrt(9 / 131))
    # One value has no pair, so nVAT and its floor are undefined.
    assert math.isnan(metrics.null_floor(1, 10))
    assert metrics.centered_null_floor(10, 10_001) == pytest.approx(
        math.sqrt(1 / 9 + 9 / 10_000)
    )


def test_permutation_null_near_floor_and_pvalue():
    rng = np.random.default_rng(4)
    shifts = pd.DataFrame(rng.normal(size=(300, 5)), columns=list("ABCDE"))
    draws = metrics.permutation_null(shifts, n_permutations=60, seed=5)
    assert np.mean(draws) == pytest.approx(metrics.null_floor(5, 300), rel=0.15)
    assert metrics.permutation_pvalue(10.0, draws) == pytest.approx(1 / 61)


def test_coupled_shifts_beat_null():
    rng = np.random.default_rng(6)
    common = rng.normal(size=(200, 1))
    shifts = pd.DataFrame(common + 0.5 * rng.normal(size=(200, 4)), columns=list("ABCD"))
    summary = metrics.vat_summary(shifts, n_permutations=30, seed=1)
    assert summary.nvat > 5 * summary.null_floor
    assert summary.p_value == pytest.approx(1 / 31)


def test_centring_removes_common_mode():
    rng = np.random.default_rng(7)
    shifts = pd.DataFrame(
        rng.normal(size=(2000, 1)) * 3 + rng.normal(size=(2000, 10)), columns=list("ABCDEFGHIJ")
    )
    raw = metrics.nvat(metrics.coupling_matrix(shifts))
    centred = metrics.nvat(metrics.coupling_matrix(shifts, centered=True))
    assert raw > 0.8
    assert centred == pytest.approx(metrics.centered_null_floor(10, 2000), rel=0.1)


def test_unknown_condition_is_named():
    records = _records([("pre", "s1", "Wealth", "Power", 1, 5)])
    scores = metrics.value_scores(records)
    with pytest.raises(ValueError, match="'post' has no value scores"):
        metrics.paired_shifts(scores, "pre", "post")


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="missing columns"):
        metrics.value_scores(pd.DataFrame({"rating": [1]}))


# ---------------------------------------------------------------------------
# Undefined statistics and null draws
# ---------------------------------------------------------------------------


def test_pvalue_of_nan_statistic_is_nan():
    with pytest.warns(UndefinedMetricWarning, match="observed statistic is NaN"):
        p_value = metrics.permutation_pvalue(float("nan"), [0.1, 0.2, 0.3])
    assert np.isnan(p_value)


def test_pvalue_drops_nan_draws_with_warning():
    # Defined draws 0.6 and 0.1: one is >= 0.5, so p = (1 + 1) / (2 + 1).
    with pytest.warns(UndefinedMetricWarning, match="dropped 2 of 4 null draws"):
        p_value = metrics.permutation_pvalue(0.5, [np.nan, 0.6, np.nan, 0.1])
    assert p_value == pytest.approx(2 / 3)


@pytest.mark.parametrize("draws", [[np.nan] * 5, []])
def test_pvalue_without_defined_draws_is_nan(draws):
    with pytest.warns(UndefinedMetricWarning, match="none of the"):
        p_value = metrics.permutation_pvalue(0.5, draws)
    assert np.isnan(p_value)


@pytest.mark.parametrize("n_samples", [0, 1])
def test_vat_summary_too_few_samples_is_nan(n_samples):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = metrics.vat_summary(HAND_SHIFTS.head(n_samples), n_permutations=3)
    messages = [str(warning.message) for warning in caught]
    assert all(warning.category is UndefinedMetricWarning for warning in caught), messages
    assert any(f"{n_samples} sample(s)" in message for message in messages)
    assert any("observed statistic is NaN" in message for message in messages)
    assert np.isnan(summary.nvat)
    assert np.isnan(summary.p_value)
    assert summary.coupling.isna().all().all()
    assert summary.null_draws.shape == (3,)
    assert np.isnan(summary.null_draws).all()
    table = summary.table()
    assert table.loc[0, "N"] == n_samples
    assert np.isnan(table.loc[0, "permutation null mean"])


def test_permutation_null_too_few_samples_is_nan():
    with pytest.warns(UndefinedMetricWarning, match="0 sample"):
        draws = metrics.permutation_null(HAND_SHIFTS.head(0), n_permutations=4)
    assert draws.shape == (4,)
    assert np.isnan(draws).all()


# ---------------------------------------------------------------------------
# Non-finite shifts
# ---------------------------------------------------------------------------


def test_infinite_trajectory_is_nan_and_named():
    shifts = HAND_SHIFTS.copy()
    shifts.loc[2, "C"] = np.inf
    with pytest.warns(UndefinedMetricWarning, match=r"infinite shifts.*C \(1 of 5 samples\)"):
        coupling = metrics.coupling_matrix(shifts)
    assert coupling.loc["C"].isna().all()
    assert coupling["C"].isna().all()
    assert coupling.loc["A", "B"] == pytest.approx(0.8)
    # Only A and B remain: nVAT = sqrt(2 * 0.8^2) / sqrt(2) = 0.8.
    assert metrics.nvat(coupling) == pytest.approx(0.8)


def test_centring_spreads_infinite_shift_to_its_sample():
    shifts = HAND_SHIFTS.copy()
    shifts.loc[2, "C"] = -np.inf
    with pytest.warns(UndefinedMetricWarning, match="infinite shifts"):
        coupling = metrics.coupling_matrix(shifts, centered=True)
    assert coupling.isna().all().all()
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(metrics.nvat(coupling))


def test_all_infinite_shifts_give_nan_summary():
    shifts = HAND_SHIFTS.assign(A=np.inf, B=-np.inf, C=np.inf)
    with pytest.warns(UndefinedMetricWarning):
        summary = metrics.vat_summary(shifts, n_permutations=3)
    assert np.isnan(summary.nvat)
    assert np.isnan(summary.p_value)


def test_centring_equal_huge_shifts_gives_exact_zeros():
    # A common mode of size 1e300 swamps everything else: every value of a sample is
    # equal. x - mean(x) would leave rounding residue that ranks as if it were signal
    # (the sum of 10 equal values is rounded, so their mean need not equal them).
    rng = np.random.default_rng(8)
    common = rng.normal(size=(50, 1)) * 1e300
    shifts = pd.DataFrame(np.repeat(common, 10, axis=1), columns=list("ABCDEFGHIJ"))
    assert (metrics.center_shifts(shifts).to_numpy() == 0.0).all()
    with pytest.warns(UndefinedMetricWarning, match="constant shift trajectory"):
        coupling = metrics.coupling_matrix(shifts, centered=True)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(metrics.nvat(coupling))


def test_centring_keeps_missing_entries():
    shifts = pd.DataFrame({"A": [1.0, 2.0], "B": [1.0, np.nan], "C": [1.0, 4.0]})
    centred = metrics.center_shifts(shifts)
    assert centred.loc[0].tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(centred.loc[1, "B"])
    assert centred.loc[1, "A"] == pytest.approx(-1.0)


def test_infinite_gain_gnd_is_nan():
    shifts = pd.DataFrame({"A": [np.inf, 1.0], "B": [0.5, 0.5]})
    with pytest.warns(UndefinedMetricWarning, match="is not finite"):
        gnd = metrics.gain_normalized_deviation(shifts, "A")
    assert gnd.isna().all()


# ---------------------------------------------------------------------------
# Invalid records
# ---------------------------------------------------------------------------


def _one_record(**changes):
    """Return a pre and a post record of one sample, with ``changes`` applied to both."""
    row = {
        "condition": "pre", "sample_id": "s1", "scene_id": "s1", "micro_value": "Wealth",
        "value": "Power", "sign": 1, "rating": 4, "scale_points": 5, "scale_descending": False,
    }
    row.update(changes)
    return pd.DataFrame([row, {**row, "condition": "post"}])


@pytest.mark.parametrize(
    ("changes", "column", "shown"),
    [
        ({"value": "power"}, "value", "'power' (did you mean 'Power'?)"),
        ({"micro_value": "wealth"}, "micro_value", "'wealth' (did you mean 'Wealth'?)"),
        ({"micro_value": "Telepathy"}, "micro_value", "'Telepathy'"),
        ({"value": np.nan}, "value", "nan"),
    ],
)
def test_value_scores_reject_unknown_names(changes, column, shown):
    with pytest.raises(ValueError) as error:
        metrics.value_scores(_one_record(**changes))
    message = str(error.value)
    assert f"records column {column!r}" in message
    assert shown in message
    assert "2 of 2 rows" in message
    assert "vatnb.taxonomy" in message


def test_value_scores_reject_wrong_parent_value():
    records = pd.concat([_one_record(), _one_record(micro_value="Humble", value="Power")])
    with pytest.raises(ValueError) as error:
        metrics.value_scores(records)
    message = str(error.value)
    assert "'Humble' is tagged 'Power' but belongs to 'Tradition'" in message
    assert "2 of 4 rows" in message
    assert "value_of" in message


def test_value_scores_name_checks_accept_categoricals():
    records = _one_record()
    records["micro_value"] = records["micro_value"].astype("category")
    records["value"] = pd.Categorical(records["value"], categories=["Power", "Hedonism"])
    assert metrics.value_scores(records).loc[("pre", "s1"), "Power"] == 0.5


@pytest.mark.parametrize(
    ("changes", "column", "shown"),
    [
        ({"sign": 5}, "sign", "5"),
        ({"sign": 0}, "sign", "0"),
        ({"sign": np.nan}, "sign", "nan"),
        ({"scale_descending": "False"}, "scale_descending", "'False'"),
        ({"scale_descending": np.nan}, "scale_descending", "nan"),
        ({"scale_points": np.nan}, "scale_points", "nan"),
        ({"scale_points": 1}, "scale_points", "1"),
        ({"scale_points": 4.5}, "scale_points", "4.5"),
        ({"rating": "agree"}, "rating", "'agree'"),
    ],
)
def test_evidence_rejects_invalid_cells(changes, column, shown):
    with pytest.raises(ValueError) as error:
        metrics.evidence(_one_record(**changes))
    message = str(error.value)
    assert f"records column {column!r}: 2 of 2 rows contain invalid values {shown}" in message


def test_evidence_rejects_off_scale_rating_with_count():
    records = pd.concat([_one_record(), _one_record(rating=9)], ignore_index=True)
    with pytest.raises(ValueError) as error:
        metrics.evidence(records)
    message = str(error.value)
    assert "'rating': 2 of 4 rows" in message
    assert "1..5" in message
    assert "[9.0]" in message


def test_evidence_accepts_flag_and_sign_encodings():
    # 1/0 flags and float signs are unambiguous. A 4 on a descending 5-point scale is -0.5.
    assert metrics.evidence(_one_record(scale_descending=1)).tolist() == [-0.5, -0.5]
    assert metrics.evidence(_one_record(scale_descending=np.bool_(False))).tolist() == [0.5, 0.5]
    assert metrics.evidence(_one_record(sign=-1.0, scale_points=5.0)).tolist() == [-0.5, -0.5]


def test_evidence_missing_rating_stays_nan():
    assert np.isnan(metrics.evidence(_one_record(rating=np.nan))).all()


def test_gini_rejects_negative_and_infinite():
    with pytest.raises(ValueError, match="non-negative"):
        metrics.gini([-1.0, 1.0])
    with pytest.warns(metrics.UndefinedMetricWarning, match="infinite"):
        assert math.isnan(metrics.gini([math.inf, 1.0]))


def test_permutation_null_rejects_negative_count():
    shifts = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [0.3, 0.1, 0.2]})
    with pytest.raises(ValueError, match="n_permutations must be a whole number"):
        metrics.permutation_null(shifts, n_permutations=-1)
