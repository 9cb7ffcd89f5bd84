"""A known-answer simulator of Likert judgments with a planted value coupling.

The simulator produces judgment records in the layout of
:data:`vatnb.metrics.RECORD_COLUMNS` together with the truth they were drawn
from, so that VAT can be checked against a structure that is known.

Generative model (action-endorsement protocol, one 5-point ascending answer
per scene and action):

* the ten Schwartz values sit at equal angles around the circumplex, and each
  micro-value inherits the angle of its value;
* every scene carries, for ``micro_values_per_value`` micro-values of each
  value, one expressing (p = +1) and one suppressing (p = -1) action;
* the latent endorsement of action (u, p) in scene s under condition c is
  ``y = p * (mu_c[v] + b_s[v] + d_sc[v]) + eps`` with ``v`` the value of
  ``u``, scene effects ``b_s ~ N(0, tau^2 I)``, logistic or normal noise
  ``eps``, and the rating cut from ``y`` by fixed thresholds;
* before the intervention ``d_s,pre = 0``. After it ``mu_post = mu_pre +
  gain_vector``, where only the target moves, by ``g(k) = g_max * (1 -
  exp(-k / k0))`` in the intended direction (``g_max < 0`` is a model that
  backfires), and ``d_s,post ~ MVN(0, sigma_d^2 C) + m_s * 1``;
* ``C = (1 - rho) I + rho K`` with ``K[v, w] = cos(angle_v - angle_w)`` is
  the planted coupling (neighbours co-move, opposites trade off; positive
  semi-definite for rho in [0, 1]), and ``m_s ~ N(0, sigma_m^2)`` is a
  common-mode shift shared by all values of a sample.

The *expected observable coupling* is the Spearman correlation of the shifts
delta_s(v) that this model implies once Likert cutting and noise have
attenuated it. It is estimated once per parameter set from a large simulated
sample and cached in memory and on disk.

Every random draw comes from one :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vatnb.metrics import DIRECTIONS, RECORD_COLUMNS, UndefinedMetricWarning
from vatnb.taxonomy import VALUE_ANGLES, VALUES, canonical_value, micro_values_of

log = logging.getLogger(__name__)

NOISE_KINDS = ("logistic", "normal")
PRE_CONDITION = "pre"
SCALE_POINTS = 5


def circumplex_kernel(values=VALUES) -> pd.DataFrame:
    """Return K[v, w] = cos(angle_v - angle_w) over the given values."""
    angles = np.array([VALUE_ANGLES[canonical_value(v)] for v in values])
    kernel = np.cos(angles[:, None] - angles[None, :])
    return pd.DataFrame(kernel, index=list(values), columns=list(values))


def planted_coupling(rho: float, values=VALUES) -> pd.DataFrame:
    """Return the planted coupling C = (1 - rho) I + rho K.

    Raises
    ------
    ValueError
        If ``rho`` is outside [0, 1], where C may stop being a covariance.
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must be in [0, 1] (0 = no coupling), got {rho!r}")
    kernel = circumplex_kernel(values)
    identity = np.eye(len(kernel))
    return (1.0 - rho) * identity + rho * kernel


def steering_gain(k, g_max: float, k0: float) -> np.ndarray:
    """Return the planted steering effect g(k) = g_max * (1 - exp(-k / k0)).

    The effect is 0 at k = 0 and saturates at ``g_max``; a negative ``g_max``
    is a model that moves the target against the intended direction.
    """
    if k0 <= 0:
        raise ValueError(f"k0 must be positive (shots at which g reaches 63% of g_max), got {k0!r}")
    shots = np.asarray(k, dtype=float)
    if (shots < 0).any():
        raise ValueError(f"shot counts must be >= 0, got {shots.tolist()}")
    return g_max * (1.0 - np.exp(-shots / k0))


@dataclass(frozen=True)
class SimulatorSettings:
    """Knobs of the generative model; defaults give a mild, readable steering effect.

    Attributes
    ----------
    rho
        Planted coupling strength in [0, 1]; 0 means the shifts of different
        values are independent.
    sigma_m
        Standard deviation of the common-mode shift shared by all values of a
        sample (a change in how readily the model agrees with anything).
    tau
        Standard deviation of the scene effects b_s (cancels in the shifts up
        to Likert saturation).
    sigma_d
        Scale of the sample-level post-intervention shifts d_s.
    noise, noise_scale
        Distribution of the per-answer noise and its scale parameter.
    thresholds
        The four cut points of the latent endorsement, ascending.
    micro_values_per_value
        Micro-values per value that each scene has actions for (capped by the
        value's size: Hedonism has 2, Stimulation 3).
    g_max, k0
        Saturation level and shot scale of the steering effect g(k), in
        latent units.
    """

    rho: float = 0.5
    sigma_m: float = 0.0
    tau: float = 0.5
    sigma_d: float = 0.6
    noise: str = "logistic"
    noise_scale: float = 0.5
    thresholds: tuple[float, ...] = (-1.5, -0.5, 0.5, 1.5)
    micro_values_per_value: int = 4
    g_max: float = 0.6
    k0: float = 2.0

    def __post_init__(self):
        planted_coupling(self.rho)
        for name in ("sigma_m", "tau", "sigma_d"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        if self.noise_scale <= 0:
            raise ValueError(f"noise_scale must be positive, got {self.noise_scale!r}")
        cuts = tuple(float(t) for t in self.thresholds)
        if len(cuts) != SCALE_POINTS - 1 or any(b <= a for a, b in zip(cuts, cuts[1:])):
            raise ValueError(
                f"thresholds must be {SCALE_POINTS - 1} strictly ascending cut points, "
                f"got {self.thresholds!r}"
            )
        object.__setattr__(self, "thresholds", cuts)
        if int(self.micro_values_per_value) < 1:
            raise ValueError(
                f"micro_values_per_value must be >= 1, got {self.micro_values_per_value!r}"
            )
        steering_gain(0, self.g_max, self.k0)

    def key(self) -> str:
        """Return a short stable hash of the settings, for cache keys and model names."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class PlantedTruth:
    """What the records were drawn from."""

    coupling: pd.DataFrame
    rho: float
    sigma_m: float
    gain_vectors: dict[str, pd.Series]
    settings: SimulatorSettings
    target: str | None
    direction: str
    _expected: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def expected_coupling(self, condition: str | None = None, n_samples: int = 200_000) -> pd.DataFrame:
        """Return the expected observable coupling of one post condition (cached).

        ``condition`` defaults to the last post condition.
        """
        if condition is None:
            condition = list(self.gain_vectors)[-1]
        if condition not in self.gain_vectors:
            raise ValueError(
                f"unknown condition {condition!r}; simulated: {list(self.gain_vectors)}"
            )
        if condition not in self._expected:
            self._expected[condition] = expected_observable_coupling(
                self.settings, tuple(self.gain_vectors[condition].to_numpy()), n_samples
            )
        return self._expected[condition]


@dataclass
class Simulation:
    """Simulated judgment records plus the truth they were drawn from."""

    records: pd.DataFrame
    truth: PlantedTruth


# ---------------------------------------------------------------------------
# The design: which actions each scene has
# ---------------------------------------------------------------------------


def action_design(micro_values_per_value: int) -> pd.DataFrame:
    """Return the actions of one scene: micro_value, value, value_index, sign.

    For each value, its first ``micro_values_per_value`` micro-values (in
    Table 4 order) each get an expressing and a suppressing action.
    """
    rows = []
    for index, value in enumerate(VALUES):
        for micro_value in micro_values_of(value)[: int(micro_values_per_value)]:
            for sign in (1, -1):
                rows.append((micro_value, value, index, sign))
    return pd.DataFrame(rows, columns=["micro_value", "value", "value_index", "sign"])


def gain_vector(
    target: str | None, direction: str, k: float, settings: SimulatorSettings
) -> pd.Series:
    """Return mu_post - mu_pre: g(k) on the target in the intended direction, 0 elsewhere."""
    vector = pd.Series(0.0, index=list(VALUES), name="gain")
    if target is None:
        return vector
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    sign = 1.0 if direction == "reinforce" else -1.0
    vector[canonical_value(target)] = sign * float(steering_gain(k, settings.g_max, settings.k0))
    return vector


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------


def _noise(rng: np.random.Generator, settings: SimulatorSettings, shape) -> np.ndarray:
    if settings.noise == "logistic":
        return rng.logistic(0.0, settings.noise_scale, size=shape)
    return rng.normal(0.0, settings.noise_scale, size=shape)


def _cut(latent: np.ndarray, settings: SimulatorSettings) -> np.ndarray:
    return 1 + np.searchsorted(np.asarray(settings.thresholds), latent, side="right")


def covariance_root(covariance: np.ndarray) -> np.ndarray:
    """Return the symmetric square root S of a positive semi-definite matrix, S @ S = covariance.

    Draws z @ S of standard normal rows z have this covariance. The
    eigenvectors of a repeated eigenvalue (the circumplex kernel has two) are
    not unique, and LAPACK builds may return different ones, so the factor
    V sqrt(w) alone would make the same seed draw different shifts on
    different machines. The symmetric root V diag(sqrt(w)) V^T is unique,
    so it differs between machines only by float rounding. Eigenvalues
    below 0 (rounding at rho = 1) count as 0.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    root = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T
    return (root + root.T) / 2.0


def _post_shifts(
    rng: np.random.Generator, settings: SimulatorSettings, n_samples: int
) -> np.ndarray:
    """Draw d_s,post ~ MVN(0, sigma_d^2 C) + m_s * 1 for n_samples samples, shape (N, |V|)."""
    root = covariance_root(planted_coupling(settings.rho).to_numpy())
    shifts = settings.sigma_d * rng.standard_normal((n_samples, len(VALUES))) @ root
    common = rng.normal(0.0, settings.sigma_m, size=(n_samples, 1)) if settings.sigma_m else 0.0
    return shifts + common


def _ratings(
    rng: np.random.Generator,
    settings: SimulatorSettings,
    design: pd.DataFrame,
    mean: np.ndarray,
    scene_effects: np.ndarray,
    shifts: np.ndarray | None,
) -> np.ndarray:
    """Return Likert ratings, shape (N, actions), for one condition."""
    index = design["value_index"].to_numpy()
    sign = design["sign"].to_numpy(float)
    motive = mean[index][None, :] + scene_effects[:, index]
    if shifts is not None:
        motive = motive + shifts[:, index]
    latent = sign[None, :] * motive + _noise(rng, settings, motive.shape)
    return _cut(latent, settings)


def _long_records(
    ratings: np.ndarray, design: pd.DataFrame, condition: str, scene_ids: np.ndarray
) -> pd.DataFrame:
    n_samples, n_actions = ratings.shape
    # Categorical labels keep a long table small and its group-bys fast.
    scenes = pd.Categorical(np.repeat(scene_ids, n_actions), categories=scene_ids)
    frame = pd.DataFrame(
        {
            "condition": pd.Categorical([condition] * (n_samples * n_actions)),
            "sample_id": scenes,
            "scene_id": scenes,
            "micro_value": pd.Categorical(np.tile(design["micro_value"].to_numpy(), n_samples)),
            "value": pd.Categorical(np.tile(design["value"].to_numpy(), n_samples)),
            "sign": np.tile(design["sign"].to_numpy(), n_samples),
            "rating": ratings.reshape(-1).astype(float),
            "scale_points": SCALE_POINTS,
            "scale_descending": False,
        }
    )
    return frame[list(RECORD_COLUMNS)]


def simulate_design(
    scene_ids,
    design: pd.DataFrame,
    gains: dict[str, pd.Series],
    settings: SimulatorSettings,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw the records of every scene and condition for a given action design.

    ``design`` lists the actions every scene has (columns ``micro_value``,
    ``value``, ``value_index``, ``sign``, as :func:`action_design` returns);
    ``gains`` maps each post condition to its gain vector mu_post - mu_pre.
    The pre condition is always drawn first, then each post condition in
    order with its own draw of d_s.
    """
    scene_ids = np.asarray([str(s) for s in scene_ids])
    n_scenes = len(scene_ids)
    mean_pre = np.zeros(len(VALUES))
    scene_effects = rng.normal(0.0, settings.tau, size=(n_scenes, len(VALUES)))
    frames = [
        _long_records(
            _ratings(rng, settings, design, mean_pre, scene_effects, None),
            design,
            PRE_CONDITION,
            scene_ids,
        )
    ]
    for condition, gain in gains.items():
        shifts = _post_shifts(rng, settings, n_scenes)
        mean_post = mean_pre + gain.reindex(list(VALUES)).to_numpy(float)
        ratings = _ratings(rng, settings, design, mean_post, scene_effects, shifts)
        frames.append(_long_records(ratings, design, condition, scene_ids))
    records = pd.concat(frames, ignore_index=True)
    records["condition"] = records["condition"].astype("category")
    return records


def simulate(
    n_scenes: int,
    settings: SimulatorSettings | None = None,
    *,
    target: str | None = None,
    direction: str = "reinforce",
    shots=(4,),
    seed: int | np.random.Generator = 0,
) -> Simulation:
    """Draw judgment records before and after a planted steering intervention.

    Parameters
    ----------
    n_scenes
        Number of scenes; each scene is one sample (the default sample unit of
        the action-endorsement protocol).
    settings
        The generative model's knobs (:class:`SimulatorSettings`).
    target, direction
        The steered value and ``"reinforce"`` or ``"suppress"``. With
        ``target=None`` no value's mean moves, but the post condition still
        carries the coupled shifts d_s.
    shots
        Shot counts k; each gives one post condition named ``"k=<k>"`` with
        its own draw of d_s (every k is a separate steering run).
    seed
        An integer seed or a Generator; every draw comes from it.

    Returns
    -------
    Simulation
        ``records`` (conditions ``"pre"`` and ``"k=<k>"``; scene ids
        ``"s00000"``...) and ``truth`` (C, rho, sigma_m, the gain vector of each
        condition, and the expected observable coupling on request).

    Examples
    --------
    >>> sim = simulate(50, SimulatorSettings(rho=0.8), target="Power", direction="suppress")
    >>> sorted(sim.records["condition"].unique())
    ['k=4', 'pre']
    >>> float(sim.truth.gain_vectors["k=4"]["Power"]) < 0
    True
    """
    settings = settings or SimulatorSettings()
    if int(n_scenes) < 2:
        raise ValueError(f"n_scenes must be >= 2 to measure co-variation, got {n_scenes!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    shots = [int(k) for k in np.atleast_1d(shots)]
    rng = np.random.default_rng(seed)
    design = action_design(settings.micro_values_per_value)
    scene_ids = [f"s{index:05d}" for index in range(int(n_scenes))]
    gains = {f"k={k}": gain_vector(target, direction, k, settings) for k in shots}
    records = simulate_design(scene_ids, design, gains, settings, rng)
    truth = PlantedTruth(
        coupling=planted_coupling(settings.rho),
        rho=settings.rho,
        sigma_m=settings.sigma_m,
        gain_vectors=gains,
        settings=settings,
        target=None if target is None else canonical_value(target),
        direction=direction,
    )
    return Simulation(records=records, truth=truth)


# ---------------------------------------------------------------------------
# Expected observable coupling
# ---------------------------------------------------------------------------


def _value_means(ratings: np.ndarray, design: pd.DataFrame) -> np.ndarray:
    """Return E_s(v) straight from a ratings array (every rating is present)."""
    evidence = design["sign"].to_numpy(float)[None, :] * (
        (ratings - 1.0) / (SCALE_POINTS - 1) * 2.0 - 1.0
    )
    per_micro = pd.DataFrame(evidence.T).groupby(design["micro_value"].to_numpy(), sort=False).mean()
    values_of_micro = design.drop_duplicates("micro_value").set_index("micro_value")["value_index"]
    per_value = per_micro.groupby(values_of_micro.loc[per_micro.index].to_numpy()).mean()
    return per_value.sort_index().to_numpy().T


# Part of the cache key of expected couplings. Bump it when the way shifts are
# drawn from a seed changes, so that no cached estimate of the old draws is reused.
DRAW_VERSION = 2


def _cache_folder() -> Path:
    from vatnb.data import cache_root

    return cache_root() / "simulator"


@functools.lru_cache(maxsize=64)
def expected_observable_coupling(
    settings: SimulatorSettings,
    gain: tuple[float, ...] = (0.0,) * len(VALUES),
    n_samples: int = 200_000,
    seed: int = 20_240_601,
) -> pd.DataFrame:
    """Estimate the Spearman coupling of delta_s(v) that the model implies, at large N.

    The estimate is cached in memory and as a ``.npy`` file under
    ``$VATNB_CACHE_DIR/simulator`` (default ``~/.cache/vatnb``), keyed by the
    settings, the gain vector, ``n_samples`` and ``seed``. Its sampling error
    is about 1/sqrt(n_samples) per entry (0.002 at the default).
    """
    if len(gain) != len(VALUES):
        raise ValueError(f"gain must have one entry per value ({len(VALUES)}), got {len(gain)}")
    key_text = json.dumps([asdict(settings), list(gain), int(n_samples), int(seed), DRAW_VERSION])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:24]
    path = _cache_folder() / f"expected_{key}.npy"
    matrix = _load_cached_matrix(path, (len(VALUES), len(VALUES)))
    if matrix is None:
        matrix = _estimate_expected(settings, np.asarray(gain, float), int(n_samples), seed)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part.npy")
            np.save(partial, matrix)
            os.replace(partial, path)
        except OSError as error:
            log.warning("could not cache the expected coupling at %s: %s", path, error)
    return pd.DataFrame(matrix, index=list(VALUES), columns=list(VALUES))


def _load_cached_matrix(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """Return the matrix cached at ``path``, or None when it is missing or unreadable.

    The file is a pure cache, so a truncated or damaged one is only reported;
    the caller recomputes the matrix and overwrites the file.
    """
    if not path.is_file():
        return None
    try:
        matrix = np.load(path)
    except (OSError, ValueError, EOFError) as error:
        log.warning("the simulator cache file %s is unreadable (%s); recomputing and overwriting it",
                    path, error)
        return None
    if matrix.shape != shape:
        log.warning("the simulator cache file %s has shape %s, expected %s; recomputing and "
                    "overwriting it", path, matrix.shape, shape)
        return None
    return matrix


def _estimate_expected(
    settings: SimulatorSettings, gain: np.ndarray, n_samples: int, seed: int
) -> np.ndarray:
    log.info("estimating the expected observable coupling from %d simulated samples", n_samples)
    rng = np.random.default_rng(seed)
    design = action_design(settings.micro_values_per_value)
    chunk = 20_000
    deltas = []
    for start in range(0, n_samples, chunk):
        size = min(chunk, n_samples - start)
        scene_effects = rng.normal(0.0, settings.tau, size=(size, len(VALUES)))
        before = _ratings(rng, settings, design, np.zeros(len(VALUES)), scene_effects, None)
        shifts = _post_shifts(rng, settings, size)
        after = _ratings(rng, settings, design, gain, scene_effects, shifts)
        deltas.append(_value_means(after, design) - _value_means(before, design))
    delta = pd.DataFrame(np.vstack(deltas))
    matrix = delta.rank(axis=0).corr().to_numpy().copy()
    np.fill_diagonal(matrix, 1.0)
    return matrix


def off_diagonal(matrix: pd.DataFrame) -> np.ndarray:
    """Return the upper-triangle entries (diagonal excluded) of a square matrix."""
    values = np.asarray(matrix, dtype=float)
    rows, cols = np.triu_indices(values.shape[0], k=1)
    return values[rows, cols]


def recovery_correlation(estimated: pd.DataFrame, reference: pd.DataFrame) -> float:
    """Return the Pearson correlation of the off-diagonal entries of two coupling matrices.

    The matrices are aligned on their labels first; pairs with a NaN entry are
    left out. NaN with an ``UndefinedMetricWarning`` when fewer than 3 pairs
    are left or one side's entries are all equal, as the planted coupling's are
    at rho = 0.
    """
    labels = [v for v in reference.index if v in estimated.index]
    a = off_diagonal(estimated.loc[labels, labels])
    b = off_diagonal(reference.loc[labels, labels])
    keep = ~(np.isnan(a) | np.isnan(b))
    if keep.sum() < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        warnings.warn("recovery correlation is undefined: fewer than 3 pairs, or one matrix has equal "
                      "off-diagonal entries (such as the planted coupling at rho = 0); reporting NaN",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


__all__ = [
    "SimulatorSettings",
    "PlantedTruth",
    "Simulation",
    "simulate",
    "simulate_design",
    "planted_coupling",
    "circumplex_kernel",
    "steering_gain",
    "gain_vector",
    "action_design",
    "expected_observable_coupling",
    "recovery_correlation",
    "off_diagonal",
]
