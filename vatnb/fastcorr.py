"""Fast rank-correlation kernels for the coupling matrix and for resampled draws.

Two kernels, both pure numpy:

* :func:`kendall_tau_b_matrix` computes Kendall's tau-b for every pair of
  columns from contingency tables of the columns' distinct values. The
  coupling inputs are differences of Likert-scale means, so a column has few
  distinct values, and one ``np.bincount`` over all pairs builds every table
  at once. The cost is O(n * pairs + pairs * Kx * Ky) for n rows and Kx, Ky
  distinct values, against O(pairs * n log n) for the per-pair route that
  pandas takes. Pairs whose table would be large (many distinct values, as
  in continuous data) go through :func:`scipy.stats.kendalltau` one by one.
* :func:`weighted_spearman_matrices` computes the Spearman matrix of many
  weighted copies of one data set at once (the weights are how often each
  row appears in a resampled draw), which is what scene resampling needs.

Integer weights in both kernels give exactly the coefficient of the data set
in which row i is repeated ``weights[i]`` times, ties included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

# A pair takes the contingency-table route when Kx * Ky is at most this many
# cells; larger tables cost more memory than sorting the pair would.
MAX_TABLE_CELLS = 4096

# Upper bound on the float64 elements one chunk of pairs or draws may allocate
# (about 64 MB), so memory stays flat however many columns or draws there are.
CHUNK_ELEMENTS = 8_000_000


def dense_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace each column's values by the index of the value among its sorted distinct values.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Data with NaN for missing entries.

    Returns
    -------
    codes : ndarray of int64, shape (n, p)
        0 for the smallest value of a column, 1 for the next, ...; -1 where missing.
    levels : ndarray of int64, shape (p,)
        Number of distinct non-missing values per column.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array (rows x columns), got shape {values.shape}")
    codes = np.full(values.shape, -1, dtype=np.int64)
    levels = np.zeros(values.shape[1], dtype=np.int64)
    for column in range(values.shape[1]):
        present = ~np.isnan(values[:, column])
        distinct, inverse = np.unique(values[present, column], return_inverse=True)
        codes[present, column] = inverse
        levels[column] = distinct.size
    return codes, levels


def contingency_tables(
    codes: np.ndarray,
    pairs: np.ndarray,
    shape: tuple[int, int],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Count the rows in each cell (code of column i, code of column j) for every pair.

    Rows where either code is -1 (missing) are left out, which gives the
    pairwise-complete table. ``weights`` (one non-negative number per row)
    counts a row that many times.

    Returns
    -------
    ndarray of float64, shape (len(pairs), shape[0], shape[1])
    """
    rows_dim, cols_dim = shape
    cells = rows_dim * cols_dim
    first = codes[:, pairs[:, 0]]
    second = codes[:, pairs[:, 1]]
    offsets = np.arange(len(pairs), dtype=np.int64) * cells
    index = offsets + first * cols_dim + second
    # Rows with a missing code go to one extra bin past the end, dropped below.
    dump = len(pairs) * cells
    index[(first < 0) | (second < 0)] = dump
    if weights is None:
        counts = np.bincount(index.ravel(), minlength=dump + 1)
    else:
        repeated = np.broadcast_to(np.asarray(weights, float)[:, None], index.shape)
        counts = np.bincount(index.ravel(), weights=repeated.ravel(), minlength=dump + 1)
    return counts[:dump].astype(float).reshape(len(pairs), rows_dim, cols_dim)


def tau_b_from_tables(tables: np.ndarray) -> np.ndarray:
    """Compute Kendall's tau-b from a stack of contingency tables.

    With T[a, b] the number of rows whose first variable has rank a and second
    rank b, the concordant pairs are sum T[a, b] * T[a', b'] over a' < a,
    b' < b, the discordant ones the same over a' < a, b' > b, and

        tau_b = (C - D) / sqrt((n0 - n1) * (n0 - n2)),

    where n0 = m(m-1)/2 for m rows, and n1, n2 add t(t-1)/2 over the row and
    column sums t (the pairs tied in each variable). This is the variant b of
    :func:`scipy.stats.kendalltau`. A table with no untied pair in one
    variable (a constant column, or fewer than two rows) gives NaN.
    """
    tables = np.asarray(tables, dtype=float)
    # before[a, b] = sum over a' < a of T[a', b]: rows ranked lower in the first variable.
    before = np.zeros_like(tables)
    before[:, 1:, :] = np.cumsum(tables, axis=1)[:, :-1, :]
    # lower_left[a, b] = sum over a' < a, b' < b; upper_left = sum over a' < a, b' > b.
    cumulative = np.cumsum(before, axis=2)
    lower_left = np.zeros_like(tables)
    lower_left[:, :, 1:] = cumulative[:, :, :-1]
    upper_left = cumulative[:, :, -1:] - cumulative
    concordant = np.einsum("pab,pab->p", tables, lower_left)
    discordant = np.einsum("pab,pab->p", tables, upper_left)

    rows = tables.sum(axis=2)
    columns = tables.sum(axis=1)
    total = rows.sum(axis=1)
    all_pairs = total * (total - 1.0) / 2.0
    first_ties = (rows * (rows - 1.0) / 2.0).sum(axis=1)
    second_ties = (columns * (columns - 1.0) / 2.0).sum(axis=1)
    untied_first = all_pairs - first_ties
    untied_second = all_pairs - second_ties
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = (concordant - discordant) / np.sqrt(untied_first) / np.sqrt(untied_second)
    tau[(untied_first <= 0) | (untied_second <= 0)] = np.nan
    return tau


def _pair_chunks(pairs: np.ndarray, levels: np.ndarray, n_rows: int):
    """Yield (positions, table shape) groups of pairs whose arrays fit ``CHUNK_ELEMENTS``."""
    sizes = levels[pairs[:, 0]] * levels[pairs[:, 1]]
    order = np.argsort(sizes, kind="stable")
    start = 0
    while start < len(order):
        rest = pairs[order[start:]]
        rows_dim = np.maximum.accumulate(np.maximum(levels[rest[:, 0]], 1))
        cols_dim = np.maximum.accumulate(np.maximum(levels[rest[:, 1]], 1))
        count = np.arange(1, len(rest) + 1)
        # Per pair: one index per row, and about four table-sized arrays.
        cost = count * np.maximum(rows_dim * cols_dim * 4, n_rows)
        size = max(1, int(np.searchsorted(cost, CHUNK_ELEMENTS, side="right")))
        yield order[start : start + size], (int(rows_dim[size - 1]), int(cols_dim[size - 1]))
        start += size


def kendall_tau_b_pairs(
    codes: np.ndarray,
    levels: np.ndarray,
    pairs: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Compute tau-b for the given column pairs of dense-coded data (see :func:`dense_codes`).

    Pairs with small tables use :func:`contingency_tables`; the others expand
    the weighted rows and call :func:`scipy.stats.kendalltau`. Returns one
    coefficient per pair (NaN where undefined).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    result = np.full(len(pairs), np.nan)
    small = levels[pairs[:, 0]] * levels[pairs[:, 1]] <= MAX_TABLE_CELLS
    small_index = np.flatnonzero(small)
    for positions, shape in _pair_chunks(pairs[small_index], levels, codes.shape[0]):
        chunk = small_index[positions]
        tables = contingency_tables(codes, pairs[chunk], shape, weights)
        result[chunk] = tau_b_from_tables(tables)
    repeats = None if weights is None else np.asarray(weights).astype(np.int64)
    for position in np.flatnonzero(~small):
        first, second = codes[:, pairs[position, 0]], codes[:, pairs[position, 1]]
        keep = (first >= 0) & (second >= 0)
        if repeats is not None:
            keep &= repeats > 0
            first = np.repeat(first[keep], repeats[keep])
            second = np.repeat(second[keep], repeats[keep])
        else:
            first, second = first[keep], second[keep]
        if first.size >= 2:
            result[position] = stats.kendalltau(first, second, variant="b").statistic
    return result


def kendall_tau_b_matrix(data: pd.DataFrame) -> pd.DataFrame:
    """Return the pairwise-complete Kendall tau-b matrix of the columns of ``data``.

    Equal to ``data.corr(method="kendall")`` (and to
    :func:`scipy.stats.kendalltau` with ``variant="b"`` on the rows where both
    columns are present), computed from contingency tables for all pairs at
    once. A pair with fewer than two complete rows, or with a column constant
    on them, gives NaN. The diagonal is 1, as in pandas.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 2, 4], "c": [4, 3, 2, 1]})
    >>> kendall_tau_b_matrix(frame).round(4).to_numpy().tolist()
    [[1.0, 0.6667, -1.0], [0.6667, 1.0, -0.6667], [-1.0, -0.6667, 1.0]]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    values = data.to_numpy(dtype=float)
    codes, levels = dense_codes(values)
    columns = values.shape[1]
    first, second = np.triu_indices(columns, k=1)
    tau = kendall_tau_b_pairs(codes, levels, np.column_stack([first, second]))
    matrix = np.eye(columns)
    matrix[first, second] = tau
    matrix[second, first] = tau
    return pd.DataFrame(matrix, index=data.columns, columns=data.columns)


def kendall_tau_b_matrices(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Compute the Kendall tau-b matrix of many weighted copies of one data set.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Data with NaN for missing entries (pairwise complete, as in pandas).
    weights : ndarray, shape (draws, n)
        Non-negative integer multiplicity of each row in each draw (0 leaves
        the row out).

    Returns
    -------
    ndarray, shape (draws, p, p), diagonal 1 and NaN where undefined.
    """
    weights = _check_weights(weights, np.asarray(values).shape[0])
    codes, levels = dense_codes(values)
    columns = codes.shape[1]
    first, second = np.triu_indices(columns, k=1)
    pairs = np.column_stack([first, second])
    result = np.empty((weights.shape[0], columns, columns))
    for draw, row_weights in enumerate(weights):
        tau = kendall_tau_b_pairs(codes, levels, pairs, row_weights)
        matrix = np.eye(columns)
        matrix[first, second] = tau
        matrix[second, first] = tau
        result[draw] = matrix
    return result


def weighted_average_ranks(column: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rank one complete column under many weightings, ties getting their average rank.

    A row of weight w stands for w copies of itself, so its rank is the number
    of copies with smaller values plus (copies with the same value + 1) / 2.

    Parameters
    ----------
    column : ndarray, shape (n,)
    weights : ndarray, shape (draws, n)

    Returns
    -------
    ndarray, shape (draws, n)
    """
    order = np.argsort(column, kind="stable")
    ordered = column[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    group_of_row = np.empty(column.size, dtype=np.int64)
    group_of_row[order] = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1
    group_weight = np.add.reduceat(weights[:, order], starts, axis=1)
    below = np.cumsum(group_weight, axis=1) - group_weight
    group_rank = below + (group_weight + 1.0) / 2.0
    return group_rank[:, group_of_row]


def weighted_spearman_matrices(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Compute the Spearman matrix of many weighted copies of one complete data set.

    Each draw's coefficient equals the Spearman rho of the data set in which
    row i appears ``weights[draw, i]`` times: a weighted Pearson correlation
    of the weighted average ranks (:func:`weighted_average_ranks`). Draws are
    processed in chunks, so memory stays near ``CHUNK_ELEMENTS`` floats.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Complete data (no NaN); use :func:`kendall_tau_b_matrices` or per-draw
        pandas for data with missing entries.
    weights : ndarray, shape (draws, n)
        Non-negative integer multiplicity of each row in each draw.

    Returns
    -------
    ndarray, shape (draws, p, p). A column constant within a draw gives a NaN
    row and column in that draw.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array (rows x columns), got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError(
            "weighted_spearman_matrices needs complete data; drop or impute the rows with "
            "NaN, or compute each draw with pandas' pairwise-complete corr"
        )
    weights = _check_weights(weights, values.shape[0])
    draws = weights.shape[0]
    n_rows, columns = values.shape
    result = np.empty((draws, columns, columns))
    step = max(1, CHUNK_ELEMENTS // max(1, n_rows * columns))
    for start in range(0, draws, step):
        chunk = weights[start : start + step]
        ranks = np.stack(
            [weighted_average_ranks(values[:, j], chunk) for j in range(columns)], axis=2
        )
        total = chunk.sum(axis=1)
        mean = np.einsum("bn,bnp->bp", chunk, ranks) / total[:, None]
        centred = ranks - mean[:, None, :]
        covariance = np.matmul(np.swapaxes(centred * chunk[:, :, None], 1, 2), centred)
        scale = np.sqrt(np.einsum("bpp->bp", covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            result[start : start + step] = covariance / scale[:, :, None] / scale[:, None, :]
    return result


def _check_weights(weights, n_rows: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2 or weights.shape[1] != n_rows:
        raise ValueError(
            f"weights must have shape (draws, {n_rows}) with one entry per row; "
            f"got shape {weights.shape}"
        )
    if (weights < 0).any() or (weights != np.round(weights)).any():
        raise ValueError("weights must be non-negative integers (how often each row is drawn)")
    return weights
