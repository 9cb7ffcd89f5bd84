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

# A pair takes the contingency-table route when its table, (Kx + 1) x (Ky + 1)
# cells with one extra level for missing entries, has at most this many cells.
# Larger tables cost more memory than sorting the pair, so scipy handles them.
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


class KendallPlan:
    """Precomputed contingency-table layout of every column pair of one data set.

    Build it once per data set; it keeps one cell index (4 bytes) per row and
    column pair, about 55 MB for 9,002 rows and 56 columns. :meth:`matrix` and :meth:`matrices` then
    compute tau-b for any row weights. The cell of row r in the table of
    pair k is stored as one integer, so all tables of a group of pairs come
    from one ``np.bincount``. Missing entries get their own last row or
    column in each table, which is cut off before tau-b is computed (this is
    the pairwise-complete rule without a mask per pair).

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Data with NaN for missing entries.
    """

    def __init__(self, values: np.ndarray):
        codes, self.levels = dense_codes(values)
        # Rows of codes_by_column are columns of the data, so taking a pair's
        # two columns copies contiguous memory.
        self.codes_by_column = np.ascontiguousarray(codes.T.astype(np.int32))
        self.n_columns, self.n_rows = self.codes_by_column.shape
        self.has_missing = bool((self.codes_by_column < 0).any())
        first, second = np.triu_indices(self.n_columns, k=1)
        self.pairs = np.column_stack([first, second]).astype(np.int64)
        sizes = (self.levels[first] + 1) * (self.levels[second] + 1)
        small = np.flatnonzero(sizes <= MAX_TABLE_CELLS)
        self.large = np.flatnonzero(sizes > MAX_TABLE_CELLS)
        self.chunks = []
        for positions, shape in _pair_chunks(self.pairs[small], self.levels + 1, self.n_rows):
            chunk = small[positions]
            index = self._cell_index(self.pairs[chunk], shape)
            counts = np.bincount(index.ravel(), minlength=len(chunk) * shape[0] * shape[1])
            self.chunks.append([chunk, shape, index, counts.astype(float), False])

    def _cell_index(self, pairs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """Return the (len(pairs), n) flat cell of each row; missing codes use the last level."""
        first = self.codes_by_column[pairs[:, 0]]
        second = self.codes_by_column[pairs[:, 1]]
        if self.has_missing:
            first[first < 0] = shape[0] - 1
            second[second < 0] = shape[1] - 1
        cells = len(pairs) * shape[0] * shape[1]
        dtype = np.int32 if cells < np.iinfo(np.int32).max else np.int64
        # In place, to keep to one n x pairs array: first * columns + second + offset.
        index = first.astype(dtype, copy=False)
        index *= shape[1]
        index += second
        index += np.arange(len(pairs), dtype=dtype)[:, None] * (shape[0] * shape[1])
        return index

    def _tables(self, chunk_entry, weights: np.ndarray | None) -> np.ndarray:
        chunk, shape, index, counts, rows_first = chunk_entry
        if weights is not None:
            if not rows_first:
                # Store rows first once, so that the cells of a set of rows are contiguous.
                index = chunk_entry[2] = np.ascontiguousarray(index.T)
                chunk_entry[4] = True
            # Start from the unweighted tables and correct only the rows whose
            # weight is not 1 (for an 80% subsample, a fifth of the rows), one
            # unweighted bincount per distinct weight.
            counts = counts.copy()
            for weight in np.unique(weights[weights != 1]):
                rows = np.flatnonzero(weights == weight)
                counts += (weight - 1.0) * np.bincount(index[rows].ravel(), minlength=counts.size)
        tables = counts.reshape(len(chunk), *shape)
        return tables[:, : shape[0] - 1, : shape[1] - 1]

    def matrix(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Return the (p, p) tau-b matrix, each row counted ``weights[row]`` times."""
        if weights is not None:
            weights = _check_weights(np.asarray(weights)[None, :], self.n_rows)[0]
        tau = np.full(len(self.pairs), np.nan)
        for entry in self.chunks:
            tau[entry[0]] = tau_b_from_tables(self._tables(entry, weights))
        for position in self.large:
            tau[position] = self._scipy_pair(position, weights)
        return self._assemble(tau)

    def matrices(self, weights: np.ndarray) -> np.ndarray:
        """Return the (draws, p, p) tau-b matrices for a (draws, n) array of row weights."""
        weights = _check_weights(weights, self.n_rows)
        return np.stack([self.matrix(row_weights) for row_weights in weights])

    def _scipy_pair(self, position: int, weights: np.ndarray | None) -> float:
        first = self.codes_by_column[self.pairs[position, 0]]
        second = self.codes_by_column[self.pairs[position, 1]]
        keep = (first >= 0) & (second >= 0)
        if weights is not None:
            repeats = np.asarray(weights).astype(np.int64)
            keep &= repeats > 0
            first = np.repeat(first[keep], repeats[keep])
            second = np.repeat(second[keep], repeats[keep])
        else:
            first, second = first[keep], second[keep]
        if first.size < 2:
            return float("nan")
        return float(stats.kendalltau(first, second, variant="b").statistic)

    def _assemble(self, tau: np.ndarray) -> np.ndarray:
        matrix = np.eye(self.n_columns)
        matrix[self.pairs[:, 0], self.pairs[:, 1]] = tau
        matrix[self.pairs[:, 1], self.pairs[:, 0]] = tau
        return matrix


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


def kendall_tau_b_matrix(data: pd.DataFrame) -> pd.DataFrame:
    """Return the pairwise-complete Kendall tau-b matrix of the columns of ``data``.

    Equal to ``data.corr(method="kendall")`` (and to
    :func:`scipy.stats.kendalltau` with ``variant="b"`` on the rows where both
    columns are present), computed from contingency tables for all pairs at
    once (:class:`KendallPlan`). A pair with fewer than two complete rows, or
    with a column constant on them, gives NaN. The diagonal is 1, as in pandas.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 2, 4], "c": [4, 3, 2, 1]})
    >>> kendall_tau_b_matrix(frame).round(4).to_numpy().tolist()
    [[1.0, 0.6667, -1.0], [0.6667, 1.0, -0.6667], [-1.0, -0.6667, 1.0]]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    matrix = KendallPlan(data.to_numpy(dtype=float)).matrix()
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
    return KendallPlan(values).matrices(weights)


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
        ranks = np.empty((len(chunk), columns, n_rows))
        for column in range(columns):
            ranks[:, column, :] = weighted_average_ranks(values[:, column], chunk)
        for offset, row_weights in enumerate(chunk):
            result[start + offset] = _weighted_correlation(ranks[offset], row_weights)
    return result


def _weighted_correlation(variables: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return the weighted Pearson correlation matrix of the rows of ``variables`` (p, n)."""
    mean = variables @ weights / weights.sum()
    centred = variables - mean[:, None]
    # A 2-D product with a transposed operand goes to BLAS; the batched
    # np.matmul on a transposed 3-D view does not and was about 8x slower.
    covariance = (centred * weights) @ centred.T
    scale = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / scale[:, None] / scale[None, :]


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
