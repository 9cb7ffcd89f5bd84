"""Scene-level resampling of the coupling, VAT(u) and nVAT.

Two schemes, both over scenes (every sample of a drawn scene comes along):

* ``subsample`` (default): each draw keeps ``fraction`` of the scenes
  (default 80%), chosen without replacement, so no scene is in a draw twice.
  This is the stability check of Chen and Shen, "Value Alignment Tax",
  appendix E, which recomputes VAT on repeated 80% samples of the scenarios.
  Its spread is not a standard error: a
  draw shares most scenes with every other draw, so the std shrinks as
  ``fraction`` grows.
* ``bootstrap``: each draw takes as many scenes as there are, with
  replacement (the classic bootstrap), and a scene drawn k times counts k
  times. Its percentiles give an interval for nVAT.

A draw is a vector of row weights (how often each sample is in it), so all
draws are ranked and correlated together by the kernels in
:mod:`vatnb.fastcorr`, with no Python loop over value pairs.

Main entry points: :func:`resample_nvat`, :func:`resample_vat`,
:func:`resample_couplings` and :func:`resampling_summary`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> shifts = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
>>> scenes = np.repeat(np.arange(20), 3)
>>> draws = resample_nvat(shifts, scenes, n_draws=5, seed=1)
>>> draws.shape
(5,)
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from vatnb.fastcorr import KendallPlan, weighted_spearman_matrices
from vatnb.metrics import (
    CORRELATION_METHODS,
    UndefinedMetricWarning,
    center_shifts,
    coupling_matrix,
)

log = logging.getLogger(__name__)

SCHEMES = ("subsample", "bootstrap")


def scene_draws(
    scenes,
    n_draws: int,
    fraction: float = 0.8,
    scheme: str = "subsample",
    seed: int | np.random.Generator = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw scenes for each resample.

    Parameters
    ----------
    scenes : array-like, shape (n_samples,)
        Scene id of each sample (any hashable labels).
    n_draws : int
        Number of draws B.
    fraction : float
        Share of scenes per draw for ``scheme="subsample"``, in (0, 1]; the
        count is rounded and at least 2. Ignored by the bootstrap, which
        draws as many scenes as there are.
    scheme : {"subsample", "bootstrap"}
        Without replacement (no scene twice in a draw) or with replacement.
    seed : int or numpy.random.Generator

    Returns
    -------
    labels : ndarray
        The distinct scene labels, in order of first appearance.
    drawn : ndarray of int, shape (n_draws, scenes per draw)
        Positions into ``labels`` of the scenes in each draw.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if int(n_draws) != n_draws or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    codes, labels = pd.factorize(pd.Series(np.asarray(scenes)), sort=False)
    if (codes < 0).any():
        raise ValueError("scenes contains missing ids; give every sample a scene id")
    n_scenes = labels.size
    if n_scenes < 2:
        raise ValueError(f"resampling needs at least 2 scenes, got {n_scenes}")
    rng = np.random.default_rng(seed)
    if scheme == "subsample":
        size = max(2, int(round(fraction * n_scenes)))
        # One random permutation per draw; its first `size` entries are distinct scenes.
        drawn = np.argsort(rng.random((int(n_draws), n_scenes)), axis=1)[:, :size]
    else:
        drawn = rng.integers(0, n_scenes, size=(int(n_draws), n_scenes))
    return np.asarray(labels), drawn


def draw_weights(scenes, drawn: np.ndarray, n_scenes: int | None = None) -> np.ndarray:
    """Turn drawn scene positions into per-sample weights (times each sample is in a draw).

    ``scenes`` is the per-sample scene id given to :func:`scene_draws`.
    """
    codes, labels = pd.factorize(pd.Series(np.asarray(scenes)), sort=False)
    n_scenes = labels.size if n_scenes is None else n_scenes
    drawn = np.asarray(drawn)
    offsets = np.arange(drawn.shape[0])[:, None] * n_scenes
    counts = np.bincount((offsets + drawn).ravel(), minlength=drawn.shape[0] * n_scenes)
    return counts.reshape(drawn.shape[0], n_scenes)[:, codes].astype(float)


def resample_couplings(
    shifts: pd.DataFrame,
    scenes,
    n_draws: int = 200,
    fraction: float = 0.8,
    method: str = "spearman",
    scheme: str = "subsample",
    centered: bool = False,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Compute the coupling matrix R of every scene-level draw.

    Parameters
    ----------
    shifts : DataFrame, samples x values
        Shifts delta_s(v), as returned by :func:`vatnb.metrics.paired_shifts`.
    scenes : array-like, shape (n_samples,)
        Scene id of each row of ``shifts``. A Series is aligned on the index.
    n_draws, fraction, scheme, seed
        See :func:`scene_draws`.
    method : {"spearman", "kendall"}
        Rank correlation, as in :func:`vatnb.metrics.coupling_matrix`.
    centered : bool
        Remove each sample's mean shift first (per sample, so before drawing).

    Returns
    -------
    ndarray, shape (n_draws, values, values)
        Diagonal 1; a value constant within a draw has a NaN row there.
        Complete data use the batched kernels; with missing shifts each draw
        is computed by :func:`vatnb.metrics.coupling_matrix` on the drawn
        rows (pairwise complete, slower).
    """
    if method not in CORRELATION_METHODS:
        raise ValueError(f"method must be one of {CORRELATION_METHODS}, got {method!r}")
    if not isinstance(shifts, pd.DataFrame):
        raise TypeError(f"shifts must be a pandas DataFrame, got {type(shifts).__name__}")
    scene_ids = _align_scenes(shifts, scenes)
    labels, drawn = scene_draws(scene_ids, n_draws, fraction, scheme, seed)
    weights = draw_weights(scene_ids, drawn, labels.size)
    data = center_shifts(shifts) if centered else shifts
    values = data.to_numpy(float)
    if method == "kendall":
        matrices = KendallPlan(values).matrices(weights)
    elif not np.isnan(values).any():
        matrices = weighted_spearman_matrices(values, weights)
    else:
        log.info("shifts have missing entries; computing %d Spearman draws one by one", n_draws)
        matrices = np.stack([_pairwise_draw(data, row_weights) for row_weights in weights])
    return _set_diagonal(matrices)


def resample_vat(shifts: pd.DataFrame, scenes, **options) -> pd.DataFrame:
    """Return VAT(u) of every draw (draws x values); options as :func:`resample_couplings`."""
    matrices = resample_couplings(shifts, scenes, **options)
    return pd.DataFrame(vat_of_matrices(matrices), columns=shifts.columns)


def resample_nvat(
    shifts: pd.DataFrame,
    scenes,
    n_draws: int = 200,
    fraction: float = 0.8,
    method: str = "spearman",
    seed: int | np.random.Generator = 0,
    scheme: str = "subsample",
    centered: bool = False,
) -> np.ndarray:
    """Return nVAT of every scene-level draw, shape (n_draws,).

    Default: 80% of scenes without replacement, as in the stability check of
    Chen and Shen, "Value Alignment Tax", appendix E; use
    ``scheme="bootstrap"`` for the classic bootstrap. See
    :func:`resample_couplings` for the arguments.
    """
    matrices = resample_couplings(
        shifts, scenes, n_draws=n_draws, fraction=fraction, method=method,
        scheme=scheme, centered=centered, seed=seed,
    )
    return nvat_of_matrices(matrices)


def vat_of_matrices(matrices: np.ndarray) -> np.ndarray:
    """Return VAT(u) = sqrt(sum over w != u of R_uw^2) for a stack of coupling matrices.

    Same rule as :func:`vatnb.metrics.vat_per_value`: the diagonal is left
    out and a value whose row is all NaN gets NaN.
    """
    squares, defined = _off_diagonal_squares(matrices)
    vat = np.sqrt(squares.sum(axis=2))
    vat[~defined] = np.nan
    return vat


def nvat_of_matrices(matrices: np.ndarray) -> np.ndarray:
    """Return nVAT = sqrt(sum over u != w of R_uw^2 / |V|) for a stack of coupling matrices.

    ``|V|`` counts the values with a defined row in each draw, as in
    :func:`vatnb.metrics.nvat`; a draw with fewer than two gives NaN.
    """
    squares, defined = _off_diagonal_squares(matrices)
    count = defined.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.sqrt(squares.sum(axis=(1, 2))) / np.sqrt(count)
    result[count < 2] = np.nan
    return result


def resampling_summary(
    draws, observed: float | None = None, confidence: float = 0.95
) -> pd.Series:
    """Summarise resampled values: mean, std, percentile interval and draw count.

    The interval is the central ``confidence`` share of the draws
    (percentile method), meaningful for the bootstrap; for 80% subsamples
    read only mean and std. NaN draws (undefined nVAT) are counted and left out.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    values = np.asarray(draws, dtype=float)
    finite = values[~np.isnan(values)]
    tail = (1 - confidence) / 2 * 100
    low, high = (np.percentile(finite, [tail, 100 - tail]) if finite.size else (np.nan, np.nan))
    return pd.Series(
        {
            "observed": np.nan if observed is None else float(observed),
            "mean": float(finite.mean()) if finite.size else np.nan,
            "std": float(finite.std(ddof=1)) if finite.size > 1 else np.nan,
            "low": float(low),
            "high": float(high),
            "draws": int(finite.size),
            "undefined draws": int(values.size - finite.size),
        }
    )


def _align_scenes(shifts: pd.DataFrame, scenes) -> np.ndarray:
    if isinstance(scenes, pd.Series) and not scenes.index.equals(shifts.index):
        missing = shifts.index.difference(scenes.index)
        if len(missing):
            raise ValueError(
                f"scenes has no scene id for {len(missing)} samples of shifts "
                f"(for example {list(missing[:3])}); pass one id per row of shifts"
            )
        scenes = scenes.loc[shifts.index]
    scene_ids = np.asarray(scenes)
    if scene_ids.shape != (len(shifts),):
        raise ValueError(
            f"scenes must hold one scene id per row of shifts ({len(shifts)}), "
            f"got shape {scene_ids.shape}"
        )
    return scene_ids


def _pairwise_draw(data: pd.DataFrame, row_weights: np.ndarray) -> np.ndarray:
    repeats = row_weights.astype(np.int64)
    expanded = data.iloc[np.repeat(np.arange(len(data)), repeats)].reset_index(drop=True)
    # A value constant within one draw is expected now and then; its NaN row
    # is counted by the caller, so the per-draw warning is silenced here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return coupling_matrix(expanded, method="spearman").to_numpy(float)


def _set_diagonal(matrices: np.ndarray) -> np.ndarray:
    """Set the diagonal to exactly 1 where a row is defined and NaN where it is not."""
    matrices = np.array(matrices, dtype=float)
    columns = matrices.shape[1]
    off = ~np.eye(columns, dtype=bool)
    defined = ~np.all(np.isnan(np.where(off, matrices, np.nan)), axis=2)
    diagonal = np.where(defined, 1.0, np.nan)
    index = np.arange(columns)
    matrices[:, index, index] = diagonal
    return matrices


def _off_diagonal_squares(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    matrices = np.asarray(matrices, dtype=float)
    if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
        raise ValueError(f"expected a stack of square matrices, got shape {matrices.shape}")
    columns = matrices.shape[1]
    off = ~np.eye(columns, dtype=bool)
    defined = ~np.all(np.isnan(np.where(off, matrices, np.nan)), axis=2)
    squares = np.where(np.isnan(matrices) | ~off, 0.0, matrices**2)
    return squares, defined
