"""The Value Alignment Tax metrics: evidence, value scores, shifts, Gain, GND, coupling, VAT.

Everything here starts from the long *records* table, one row per elicited
rating, with the columns

``condition, sample_id, scene_id, micro_value, value, sign, rating,
scale_points, scale_descending``

and follows the definitions of Chen and Shen, "Value Alignment Tax" (section 3),
with the choices this project fixed where the paper leaves them open:

* the diagonal of the coupling matrix is excluded from every norm, so that
  nVAT measures only value-value coupling (with the diagonal, nVAT >= 1);
* a value whose shift trajectory is constant has no rank correlation: its
  row of R is NaN, it is left out of nVAT with a warning, and ``|V|`` counts
  only the values that remain;
* Gain is reported in the intended direction, so positive Gain always means
  the intervention moved the target the way it was meant to.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vatnb.taxonomy import VALUES, MICRO_VALUES, canonical_value

log = logging.getLogger(__name__)

RECORD_COLUMNS = (
    "condition",
    "sample_id",
    "scene_id",
    "micro_value",
    "value",
    "sign",
    "rating",
    "scale_points",
    "scale_descending",
)

GAIN_TOLERANCE = 1e-9
DIRECTIONS = ("reinforce", "suppress")
CORRELATION_METHODS = ("spearman", "kendall")


class UndefinedMetricWarning(RuntimeWarning):
    """A metric is undefined for this input and was reported as NaN."""


# ---------------------------------------------------------------------------
# Rating -> evidence
# ---------------------------------------------------------------------------


def phi(rating, points: int, descending: bool = False):
    """Map a k-point Likert rating linearly onto [-1, 1] with the midpoint at 0.

    A descending scale (1 = agree) is turned around first, so that +1 always
    means the strongest agreement. Missing ratings (NaN) stay NaN.

    Examples
    --------
    >>> phi([1, 2, 3, 4, 5], 5).tolist()
    [-1.0, -0.5, 0.0, 0.5, 1.0]
    >>> [round(x, 4) for x in phi([1, 2, 3, 4], 4, descending=True)]
    [1.0, 0.3333, -0.3333, -1.0]

    Raises
    ------
    ValueError
        If ``points < 2`` or a rating is not an integer in ``1..points``.
    """
    if int(points) != points or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    ratings = np.asarray(rating, dtype=float)
    present = ~np.isnan(ratings)
    bad = present & ((ratings < 1) | (ratings > points) | (ratings != np.round(ratings)))
    if bad.any():
        examples = sorted(set(ratings[bad].tolist()))[:5]
        raise ValueError(
            f"ratings must be integers in 1..{points}; found {examples}. "
            "Mark unreadable answers as missing (NaN) instead."
        )
    if descending:
        ratings = points + 1 - ratings
    return 2.0 * (ratings - 1.0) / (points - 1.0) - 1.0


def evidence(records: pd.DataFrame) -> pd.Series:
    """Return the signed evidence e = sign * phi(rating) of every record."""
    _check_columns(records, ("sign", "rating", "scale_points", "scale_descending"))
    result = pd.Series(np.nan, index=records.index, dtype=float)
    for (points, descending), group in records.groupby(
        ["scale_points", "scale_descending"], sort=False
    ):
        result.loc[group.index] = group["sign"].to_numpy(float) * phi(
            group["rating"].to_numpy(float), int(points), bool(descending)
        )
    return result


def missing_rating_counts(records: pd.DataFrame) -> pd.DataFrame:
    """Count missing ratings per condition and value (they are excluded, never imputed)."""
    flags = records.assign(missing=records["rating"].isna())
    table = flags.groupby(["condition", "value"])["missing"].agg(["sum", "size"])
    return table.rename(columns={"sum": "missing", "size": "records"}).reset_index()


# ---------------------------------------------------------------------------
# Value scores and shifts
# ---------------------------------------------------------------------------


def value_scores(records: pd.DataFrame, level: str = "value") -> pd.DataFrame:
    """Compute the sample-level value scores E_s(v) for every condition.

    At ``level="value"`` (10D), E_s(v) is the mean over the micro-values of v
    present in sample s of the mean evidence of that micro-value in s, so a
    micro-value with many records does not outweigh one with few. At
    ``level="micro_value"`` (56D) it is the mean evidence per micro-value.

    Returns
    -------
    DataFrame indexed by (condition, sample_id), one column per value present,
    in circumplex (or table) order. A value with no readable rating in a
    sample is NaN there.
    """
    if level not in ("value", "micro_value"):
        raise ValueError(f"level must be 'value' or 'micro_value', got {level!r}")
    _check_columns(records, RECORD_COLUMNS)
    frame = records.assign(e=evidence(records)).dropna(subset=["e"])
    per_micro = frame.groupby(["condition", "sample_id", "value", "micro_value"], sort=False)[
        "e"
    ].mean()
    if level == "value":
        scores = per_micro.groupby(level=["condition", "sample_id", "value"], sort=False).mean()
        present = set(frame["value"].unique())
        order = [v for v in VALUES if v in present]
    else:
        scores = per_micro.droplevel("value")
        present = set(frame["micro_value"].unique())
        order = [u for u in MICRO_VALUES if u in present]
    wide = scores.unstack(level=-1)
    return wide.reindex(columns=order)


def paired_shifts(scores: pd.DataFrame, pre, post) -> pd.DataFrame:
    """Return delta_s(v) = E_s^post(v) - E_s^pre(v) over the samples present in both.

    Samples present in only one condition are counted, logged and dropped; the
    counts are kept in ``result.attrs["unpaired"]``.
    """
    conditions = scores.index.get_level_values("condition")
    for name in (pre, post):
        if name not in set(conditions):
            raise ValueError(
                f"condition {name!r} not found; available: {sorted(set(map(str, conditions)))}"
            )
    before = scores.xs(pre, level="condition")
    after = scores.xs(post, level="condition")
    common = before.index.intersection(after.index)
    unpaired = {str(pre): int(len(before.index.difference(common))),
                str(post): int(len(after.index.difference(common)))}
    if any(unpaired.values()):
        log.info("dropped unpaired samples (only in one condition): %s", unpaired)
    shifts = after.loc[common] - before.loc[common]
    shifts = shifts.dropna(axis=0, how="all")
    shifts.attrs["unpaired"] = unpaired
    shifts.attrs["pre"], shifts.attrs["post"] = pre, post
    return shifts


def mean_shift(shifts: pd.DataFrame) -> pd.Series:
    """Return E_s[delta_s(w)] for every value w (missing entries excluded)."""
    return shifts.mean(axis=0, skipna=True)


def gain(shifts: pd.DataFrame, target: str, direction: str = "reinforce") -> float:
    """Return Gain(t) = E^post(t) - E^pre(t) in the intended direction.

    For ``direction="suppress"`` the sign is flipped, so that a positive Gain
    always means the target moved as intended.
    """
    column = _target_column(shifts, target)
    raw = float(shifts[column].mean(skipna=True))
    return raw if _direction(direction) == "reinforce" else -raw


def gain_normalized_deviation(
    shifts: pd.DataFrame,
    target: str,
    direction: str = "reinforce",
    tolerance: float = GAIN_TOLERANCE,
) -> pd.Series:
    """Return GND_t(w) = E_s[delta_s(w)] / |Gain(t)| for every value w.

    The target's own entry is +1 when the raw shift went up and -1 when it
    went down. When |Gain| < ``tolerance`` GND is undefined: every entry is
    NaN and an :class:`UndefinedMetricWarning` says so.
    """
    size = abs(gain(shifts, target, direction))
    if not np.isfinite(size) or size < tolerance:
        warnings.warn(
            f"gain-normalized deviation is undefined for target {target!r}: "
            f"|Gain| = {size:.3g} is below the tolerance {tolerance:g}; reporting NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return pd.Series(np.nan, index=shifts.columns, name="gnd")
    return (mean_shift(shifts) / size).rename("gnd")


# ---------------------------------------------------------------------------
# Coupling and the two taxes
# ---------------------------------------------------------------------------


def center_shifts(shifts: pd.DataFrame) -> pd.DataFrame:
    """Remove each sample's mean shift across values (the common mode).

    Centring makes every pair of values lean negative by about -1/(|V|-1), so a
    centred coupling must be compared with its own null (see
    :func:`centered_null_floor` and ``permutation_null(..., centered=True)``).
    """
    return shifts.sub(shifts.mean(axis=1, skipna=True), axis=0)


def coupling_matrix(
    shifts: pd.DataFrame, method: str = "spearman", centered: bool = False
) -> pd.DataFrame:
    """Compute the value-value coupling matrix R_uw = rho(z_u, z_w).

    ``rho`` is Spearman's rank correlation (default) or Kendall's tau-b, over
    the samples where both trajectories are present (pairwise complete). The
    diagonal is set to 1 but is excluded by every tax. A value whose trajectory
    is constant has no rank correlation: its row and column are NaN and an
    :class:`UndefinedMetricWarning` names it.
    """
    if method not in CORRELATION_METHODS:
        raise ValueError(f"method must be one of {CORRELATION_METHODS}, got {method!r}")
    data = center_shifts(shifts) if centered else shifts
    data = data.astype(float)
    constant = [
        column for column in data.columns if data[column].dropna().nunique() < 2
    ]
    if constant:
        warnings.warn(
            "constant shift trajectory (no rank correlation), reported as NaN and left "
            f"out of nVAT: {', '.join(map(str, constant))}",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    if method == "spearman" and not data.isna().any().any():
        ranks = data.rank(axis=0, method="average").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.corrcoef(ranks, rowvar=False)
        matrix = pd.DataFrame(np.atleast_2d(values), index=data.columns, columns=data.columns)
    elif method == "kendall":
        from vatnb.fastcorr import kendall_tau_b_matrix

        matrix = kendall_tau_b_matrix(data)
    else:
        matrix = data.corr(method=method)
    matrix.loc[constant, :] = np.nan
    matrix.loc[:, constant] = np.nan
    for column in data.columns:
        if column not in constant:
            matrix.loc[column, column] = 1.0
    return matrix


def _off_diagonal_squares(coupling: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return R^2 with the diagonal zeroed and the mask of values with a defined row."""
    values = coupling.to_numpy(float)
    defined = ~np.all(np.isnan(values), axis=1)
    squares = np.where(np.isnan(values), 0.0, values**2)
    np.fill_diagonal(squares, 0.0)
    return squares, defined


def off_diagonal(coupling: pd.DataFrame) -> np.ndarray:
    """Return the defined off-diagonal entries of R (each pair twice), NaN dropped."""
    values = coupling.to_numpy(float)
    mask = ~np.eye(len(values), dtype=bool) & ~np.isnan(values)
    return values[mask]


def vat_per_value(coupling: pd.DataFrame) -> pd.Series:
    """Return the value-level tax VAT(u) = sqrt(sum over w != u of R_uw^2).

    A value with an undefined (NaN) row gets NaN. Larger VAT(u) means the
    shifts of u move together with those of more values, or more strongly.
    """
    squares, defined = _off_diagonal_squares(coupling)
    vat = np.sqrt(squares.sum(axis=1))
    vat[~defined] = np.nan
    return pd.Series(vat, index=coupling.index, name="VAT")


def nvat(coupling: pd.DataFrame) -> float:
    """Return the system-level tax nVAT = ||R - diag||_F / sqrt(|V|).

    ``|V|`` counts the values with a defined row, so nVAT is the root mean
    square of VAT(u) over them. Returns NaN (with a warning) when fewer than
    two values are defined.
    """
    squares, defined = _off_diagonal_squares(coupling)
    count = int(defined.sum())
    if count < 2:
        warnings.warn(
            f"nVAT is undefined with {count} value(s) that have a defined coupling row",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(np.sqrt(squares.sum()) / np.sqrt(count))


def gini(loads) -> float:
    """Return the Gini coefficient sum_i sum_j |x_i - x_j| / (2 n^2 mean(x)).

    0 means equal loads; (n-1)/n means one value carries all. NaN entries are
    dropped first. All-zero loads give NaN with a warning (no load to share).
    """
    values = np.asarray(loads, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0 or values.mean() == 0:
        warnings.warn(
            "Gini centralization is undefined for empty or all-zero loads; reporting NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    if (values < 0).any():
        raise ValueError(f"Gini needs non-negative loads, got {values[values < 0][:5]}")
    differences = np.abs(values[:, None] - values[None, :]).sum()
    return float(differences / (2.0 * values.size**2 * values.mean()))


def null_floor(n_values: int, n_samples: int) -> float:
    """Return the pure-noise floor of nVAT, sqrt((|V|-1)/(N-1)).

    With no coupling, each off-diagonal rank correlation has variance about
    1/(N-1), so nVAT sits near this value even when nothing is coupled.
    """
    if n_samples < 2:
        return float("nan")
    return float(np.sqrt((n_values - 1) / (n_samples - 1)))


def centered_null_floor(n_values: int, n_samples: int) -> float:
    """Return the approximate floor of centred nVAT, sqrt(1/(|V|-1) + (|V|-1)/(N-1)).

    Centring pushes each pair toward -1/(|V|-1), which adds the first term.
    """
    if n_samples < 2 or n_values < 2:
        return float("nan")
    return float(np.sqrt(1.0 / (n_values - 1) + (n_values - 1) / (n_samples - 1)))


def permutation_null(
    shifts: pd.DataFrame,
    n_permutations: int = 200,
    seed: int | np.random.Generator = 0,
    method: str = "spearman",
    centered: bool = False,
) -> np.ndarray:
    """Draw nVAT under the null of no coupling by shuffling each trajectory independently.

    Each value's column of raw shifts is permuted across samples on its own,
    which keeps every marginal distribution and destroys co-movement. With
    ``centered=True`` the permuted raw shifts are centred afterwards, which is
    the right null for a centred coupling.
    """
    rng = np.random.default_rng(seed)
    raw = shifts.to_numpy(float)
    draws = np.empty(n_permutations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for index in range(n_permutations):
            permuted = np.column_stack([rng.permutation(raw[:, j]) for j in range(raw.shape[1])])
            frame = pd.DataFrame(permuted, columns=shifts.columns)
            draws[index] = nvat(coupling_matrix(frame, method=method, centered=centered))
    return draws


def permutation_pvalue(observed: float, null_draws) -> float:
    """Return the one-sided permutation p-value (1 + #{null >= observed}) / (B + 1)."""
    draws = np.asarray(null_draws, dtype=float)
    draws = draws[~np.isnan(draws)]
    return float((1 + np.sum(draws >= observed)) / (draws.size + 1))


# ---------------------------------------------------------------------------
# One call for the whole summary
# ---------------------------------------------------------------------------


@dataclass
class VATSummary:
    """Every tax of one pre/post comparison, ready to print or plot."""

    coupling: pd.DataFrame
    vat: pd.Series
    nvat: float
    gini: float
    n_samples: int
    n_values: int
    null_floor: float
    method: str
    centered: bool
    null_draws: np.ndarray = field(default_factory=lambda: np.empty(0))
    p_value: float = float("nan")

    def table(self) -> pd.DataFrame:
        """Return the one-row table of N, nVAT, Gini, floor, null mean and p-value."""
        return pd.DataFrame(
            {
                "N": [self.n_samples],
                "values": [self.n_values],
                "method": [self.method + (" (centred)" if self.centered else "")],
                "nVAT": [self.nvat],
                "Gini": [self.gini],
                "null floor": [self.null_floor],
                "permutation null mean": [
                    float(np.nanmean(self.null_draws)) if self.null_draws.size else np.nan
                ],
                "p-value": [self.p_value],
            }
        )


def vat_summary(
    shifts: pd.DataFrame,
    method: str = "spearman",
    centered: bool = False,
    n_permutations: int = 0,
    seed: int = 0,
) -> VATSummary:
    """Compute R, VAT(u), nVAT, Gini, the null floor and (optionally) the permutation null."""
    coupling = coupling_matrix(shifts, method=method, centered=centered)
    vat = vat_per_value(coupling)
    n_values = int(vat.notna().sum())
    n_samples = int(len(shifts))
    floor = (centered_null_floor if centered else null_floor)(n_values, n_samples)
    summary = VATSummary(
        coupling=coupling,
        vat=vat,
        nvat=nvat(coupling),
        gini=gini(vat.to_numpy()),
        n_samples=n_samples,
        n_values=n_values,
        null_floor=floor,
        method=method,
        centered=centered,
    )
    if n_permutations > 0:
        summary.null_draws = permutation_null(
            shifts, n_permutations, seed=seed, method=method, centered=centered
        )
        summary.p_value = permutation_pvalue(summary.nvat, summary.null_draws)
    return summary


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _check_columns(frame: pd.DataFrame, required) -> None:
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(
            f"records table is missing columns {missing}; expected {list(RECORD_COLUMNS)}"
        )


def _direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return direction


def _target_column(shifts: pd.DataFrame, target: str) -> str:
    if target in shifts.columns:
        return target
    try:
        name = canonical_value(target)
    except KeyError:
        from vatnb.taxonomy import canonical_micro_value

        name = canonical_micro_value(target)
    if name not in shifts.columns:
        raise ValueError(f"target {target!r} has no shifts; columns are {list(shifts.columns)}")
    return name
