"""Robustness checks: rank agreement, scene resampling tables, granularity, beta sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vatnb import metrics, robustness
from vatnb.taxonomy import MICRO_VALUES
from vatnb.simulator import simulate


@pytest.fixture(scope="module")
def simulated_comparisons():
    simulation = simulate(120, target="Power", direction="suppress", shots=(2, 8), seed=1)
    pairs = [("pre", "k=2", "k2"), ("pre", "k=8", None)]
    return robustness.comparisons_from_records(simulation.records, pairs)


def records_from_shifts(shifts: np.ndarray, values, scenes) -> pd.DataFrame:
    """Records whose pre ratings are all 3 and post ratings 3 + shift on a 5-point scale."""
    rows = []
    for sample, (row, scene) in enumerate(zip(shifts, scenes)):
        for value, shift in zip(values, row):
            micro = next(
                name for name, (owner, _) in MICRO_VALUES.items() if owner == value
            )
            for condition, rating in (("pre", 3), ("post", 3 + shift)):
                rows.append((condition, f"s{sample}", scene, micro, value, 1, rating, 5, False))
    return pd.DataFrame(rows, columns=list(metrics.RECORD_COLUMNS))


def test_comparisons_have_both_levels(simulated_comparisons):
    first, second = simulated_comparisons
    assert first.label == "k2"
    assert second.label == "pre -> k=8"
    assert first.value_shifts.shape == (120, 10)
    assert first.micro_shifts.shape[1] > 10
    assert first.scenes.index.equals(first.value_shifts.index)


def test_comparison_rejects_sample_in_two_scenes():
    records = records_from_shifts(np.array([[1, 0], [0, 1]]), ["Power", "Security"], ["a", "b"])
    records.loc[0, "scene_id"] = "other"
    with pytest.raises(ValueError, match="more than one scene"):
        robustness.comparison_shifts(records, "pre", "post")


def test_rank_agreement_identical_rankings():
    # Shifts with clearly different coupling strengths: Spearman and Kendall
    # couplings order VAT(u) the same way, so both agreements are 1.
    rng = np.random.default_rng(0)
    common = rng.normal(size=(400, 1))
    loads = np.array([0.0, 0.3, 0.6, 0.9, 1.2])
    shifts = pd.DataFrame(common * loads + rng.normal(size=(400, 5)), columns=list("abcde"))
    result = robustness.rank_agreement(shifts)
    assert result["spearman_rho"] == pytest.approx(1.0)
    assert result["kendall_tau"] == pytest.approx(1.0)
    assert result["values"] == 5


def test_rank_agreement_drops_constant_values():
    rng = np.random.default_rng(1)
    shifts = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd"))
    shifts["e"] = 0.0
    result = robustness.rank_agreement(shifts)
    assert result["values"] == 4


def test_rank_agreement_table_rows(simulated_comparisons):
    table = robustness.rank_agreement_table(simulated_comparisons)
    assert list(table.index) == ["k2", "pre -> k=8"]
    assert ((table["spearman_rho"] >= -1) & (table["spearman_rho"] <= 1)).all()
    with pytest.raises(ValueError, match="level"):
        robustness.rank_agreement_table(simulated_comparisons, level="sector")


def test_resampling_table_matches_direct_draws(simulated_comparisons):
    table = robustness.resampling_table(simulated_comparisons[:1], n_draws=20, seed=3)
    row = table.loc["k2"]
    item = simulated_comparisons[0]
    assert row["observed"] == pytest.approx(
        metrics.nvat(metrics.coupling_matrix(item.value_shifts))
    )
    assert row["draws"] == 20
    assert row["scenes"] == 120
    assert row["low"] <= row["mean"] <= row["high"]
    assert row["std"] > 0


def test_resampling_table_is_reproducible(simulated_comparisons):
    first = robustness.resampling_table(simulated_comparisons, n_draws=10, seed=5)
    second = robustness.resampling_table(simulated_comparisons, n_draws=10, seed=5)
    pd.testing.assert_frame_equal(first, second)


def test_granularity_agreement_hand_built():
    # One micro-value per value: the 56D coupling equals the 10D one, so the
    # mean micro VAT per value equals the value VAT and both correlations are 1.
    rng = np.random.default_rng(2)
    values = ["Power", "Security", "Tradition", "Benevolence", "Hedonism"]
    common = rng.normal(size=(200, 1))
    latent = common * np.array([0.0, 0.4, 0.8, 1.2, 1.6]) + rng.normal(size=(200, 5))
    shifts = np.clip(np.round(latent), -2, 2).astype(int)
    records = records_from_shifts(shifts, values, [f"c{i}" for i in range(200)])
    item = robustness.comparison_shifts(records, "pre", "post")
    result = robustness.granularity_agreement(item.value_shifts, item.micro_shifts)
    assert result["spearman_rho"] == pytest.approx(1.0)
    assert result["kendall_tau"] == pytest.approx(1.0)


def test_beta_sweep_table_hand_worked():
    runs = pd.DataFrame(
        {
            "beta": [0.01, 0.01, 0.5, 0.5],
            "gain": [0.02, 0.04, -0.01, 0.05],
            "nvat": [0.10, 0.14, 0.12, 0.12],
            "gini": [0.1, 0.2, 0.3, 0.3],
        }
    )
    table = robustness.beta_sweep_table(runs)
    assert list(table.columns) == ["beta = 0.01", "beta = 0.5"]
    assert table.loc["Mean Gain", "beta = 0.01"] == "0.030"
    assert table.loc["Gain Range", "beta = 0.5"] == "[-0.01, 0.05]"
    # std of 0.10 and 0.14 with ddof 1: 0.04 / sqrt(2) = 0.0283.
    assert table.loc["nVAT Std", "beta = 0.01"] == "0.028"
    assert table.loc["Mean Gini", "beta = 0.5"] == "0.300"
    with pytest.raises(ValueError, match="missing columns"):
        robustness.beta_sweep_table(runs.drop(columns="gini"))


def test_ranking_stability_against_smallest_beta():
    reference = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("abcd"))
    table = robustness.ranking_stability(
        {0.5: reference[::-1].set_axis(list("abcd")), 0.01: reference, 0.05: reference * 2}
    )
    assert table.attrs["reference_beta"] == 0.01
    assert table.loc[0.05, "spearman_rho"] == pytest.approx(1.0)
    assert table.loc[0.5, "spearman_rho"] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="at least two"):
        robustness.ranking_stability({0.1: reference})


def test_simulated_beta_runs_feed_the_tables():
    records = robustness.simulated_beta_records([0.01, 0.1], 60, "Power", "suppress",
                                                checkpoints=2, seed=0)
    runs, vat_by_beta = robustness.beta_runs_from_records(records, "Power", "suppress")
    assert len(runs) == 4
    assert set(runs["beta"]) == {0.01, 0.1}
    assert sorted(vat_by_beta) == [0.01, 0.1]
    assert robustness.beta_sweep_table(runs).loc["Checkpoints"].tolist() == ["2", "2"]


def test_evenly_spaced_steps():
    assert robustness.evenly_spaced_steps(12, 3) == (4, 8, 12)
    assert robustness.evenly_spaced_steps(8, 3) == (3, 6, 8)
    assert robustness.evenly_spaced_steps(2, 5) == (1, 2)
    with pytest.raises(ValueError, match="at least 1"):
        robustness.evenly_spaced_steps(0, 2)


def test_beta_run_diagnostics_hand_worked():
    def run(expected_by_condition):
        rows = []
        for condition, expected in expected_by_condition.items():
            for item, value in enumerate(expected):
                rows.append({"condition": condition, "sample_id": f"s{item}", "micro_value": "Power",
                             "sign": 1, "expected_rating": value})
        return pd.DataFrame(rows)

    records = {
        0.5: run({"base": [3.0, 3.0], "dpo-step1": [3.0, 3.1], "dpo-step2": [2.5, 3.2]}),
        0.1: run({"base": [3.0, 3.0], "dpo-step1": [3.0, 3.0], "dpo-step2": [2.8, 3.3]}),
    }
    table = robustness.beta_run_diagnostics(records)
    assert table.index.tolist() == [0.1, 0.5]
    assert table.loc[0.5, "last checkpoint"] == "dpo-step2"
    # |2.5 - 3| and |3.2 - 3| average to 0.35; the largest gap to beta 0.1 is |2.5 - 2.8|.
    assert table.loc[0.5, "mean |shift| from base"] == pytest.approx(0.35)
    assert table.loc[0.5, "max |difference| from smallest beta"] == pytest.approx(0.3)
    assert table.loc[0.1, "max |difference| from smallest beta"] == 0.0
    with pytest.raises(ValueError, match="expected_rating"):
        robustness.beta_run_diagnostics({0.1: records[0.1].drop(columns="expected_rating")})


@pytest.fixture(scope="module")
def tiny_beta_sweep(tmp_path_factory):
    pytest.importorskip("trl")
    from vatnb.dataset import builtin_offline_set

    records = builtin_offline_set(countries=["Germany"], topics=["Work", "Health"], scenes_per_pair=2)
    scenes = sorted(records["scene_id"].unique())
    records["split"] = ["test" if scene in {scenes[1], scenes[3]} else "train" for scene in records["scene_id"]]
    folder = tmp_path_factory.mktemp("beta")
    arguments = dict(max_steps=2, checkpoints=2, test_scenes=2, batch_size=32)
    result = robustness.trained_beta_records([0.5, 0.1], records, "Power", "suppress", folder, **arguments)
    return records, folder, arguments, result


def test_trained_beta_records_feed_the_tables(tiny_beta_sweep):
    _, _, _, (records_by_beta, runs_by_beta) = tiny_beta_sweep
    assert sorted(records_by_beta) == [0.1, 0.5]
    assert [path.name for path in runs_by_beta[0.1]] == ["checkpoint-1", "checkpoint-2"]
    assert list(pd.unique(records_by_beta[0.5]["condition"])) == ["base", "dpo-step1", "dpo-step2"]
    runs, vat_by_beta = robustness.beta_runs_from_records(records_by_beta, "Power", "suppress", pre="base")
    assert len(runs) == 4
    assert robustness.beta_sweep_table(runs).loc["Checkpoints"].tolist() == ["2", "2"]
    assert robustness.ranking_stability(vat_by_beta).index.tolist() == [0.5]
    diagnostics = robustness.beta_run_diagnostics(records_by_beta, runs_by_beta=runs_by_beta)
    assert (diagnostics["last training loss"] > 0).all()
    # The two runs differ only in beta, so their checkpoints are different adapters.
    first = (runs_by_beta[0.1][-1] / "adapter_model.safetensors").read_bytes()
    assert first != (runs_by_beta[0.5][-1] / "adapter_model.safetensors").read_bytes()


def test_trained_beta_records_rerun_reuses_runs(tiny_beta_sweep):
    records, folder, arguments, (records_by_beta, runs_by_beta) = tiny_beta_sweep
    stamps = {path: path.stat().st_mtime_ns for paths in runs_by_beta.values() for path in paths}
    again, again_runs = robustness.trained_beta_records([0.1, 0.5], records, "Power", "suppress", folder,
                                                        **arguments)
    assert again_runs == runs_by_beta
    assert {path: path.stat().st_mtime_ns for path in stamps} == stamps
    pd.testing.assert_frame_equal(again[0.5], records_by_beta[0.5])


def test_real_ratings_rank_agreement(real_data):
    from vatnb import ratings

    records = ratings.comparison_records("gpt-3.5-turbo@0", "gpt-3.5-turbo@2", unit="context")
    item = robustness.comparison_shifts(records, "pre", "post")
    assert item.scenes.nunique() == len(item.value_shifts)
    result = robustness.rank_agreement(item.value_shifts)
    assert result["values"] == 10
    assert -1 <= result["spearman_rho"] <= 1
    table = robustness.resampling_table([item], n_draws=5, seed=0)
    assert table.iloc[0]["draws"] + table.iloc[0]["undefined draws"] == 5
