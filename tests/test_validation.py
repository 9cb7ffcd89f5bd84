"""Tests of the validation tools: null floors, common-mode shifts, recovery and fast shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vatnb import metrics, validation
from vatnb.simulator import SimulatorSettings, simulate


@pytest.mark.parametrize("n_samples", [200, 2000])
def test_permutation_null_near_floor(n_samples):
    # Acceptance: the permutation null's mean nVAT is within 10% of sqrt((|V|-1)/(N-1)).
    table = validation.null_floor_table((n_samples,), n_permutations=100, seed=1)
    row = table.iloc[0]
    assert row["floor"] == pytest.approx(np.sqrt(9 / (n_samples - 1)))
    assert abs(row["null_mean"] / row["floor"] - 1) < 0.10


def test_pure_common_mode_raw_far_above_floor():
    shifts = validation.latent_shifts(1000, rho=0.0, sigma_m=1.0, seed=5)
    table = validation.common_mode_table(shifts, n_permutations=40, seed=5).set_index("variant")
    raw = table.loc["raw"]
    # Every pair has Pearson r = 1 / (1 + 1) = 0.5 here, so Spearman about 0.48 and nVAT about
    # 3 * 0.48 = 1.45, against a floor of sqrt(9 / 999) = 0.095.
    assert raw["nVAT"] > 10 * raw["floor"]
    assert raw["z"] > 20
    assert raw["mean R"] == pytest.approx(6 / np.pi * np.arcsin(0.25), abs=0.05)


def test_pure_common_mode_centred_matches_null():
    # Acceptance: after centring, nVAT matches the centred null within its resampling std.
    # One draw's z is about standard normal, so the check averages z over six seeds.
    scores = []
    for seed in range(6):
        shifts = validation.latent_shifts(300, rho=0.0, sigma_m=1.0, seed=seed)
        table = validation.common_mode_table(shifts, n_permutations=20, seed=seed)
        centred = table.set_index("variant").loc["centred"]
        assert abs(centred["z"]) < 3.5
        scores.append(centred["z"])
    assert abs(np.mean(scores)) < 1.0


def test_centred_null_sits_near_its_floor():
    # Centring alone makes every pair lean to -1/(|V|-1): the centred null is near 0.33, not 0.
    shifts = validation.latent_shifts(2000, rho=0.0, sigma_m=0.0, seed=2)
    centred = validation.common_mode_table(shifts, n_permutations=30, seed=2).iloc[1]
    assert centred["variant"] == "centred"
    assert centred["mean R"] == pytest.approx(6 / np.pi * np.arcsin(-1 / 18), abs=0.01)
    assert centred["null mean"] == pytest.approx(metrics.centered_null_floor(10, 2000), rel=0.06)


def test_common_mode_share_extremes():
    rng = np.random.default_rng(0)
    independent = pd.DataFrame(rng.standard_normal((5000, 10)))
    assert validation.common_mode_share(independent) == pytest.approx(0.1, abs=0.01)
    shared = pd.DataFrame(np.repeat(rng.standard_normal((50, 1)), 10, axis=1))
    assert validation.common_mode_share(shared) == pytest.approx(1.0)


def test_common_mode_share_scale_free():
    rng = np.random.default_rng(1)
    shifts = pd.DataFrame(rng.standard_normal((200, 10)) + rng.standard_normal((200, 1)))
    share = validation.common_mode_share(shifts)
    # Squares of 1e200 overflow, so a share computed without rescaling would be undefined.
    assert validation.common_mode_share(shifts * 1e200) == pytest.approx(share, rel=1e-9)
    with pytest.warns(metrics.UndefinedMetricWarning, match="infinite"):
        assert np.isnan(validation.common_mode_share(shifts.replace(shifts.iloc[0, 0], np.inf)))


def test_latent_shifts_reject_infinite_sigma():
    with pytest.raises(ValueError, match="finite"):
        validation.latent_shifts(10, sigma_m=np.inf)


def test_mean_off_diagonal_all_undefined():
    coupling = pd.DataFrame(np.full((3, 3), np.nan))
    with pytest.warns(metrics.UndefinedMetricWarning, match="no off-diagonal"):
        assert np.isnan(validation.mean_off_diagonal(coupling))


def test_common_mode_share_constant_warns():
    with pytest.warns(metrics.UndefinedMetricWarning, match="constant"):
        assert np.isnan(validation.common_mode_share(pd.DataFrame(np.ones((5, 3)))))


def test_latent_expected_coupling_matches_draws():
    expected = validation.latent_expected_coupling(0.8, sigma_m=0.5)
    shifts = validation.latent_shifts(20000, rho=0.8, sigma_m=0.5, seed=4)
    estimated = metrics.coupling_matrix(shifts)
    assert np.max(np.abs(estimated.to_numpy() - expected.to_numpy())) < 0.03


def test_latent_shifts_rejects_bad_input():
    with pytest.raises(ValueError, match="n_samples"):
        validation.latent_shifts(1)
    with pytest.raises(ValueError, match="sigma_m"):
        validation.latent_shifts(10, sigma_m=-1.0)


def test_fast_shifts_equal_metrics_path():
    simulation = simulate(40, SimulatorSettings(rho=0.5, sigma_m=0.3), seed=3)
    records = simulation.records.copy()
    # Blank some ratings, including every rating of one value in one sample.
    records.loc[records.sample(400, random_state=0).index, "rating"] = np.nan
    blank = (records["sample_id"] == "s00003") & (records["value"] == "Power")
    records.loc[blank, "rating"] = np.nan
    fast = validation.shifts_from_records(records, "pre", "k=4")
    reference = metrics.paired_shifts(metrics.value_scores(records), "pre", "k=4")
    assert list(fast.columns) == list(reference.columns)
    assert list(fast.index) == list(reference.index)
    np.testing.assert_allclose(fast.to_numpy(), reference.to_numpy(), equal_nan=True)
    assert np.isnan(fast.loc["s00003", "Power"])


def test_fast_shifts_unknown_condition():
    simulation = simulate(5, seed=0)
    with pytest.raises(ValueError, match="k=8"):
        validation.shifts_from_records(simulation.records, "pre", "k=8")


def test_recovery_improves_with_n():
    pool = validation.latent_shifts(4000, rho=0.8, seed=7)
    expected = validation.latent_expected_coupling(0.8)
    curve = validation.recovery_curve(pool, expected, (50, 2000), n_resamples=5, seed=7)
    summary = validation.summarize_curve(curve).set_index("n_samples")
    assert summary.loc[2000, "recovery_mean"] > 0.97
    assert summary.loc[2000, "recovery_mean"] > summary.loc[50, "recovery_mean"]
    true = summary.loc[2000, "true_nvat"]
    assert summary.loc[2000, "nvat_mean"] == pytest.approx(true, rel=0.05)


def test_recovery_nvat_biased_up_at_small_n():
    # At weak coupling, noise adds about floor^2 to nVAT^2: at N = 50, roughly
    # sqrt(0.34 + 9 / 49) = 0.72 against a true nVAT of about 0.58.
    pool = validation.latent_shifts(2000, rho=0.3, seed=8)
    expected = validation.latent_expected_coupling(0.3)
    curve = validation.recovery_curve(pool, expected, (50,), n_resamples=20, seed=8)
    assert curve["nvat"].mean() > curve["true_nvat"].iloc[0] + 0.05


def test_recovery_rejects_too_large_n():
    pool = validation.latent_shifts(100, seed=0)
    with pytest.raises(ValueError, match="pool"):
        validation.recovery_curve(pool, validation.latent_expected_coupling(0.0), (200,))


def test_simulated_shifts_shape_and_truth():
    shifts, truth = validation.simulated_shifts(30, SimulatorSettings(rho=0.3), seed=1)
    assert shifts.shape == (30, 10)
    assert truth.rho == 0.3


def test_floor_crossing_samples():
    # 1 + 9 / 0.1^2 = 901 and 1 + 9 / 0.15^2 = 401
    assert validation.floor_crossing_samples(0.10) == pytest.approx(901)
    assert validation.floor_crossing_samples(0.15) == pytest.approx(401)
    with pytest.raises(ValueError, match="positive"):
        validation.floor_crossing_samples(0.0)


def test_paper_floor_comparison_values():
    table = validation.paper_floor_comparison().set_index("N")
    # Tables 2 and 10 report nVAT from 0.09 (Table 2) to 0.15 (Table 2; Table 10 tops out at 0.147).
    assert table.loc[9002, "paper nVAT min"] == 0.09
    assert table.loc[9002, "paper nVAT max"] == 0.15
    assert table.loc[9002, "floor"] == pytest.approx(np.sqrt(9 / 9001))
    # At 80 scenes the floor, sqrt(9 / 79) = 0.34, is above every reported nVAT.
    assert table.loc[80, "excess at max"] == 0.0


def test_real_common_mode_framing(real_data):
    table = validation.real_common_mode(
        {"framing": ("gpt-4o-mini@0", "gpt-4o-mini@2", "context")}, n_permutations=20, seed=0
    ).set_index("variant")
    assert table.loc["raw", "N"] == 132
    assert table.loc["raw", "mean R"] > 0
    assert table.loc["centred", "mean R"] < table.loc["raw", "mean R"]


def test_comparable_gain_pairs_table2():
    pairs = validation.comparable_gain_pairs()
    # Of the 90 pairs of Table 2 cells whose Gains differ by at most 0.02 (40 of them by
    # exactly 0.02), 5 have nVATs that differ by more than twice their combined printed std.
    assert len(pairs) == 90
    assert int(pairs["distinguishable"].sum()) == 5


def test_comparable_gain_boundary_counts():
    table = pd.DataFrame(
        {
            "model": ["A", "B", "C"],
            "target": ["Power"] * 3,
            "shots": [2, 2, 2],
            "gain": [0.08, 0.06, 0.0399],
            "nvat": [0.10, 0.10, 0.10],
            "nvat_std": [0.01, 0.01, 0.01],
        }
    )
    pairs = validation.comparable_gain_pairs(table)
    # 0.08 - 0.06 is 0.020000000000000004 in floating point but 0.02 as printed.
    assert list(zip(pairs["a"], pairs["b"])) == [("A Power 2-shot", "B Power 2-shot")]


def test_comparable_gain_pairs_hand_case():
    table = pd.DataFrame(
        {
            "model": ["A", "B", "C"],
            "target": ["Power"] * 3,
            "shots": [2, 2, 2],
            "gain": [0.10, 0.11, 0.50],
            "nvat": [0.10, 0.20, 0.10],
            "nvat_std": [0.01, 0.01, 0.01],
        }
    )
    pairs = validation.comparable_gain_pairs(table)
    # Only A and B have gains within 0.02; 0.10 > 2 * sqrt(0.01^2 + 0.01^2) = 0.028.
    assert len(pairs) == 1
    assert bool(pairs["distinguishable"].iloc[0])
