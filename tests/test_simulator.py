"""Known-answer checks of the simulator: null floor, planted coupling, common mode, gain."""

from __future__ import annotations

import numpy as np
import pytest

from vatnb import metrics
from vatnb.simulator import (
    SimulatorSettings,
    action_design,
    planted_coupling,
    recovery_correlation,
    simulate,
    steering_gain,
)
from vatnb.steering import resampled_nvat
from vatnb.taxonomy import VALUES


@pytest.fixture(autouse=True)
def _cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VATNB_CACHE_DIR", str(tmp_path / "cache"))


def _shifts(simulation, post="k=4"):
    scores = metrics.value_scores(simulation.records)
    return metrics.paired_shifts(scores, "pre", post)


def test_planted_coupling_shape():
    coupling = planted_coupling(0.8)
    # Neighbours: cos(36 deg) = 0.809, times rho 0.8 = 0.647; opposites: -0.8.
    assert coupling.loc["Power", "Security"] == pytest.approx(0.8 * np.cos(np.pi / 5))
    assert coupling.loc["Power", "Universalism"] == pytest.approx(-0.8)
    assert np.allclose(np.diag(coupling), 1.0)
    assert np.linalg.eigvalsh(coupling.to_numpy()).min() > -1e-12


def test_planted_coupling_rejects_rho():
    with pytest.raises(ValueError, match="rho"):
        planted_coupling(1.5)


def test_steering_gain_curve():
    # g(k) = 0.6 * (1 - exp(-k / 2)): 0 at k=0, 0.6 * (1 - e^-1) at k=2.
    assert steering_gain(0, 0.6, 2.0) == 0.0
    assert steering_gain(2, 0.6, 2.0) == pytest.approx(0.6 * (1 - np.exp(-1)))
    assert steering_gain(8, -0.3, 2.0) < 0


def test_settings_reject_bad_thresholds():
    with pytest.raises(ValueError, match="thresholds"):
        SimulatorSettings(thresholds=(0.0, -1.0, 1.0, 2.0))


def test_design_caps_small_values():
    design = action_design(4)
    # Hedonism has 2 micro-values and Stimulation 3; each gets both polarities.
    assert (design["value"] == "Hedonism").sum() == 4
    assert (design["value"] == "Stimulation").sum() == 6
    assert (design["value"] == "Power").sum() == 8


def test_records_layout_and_seed():
    first = simulate(30, seed=5)
    second = simulate(30, seed=5)
    assert list(first.records.columns) == list(metrics.RECORD_COLUMNS)
    assert first.records["rating"].between(1, 5).all()
    assert first.records["rating"].equals(second.records["rating"])
    assert not simulate(30, seed=6).records["rating"].equals(first.records["rating"])


def test_null_nvat_at_floor():
    simulation = simulate(2000, SimulatorSettings(rho=0.0, sigma_m=0.0, micro_values_per_value=2), seed=11)
    shifts = _shifts(simulation)
    observed = metrics.nvat(metrics.coupling_matrix(shifts))
    floor = metrics.null_floor(len(VALUES), len(shifts))
    std = np.std(resampled_nvat(shifts, n_resamples=40, seed=1), ddof=1)
    # With no coupling nVAT is a noise floor sqrt(9 / 1999) = 0.067.
    assert std > 0
    assert abs(observed - floor) <= 2 * std
    assert observed < 1.5 * floor


def test_planted_coupling_recovered():
    simulation = simulate(5000, SimulatorSettings(rho=0.8), target="Security", seed=3)
    estimated = metrics.coupling_matrix(_shifts(simulation))
    expected = simulation.truth.expected_coupling(n_samples=60_000)
    assert recovery_correlation(estimated, expected) > 0.9
    assert recovery_correlation(estimated, simulation.truth.coupling) > 0.9


def test_common_mode_raises_raw_not_centred():
    simulation = simulate(1500, SimulatorSettings(rho=0.0, sigma_m=1.0, micro_values_per_value=2), seed=4)
    shifts = _shifts(simulation)
    raw = metrics.coupling_matrix(shifts)
    centred = metrics.nvat(metrics.coupling_matrix(shifts, centered=True))
    upper = raw.to_numpy()[np.triu_indices(len(raw), 1)]
    assert (upper > 0).all()
    assert metrics.nvat(raw) > 10 * metrics.null_floor(10, len(shifts))
    assert centred == pytest.approx(metrics.centered_null_floor(10, len(shifts)), abs=0.05)


def test_gain_sign_and_growth():
    settings = SimulatorSettings(rho=0.3, micro_values_per_value=2)
    simulation = simulate(1500, settings, target="Power", direction="suppress", shots=(1, 8), seed=9)
    scores = metrics.value_scores(simulation.records)
    gain_small = metrics.gain(metrics.paired_shifts(scores, "pre", "k=1"), "Power", "suppress")
    gain_large = metrics.gain(metrics.paired_shifts(scores, "pre", "k=8"), "Power", "suppress")
    assert gain_small > 0
    assert gain_large > gain_small


def test_backfire_gives_negative_gain():
    settings = SimulatorSettings(rho=0.3, g_max=-0.6, micro_values_per_value=2)
    simulation = simulate(1500, settings, target="Hedonism", direction="suppress", shots=(8,), seed=2)
    gain = metrics.gain(_shifts(simulation, "k=8"), "Hedonism", "suppress")
    assert gain < 0


def test_covariance_root_unique():
    from vatnb.simulator import covariance_root, planted_coupling

    for rho in (0.0, 0.5, 1.0):
        coupling = planted_coupling(rho).to_numpy()
        root = covariance_root(coupling)
        assert np.allclose(root, root.T, atol=0)
        assert np.allclose(root @ root, coupling, atol=1e-12)
        # Another eigenbasis of the same matrix: rotate the two-dimensional eigenspace of the
        # repeated circumplex eigenvalue. The symmetric root must not change.
        eigenvalues, eigenvectors = np.linalg.eigh(coupling)
        top = eigenvectors[:, -2:]
        angle = 0.7
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        rotated = eigenvectors.copy()
        rotated[:, -2:] = top @ rotation
        other = (rotated * np.sqrt(np.clip(eigenvalues, 0, None))) @ rotated.T
        assert np.allclose(other, root, atol=1e-12)


def test_recovery_correlation_undefined_at_rho_zero():
    from vatnb.simulator import planted_coupling, recovery_correlation

    estimated = planted_coupling(0.5)
    with pytest.warns(metrics.UndefinedMetricWarning, match="equal off-diagonal entries"):
        assert np.isnan(recovery_correlation(estimated, planted_coupling(0.0)))
    assert recovery_correlation(estimated, planted_coupling(0.8)) == pytest.approx(1.0)
