"""Sample-level amplification, coordination hubs and pre/post case selection.

Definitions (Chen and Shen, "Value Alignment Tax", section 6.4 and appendix H,
made exact for this project):

* amplification of a record: ``|phi(post)| - |phi(pre)|``, where ``phi`` maps
  the rating onto [-1, 1] with the scale midpoint at 0. Positive means the
  answer moved toward an extreme of the scale, negative toward the middle;
* value-level amplification: the mean over the value's paired records;
* coordination hubs: values that rank in the top K of VAT(u) (default K = 3)
  in at least a share f (default 0.5) of the conditions compared;
* case selection (appendix H.1): pairs with low deviation before (``|phi(pre)|``
  small), high amplification after, on hub values.

Records are the long judgment table of :mod:`vatnb.metrics` (columns
:data:`vatnb.metrics.RECORD_COLUMNS`).
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from vatnb.metrics import RECORD_COLUMNS, UndefinedMetricWarning, phi
from vatnb.taxonomy import VALUES, micro_values_of

log = logging.getLogger(__name__)

PAIR_KEYS = ("sample_id", "micro_value", "sign")


# ---------------------------------------------------------------------------
# Amplification
# ---------------------------------------------------------------------------


def record_amplification(
    records: pd.DataFrame, pre="pre", post="post", keys=PAIR_KEYS
) -> pd.DataFrame:
    """Pair each record of ``pre`` with the same question in ``post`` and compute its amplification.

    Records pair on ``keys`` (default: sample, micro-value and sign, which
    identify one action in one scene, or one survey item in one context).
    Pairs where either rating is missing are dropped; so are keys found in one
    condition only. Both counts are kept in ``result.attrs``.

    Returns
    -------
    DataFrame
        One row per pair: the keys, ``scene_id``, ``value``, ``rating_pre``,
        ``rating_post``, ``phi_pre``, ``phi_post``, ``change``
        (``phi_post - phi_pre``) and ``amplification``
        (``|phi_post| - |phi_pre|``), plus any extra column of the pre records
        (for example ``country`` or ``prompt_index``).

    Raises
    ------
    ValueError
        If a required column is missing, a condition is absent, or a key
        occurs twice within one condition (then the keys do not identify one
        question; pass finer ``keys``).
    """
    missing = [column for column in RECORD_COLUMNS if column not in records.columns]
    if missing:
        raise ValueError(f"records are missing columns {missing}; expected {list(RECORD_COLUMNS)}")
    keys = list(keys)
    halves = {}
    for name, label in ((pre, "pre"), (post, "post")):
        part = records[records["condition"].astype(str) == str(name)]
        if part.empty:
            available = sorted(map(str, pd.unique(records["condition"])))
            raise ValueError(f"condition {name!r} not found; available: {available}")
        repeated = part.duplicated(subset=keys, keep=False)
        if repeated.any():
            example = part.loc[repeated, keys].head(2).to_dict("records")
            raise ValueError(
                f"condition {name!r} has several records per key {keys}, e.g. {example}; "
                "pass keys that identify one question"
            )
        part = part.assign(phi=_phi_by_scale(part))
        halves[label] = part
    extra = [c for c in halves["pre"].columns
             if c not in (*RECORD_COLUMNS, "phi") and c not in keys]
    left = halves["pre"][[*keys, "scene_id", "value", "rating", "phi", *extra]]
    right = halves["post"][[*keys, "rating", "phi"]]
    pairs = left.merge(right, on=keys, how="inner", suffixes=("_pre", "_post"))
    unpaired = len(halves["pre"]) + len(halves["post"]) - 2 * len(pairs)
    unreadable = pairs[["rating_pre", "rating_post"]].isna().any(axis=1)
    pairs = pairs[~unreadable].reset_index(drop=True)
    pairs["change"] = pairs["phi_post"] - pairs["phi_pre"]
    pairs["amplification"] = pairs["phi_post"].abs() - pairs["phi_pre"].abs()
    pairs.attrs.update(unpaired=int(unpaired), missing_rating=int(unreadable.sum()),
                       pre=str(pre), post=str(post))
    if unpaired or unreadable.any():
        log.info("amplification %s -> %s: %d unpaired record(s), %d pair(s) with a missing rating",
                 pre, post, unpaired, int(unreadable.sum()))
    return pairs


def _phi_by_scale(part: pd.DataFrame) -> np.ndarray:
    """Return phi of every rating, each on its own record's scale."""
    result = np.full(len(part), np.nan)
    points = part["scale_points"].to_numpy()
    descending = part["scale_descending"].to_numpy()
    ratings = part["rating"].to_numpy(float)
    for scale_points, scale_descending in set(zip(points.tolist(), descending.tolist())):
        mask = (points == scale_points) & (descending == scale_descending)
        result[mask] = phi(ratings[mask], int(scale_points), bool(scale_descending))
    return result


def value_amplification(pairs: pd.DataFrame, by=("value",)) -> pd.DataFrame:
    """Return the mean amplification per group (default: per value) with its count and spread.

    Columns ``amplification`` (mean), ``std``, ``pairs``, and ``share_more_extreme``
    (share of pairs with positive amplification). Values appear in circumplex order.
    """
    by = list(by)
    table = pairs.groupby(by, observed=True)["amplification"].agg(
        amplification="mean", std="std", pairs="size",
        share_more_extreme=lambda x: float((x > 0).mean()),
    )
    if by == ["value"]:
        table = table.reindex([v for v in VALUES if v in table.index])
    return table


def sample_value_amplification(pairs: pd.DataFrame) -> pd.DataFrame:
    """Return the mean amplification of every (sample, value): the units of the Figure 5 spread."""
    table = pairs.groupby(["sample_id", "value"], observed=True)["amplification"].mean()
    return table.rename("amplification").reset_index()


# ---------------------------------------------------------------------------
# Coordination hubs
# ---------------------------------------------------------------------------


def top_k_values(vat: pd.Series, k: int = 3) -> list[str]:
    """Return the values with the K largest VAT(u); ties at the cut are all kept.

    NaN entries (values with an undefined coupling row) never count.
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    ranks = vat.dropna().rank(ascending=False, method="min")
    return [value for value in vat.index if value in ranks.index and ranks[value] <= k]


def coordination_hubs(vat_by_condition: pd.DataFrame, k: int = 3, share: float = 0.5) -> pd.DataFrame:
    """Find the values in the top K of VAT in at least a share of the conditions.

    Parameters
    ----------
    vat_by_condition
        One row per condition (steering objective, shot count, model
        comparison), one column per value, holding VAT(u).
    k
        Size of the top group per condition (ties at the cut are kept).
    share
        Minimum share f of conditions in which a value must be in the top K.

    Returns
    -------
    DataFrame indexed by value: ``in_top_k`` (number of conditions where it is in the top
    K), ``conditions``, ``frequency`` (their ratio), ``mean_vat`` and ``hub``.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if vat_by_condition.empty:
        raise ValueError("vat_by_condition has no rows; pass one row of VAT(u) per condition")
    counts = pd.Series(0, index=vat_by_condition.columns, dtype=int)
    for _, row in vat_by_condition.iterrows():
        counts[top_k_values(row, k)] += 1
    conditions = len(vat_by_condition)
    table = pd.DataFrame(
        {
            "in_top_k": counts,
            "conditions": conditions,
            "frequency": counts / conditions,
            "mean_vat": vat_by_condition.mean(axis=0),
        }
    )
    table["hub"] = table["frequency"] >= share - 1e-12
    return table


def hub_comparison(pairs_by_condition: dict[str, pd.DataFrame], hubs) -> pd.DataFrame:
    """Compare the amplification of hub and non-hub values in each condition.

    The unit is a (sample, value) mean amplification. Per condition: the mean
    over hub units and non-hub units, their difference, the unit counts and
    the two-sided Mann-Whitney U p-value (scipy.stats.mannwhitneyu). Units of
    one sample are not independent across values, so read the p-value as a
    rough guide.
    """
    hubs = set(hubs)
    rows = []
    for condition, pairs in pairs_by_condition.items():
        units = sample_value_amplification(pairs)
        is_hub = units["value"].isin(hubs)
        hub_values = units.loc[is_hub, "amplification"].to_numpy()
        other_values = units.loc[~is_hub, "amplification"].to_numpy()
        if hub_values.size and other_values.size:
            p_value = float(stats.mannwhitneyu(hub_values, other_values).pvalue)
        else:
            warnings.warn(
                f"condition {condition!r}: no hub or no non-hub units, so no comparison",
                UndefinedMetricWarning, stacklevel=2,
            )
            p_value = float("nan")
        hub_mean = float(np.mean(hub_values)) if hub_values.size else float("nan")
        other_mean = float(np.mean(other_values)) if other_values.size else float("nan")
        rows.append(
            {
                "condition": condition,
                "hub mean": hub_mean,
                "non-hub mean": other_mean,
                "difference": hub_mean - other_mean,
                "hub units": int(hub_values.size),
                "non-hub units": int(other_values.size),
                "Mann-Whitney p": p_value,
            }
        )
    return pd.DataFrame(rows).set_index("condition")


# ---------------------------------------------------------------------------
# Case selection
# ---------------------------------------------------------------------------


def select_cases(
    pairs: pd.DataFrame,
    hubs=None,
    max_pre_deviation: float = 0.5,
    min_amplification: float = 0.5,
    n: int = 3,
    one_per_value: bool = True,
) -> pd.DataFrame:
    """Pick pre/post pairs by the appendix H.1 rule.

    Kept: pairs on a hub value (when ``hubs`` is given) whose pre answer lies
    near the midpoint (``|phi_pre| <= max_pre_deviation``) and whose
    amplification is at least ``min_amplification``. They are ordered by
    amplification (largest first), then by ``|phi_pre|`` (smallest first), and
    the first ``n`` are returned, at most one per value when
    ``one_per_value``. No pair is filtered on what the answer says. An empty
    result comes with a warning that names the thresholds.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    chosen = pairs
    if hubs is not None:
        chosen = chosen[chosen["value"].isin(set(hubs))]
    chosen = chosen[(chosen["phi_pre"].abs() <= max_pre_deviation + 1e-12)
                    & (chosen["amplification"] >= min_amplification - 1e-12)]
    chosen = chosen.assign(_deviation=chosen["phi_pre"].abs()).sort_values(
        ["amplification", "_deviation"], ascending=[False, True], kind="stable"
    )
    if one_per_value:
        chosen = chosen.drop_duplicates(subset="value")
    chosen = chosen.drop(columns="_deviation").head(int(n))
    if chosen.empty:
        warnings.warn(
            f"no pair meets the selection rule (|phi_pre| <= {max_pre_deviation}, "
            f"amplification >= {min_amplification}"
            + (f", value in {sorted(set(hubs))}" if hubs is not None else "")
            + "); loosen the thresholds",
            UserWarning,
            stacklevel=2,
        )
    return chosen


def largest_moves(pairs: pd.DataFrame, n: int = 5, one_per_value: bool = True) -> pd.DataFrame:
    """Return the ``n`` pairs whose answer moved most (largest ``|phi_post - phi_pre|``).

    Ties are broken by amplification, then by the order of ``pairs``.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    ordered = pairs.assign(_size=pairs["change"].abs()).sort_values(
        ["_size", "amplification"], ascending=[False, False], kind="stable"
    )
    if one_per_value:
        ordered = ordered.drop_duplicates(subset="value")
    return ordered.drop(columns="_size").head(int(n))


def answer_excerpt(response: str, micro_value: str, width: int = 60) -> str:
    """Return the line of a raw survey answer that rates ``micro_value`` (or '' if absent).

    The match ignores case and the usual spelling differences in spacing and
    hyphens; the line is cut to ``width`` characters.
    """
    if not isinstance(response, str):
        return ""
    words = re.split(r"[\s\-]+", micro_value.strip())
    pattern = re.compile(r"[\s\-]*".join(map(re.escape, words)), re.IGNORECASE)
    for line in response.splitlines():
        if pattern.search(line):
            text = line.strip()
            return text if len(text) <= width else text[: width - 3] + "..."
    return ""


# ---------------------------------------------------------------------------
# A simulation with planted hubs
# ---------------------------------------------------------------------------


def simulate_hub_records(
    n_scenes: int = 300,
    target: str = "Power",
    direction: str = "reinforce",
    hubs=("Security", "Conformity", "Tradition"),
    hub_loading: float = 0.8,
    gain: float = 0.6,
    shift_sd: float = 0.3,
    micro_values_per_value: int = 2,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Simulate pre/post action-endorsement records in which some values are planted hubs.

    NOTE: this is a teaching simulation, not the known-answer simulator of
    :mod:`vatnb.simulator`: its only purpose is a setting where hubs exist by
    construction. Each scene has an expressing (+1) and a suppressing (-1)
    action for the first ``micro_values_per_value`` micro-values of every
    value. The latent endorsement is ``sign * (b_sv + shift_sv) + noise``
    (noise logistic with scale 0.5, scene effects b_sv ~ N(0, 0.5)), cut into
    5 points at -1.5, -0.5, 0.5, 1.5. Before steering the shift is 0. After it,
    ``shift_sv = gain * [v = target] * direction + shift_sd * z_sv +
    hub_loading * [v in hubs] * f_s``, with one factor ``f_s ~ N(0, 1)`` per
    scene shared by the hub values. The shared factor couples the hub values
    (raising their VAT) and widens their shifts (raising their amplification).

    Returns records with conditions ``"pre"`` and ``"post"``.
    """
    if int(n_scenes) < 2:
        raise ValueError(f"n_scenes must be >= 2, got {n_scenes!r}")
    if direction not in ("reinforce", "suppress"):
        raise ValueError(f"direction must be 'reinforce' or 'suppress', got {direction!r}")
    unknown = [value for value in (target, *hubs) if value not in VALUES]
    if unknown:
        raise ValueError(f"unknown Schwartz value(s) {unknown}; expected names from {VALUES}")
    rng = np.random.default_rng(seed)
    design = [
        (micro_value, value, index, sign)
        for index, value in enumerate(VALUES)
        for micro_value in micro_values_of(value)[: int(micro_values_per_value)]
        for sign in (1, -1)
    ]
    value_index = np.array([row[2] for row in design])
    signs = np.array([row[3] for row in design], dtype=float)
    n = int(n_scenes)
    scene_effects = rng.normal(0.0, 0.5, size=(n, len(VALUES)))
    push = np.zeros(len(VALUES))
    push[VALUES.index(target)] = gain if direction == "reinforce" else -gain
    hub_mask = np.isin(np.array(VALUES), list(hubs)).astype(float)
    factor = rng.normal(0.0, 1.0, size=(n, 1))
    shifts = push + shift_sd * rng.normal(size=(n, len(VALUES))) + hub_loading * factor * hub_mask
    frames = []
    for condition, value_shift in (("pre", np.zeros_like(shifts)), ("post", shifts)):
        motive = scene_effects + value_shift
        latent = signs[None, :] * motive[:, value_index] + rng.logistic(0.0, 0.5, (n, len(design)))
        ratings = 1 + np.searchsorted([-1.5, -0.5, 0.5, 1.5], latent, side="right")
        scenes = np.repeat([f"s{i:04d}" for i in range(n)], len(design))
        frames.append(
            pd.DataFrame(
                {
                    "condition": condition,
                    "sample_id": scenes,
                    "scene_id": scenes,
                    "micro_value": np.tile([row[0] for row in design], n),
                    "value": np.tile([row[1] for row in design], n),
                    "sign": np.tile(signs.astype(int), n),
                    "rating": ratings.reshape(-1).astype(float),
                    "scale_points": 5,
                    "scale_descending": False,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[list(RECORD_COLUMNS)]
