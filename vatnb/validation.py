"""Does VAT measure what it claims? Known-answer recovery, null floors and common-mode shifts.

Three questions, each answered by functions here and shown in the chapter
"Does VAT measure what it claims?":

* **Recovery.** With a coupling planted at a known strength, how close do
  the estimated nVAT and coupling matrix R come to the truth as the number of
  samples N grows (:func:`recovery_curve`)?
* **Null floor.** With no coupling at all, nVAT still sits near
  sqrt((|V|-1)/(N-1)). How well does that formula match the permutation
  distribution (:func:`null_floor_table`), and where do the paper's reported
  nVAT values sit against it (:func:`paper_floor_comparison`)?
* **Common mode.** A shift shared by every value of a sample couples every
  pair positively. How much of a measured coupling is common mode
  (:func:`common_mode_share`), and what does the centred variant, compared
  with its own permutation null, say instead (:func:`common_mode_table`)?

Two generators of shifts are used. :func:`simulated_shifts` runs the full
known-answer simulator (:mod:`vatnb.simulator`: Likert answers cut from a
latent endorsement, then evidence, value scores and paired shifts), whose
truth is the expected observable coupling. :func:`latent_shifts` draws the
shifts d_s = MVN(0, sigma_d^2 C) + m_s 1 directly, with no Likert cutting:
it is exact where the theory is (a purely additive common mode) and fast.
"""

from __future__ import annotations

import logging
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

from vatnb import metrics
from vatnb.metrics import UndefinedMetricWarning
from vatnb.simulator import (
    SimulatorSettings,
    covariance_root,
    planted_coupling,
    recovery_correlation,
    simulate,
)
from vatnb.taxonomy import VALUES

log = logging.getLogger(__name__)

N_VALUES = len(VALUES)

# Sample sizes the paper's setting can give, by sample unit (section 4 and appendix C):
# the 9,002 test scene-action pairs, the about 80 test scenes (9,002 / 112 actions per
# scene), and the 132 country x topic contexts of the value survey.
PAPER_SAMPLE_SIZES = {
    "test scene-action pairs (9,002)": 9002,
    "test scenes (9,002 / 112, about 80)": 80,
    "value-survey contexts (12 x 11 = 132)": 132,
}


# ---------------------------------------------------------------------------
# Generators of shifts
# ---------------------------------------------------------------------------


def latent_shifts(
    n_samples: int,
    rho: float = 0.0,
    sigma_m: float = 0.0,
    sigma_d: float = 1.0,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Draw shifts d_s = MVN(0, sigma_d^2 C) + m_s * 1 directly, with no Likert cutting.

    ``C = (1 - rho) I + rho K`` is the planted circumplex coupling and
    ``m_s ~ N(0, sigma_m^2)`` a common-mode shift shared by every value of
    sample s. Because nothing is cut or averaged, the Spearman coupling of
    these shifts is a known function of C and sigma_m, and centring removes
    the common mode exactly.

    Returns
    -------
    DataFrame of shape (n_samples, 10), one column per value in circumplex
    order, with ``attrs["generator"] = "latent"``.
    """
    if int(n_samples) < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples!r}")
    if not (np.isfinite(sigma_m) and np.isfinite(sigma_d)) or sigma_m < 0 or sigma_d < 0:
        raise ValueError(f"sigma_m and sigma_d must be finite and >= 0, got {sigma_m!r} and {sigma_d!r}")
    rng = np.random.default_rng(seed)
    root = covariance_root(planted_coupling(rho).to_numpy())
    draws = sigma_d * rng.standard_normal((int(n_samples), N_VALUES)) @ root
    draws = draws + rng.normal(0.0, sigma_m, size=(int(n_samples), 1))
    frame = pd.DataFrame(draws, columns=list(VALUES))
    frame.attrs["generator"] = "latent"
    return frame


def shifts_from_records(records: pd.DataFrame, pre: str, post: str) -> pd.DataFrame:
    """Compute the paired value shifts delta_s(v) of two conditions, vectorised.

    The result equals ``metrics.paired_shifts(metrics.value_scores(records),
    pre, post)`` (the tests check it) but groups with integer codes and
    ``numpy.bincount``, for the millions of records of a large simulation.
    Missing ratings are excluded, as in :mod:`vatnb.metrics`.
    """
    frame = records[records["condition"].isin([pre, post])]
    frame = frame.assign(e=metrics.evidence(frame)).dropna(subset=["e"])
    condition_codes, conditions = pd.factorize(frame["condition"])
    sample_codes, samples = pd.factorize(frame["sample_id"])
    micro_codes, micro_values = pd.factorize(frame["micro_value"])
    value_of_micro = (
        frame.drop_duplicates("micro_value").set_index("micro_value")["value"].reindex(micro_values)
    )

    # Mean evidence per (condition, sample, micro-value).
    shape = (len(conditions), len(samples), len(micro_values))
    flat = np.ravel_multi_index((condition_codes, sample_codes, micro_codes), shape)
    sums = np.bincount(flat, weights=frame["e"].to_numpy(float), minlength=np.prod(shape))
    counts = np.bincount(flat, minlength=np.prod(shape))
    with np.errstate(invalid="ignore"):
        per_micro = (sums / counts).reshape(shape)

    # Mean over the micro-values of each value present in the sample.
    order = [v for v in VALUES if v in set(value_of_micro)]
    scores = np.full((len(conditions), len(samples), len(order)), np.nan)
    for column, value in enumerate(order):
        members = np.flatnonzero(value_of_micro.to_numpy() == value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
            scores[:, :, column] = np.nanmean(per_micro[:, :, members], axis=2)

    conditions = list(conditions)
    for name in (pre, post):
        if name not in conditions:
            raise ValueError(f"condition {name!r} not found; available: {sorted(map(str, conditions))}")
    before = scores[conditions.index(pre)]
    after = scores[conditions.index(post)]
    paired = ~np.all(np.isnan(before), axis=1) & ~np.all(np.isnan(after), axis=1)
    shifts = pd.DataFrame(after[paired] - before[paired], index=samples[paired], columns=order)
    shifts = shifts.dropna(axis=0, how="all")
    shifts.index.name = "sample_id"
    return shifts


def simulated_shifts(
    n_scenes: int,
    settings: SimulatorSettings | None = None,
    seed: int | np.random.Generator = 0,
):
    """Run the known-answer simulator with no steering target and return (shifts, truth).

    One post condition (4 shots) is drawn; with no target, no value's mean
    moves, so the shifts carry only the planted coupling and the common mode.
    """
    simulation = simulate(n_scenes, settings, target=None, shots=(4,), seed=seed)
    shifts = shifts_from_records(simulation.records, "pre", "k=4")
    shifts.attrs["generator"] = "simulator"
    return shifts, simulation.truth


# ---------------------------------------------------------------------------
# Recovery
# ---------------------------------------------------------------------------


def recovery_curve(
    pool: pd.DataFrame,
    expected: pd.DataFrame,
    sample_sizes=(50, 100, 200, 500, 1000, 2000, 5000, 10000),
    n_resamples: int = 20,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Estimate nVAT and corr(R_est, R_true) on subsamples of N shifts, for each N.

    Each of ``n_resamples`` subsamples of size N is drawn without replacement
    from ``pool`` (shifts from one generator). ``expected`` is the true
    coupling (the simulator's expected observable coupling, or the exact
    coupling of the latent generator).

    Returns
    -------
    One row per (N, resample): ``n_samples``, ``resample``, ``nvat``,
    ``recovery`` (Pearson correlation of the off-diagonal entries of the
    estimated and the true R), ``floor`` (the null floor at N) and
    ``true_nvat`` (nVAT of ``expected``).

    Notes
    -----
    Subsamples of size N from a pool of size P overlap once N > P / B, so the
    spread at large N understates the spread of fresh draws, by the finite
    population factor sqrt(1 - N / P) (0.71 at N = P / 2).
    """
    from vatnb.resampling import resample_couplings

    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in sample_sizes]
    if max(sizes) > len(pool):
        raise ValueError(
            f"sample size {max(sizes)} exceeds the pool of {len(pool)} shifts; draw a larger pool"
        )
    true_nvat = metrics.nvat(expected)
    rows = []
    # Every shift is its own scene, so a subsample of fraction N / P of the
    # scenes is N shifts drawn without replacement.
    own_scene = np.arange(len(pool))
    for size in tqdm(sizes, desc="recovery: sample sizes", leave=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            matrices = resample_couplings(pool, own_scene, n_draws=int(n_resamples),
                                          fraction=size / len(pool), seed=rng)
        for resample, matrix in enumerate(matrices):
            coupling = pd.DataFrame(matrix, index=pool.columns, columns=pool.columns)
            rows.append(
                {
                    "n_samples": size,
                    "resample": resample,
                    "nvat": metrics.nvat(coupling),
                    "recovery": recovery_correlation(coupling, expected),
                    "floor": metrics.null_floor(pool.shape[1], size),
                    "true_nvat": true_nvat,
                }
            )
    return pd.DataFrame(rows)


def summarize_curve(curve: pd.DataFrame, columns=("nvat", "recovery")) -> pd.DataFrame:
    """Summarise a resampled curve per N: mean, 5% and 95% quantiles of each column."""
    pieces = {}
    grouped = curve.groupby("n_samples")
    for column in columns:
        pieces[f"{column}_mean"] = grouped[column].mean()
        pieces[f"{column}_q05"] = grouped[column].quantile(0.05)
        pieces[f"{column}_q95"] = grouped[column].quantile(0.95)
    for column in ("floor", "true_nvat"):
        if column in curve.columns:
            pieces[column] = grouped[column].first()
    return pd.DataFrame(pieces).reset_index()


def latent_expected_coupling(rho: float, sigma_m: float = 0.0, sigma_d: float = 1.0) -> pd.DataFrame:
    """Return the exact Spearman coupling of :func:`latent_shifts` (population value).

    The shifts are jointly normal with covariance sigma_d^2 C + sigma_m^2 11',
    whose Pearson correlation r gives Spearman's rho_S = (6 / pi) arcsin(r / 2).
    """
    covariance = sigma_d**2 * planted_coupling(rho).to_numpy() + sigma_m**2
    scale = np.sqrt(np.diag(covariance))
    pearson = covariance / np.outer(scale, scale)
    spearman = 6.0 / np.pi * np.arcsin(pearson / 2.0)
    np.fill_diagonal(spearman, 1.0)
    return pd.DataFrame(spearman, index=list(VALUES), columns=list(VALUES))


# ---------------------------------------------------------------------------
# Null floor
# ---------------------------------------------------------------------------


def null_floor_table(
    sample_sizes=(50, 200, 2000),
    n_permutations: int = 100,
    n_values: int = N_VALUES,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Compare the analytic floor sqrt((|V|-1)/(N-1)) with the permutation null, per N.

    For each N, one sample of independent standard normal shifts (no coupling)
    is drawn, and its permutation null (each value's trajectory shuffled on
    its own, ``n_permutations`` times) is computed with
    :func:`vatnb.metrics.permutation_null`.

    Returns
    -------
    One row per N: ``n_samples``, ``floor``, ``observed`` (nVAT of the
    sample), ``null_mean``, ``null_std``, ``null_q05``, ``null_q95`` and
    ``ratio`` (null mean / floor; about 1, slightly below because the mean of
    a square root is below the square root of the mean).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for size in tqdm([int(n) for n in sample_sizes], desc="null floor", leave=False):
        shifts = pd.DataFrame(rng.standard_normal((size, n_values)))
        draws = metrics.permutation_null(shifts, n_permutations, seed=rng)
        floor = metrics.null_floor(n_values, size)
        rows.append(
            {
                "n_samples": size,
                "floor": floor,
                "observed": metrics.nvat(metrics.coupling_matrix(shifts)),
                "null_mean": float(np.mean(draws)),
                "null_std": float(np.std(draws, ddof=1)),
                "null_q05": float(np.quantile(draws, 0.05)),
                "null_q95": float(np.quantile(draws, 0.95)),
                "ratio": float(np.mean(draws) / floor),
            }
        )
    return pd.DataFrame(rows)


def floor_crossing_samples(nvat_value, n_values: int = N_VALUES):
    """Return the N at which the null floor equals a given nVAT: 1 + (|V|-1) / nVAT^2.

    Below this N, an nVAT of that size is what pure noise gives, so it says
    nothing about coupling.
    """
    values = np.asarray(nvat_value, dtype=float)
    if (values <= 0).any():
        raise ValueError(f"nVAT must be positive to have a crossing, got {values.tolist()}")
    return 1.0 + (n_values - 1) / values**2


def paper_floor_comparison(n_values: int = N_VALUES) -> pd.DataFrame:
    """Set the paper's reported nVAT range beside the floor at the sample sizes its setting gives.

    Uses the nVAT columns of Tables 2 and 10 (paper) and
    :data:`PAPER_SAMPLE_SIZES`. Returns one row per candidate N with the
    floor, the centred floor, the paper's smallest and largest nVAT, and
    ``excess_over_floor`` = sqrt(max(nVAT^2 - floor^2, 0)) for both, the part
    of the reported nVAT that noise alone would not give (an approximation:
    it assumes coupling and noise add in squares).
    """
    from vatnb.paper_tables import paper_table

    reported = pd.concat([paper_table(2)["nvat"], paper_table(10)["nvat"]])
    low, high = float(reported.min()), float(reported.max())
    rows = []
    for label, size in PAPER_SAMPLE_SIZES.items():
        floor = metrics.null_floor(n_values, size)
        rows.append(
            {
                "sample unit": label,
                "N": size,
                "floor": floor,
                "centred floor": metrics.centered_null_floor(n_values, size),
                "paper nVAT min": low,
                "paper nVAT max": high,
                "excess at min": float(np.sqrt(max(low**2 - floor**2, 0.0))),
                "excess at max": float(np.sqrt(max(high**2 - floor**2, 0.0))),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Common mode
# ---------------------------------------------------------------------------


def common_mode_share(shifts: pd.DataFrame) -> float:
    """Return the share of shift variance carried by each sample's mean shift.

    share = Var_s(mean_v delta_s(v)) / mean_v Var_s(delta_s(v)). For
    independent values of equal variance it is 1/|V| (0.1 at 10D); when every
    value moves by the same amount in each sample it is 1.
    """
    data = shifts.astype(float)
    if np.isinf(data.to_numpy()).any():
        warnings.warn("common-mode share is undefined for shifts with infinite entries; reporting NaN",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    # The share does not change when every shift is scaled by one factor, so scale to a
    # largest |shift| of 1 first: squares of shifts near 1e200 would overflow to inf.
    largest = float(np.nanmax(np.abs(data.to_numpy()))) if data.notna().any().any() else 0.0
    if largest > 0:
        data = data / largest
    per_value = data.var(axis=0, ddof=1)
    if not np.isfinite(per_value.mean()) or per_value.mean() == 0:
        warnings.warn(
            "common-mode share is undefined for constant shifts; reporting NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(data.mean(axis=1, skipna=True).var(ddof=1) / per_value.mean())


def mean_off_diagonal(coupling: pd.DataFrame) -> float:
    """Return the mean off-diagonal entry of a coupling matrix (NaN entries left out)."""
    values = coupling.to_numpy(float).copy()
    np.fill_diagonal(values, np.nan)
    if np.isnan(values).all():
        warnings.warn("no off-diagonal coupling entry is defined; reporting NaN", UndefinedMetricWarning,
                      stacklevel=2)
        return float("nan")
    return float(np.nanmean(values))


def common_mode_table(
    shifts: pd.DataFrame,
    n_permutations: int = 100,
    seed: int | np.random.Generator = 0,
    method: str = "spearman",
) -> pd.DataFrame:
    """Compare raw and centred coupling of one set of shifts, each with its own null.

    The raw null shuffles each value's raw shifts across samples; the centred
    null shuffles the raw shifts the same way and then centres them, because
    centring alone makes every pair lean negative by about -1/(|V|-1), so a
    centred nVAT near 0.32 at 10D is what no coupling looks like.

    Returns
    -------
    Two rows (``variant`` raw and centred) with ``N``, ``nVAT``, ``mean R``
    (mean off-diagonal entry), ``floor`` (analytic), ``null mean``,
    ``null std``, ``z`` ((nVAT - null mean) / null std), ``p-value`` and
    ``common-mode share`` (the same for both rows).
    """
    rng = np.random.default_rng(seed)
    n_samples, n_values = shifts.shape
    share = common_mode_share(shifts)
    rows = []
    for centered in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            coupling = metrics.coupling_matrix(shifts, method=method, centered=centered)
        defined = int((~coupling.isna().all(axis=1)).sum())
        observed = metrics.nvat(coupling)
        draws = metrics.permutation_null(
            shifts, n_permutations, seed=rng, method=method, centered=centered
        )
        spread = float(np.nanstd(draws, ddof=1))
        floor_function = metrics.centered_null_floor if centered else metrics.null_floor
        rows.append(
            {
                "variant": "centred" if centered else "raw",
                "N": n_samples,
                "nVAT": observed,
                "mean R": mean_off_diagonal(coupling),
                "floor": floor_function(defined, n_samples),
                "null mean": float(np.nanmean(draws)),
                "null std": spread,
                "z": (observed - float(np.nanmean(draws))) / spread if spread > 0 else np.nan,
                "p-value": metrics.permutation_pvalue(observed, draws),
                "common-mode share": share,
            }
        )
    return pd.DataFrame(rows)


def common_mode_sweep(
    sigma_m_grid=(0.0, 0.25, 0.5, 1.0),
    rho: float = 0.0,
    n_samples: int = 1000,
    generator: str = "latent",
    settings: SimulatorSettings | None = None,
    n_permutations: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """Run :func:`common_mode_table` on shifts drawn at each common-mode strength sigma_m.

    ``generator`` is ``"latent"`` (:func:`latent_shifts`, sigma_d = 1) or
    ``"simulator"`` (:func:`simulated_shifts` with ``settings`` and the given
    rho and sigma_m). Returns the stacked tables with a ``sigma_m`` column.
    """
    if generator not in ("latent", "simulator"):
        raise ValueError(f"generator must be 'latent' or 'simulator', got {generator!r}")
    frames = []
    for index, sigma_m in enumerate(tqdm(list(sigma_m_grid), desc="common mode", leave=False)):
        draw_seed = np.random.default_rng([seed, index])
        if generator == "latent":
            shifts = latent_shifts(n_samples, rho=rho, sigma_m=sigma_m, seed=draw_seed)
        else:
            base = settings or SimulatorSettings()
            knobs = {**base.__dict__, "rho": rho, "sigma_m": float(sigma_m)}
            shifts, _ = simulated_shifts(n_samples, SimulatorSettings(**knobs), seed=draw_seed)
        table = common_mode_table(shifts, n_permutations, seed=draw_seed)
        table.insert(0, "sigma_m", float(sigma_m))
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def real_common_mode(
    comparisons: dict[str, tuple[str, str, str]],
    n_permutations: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """Run :func:`common_mode_table` on real value-survey shifts.

    ``comparisons`` maps a label to ``(pre, post, unit)`` in the condition
    syntax of :mod:`vatnb.ratings` (``MODEL`` or ``MODEL@K``; unit
    ``"context"`` or ``"context_prompt"``). Needs the ValueActionLens rating
    files (see :func:`vatnb.data.fetch`).
    """
    from vatnb import ratings

    frames = []
    for index, (label, (pre, post, unit)) in enumerate(comparisons.items()):
        records = ratings.comparison_records(pre, post, unit=unit)
        shifts = metrics.paired_shifts(metrics.value_scores(records), "pre", "post")
        table = common_mode_table(shifts, n_permutations, seed=np.random.default_rng([seed, index]))
        table.insert(0, "comparison", label)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _source_line(figure: plt.Figure, source: str) -> None:
    figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35", ha="left", va="bottom")


def plot_recovery(summary: pd.DataFrame, source: str, marks: dict[str, int] | None = None):
    """Draw nVAT and corr(R_est, R_true) against N, with 5-95% bands and the null floor."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    n = summary["n_samples"]
    left.fill_between(n, summary["nvat_q05"], summary["nvat_q95"], alpha=0.3, label="5-95% band")
    left.plot(n, summary["nvat_mean"], marker="o", label="estimated nVAT")
    left.plot(n, summary["true_nvat"], linestyle="--", color="k", label="true nVAT")
    left.plot(n, summary["floor"], linestyle=":", color="C3", label="null floor")
    right.fill_between(n, summary["recovery_q05"], summary["recovery_q95"], alpha=0.3)
    right.plot(n, summary["recovery_mean"], marker="o", color="C2")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlabel("N (samples)")
        for name, size in (marks or {}).items():
            axis.axvline(size, color="0.6", linewidth=0.8)
            axis.text(size, axis.get_ylim()[1], name, rotation=90, fontsize=7, va="top", ha="right")
    left.set_ylabel("nVAT")
    left.legend(fontsize=8)
    right.set_ylabel("corr(R_est, R_true), off-diagonal")
    right.set_ylim(min(0.0, float(summary["recovery_q05"].min())), 1.02)
    _source_line(figure, source)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def plot_null_floor(table: pd.DataFrame, paper_range: tuple[float, float], source: str):
    """Draw the analytic floor curve, the permutation null per N and the paper's nVAT band."""
    figure, axis = plt.subplots(figsize=(7, 4))
    grid = np.logspace(np.log10(20), 4.3, 200)
    axis.plot(grid, [metrics.null_floor(N_VALUES, n) for n in grid], color="C3",
              label="analytic floor sqrt(9/(N-1))")
    axis.errorbar(table["n_samples"], table["null_mean"], yerr=table["null_std"], fmt="o",
                  color="k", capsize=3, label="permutation null (mean +- std)")
    axis.axhspan(*paper_range, color="C0", alpha=0.2, label="paper nVAT range (Tables 2, 10)")
    axis.set_xscale("log")
    axis.set_yscale("log")
    # Labelled ticks at 1-2-5 steps only, because a label on every minor tick of a log axis overlaps.
    axis.yaxis.set_major_locator(plt.FixedLocator([0.02, 0.05, 0.1, 0.2, 0.5, 1.0]))
    axis.yaxis.set_major_formatter(plt.FormatStrFormatter("%g"))
    axis.yaxis.set_minor_formatter(plt.NullFormatter())
    axis.set_xlabel("N (samples)")
    axis.set_ylabel("nVAT with no coupling")
    axis.legend(fontsize=8)
    _source_line(figure, source)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def plot_common_mode(sweep: pd.DataFrame, source: str):
    """Draw raw and centred nVAT against sigma_m, each beside its own permutation null."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for variant, colour in (("raw", "C0"), ("centred", "C1")):
        part = sweep[sweep["variant"] == variant]
        axis.plot(part["sigma_m"], part["nVAT"], marker="o", color=colour, label=f"{variant} nVAT")
        axis.fill_between(
            part["sigma_m"],
            part["null mean"] - 2 * part["null std"],
            part["null mean"] + 2 * part["null std"],
            color=colour, alpha=0.25, label=f"{variant} null (mean +- 2 std)",
        )
    axis.set_xlabel("common-mode strength sigma_m")
    axis.set_ylabel("nVAT")
    axis.legend(fontsize=8)
    _source_line(figure, source)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


# ---------------------------------------------------------------------------
# Reading the paper's Table 2
# ---------------------------------------------------------------------------


def comparable_gain_pairs(
    table: pd.DataFrame | None = None, gain_tolerance: float = 0.02, z: float = 2.0
) -> pd.DataFrame:
    """List pairs of steering results with similar Gain and say whether their nVAT differ.

    A pair of rows is *comparable* when their Gains differ by at most
    ``gain_tolerance``. Their nVAT values are *distinguishable* when they
    differ by more than ``z`` times the combined printed std,
    sqrt(std_a^2 + std_b^2), treating the two resampling stds as independent.
    The default table is the paper's Table 2.

    Returns
    -------
    One row per comparable pair: both labels, both gains and nVATs, the nVAT
    difference, the combined std and ``distinguishable``.
    """
    if table is None:
        from vatnb.paper_tables import paper_table

        table = paper_table(2)
    rows = []
    records = table.reset_index(drop=True)
    for first in range(len(records)):
        for second in range(first + 1, len(records)):
            a, b = records.iloc[first], records.iloc[second]
            # Printed gains have two decimals, so 0.08 - 0.06 must count as 0.02, not 0.020000000000000004.
            if abs(a["gain"] - b["gain"]) > gain_tolerance + metrics.GAIN_TOLERANCE:
                continue
            spread = float(np.hypot(a["nvat_std"], b["nvat_std"]))
            difference = float(abs(a["nvat"] - b["nvat"]))
            rows.append(
                {
                    "a": f"{a['model']} {a['target']} {a['shots']}-shot",
                    "b": f"{b['model']} {b['target']} {b['shots']}-shot",
                    "gain a": a["gain"],
                    "gain b": b["gain"],
                    "nVAT a": a["nvat"],
                    "nVAT b": b["nvat"],
                    "nVAT difference": difference,
                    "combined std": spread,
                    "distinguishable": difference > z * spread,
                }
            )
    return pd.DataFrame(rows)
