"""Fast rank-correlation kernels for the coupling matrix and for resampled draws.

Two kernels, both pure numpy:

* :func:`kendall_tau_b_matrix` computes Kendall's tau-b for every pair of
  columns from contingency tables of the columns' distinct values. The
  coupling inputs are differences of Likert-scale means, so a column has few
  distinct values. Columns are grouped into blocks of a few columns, and
  each row gets one joint code per block. One ``np.bincount`` then builds
  the joint table of every pair of blocks. Summing a joint table over the
  other columns of its two blocks gives the table of each column pair. With
  9 values per column and blocks of 2 columns, 56 columns make 406 block
  pairs against 1,540 column pairs, so each row is counted about a quarter
  as often as with one table per column pair. Pairs with a
  column of many distinct values (continuous data) go through
  :func:`scipy.stats.kendalltau` one by one, the per-pair route that pandas
  takes.
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

# A column takes the contingency-table route when the table of two such
# columns, (K + 1) x (K + 1) cells for K distinct values plus one level for
# missing entries, has at most this many cells. Pairs with a column above the
# limit go through scipy, because their tables would cost more than sorting.
MAX_TABLE_CELLS = 4096

# Upper bound on the cells of the joint table of two blocks of columns. The
# block size is also capped so that these cells do not exceed the row count,
# because summing a joint table into pair tables costs one pass over its cells.
MAX_BLOCK_TABLE_CELLS = 16384

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
    n_rows, n_columns = values.shape
    # One hash-based factorisation of the whole array finds the few distinct
    # values of Likert-derived data in linear time. It equates 0.0 and -0.0,
    # as sorting (and so scipy's ranking) does.
    flat_codes, distinct = pd.factorize(values.ravel())
    n_distinct = distinct.size
    if n_columns * (n_distinct + 1) > CHUNK_ELEMENTS:
        return _dense_codes_by_column(values)
    # rank[code] is the sorted position of a distinct value. factorize marks
    # a missing entry with code -1, which picks the extra last slot n_distinct.
    rank = np.empty(n_distinct + 1, dtype=np.int64)
    rank[np.argsort(distinct)] = np.arange(n_distinct)
    rank[n_distinct] = n_distinct
    slots = n_distinct + 1
    # key: the (column, value) slot of each entry in a flat (columns, slots) grid.
    key = rank[flat_codes].reshape(n_rows, n_columns) + np.arange(n_columns) * slots
    present = np.zeros(n_columns * slots, dtype=bool)
    present[key] = True
    present = present.reshape(n_columns, slots)
    present[:, n_distinct] = False
    local_code = np.cumsum(present, axis=1) - 1
    local_code[:, n_distinct] = -1
    codes = local_code.ravel()[key]
    return codes.astype(np.int64, copy=False), present.sum(axis=1).astype(np.int64)


def _shared_codes(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Code every column on the sorted distinct values of the whole array, or return None.

    Returns the (n, p) codes, -1 where missing, and the number of distinct
    values, or None when a table of two columns on that many values (plus one
    level for missing entries) would exceed ``MAX_TABLE_CELLS``.
    """
    flat_codes, distinct = pd.factorize(values.ravel())
    n_distinct = distinct.size
    if (n_distinct + 1) ** 2 > MAX_TABLE_CELLS:
        return None
    # factorize marks a missing entry with code -1, which picks the last slot.
    rank = np.empty(n_distinct + 1, dtype=np.int64)
    rank[np.argsort(distinct)] = np.arange(n_distinct)
    rank[n_distinct] = -1
    return rank[flat_codes].reshape(values.shape), n_distinct


def _dense_codes_by_column(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compute :func:`dense_codes` one column at a time (for data with many distinct values)."""
    codes = np.full(values.shape, -1, dtype=np.int64)
    levels = np.zeros(values.shape[1], dtype=np.int64)
    for column in range(values.shape[1]):
        present = ~np.isnan(values[:, column])
        distinct, inverse = np.unique(values[present, column], return_inverse=True)
        codes[present, column] = inverse
        levels[column] = distinct.size
    return codes, levels


def block_size(radix: int, n_rows: int, n_columns: int) -> int:
    """Return how many columns one block joins, for columns coded in ``range(radix)``.

    It is the largest s for which the joint table of two blocks,
    ``radix ** (2 * s)`` cells, has at most ``min(n_rows,
    MAX_BLOCK_TABLE_CELLS)`` cells. It is 1 when even two single columns
    exceed that, and never more than ``n_columns``.
    """
    limit = min(int(n_rows), MAX_BLOCK_TABLE_CELLS)
    size = 1
    while size < n_columns and int(radix) ** (2 * (size + 1)) <= limit:
        size += 1
    return size


class KendallPlan:
    """Precomputed contingency-table layout of every column pair of one data set.

    Build it once per data set; :meth:`matrix` and :meth:`matrices` then
    compute tau-b for any row weights. All table columns share one code range
    ``range(radix)``. Missing entries get the last code, and that row and
    column of each table are cut off before tau-b is computed, which applies
    the pairwise-complete rule without a mask per pair. Columns are grouped in
    blocks of ``block`` columns, and a row's joint code in a block is its
    codes read as digits in base ``radix``. The plan keeps the joint-table
    cell of every row for every pair of blocks (one int64 per row and block
    pair, about 29 MB for 9,002 rows and 56 columns of 9 values), so that
    weighted tables only recount the rows whose weight is not 1.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Data with NaN for missing entries.
    """

    def __init__(self, values: np.ndarray):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2:
            raise ValueError(f"values must be a 2-D array (rows x columns), got shape {values.shape}")
        shared = _shared_codes(values)
        if shared is None:
            self.codes, self.levels = dense_codes(values)
        else:
            # Every column is coded on the sorted values of the whole array, so
            # a column's tables may have empty rows, which leave tau-b unchanged.
            self.codes, n_distinct = shared
            self.levels = np.full(values.shape[1], n_distinct, dtype=np.int64)
        self.n_rows, self.n_columns = self.codes.shape
        first, second = np.triu_indices(self.n_columns, k=1)
        self.pairs = np.column_stack([first, second]).astype(np.int64)

        # A column takes the table route when a table of two such columns fits.
        tabled = (self.levels + 1) ** 2 <= MAX_TABLE_CELLS
        self.large = np.flatnonzero(~(tabled[first] & tabled[second]))
        self.tabled_pairs = np.flatnonzero(tabled[first] & tabled[second])
        tabled_columns = np.flatnonzero(tabled)
        if tabled.all():
            self.has_missing = bool((self.codes < 0).any())
        else:
            self.has_missing = bool((self.codes[:, tabled_columns] < 0).any())
        self.values_per_column = int(self.levels[tabled_columns].max(initial=0))
        self.radix = max(1, self.values_per_column + int(self.has_missing))
        self.block = block_size(self.radix, self.n_rows, len(tabled_columns))

        # Columns of each block in increasing order; -1 pads the last block.
        padded = -np.ones(-(-len(tabled_columns) // self.block) * self.block, dtype=np.int64)
        padded[: len(tabled_columns)] = tabled_columns
        self.blocks = padded.reshape(-1, self.block)
        # Block pairs (a, b) with a <= b: a block paired with itself gives the
        # tables of the column pairs inside it. A chunk is the block pairs of
        # a run of first blocks a.
        joint = self._joint_codes()
        n_blocks = len(joint)
        cells = self.radix ** (2 * self.block)
        step = max(1, CHUNK_ELEMENTS // max(self.n_rows, 4 * cells))
        self.chunks = []
        start = 0
        while start < n_blocks:
            stop = start + 1
            while stop < n_blocks and _block_pair_count(n_blocks, start, stop + 1) <= step:
                stop += 1
            index, block_first, block_second = self._cell_index(joint, start, stop, cells)
            counts = np.bincount(index.ravel(), minlength=len(index) * cells)
            layout = self._pair_layout(block_first, block_second)
            self.chunks.append([index, counts, layout, False])
            start = stop

    def _cell_index(self, joint: np.ndarray, start: int, stop: int, cells: int):
        """Return the cell of each row in the stacked joint tables of block pairs (a, b).

        The pairs are a in ``range(start, stop)`` and b >= a, in row-major
        order. Returns the (pairs, n) cell index and the pairs' a and b.
        """
        n_blocks = len(joint)
        block_first = np.concatenate([np.full(n_blocks - a, a) for a in range(start, stop)])
        block_second = np.concatenate([np.arange(a, n_blocks) for a in range(start, stop)])
        # Cell of row r for the k-th block pair (a, b): joint[a, r] * radix**block
        # + joint[b, r] + k * cells, where k = k(a, a) + b - a. Adding b * cells
        # to joint[b] once lets each a take one broadcast addition over its run.
        shifted = joint + (np.arange(n_blocks) * cells)[:, None]
        index = np.empty((len(block_first), self.n_rows), dtype=np.int64)
        run_start = 0
        for a in range(start, stop):
            base = joint[a] * self.radix**self.block + (run_start - a) * cells
            np.add(shifted[a:], base, out=index[run_start : run_start + n_blocks - a])
            run_start += n_blocks - a
        return index, block_first, block_second

    def _joint_codes(self) -> np.ndarray:
        """Return the (blocks, n) joint code of each row in each block, missing as ``radix - 1``."""
        joint = np.zeros((self.n_rows, len(self.blocks)), dtype=np.int64)
        for position in range(self.block):
            columns = self.blocks[:, position]
            digits = self.codes[:, np.maximum(columns, 0)]
            digits[digits < 0] = self.radix - 1
            digits[:, columns < 0] = 0
            joint *= self.radix
            joint += digits
        return np.ascontiguousarray(joint.T)

    def _pair_layout(self, block_first: np.ndarray, block_second: np.ndarray) -> dict:
        """Map each digit position (u, w) to the block pairs and the column-pair positions they give."""
        layout = {}
        for u in range(self.block):
            for w in range(self.block):
                first = self.blocks[block_first, u]
                second = self.blocks[block_second, w]
                keep = (first >= 0) & (second >= 0) & ((block_first != block_second) | (u < w))
                rows = np.flatnonzero(keep)
                if rows.size:
                    layout[u, w] = (rows, self._pair_position(first[rows], second[rows]))
        return layout

    def _pair_position(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Return the position in ``self.pairs`` of column pairs (first < second)."""
        p = self.n_columns
        return first * p - first * (first + 1) // 2 + (second - first - 1)

    def _counts(self, chunk_entry, weights: np.ndarray | None) -> np.ndarray:
        index, counts, _, rows_first = chunk_entry
        if weights is None:
            return counts
        if not rows_first:
            # Store rows first once, so that the cells of a set of rows are contiguous.
            index = chunk_entry[0] = np.ascontiguousarray(index.T)
            chunk_entry[3] = True
        # Start from the unweighted tables and correct only the rows whose
        # weight is not 1 (for an 80% subsample, a fifth of the rows), one
        # unweighted bincount per distinct weight.
        counts = counts.astype(float)
        for weight in np.unique(weights[weights != 1]):
            rows = np.flatnonzero(weights == weight)
            counts += (weight - 1.0) * np.bincount(index[rows].ravel(), minlength=counts.size)
        return counts

    def _pair_tables(self, weights: np.ndarray | None) -> np.ndarray:
        """Return the (pairs, radix, radix) tables of all column pairs; zero for scipy pairs."""
        tables = np.zeros((len(self.pairs), self.radix, self.radix))
        digits = (self.radix,) * self.block
        for entry in self.chunks:
            counts = self._counts(entry, weights)
            joint = counts.reshape((-1,) + digits + digits)
            for u in range(self.block):
                # Sum over the other digits of the first block, then of the second.
                other_first = tuple(1 + k for k in range(self.block) if k != u)
                by_first = joint.sum(axis=other_first) if other_first else joint
                for w in range(self.block):
                    if (u, w) not in entry[2]:
                        continue
                    other_second = tuple(2 + k for k in range(self.block) if k != w)
                    pair = by_first.sum(axis=other_second) if other_second else by_first
                    rows, positions = entry[2][u, w]
                    tables[positions] = pair[rows]
        return tables

    def matrix(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Return the (p, p) tau-b matrix, each row counted ``weights[row]`` times."""
        if weights is not None:
            weights = _check_weights(np.asarray(weights)[None, :], self.n_rows)[0]
        tau = np.full(len(self.pairs), np.nan)
        if self.tabled_pairs.size:
            tables = self._pair_tables(weights)[self.tabled_pairs]
            size = self.values_per_column
            tau[self.tabled_pairs] = tau_b_from_tables(tables[:, :size, :size])
        for position in self.large:
            tau[position] = self._scipy_pair(position, weights)
        return self._assemble(tau)

    def matrices(self, weights: np.ndarray) -> np.ndarray:
        """Return the (draws, p, p) tau-b matrices for a (draws, n) array of row weights."""
        weights = _check_weights(weights, self.n_rows)
        return np.stack([self.matrix(row_weights) for row_weights in weights])

    def _scipy_pair(self, position: int, weights: np.ndarray | None) -> float:
        first = self.codes[:, self.pairs[position, 0]]
        second = self.codes[:, self.pairs[position, 1]]
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


def _block_pair_count(n_blocks: int, start: int, stop: int) -> int:
    """Return the number of block pairs (a, b), b >= a, with a in ``range(start, stop)``."""
    return sum(n_blocks - a for a in range(start, stop))


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
