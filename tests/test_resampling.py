"""Scene-level resampling: draws, weights, and agreement with the one-matrix metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vatnb import metrics
from vatnb.resampling import (
    draw_weights,
    nvat_of_matrices,
    resample_couplings,
    resample_nvat,
    resample_vat,
    resampling_summary,
    scene_draws,
    vat_of_matrices,
)


@pytest.fixture
def shifts_and_scenes():
    rng = np.random.default_rng(0)
    samples = 240
    scenes = np.repeat([f"scene-{k}" for k in range(60)], 4)
    common = rng.normal(size=(samples, 1))
    data = np.round(0.6 * common + rng.normal(size=(samples, 5)), 1)
    shifts = pd.DataFrame(data, columns=["Power", "Security", "Hedonism", "Tradition", "Benevolence"])
    return shifts, scenes


def test_subsample_never_repeats_a_scene():
    labels, drawn = scene_draws(np.repeat(np.arange(50), 3), n_draws=100, fraction=0.8, seed=1)
    assert labels.size == 50
    assert drawn.shape == (100, 40)
    for row in drawn:
        assert len(set(row.tolist())) == row.size


def test_subsample_varies_between_draws():
    _, drawn = scene_draws(np.arange(30), n_draws=5, seed=2)
    assert len({tuple(sorted(row)) for row in drawn.tolist()}) > 1


def test_bootstrap_draws_as_many_scenes_with_replacement():
    _, drawn = scene_draws(np.arange(30), n_draws=50, scheme="bootstrap", seed=3)
    assert drawn.shape == (50, 30)
    assert any(len(set(row.tolist())) < 30 for row in drawn)


def test_draws_are_reproducible_from_seed():
    first = scene_draws(np.arange(20), n_draws=3, seed=7)[1]
    second = scene_draws(np.arange(20), n_draws=3, seed=np.random.default_rng(7))[1]
    np.testing.assert_array_equal(first, second)


def test_weights_follow_scenes():
    scenes = np.array(["a", "a", "b", "c"])
    # Draw 1 takes scene a (position 0) and c (position 2); draw 2 takes b twice.
    weights = draw_weights(scenes, np.array([[0, 2], [1, 1]]))
    assert weights.tolist() == [[1, 1, 0, 1], [0, 0, 2, 0]]


@pytest.mark.parametrize("method", ["spearman", "kendall"])
@pytest.mark.parametrize("scheme", ["subsample", "bootstrap"])
def test_draws_match_coupling_matrix_on_drawn_rows(shifts_and_scenes, method, scheme):
    shifts, scenes = shifts_and_scenes
    matrices = resample_couplings(shifts, scenes, n_draws=3, method=method, scheme=scheme, seed=4)
    labels, drawn = scene_draws(scenes, 3, scheme=scheme, seed=4)
    weights = draw_weights(scenes, drawn, labels.size).astype(int)
    for draw in range(3):
        rows = shifts.iloc[np.repeat(np.arange(len(shifts)), weights[draw])]
        expected = metrics.coupling_matrix(rows, method=method)
        np.testing.assert_allclose(matrices[draw], expected.to_numpy(), rtol=0, atol=1e-12)
        assert nvat_of_matrices(matrices[draw : draw + 1])[0] == pytest.approx(
            metrics.nvat(expected), abs=1e-12
        )
        np.testing.assert_allclose(
            vat_of_matrices(matrices[draw : draw + 1])[0],
            metrics.vat_per_value(expected).to_numpy(),
            atol=1e-12,
        )


def test_missing_shifts_use_pairwise_complete_draws(shifts_and_scenes):
    shifts, scenes = shifts_and_scenes
    shifts = shifts.copy()
    shifts.iloc[::7, 2] = np.nan
    matrices = resample_couplings(shifts, scenes, n_draws=2, seed=5)
    labels, drawn = scene_draws(scenes, 2, seed=5)
    weights = draw_weights(scenes, drawn, labels.size).astype(int)
    rows = shifts.iloc[np.repeat(np.arange(len(shifts)), weights[0])]
    expected = metrics.coupling_matrix(rows).to_numpy()
    np.testing.assert_allclose(matrices[0], expected, atol=1e-12)


def test_centered_draws_use_centred_shifts(shifts_and_scenes):
    shifts, scenes = shifts_and_scenes
    centred = resample_nvat(shifts, scenes, n_draws=4, centered=True, seed=6)
    direct = resample_nvat(metrics.center_shifts(shifts), scenes, n_draws=4, seed=6)
    np.testing.assert_allclose(centred, direct)


def test_resample_vat_has_value_columns(shifts_and_scenes):
    shifts, scenes = shifts_and_scenes
    vat = resample_vat(shifts, scenes, n_draws=5, seed=0)
    assert list(vat.columns) == list(shifts.columns)
    assert vat.shape == (5, 5)
    assert (vat.to_numpy() >= 0).all()


def test_scene_series_is_aligned_on_index(shifts_and_scenes):
    shifts, scenes = shifts_and_scenes
    series = pd.Series(scenes, index=shifts.index)
    shuffled = series.sample(frac=1.0, random_state=0)
    np.testing.assert_allclose(
        resample_nvat(shifts, shuffled, n_draws=3, seed=1),
        resample_nvat(shifts, series, n_draws=3, seed=1),
    )


def test_nvat_of_matrices_leaves_out_undefined_rows():
    matrix = np.array([[1.0, 0.6, np.nan], [0.6, 1.0, np.nan], [np.nan, np.nan, np.nan]])
    # Two defined values, off-diagonal squares 0.36 twice: sqrt(0.72 / 2) = 0.6.
    assert nvat_of_matrices(matrix[None])[0] == pytest.approx(0.6)
    assert np.isnan(vat_of_matrices(matrix[None])[0, 2])


def test_summary_hand_worked():
    summary = resampling_summary([1.0, 2.0, 3.0, np.nan], observed=2.5, confidence=0.5)
    assert summary["mean"] == 2.0
    assert summary["std"] == pytest.approx(1.0)
    assert summary["low"] == pytest.approx(1.5)
    assert summary["high"] == pytest.approx(2.5)
    assert summary["draws"] == 3
    assert summary["undefined draws"] == 1
    assert summary["observed"] == 2.5


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"fraction": 0.0}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"n_draws": 0}, "n_draws"),
        ({"scheme": "jackknife"}, "scheme"),
    ],
)
def test_bad_arguments_are_rejected(arguments, message):
    options = {"n_draws": 2, **arguments}
    with pytest.raises(ValueError, match=message):
        scene_draws(np.arange(10), **options)


def test_scene_count_must_match_rows(shifts_and_scenes):
    shifts, scenes = shifts_and_scenes
    with pytest.raises(ValueError, match="one scene id per row"):
        resample_nvat(shifts, scenes[:-1], n_draws=2)


def test_unknown_method_is_rejected(shifts_and_scenes):
    shifts, scenes = shifts_and_scenes
    with pytest.raises(ValueError, match="method"):
        resample_nvat(shifts, scenes, n_draws=2, method="pearson")
