"""The fast Kendall and batched Spearman kernels against scipy and pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vatnb import fastcorr
from vatnb.fastcorr import (
    KendallPlan,
    dense_codes,
    kendall_tau_b_matrices,
    kendall_tau_b_matrix,
    tau_b_from_tables,
    weighted_average_ranks,
    weighted_spearman_matrices,
)


def tied_data(rows: int, columns: int, seed: int) -> np.ndarray:
    """Likert-like shifts: differences of two 4-point ratings, so 7 values and heavy ties."""
    rng = np.random.default_rng(seed)
    before = rng.integers(1, 5, size=(rows, columns))
    after = np.clip(before + rng.integers(-1, 2, size=(rows, columns)), 1, 4)
    data = (after - before) * 2.0 / 3.0
    data[:, 1] = data[:, 0] + rng.integers(0, 2, size=rows) / 3.0  # a coupled pair
    return data


def test_hand_worked_tau_b():
    # x = 1,2,3,4 and y = 1,3,2,4: 5 concordant and 1 discordant of 6 pairs -> 4/6.
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": [1, 3, 2, 4]})
    assert kendall_tau_b_matrix(frame).loc["x", "y"] == pytest.approx(4 / 6, abs=1e-15)


def test_hand_worked_tau_b_with_ties():
    # x = 1,1,2,2 and y = 1,2,2,3: C = 3, D = 0; ties in x: 2 pairs, in y: 1 pair;
    # tau_b = 3 / sqrt((6 - 2) * (6 - 1)) = 3 / sqrt(20).
    frame = pd.DataFrame({"x": [1, 1, 2, 2], "y": [1, 2, 2, 3]})
    assert kendall_tau_b_matrix(frame).loc["x", "y"] == pytest.approx(3 / np.sqrt(20), abs=1e-15)


def test_tables_give_tau_b_of_table():
    # The 2x2 table [[2, 1], [0, 3]]: C = 2*3 = 6, D = 1*0 = 0, m = 6, n0 = 15,
    # row sums 3, 3 -> n1 = 6; column sums 2, 4 -> n2 = 7; tau_b = 6 / sqrt(9 * 8).
    table = np.array([[[2.0, 1.0], [0.0, 3.0]]])
    assert tau_b_from_tables(table)[0] == pytest.approx(6 / np.sqrt(72), abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kendall_matches_scipy_on_heavy_ties(seed):
    data = tied_data(400, 6, seed)
    matrix = kendall_tau_b_matrix(pd.DataFrame(data)).to_numpy()
    for i in range(6):
        for j in range(i + 1, 6):
            expected = stats.kendalltau(data[:, i], data[:, j], variant="b").statistic
            assert abs(matrix[i, j] - expected) < 1e-12, (i, j)
            assert matrix[j, i] == matrix[i, j]


def test_kendall_matches_pandas_with_missing_values():
    rng = np.random.default_rng(3)
    data = tied_data(300, 5, 3)
    data[rng.random(data.shape) < 0.15] = np.nan
    frame = pd.DataFrame(data, columns=list("abcde"))
    expected = frame.corr(method="kendall")
    result = kendall_tau_b_matrix(frame)
    assert list(result.columns) == list("abcde")
    np.testing.assert_allclose(result.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


def test_kendall_constant_column_gives_nan():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [5.0, 5, 5, 5], "c": [1.0, 3, 2, 4]})
    result = kendall_tau_b_matrix(frame)
    assert np.isnan(result.loc["a", "b"])
    assert np.isnan(result.loc["b", "c"])
    assert result.loc["a", "c"] == pytest.approx(4 / 6)


def test_kendall_continuous_columns_use_scipy_route(monkeypatch):
    # Tables larger than MAX_TABLE_CELLS go pair by pair through scipy; shrink
    # the limit so that this small case takes that route too.
    monkeypatch.setattr(fastcorr, "MAX_TABLE_CELLS", 16)
    rng = np.random.default_rng(4)
    data = rng.normal(size=(200, 3))
    data[:, 2] = np.round(data[:, 2])
    plan = KendallPlan(data)
    assert len(plan.large) > 0
    result = plan.matrix()
    expected = pd.DataFrame(data).corr(method="kendall").to_numpy()
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("levels, rows, columns, block", [(2, 800, 7, 3), (5, 1300, 9, 2), (5, 300, 4, 1)])
def test_kendall_blocks_match_pandas(levels, rows, columns, block):
    # Few values and enough rows join columns into blocks of 2 or 3; an odd
    # column count leaves a padded last block. Missing entries and weighted
    # draws go through the same joint tables.
    rng = np.random.default_rng(levels + rows)
    data = rng.integers(0, levels, size=(rows, columns)).astype(float)
    data[:, 1] = np.minimum(data[:, 0] + rng.integers(0, 2, size=rows), levels - 1)
    data[rng.random(data.shape) < 0.05] = np.nan
    plan = KendallPlan(data)
    assert plan.block == block
    expected = pd.DataFrame(data).corr(method="kendall").to_numpy()
    np.testing.assert_allclose(plan.matrix(), expected, rtol=0, atol=1e-12)
    weights = rng.integers(0, 3, size=(2, rows))
    for draw, matrix in enumerate(plan.matrices(weights)):
        repeated = pd.DataFrame(np.repeat(data, weights[draw], axis=0))
        np.testing.assert_allclose(matrix, repeated.corr(method="kendall").to_numpy(), rtol=0, atol=1e-12)


def test_kendall_shared_and_per_column_codes_agree(monkeypatch):
    # Columns on different value grids: coded on the values of the whole
    # array, a column's tables get empty rows, which must not change tau-b.
    rng = np.random.default_rng(8)
    data = np.column_stack([rng.integers(0, 3, 500) * 0.5, rng.integers(0, 7, 500) / 3.0,
                            rng.integers(-2, 1, 500) * 1.0])
    shared = KendallPlan(data).matrix()
    monkeypatch.setattr(fastcorr, "_shared_codes", lambda values: None)
    per_column = KendallPlan(data).matrix()
    np.testing.assert_allclose(shared, per_column, rtol=0, atol=1e-12)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        expected = stats.kendalltau(data[:, i], data[:, j], variant="b").statistic
        assert abs(shared[i, j] - expected) < 1e-12


def test_kendall_on_real_micro_value_shifts(real_data):
    from vatnb import metrics, ratings

    records = ratings.comparison_records("gpt-3.5-turbo", "gpt-4o-mini")
    scores = metrics.value_scores(records, "micro_value")
    shifts = metrics.paired_shifts(scores, "pre", "post")
    assert shifts.shape[1] == 56
    expected = shifts.corr(method="kendall")
    result = kendall_tau_b_matrix(shifts)
    np.testing.assert_allclose(result.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


def test_kendall_rejects_arrays():
    with pytest.raises(TypeError, match="DataFrame"):
        kendall_tau_b_matrix(np.zeros((3, 2)))


def test_dense_codes_marks_missing():
    codes, levels = dense_codes(np.array([[0.5, np.nan], [-1.0, 2.0], [0.5, 2.0]]))
    assert codes[:, 0].tolist() == [1, 0, 1]
    assert codes[:, 1].tolist() == [-1, 0, 0]
    assert levels.tolist() == [2, 1]


def test_weighted_kendall_equals_repeated_rows():
    rng = np.random.default_rng(5)
    data = tied_data(150, 4, 5)
    data[rng.random(data.shape) < 0.05] = np.nan
    weights = rng.integers(0, 4, size=(3, 150))
    result = kendall_tau_b_matrices(data, weights)
    for draw in range(3):
        expanded = pd.DataFrame(np.repeat(data, weights[draw], axis=0))
        expected = expanded.corr(method="kendall").to_numpy()
        np.testing.assert_allclose(result[draw], expected, rtol=0, atol=1e-12)


def test_weighted_ranks_hand_worked():
    # Values 10, 20, 20 with weights 2, 1, 1 stand for 10, 10, 20, 20:
    # ranks 1.5 for the 10s and 3.5 for the 20s.
    ranks = weighted_average_ranks(np.array([10.0, 20.0, 20.0]), np.array([[2.0, 1.0, 1.0]]))
    assert ranks.tolist() == [[1.5, 3.5, 3.5]]


def test_weighted_spearman_equals_repeated_rows():
    rng = np.random.default_rng(6)
    data = tied_data(200, 5, 6)
    weights = rng.integers(0, 3, size=(4, 200))
    result = weighted_spearman_matrices(data, weights)
    for draw in range(4):
        expanded = np.repeat(data, weights[draw], axis=0)
        expected = stats.spearmanr(expanded).statistic
        np.testing.assert_allclose(result[draw], expected, rtol=0, atol=1e-12)


def test_weighted_spearman_constant_in_draw_is_nan():
    data = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 2.0], [4.0, 3.0]])
    # Only the first two rows: the second column is constant there.
    result = weighted_spearman_matrices(data, np.array([[1, 1, 0, 0]]))
    assert np.isnan(result[0, 0, 1])


def test_weighted_spearman_rejects_missing_values():
    with pytest.raises(ValueError, match="complete data"):
        weighted_spearman_matrices(np.array([[1.0, np.nan], [2.0, 3.0]]), np.ones((1, 2)))


@pytest.mark.parametrize(
    "weights, message",
    [(np.ones((2, 3)), "shape"), (-np.ones((1, 4)), "non-negative"), (np.full((1, 4), 0.5), "integers")],
)
def test_weights_are_checked(weights, message):
    with pytest.raises(ValueError, match=message):
        weighted_spearman_matrices(np.arange(8.0).reshape(4, 2), weights)
