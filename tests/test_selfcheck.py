"""Tests of the self-consistency checks: the recomputed values themselves, not verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vatnb.selfcheck import (
    attainable_spearman,
    implied_train_scenes,
    mismatches,
    pareto_efficient,
    self_checks,
    training_stage,
)


@pytest.fixture(scope="module")
def checks():
    return self_checks().set_index("quantity")


def test_training_stage_edges():
    assert training_stage(1, 3) == "Mid"  # exactly 1/3 is no longer early
    assert training_stage(0.99, 3) == "Early"
    assert training_stage(2, 3) == "Late"
    assert training_stage(348, 348) == "Late"


def test_training_stage_rejects_zero_last():
    with pytest.raises(ValueError, match="last_step"):
        training_stage(1, 0)


def test_pareto_small_case():
    # (gain, nvat): B has more gain, A less tax, C is dominated by B, D ties B exactly.
    gains = [0.10, 0.20, 0.15, 0.20]
    taxes = [0.12, 0.13, 0.14, 0.13]
    assert pareto_efficient(gains, taxes).tolist() == [True, True, False, True]


def test_pareto_rejects_nan_and_shape():
    with pytest.raises(ValueError, match="NaN"):
        pareto_efficient([0.1, np.nan], [0.1, 0.2])
    with pytest.raises(ValueError, match="equal length"):
        pareto_efficient([0.1], [0.1, 0.2])


def test_attainable_spearman_matches_scipy():
    # Every rho scipy gives for a random permutation of 10 ranks is in the attainable set.
    values = attainable_spearman(10)
    rng = np.random.default_rng(0)
    for _ in range(20):
        rho = stats.spearmanr(np.arange(10), rng.permutation(10)).statistic
        assert np.min(np.abs(values - rho)) < 1e-12
    assert values[0] == 1.0
    assert values[-1] == pytest.approx(-1.0)


def test_stage_and_pareto_recomputed(checks):
    assert checks.loc["DPO step 40: stage (step / 348)", "recomputed"] == "Early"
    assert checks.loc["DPO step 160: stage (step / 348)", "recomputed"] == "Mid"
    assert checks.loc["SFT step 240: stage (step / 348)", "recomputed"] == "Late"
    marks = {
        step: checks.loc[f"DPO step {step}: Pareto-efficient within DPO", "recomputed"]
        for step in (40, 120, 160, 240, 280, 348)
    }
    assert marks == {40: True, 120: True, 160: False, 240: True, 280: False, 348: False}
    marks = {
        step: checks.loc[f"SFT step {step}: Pareto-efficient within SFT", "recomputed"]
        for step in (40, 120, 160, 240, 280, 348)
    }
    assert marks == {40: False, 120: True, 160: False, 240: False, 280: True, 348: False}


def test_table13_power_means_recomputed(checks):
    # DPO gains: (-0.005 + 0.120 + 0.103 + 0.125 + 0.105 + 0.109) / 6 = 0.557 / 6
    assert checks.loc["Power DPO: mean_gain = mean of Table 3 gain", "recomputed"] == pytest.approx(
        0.557 / 6, abs=1e-5
    )
    # DPO nVAT: 0.812 / 6 = 0.13533
    assert checks.loc["Power DPO: mean_nvat = mean of Table 3 nvat", "recomputed"] == pytest.approx(
        0.812 / 6, abs=1e-5
    )
    # SFT gains: (-0.081 + 0.029 + 0.012 - 0.028 - 0.013 - 0.008) / 6 = -0.089 / 6 = -0.01483,
    # while Table 13 prints -0.011, more than the 0.001 rounding allows.
    sft_gain = checks.loc["Power SFT: mean_gain = mean of Table 3 gain"]
    assert sft_gain["recomputed"] == pytest.approx(-0.089 / 6, abs=1e-5)
    assert sft_gain["paper"] == -0.011
    assert not sft_gain["agree"]
    # SFT nVAT: 0.708 / 6 = 0.118
    assert checks.loc["Power SFT: mean_nvat = mean of Table 3 nvat", "recomputed"] == pytest.approx(
        0.118, abs=1e-5
    )


def test_split_sums_recomputed(checks):
    # 3398 + 3384 + 2646 + 2270 + 2264 + 1876 + 1874 + 1500 + 1118 + 748 = 21,078, not 20,566.
    train = checks.loc["train samples: sum of the ten value splits vs 20,566 (section 4)"]
    assert train["recomputed"] == 21078
    assert train["paper"] == 20566
    assert checks.loc["train + test samples vs 29,568", "recomputed"] == 21078 + 9002
    assert checks.loc["total samples = 12 x 11 x 2 x 56 x 2", "recomputed"] == 29568
    assert checks.loc["train + test samples (section 4: 20,566 + 9,002)", "recomputed"] == 29568
    # 9,002 / 29,568 = 0.30445
    assert checks.loc["test share 9,002 / 29,568 (stated 30%)", "recomputed"] == 0.3045
    # 9,002 / 112 = 80.4 scenes; the nearest whole number of scenes, 80, holds 8,960 samples.
    assert checks.loc["test samples are whole scenes of 112 (nearest multiple)", "recomputed"] == 8960


def test_composites_recomputed(checks):
    # S_scene = (3.77 + 3.24 + 3.60 + 2.97) / 4, S_action = (4.20 + 3.87 + 3.89 + 4.30) / 4
    scene = checks.loc["composite S_scene = mean of the 4 scene means", "recomputed"]
    action = checks.loc["composite S_action = mean of the 4 action means", "recomputed"]
    assert scene == pytest.approx(3.395)
    assert action == pytest.approx(4.065)


def test_agreement_columns_recomputed(checks):
    rows = checks[checks.index.str.startswith("agreement of")]
    assert len(rows) == 8
    assert (rows["recomputed"].astype(float) == rows["paper"].astype(float)).all()


def test_majority_ratio_bounds(checks):
    # Realism: agreement 1.00 allows a mean ratio in [2/3, 1], widened by 0.01 of rounding.
    row = checks.loc["majority ratio of Scenario realism within the range its agreement allows"]
    assert row["recomputed"] == "[0.657, 1.010]"


def test_spearman_nearest_attainable(checks):
    # 1 - 12 * 5 / 990 = 0.93939 and 1 - 12 * 18 / 990 = 0.78182
    nearest = checks.loc["beta 0.05: rho is attainable for two rankings of 10 values", "recomputed"]
    assert nearest == pytest.approx(0.9394, abs=1e-4)
    nearest = checks.loc["beta 0.5: rho is attainable for two rankings of 10 values", "recomputed"]
    assert nearest == pytest.approx(0.7818, abs=1e-4)


def test_checkpoint_counts(checks):
    hedonism = checks.loc["Hedonism SFT: N checkpoints vs six per trajectory"]
    assert hedonism["recomputed"] == 1
    assert hedonism["paper"] == 6


def test_mismatch_list():
    found = mismatches()
    assert set(found["table"]) == {"13 vs 3", "13", "text", "9"}
    assert len(found) == 7


def test_implied_train_scenes():
    frame = implied_train_scenes().set_index("value")
    # Hedonism has 2 micro-values: 748 / (2 * 2) = 187 scenes.
    assert frame.loc["Hedonism", "implied_scenes"] == 187.0
    # Universalism has 9: 3398 / 18 = 188.78.
    assert frame.loc["Universalism", "implied_scenes"] == pytest.approx(3398 / 18)
    assert implied_train_scenes().attrs["design_train_scenes"] == pytest.approx(184.8)
