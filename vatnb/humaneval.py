"""Summaries and agreement statistics for human annotation tables.

An annotation table is long: one row per rating, with the columns

``item, annotator, dimension, rating``

(extra columns are kept and ignored). ``rating`` is an integer on a k-point
Likert scale (default 5 points, 1 = lowest) or a binary judgment (1 = yes,
0 = no). Missing ratings are NaN and are left out of every statistic.

The paper's own summaries (Chen and Shen, "Value Alignment Tax", section 4 and
appendix B.4) turn each rating into a *stance*: on 5 points, 4-5 = agree,
3 = neutral, 1-2 = disagree. A binary 1 is agree and 0 is disagree.

* agreement: the share of items on which at least two annotators share a
  stance;
* majority ratio: the mean over items of (largest stance count / number of
  annotators who rated the item);

Beyond the paper, the chance-corrected coefficients: Cohen's kappa for two
raters, Fleiss' kappa for more (both on stances by default), and
Krippendorff's alpha on the raw ratings (ordinal by default), plus percentile
bootstrap intervals over items.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from vatnb.metrics import UndefinedMetricWarning

log = logging.getLogger(__name__)

ANNOTATION_COLUMNS = ("item", "annotator", "dimension", "rating")
STANCES = ("agree", "neutral", "disagree")
SCALES = ("likert", "binary")
ALPHA_LEVELS = ("nominal", "ordinal", "interval")


# ---------------------------------------------------------------------------
# Input checks and reshaping
# ---------------------------------------------------------------------------


def validate_annotations(
    table: pd.DataFrame, scale: str = "likert", points: int = 5
) -> pd.DataFrame:
    """Check an annotation table and return a copy with a float ``rating`` column.

    Raises
    ------
    TypeError
        If ``table`` is not a DataFrame.
    ValueError
        If a column is missing, an (item, annotator, dimension) triple occurs
        twice, or a rating is not on the scale (integers ``1..points`` for
        ``scale="likert"``, 0 or 1 for ``scale="binary"``).
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"annotation table must be a pandas DataFrame, got {type(table).__name__}")
    _check_scale(scale, points)
    missing = [column for column in ANNOTATION_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(
            f"annotation table is missing columns {missing}; expected the long format "
            f"{list(ANNOTATION_COLUMNS)} (one row per rating)"
        )
    frame = table.copy()
    try:
        frame["rating"] = pd.to_numeric(frame["rating"], errors="raise").astype(float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"ratings must be numbers or missing (NaN): {error}") from None
    duplicated = frame.duplicated(subset=["item", "annotator", "dimension"], keep=False)
    if duplicated.any():
        examples = frame.loc[duplicated, ["item", "annotator", "dimension"]].head(3)
        raise ValueError(
            "each (item, annotator, dimension) may have one rating; duplicates include "
            f"{examples.to_dict('records')}"
        )
    ratings = frame["rating"].dropna()
    allowed = np.arange(1, points + 1) if scale == "likert" else np.array([0.0, 1.0])
    bad = ratings[~ratings.isin(allowed)]
    if len(bad):
        raise ValueError(
            f"ratings on a {_scale_name(scale, points)} scale must be in {allowed.tolist()}; "
            f"found {sorted(set(bad.tolist()))[:5]}. Mark an absent rating as NaN."
        )
    return frame


def rating_matrix(table: pd.DataFrame, dimension=None) -> pd.DataFrame:
    """Return one dimension's ratings as an items x annotators matrix (NaN = not rated).

    ``dimension`` may be omitted when the table has a single dimension.
    """
    frame = _one_dimension(table, dimension)
    return frame.pivot(index="item", columns="annotator", values="rating").astype(float)


def stance(ratings, scale: str = "likert", points: int = 5) -> np.ndarray:
    """Map ratings to stances: agree above the scale midpoint, neutral at it, disagree below.

    On 5 points: 4-5 agree, 3 neutral, 1-2 disagree (the paper's definition).
    On an even number of points there is no neutral rating. Binary ratings:
    1 agree, 0 disagree. NaN (a missing rating) gives ``None``.

    Examples
    --------
    >>> stance([1, 3, 5, float("nan")]).tolist()
    ['disagree', 'neutral', 'agree', None]

    Raises
    ------
    ValueError
        If a rating is not a number, or not one of the scale's points
        (``1..points`` for ``scale="likert"``, 0 or 1 for ``scale="binary"``).
        The message gives the count and the first invalid ratings.
    """
    _check_scale(scale, points)
    try:
        values = np.asarray(ratings, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"ratings must be numbers or missing (NaN): {error}") from None
    allowed = _scale_values(scale, points)
    off_scale = ~np.isnan(values) & ~np.isin(values, allowed)
    if off_scale.any():
        examples = sorted(set(values[off_scale].tolist()))[:5]
        raise ValueError(
            f"{int(off_scale.sum())} of {values.size} ratings are not on the "
            f"{_scale_name(scale, points)} scale {allowed.astype(int).tolist()}: {examples}. "
            "Mark an absent rating as NaN."
        )
    if scale == "binary":
        midpoint = 0.5
    else:
        midpoint = (points + 1) / 2.0
    result = np.full(values.shape, None, dtype=object)
    result[values > midpoint] = "agree"
    result[values == midpoint] = "neutral"
    result[values < midpoint] = "disagree"
    return result


def stance_counts(
    table: pd.DataFrame, dimension=None, scale: str = "likert", points: int = 5
) -> pd.DataFrame:
    """Count, for every item, how many annotators took each stance (items x stances)."""
    matrix = rating_matrix(table, dimension)
    stances = pd.DataFrame(
        stance(matrix.to_numpy(), scale, points), index=matrix.index, columns=matrix.columns
    )
    counts = pd.DataFrame(
        {name: (stances == name).sum(axis=1) for name in STANCES}, index=matrix.index
    )
    return counts.astype(int)


# ---------------------------------------------------------------------------
# The paper's agreement summaries
# ---------------------------------------------------------------------------


def agreement(
    table: pd.DataFrame, dimension=None, scale: str = "likert", points: int = 5
) -> float:
    """Return the share of items on which at least two annotators share a stance.

    Items rated by fewer than two annotators cannot agree or disagree: they are
    left out (logged). With two annotators this is the raw percent agreement on
    stances. With three annotators and three stances it fails only when all
    three stances differ, so even independent random raters score at least 7/9
    (see :func:`chance_agreement`).

    Returns NaN with an :class:`UndefinedMetricWarning` when no item has two ratings.
    """
    counts = _counts_of(rating_matrix(table, dimension), scale, points, "agreement")
    return _agreement_from_counts(counts)


def majority_ratio(
    table: pd.DataFrame, dimension=None, scale: str = "likert", points: int = 5
) -> float:
    """Return the mean over items of (largest stance count / annotators who rated the item).

    1.0 means every item was unanimous. With three annotators an item with a
    two-to-one split counts 2/3 and one with three different stances 1/3.
    Items rated by fewer than two annotators are left out, as in :func:`agreement`.
    """
    counts = _counts_of(rating_matrix(table, dimension), scale, points, "majority ratio")
    return _majority_from_counts(counts)


def chance_agreement(stance_probabilities: Sequence[float], n_annotators: int = 3) -> float:
    """Return the expected agreement of independent raters who draw stances at random.

    Agreement fails only when every annotator takes a different stance, so the
    result is 1 - P(all stances distinct). With three stances drawn uniformly
    by three annotators that is 1 - 3!/3^3 = 7/9; with four or more annotators
    and three stances it is 1 (two must share one).

    Examples
    --------
    >>> round(chance_agreement([1/3, 1/3, 1/3], 3), 4)
    0.7778
    """
    probabilities = np.asarray(stance_probabilities, dtype=float)
    if probabilities.ndim != 1 or (probabilities < 0).any() or not np.isclose(
        probabilities.sum(), 1.0
    ):
        raise ValueError(
            f"stance_probabilities must be non-negative and sum to 1, got {probabilities.tolist()}"
        )
    if int(n_annotators) != n_annotators or n_annotators < 2:
        raise ValueError(f"n_annotators must be an integer >= 2, got {n_annotators!r}")
    if n_annotators > probabilities.size:
        return 1.0
    # P(all distinct) = n! * e_n(p), with e_n the elementary symmetric polynomial of degree n.
    elementary = np.zeros(n_annotators + 1)
    elementary[0] = 1.0
    for p in probabilities:
        elementary[1:] = elementary[1:] + p * elementary[:-1]
    return float(1.0 - np.prod(np.arange(1, n_annotators + 1)) * elementary[n_annotators])


def majority_ratio_bounds(agreement_share: float, n_annotators: int = 3) -> tuple[float, float]:
    """Return the smallest and largest majority ratio that an agreement share allows.

    With three annotators, an agreeing item has a largest stance count of 2 or
    3 and a non-agreeing item a count of 1. So the majority ratio lies between
    (2A + (1 - A)) / 3 and (3A + (1 - A)) / 3 for agreement A. A published pair
    outside these bounds cannot come from the same three-annotator items.
    """
    if n_annotators != 3:
        raise ValueError(f"bounds are worked out for 3 annotators only, got {n_annotators}")
    if not 0.0 <= agreement_share <= 1.0:
        raise ValueError(f"agreement must be a share in [0, 1], got {agreement_share!r}")
    low = (2 * agreement_share + (1 - agreement_share)) / 3
    high = (3 * agreement_share + (1 - agreement_share)) / 3
    return float(low), float(high)


# ---------------------------------------------------------------------------
# Chance-corrected coefficients
# ---------------------------------------------------------------------------


def cohen_kappa(first, second, categories: Sequence | None = None) -> float:
    """Return Cohen's kappa of two raters, (p_o - p_e) / (1 - p_e).

    p_o is the share of items both raters put in the same category and p_e the
    share expected if each rater drew categories independently from their own
    marginal distribution. Pairs with a missing rating (None or NaN) are
    dropped. Returns NaN with a warning when p_e = 1 (both raters used one and
    the same category), where kappa is undefined.

    Examples
    --------
    >>> cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0])
    0.5
    """
    a, b = list(first), list(second)
    if len(a) != len(b):
        raise ValueError(f"the two raters must rate the same items: {len(a)} vs {len(b)} ratings")
    pairs = [(x, y) for x, y in zip(a, b) if not _is_missing(x) and not _is_missing(y)]
    if not pairs:
        return _undefined("Cohen's kappa: no item rated by both raters")
    seen = {x for pair in pairs for x in pair}
    labels = list(categories) if categories is not None else sorted(seen, key=str)
    unknown = seen - set(labels)
    if unknown:
        raise ValueError(f"ratings {sorted(unknown, key=str)} are not in categories {labels}")
    code = {label: position for position, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for x, y in pairs:
        table[code[x], code[y]] += 1
    return _cohen_from_table(table)


def _cohen_from_table(table: np.ndarray) -> float:
    total = table.sum()
    if total == 0:
        return _undefined("Cohen's kappa: no item rated by both raters")
    observed = np.trace(table) / total
    expected = float((table.sum(axis=1) / total) @ (table.sum(axis=0) / total))
    if np.isclose(expected, 1.0):
        return _undefined("Cohen's kappa: both raters used a single category (p_e = 1)")
    return float((observed - expected) / (1.0 - expected))


def fleiss_kappa(counts) -> float:
    """Return Fleiss' kappa from an items x categories table of rating counts.

    P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)) is the agreement on item i,
    P-bar their mean, p_j the share of all ratings in category j and
    P_e = sum_j p_j^2; kappa = (P-bar - P_e) / (1 - P_e) (Fleiss, 1971). Items
    may have different numbers of raters n_i; items with fewer than two are
    dropped. Returns NaN with a warning when P_e = 1 (one category used).
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2:
        raise ValueError(f"counts must be a 2-D items x categories table, got shape {table.shape}")
    if (table < 0).any():
        raise ValueError("counts must be non-negative")
    raters = table.sum(axis=1)
    table, raters = table[raters >= 2], raters[raters >= 2]
    if table.shape[0] == 0:
        return _undefined("Fleiss' kappa: no item has two or more ratings")
    per_item = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1))
    shares = table.sum(axis=0) / raters.sum()
    expected = float((shares**2).sum())
    if np.isclose(expected, 1.0):
        return _undefined("Fleiss' kappa: every rating is in one category (P_e = 1)")
    return float((per_item.mean() - expected) / (1.0 - expected))


def krippendorff_alpha(matrix, level: str = "ordinal", values: Sequence | None = None) -> float:
    """Return Krippendorff's alpha = 1 - D_o / D_e for a units x coders matrix (NaN = missing).

    Built from the coincidence matrix o_ck (each pair of values c, k within a
    unit with m_u values counts 1 / (m_u - 1)); n_c are its margins and n their
    sum. D_o = sum o_ck delta_ck^2 / n and D_e = sum n_c n_k delta_ck^2 / (n (n - 1)).
    Distances: nominal 0/1; interval (c - k)^2; ordinal
    (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 (Krippendorff, "Content Analysis",
    ch. 12). Units with fewer than two values are not pairable and are left out.

    ``values`` lists the ordered scale points (default: the values seen), which
    only matters for the ordinal and interval metrics. Returns NaN with a
    warning when there is no variation at all (D_e = 0).
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"level must be one of {ALPHA_LEVELS}, got {level!r}")
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2:
        raise ValueError(f"matrix must be 2-D (units x coders), got shape {data.shape}")
    seen = np.unique(data[~np.isnan(data)])
    scale = np.asarray(values, dtype=float) if values is not None else seen
    if not np.isin(seen, scale).all():
        raise ValueError(f"values {seen[~np.isin(seen, scale)].tolist()} are not in {scale.tolist()}")
    # counts[u, c]: how many coders gave value c to unit u.
    counts = (data[:, :, None] == scale[None, None, :]).sum(axis=1).astype(float)
    pairable = counts.sum(axis=1)
    counts, pairable = counts[pairable >= 2], pairable[pairable >= 2]
    if counts.shape[0] == 0:
        return _undefined("Krippendorff's alpha: no unit has two or more values")
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs -= counts[:, :, None] * np.eye(scale.size)[None, :, :]
    coincidence = (pairs / (pairable - 1)[:, None, None]).sum(axis=0)
    margins = coincidence.sum(axis=1)
    total = margins.sum()
    distance = _alpha_distance(scale, margins, level)
    observed = (coincidence * distance).sum() / total
    expected = (np.outer(margins, margins) * distance).sum() / (total * (total - 1))
    if expected == 0:
        return _undefined("Krippendorff's alpha: all values are equal (D_e = 0)")
    return float(1.0 - observed / expected)


def _alpha_distance(scale: np.ndarray, margins: np.ndarray, level: str) -> np.ndarray:
    size = scale.size
    if level == "nominal":
        return 1.0 - np.eye(size)
    if level == "interval":
        return (scale[:, None] - scale[None, :]) ** 2
    cumulative = np.concatenate([[0.0], np.cumsum(margins)])
    distance = np.zeros((size, size))
    for c in range(size):
        for k in range(size):
            low, high = min(c, k), max(c, k)
            between = cumulative[high + 1] - cumulative[low]
            distance[c, k] = (between - (margins[c] + margins[k]) / 2.0) ** 2
    return distance


def kappa(
    table: pd.DataFrame, dimension=None, scale: str = "likert", points: int = 5, on: str = "stance"
) -> tuple[float, str]:
    """Return the fitting kappa and its name: Cohen's for two annotators, Fleiss' for more.

    ``on="stance"`` (default) measures the chance-corrected agreement of the
    stances the paper counts; ``on="rating"`` uses the raw scale points as
    categories. With more than two annotators Fleiss' kappa treats the
    annotators as exchangeable, as the paper's agreement does.
    """
    return _kappa_of_matrix(rating_matrix(table, dimension).to_numpy(), scale, points, on)


def alpha(
    table: pd.DataFrame, dimension=None, level: str = "ordinal", scale: str = "likert", points: int = 5
) -> float:
    """Return Krippendorff's alpha of one dimension on its raw ratings."""
    matrix = rating_matrix(table, dimension).to_numpy()
    return krippendorff_alpha(matrix, level=level, values=_scale_values(scale, points))


# ---------------------------------------------------------------------------
# Bootstrap over items and the summary table
# ---------------------------------------------------------------------------


def item_statistics(
    scale: str = "likert", points: int = 5, alpha_level: str = "ordinal", kappa_on: str = "stance"
) -> dict[str, Callable[[np.ndarray], float]]:
    """Return the summary statistics as functions of an items x annotators rating array.

    Keys: ``mean``, ``std_items``, ``std_ratings``, ``agreement``,
    ``majority_ratio``, ``kappa``, ``alpha`` (see :func:`summarize`). These
    are the functions :func:`bootstrap_interval` resamples.
    """
    _check_scale(scale, points)
    if alpha_level not in ALPHA_LEVELS:
        raise ValueError(f"alpha_level must be one of {ALPHA_LEVELS}, got {alpha_level!r}")
    values = _scale_values(scale, points)

    def item_means(matrix):
        rated = ~np.isnan(matrix).all(axis=1)
        return np.nanmean(matrix[rated], axis=1)

    def stance_counts_of(matrix):
        return _stance_count_array(matrix, scale, points)

    return {
        "mean": lambda m: float(np.nanmean(m)) if (~np.isnan(m)).any() else float("nan"),
        "std_items": lambda m: _std(item_means(m)),
        "std_ratings": lambda m: _std(m[~np.isnan(m)]),
        "agreement": lambda m: _agreement_from_counts(stance_counts_of(m)),
        "majority_ratio": lambda m: _majority_from_counts(stance_counts_of(m)),
        "kappa": lambda m: _kappa_of_matrix(m, scale, points, kappa_on)[0],
        "alpha": lambda m: krippendorff_alpha(m, level=alpha_level, values=values),
    }


def bootstrap_interval(
    matrix,
    statistic: Callable[[np.ndarray], float],
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval of ``statistic`` over resampled items.

    ``matrix`` is items x annotators (NaN = not rated). Each draw samples its
    rows with replacement, so an item keeps all its ratings and the annotators
    stay paired; rows with no rating at all are left out before drawing. Draws
    where the statistic is NaN are dropped. The percentile interval is known to
    be too narrow for small item counts and skewed statistics: read it as a
    rough spread, not a coverage guarantee.
    """
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    data = np.asarray(matrix, dtype=float)
    data = data[~np.isnan(data).all(axis=1)]
    if data.shape[0] == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = np.empty(int(n_boot))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for index in range(int(n_boot)):
            rows = rng.integers(0, data.shape[0], size=data.shape[0])
            draws[index] = statistic(data[rows])
    draws = draws[~np.isnan(draws)]
    if draws.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(low), float(high)


def summarize(
    table: pd.DataFrame,
    scale: str = "likert",
    points: int = 5,
    alpha_level: str = "ordinal",
    kappa_on: str = "stance",
    n_boot: int = 0,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Summarize every dimension of an annotation table.

    Columns: ``items`` (items with at least one rating), ``annotators``,
    ``ratings``, ``mean`` (of all ratings), ``std_items`` (standard deviation
    over items of the item's mean rating), ``std_ratings`` (over all ratings),
    ``agreement``, ``majority_ratio`` (both over items rated by at least two
    annotators), ``kappa`` with ``kappa_kind`` (Cohen's for two annotators,
    Fleiss' for more), and ``alpha`` (Krippendorff, ``alpha_level``). With
    ``n_boot > 0`` every statistic also gets ``<name>_low``/``<name>_high``
    percentile bounds from resampling items; one generator seeded by ``seed``
    serves all dimensions in order.
    """
    frame = validate_annotations(table, scale, points)
    statistics = item_statistics(scale, points, alpha_level, kappa_on)
    rng = np.random.default_rng(seed)
    rows = []
    for dimension, part in frame.groupby("dimension", sort=False):
        matrix = rating_matrix(part).to_numpy()
        rated = ~np.isnan(matrix)
        dropped = int((rated.sum(axis=1) == 1).sum())
        if dropped:
            log.info("%s: %d item(s) rated by one annotator only count in the means, "
                     "not in agreement or kappa", dimension, dropped)
        row = {
            "dimension": dimension,
            "items": int(rated.any(axis=1).sum()),
            "items_paired": int((rated.sum(axis=1) >= 2).sum()),
            "annotators": int(rated.any(axis=0).sum()),
            "ratings": int(rated.sum()),
        }
        for name, function in statistics.items():
            row[name] = function(matrix)
        row["kappa_kind"] = "Cohen's kappa" if matrix.shape[1] == 2 else "Fleiss' kappa"
        if n_boot > 0:
            for name, function in statistics.items():
                row[f"{name}_low"], row[f"{name}_high"] = bootstrap_interval(
                    matrix, function, n_boot=n_boot, level=level, seed=rng
                )
        rows.append(row)
    return pd.DataFrame(rows).set_index("dimension")


def _stance_count_array(matrix: np.ndarray, scale: str, points: int) -> np.ndarray:
    labels = stance(matrix, scale, points)
    return np.column_stack([(labels == name).sum(axis=1) for name in STANCES])


def _counts_of(matrix: pd.DataFrame, scale: str, points: int, name: str) -> np.ndarray:
    counts = _stance_count_array(matrix.to_numpy(), scale, points)
    dropped = int((counts.sum(axis=1) < 2).sum())
    if dropped:
        log.info("%s: left out %d item(s) rated by fewer than two annotators", name, dropped)
    return counts


def _paired_rows(counts: np.ndarray, name: str) -> np.ndarray | None:
    kept = counts[counts.sum(axis=1) >= 2]
    if kept.shape[0] == 0:
        _undefined(f"{name}: no item is rated by two or more annotators")
        return None
    return kept


def _agreement_from_counts(counts: np.ndarray) -> float:
    kept = _paired_rows(counts, "agreement")
    return float("nan") if kept is None else float((kept.max(axis=1) >= 2).mean())


def _majority_from_counts(counts: np.ndarray) -> float:
    kept = _paired_rows(counts, "majority ratio")
    return float("nan") if kept is None else float((kept.max(axis=1) / kept.sum(axis=1)).mean())


def _kappa_of_matrix(matrix: np.ndarray, scale: str, points: int, on: str) -> tuple[float, str]:
    if on not in ("stance", "rating"):
        raise ValueError(f"on must be 'stance' or 'rating', got {on!r}")
    if matrix.shape[1] < 2:
        return _undefined("kappa needs at least two annotators"), "kappa"
    if on == "stance":
        labels = stance(matrix, scale, points)
        categories = list(STANCES)
    else:
        labels = matrix
        categories = list(_scale_values(scale, points).astype(float))
    counts = np.column_stack([(labels == category).sum(axis=1) for category in categories])
    if matrix.shape[1] == 2:
        both = counts.sum(axis=1) == 2
        first = np.column_stack([labels[both, 0] == c for c in categories]).astype(float)
        second = np.column_stack([labels[both, 1] == c for c in categories]).astype(float)
        return _cohen_from_table(first.T @ second), "Cohen's kappa"
    return fleiss_kappa(counts), "Fleiss' kappa"


def _scale_values(scale: str, points: int) -> np.ndarray:
    return np.arange(1, points + 1, dtype=float) if scale == "likert" else np.array([0.0, 1.0])


def _std(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if values.size >= 2 else float("nan")


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


# ---------------------------------------------------------------------------
# A simulated study
# ---------------------------------------------------------------------------


def simulate_study(
    dimension_means: dict[str, float],
    item_sd: dict[str, float] | float = 0.6,
    n_items: int = 54,
    n_annotators: int = 3,
    rater_noise: float = 0.8,
    annotator_bias_sd: float = 0.3,
    points: int = 5,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Simulate a study where every annotator rates every item on every dimension.

    Model (all draws from one seeded generator): item i has a latent quality
    q_id ~ Normal(mean_d, item_sd_d) per dimension d; annotator a has a
    leniency b_a ~ Normal(0, annotator_bias_sd) shared across dimensions; the
    rating is q_id + b_a + Normal(0, rater_noise), rounded and clipped to
    1..points. Clipping pulls means near the ends of the scale toward the
    middle, so the simulated mean sits a little inside ``mean_d`` there.

    Returns the long annotation table (item, annotator, dimension, rating).
    """
    if int(n_items) != n_items or n_items < 1:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
    if int(n_annotators) != n_annotators or n_annotators < 1:
        raise ValueError(f"n_annotators must be a positive integer, got {n_annotators!r}")
    if rater_noise < 0 or annotator_bias_sd < 0:
        raise ValueError(
            f"rater_noise and annotator_bias_sd must be >= 0, got {rater_noise!r}, {annotator_bias_sd!r}"
        )
    if not dimension_means:
        raise ValueError("dimension_means must name at least one dimension")
    rng = np.random.default_rng(seed)
    bias = rng.normal(0.0, annotator_bias_sd, size=int(n_annotators))
    frames = []
    for dimension, mean in dimension_means.items():
        spread = item_sd[dimension] if isinstance(item_sd, dict) else float(item_sd)
        quality = rng.normal(mean, spread, size=int(n_items))
        noise = rng.normal(0.0, rater_noise, size=(int(n_items), int(n_annotators)))
        ratings = np.clip(np.rint(quality[:, None] + bias[None, :] + noise), 1, points)
        frames.append(
            pd.DataFrame(
                {
                    "item": np.repeat(np.arange(int(n_items)), int(n_annotators)),
                    "annotator": np.tile([f"annotator {a + 1}" for a in range(int(n_annotators))],
                                         int(n_items)),
                    "dimension": dimension,
                    "rating": ratings.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _check_scale(scale: str, points: int) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    if scale == "likert" and (int(points) != points or points < 2):
        raise ValueError(f"points must be an integer >= 2 on a Likert scale, got {points!r}")


def _scale_name(scale: str, points: int) -> str:
    return "binary" if scale == "binary" else f"{points}-point"


def _one_dimension(table: pd.DataFrame, dimension) -> pd.DataFrame:
    if dimension is None:
        dimensions = pd.unique(table["dimension"])
        if len(dimensions) > 1:
            raise ValueError(
                f"the table has {len(dimensions)} dimensions {list(dimensions)[:5]}; "
                "pass dimension= to choose one"
            )
        return table
    part = table[table["dimension"] == dimension]
    if part.empty:
        raise ValueError(
            f"dimension {dimension!r} not found; available: {list(pd.unique(table['dimension']))}"
        )
    return part


def _undefined(message: str) -> float:
    warnings.warn(f"{message}; reporting NaN", UndefinedMetricWarning, stacklevel=3)
    return float("nan")
