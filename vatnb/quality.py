"""Composite scene and action quality from judge verdicts (paper, section 4 and Appendix B).

Scene metrics, per scene and judge, over the diagnostic values V whose
verdict could be read:

- realism      R = mean over V of (pos_ok + neg_ok) / 2
- grounding    G = mean over V of cultural_grounding / 5
- affordance   A = mean over V of affordance_richness / 5
- neutrality   N = share of V with both pos_ok and neg_ok
- S_scene = (R + G + A + N) / 4

Action metrics, per action and judge: each of correctness, harmlessness,
sufficiency and plausibility divided by 5, and S_action their mean. An
action's final score is the mean of S_action over the judges that could be
read (paper, Appendix B.2.6).

A scene or action that breaks a hard constraint keeps its judged dimensions
but gets S_scene or S_action 0 (paper, Appendix B.2.2). Unreadable verdicts
are left out of every mean and counted in the ``unreadable`` column. An item
with no readable verdict from a judge gets NaN scores from that judge.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

SCENE_DIMENSIONS = ("R", "G", "A", "N")
ACTION_DIMENSIONS = ("correctness", "harmlessness", "sufficiency", "plausibility")


def scene_scores(verdicts: pd.DataFrame, scenes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compute R, G, A, N and S_scene per (scene, judge).

    Parameters
    ----------
    verdicts
        Rows of :func:`vatnb.generation.judge_scenes`: ``scene_id``, ``judge``,
        ``value``, ``status``, ``pos_ok``, ``neg_ok``, ``cultural_grounding``,
        ``affordance_richness``.
    scenes
        Optional scene table with ``scene_id`` and ``constraint_ok``
        (plus ``country`` and ``topic``, carried over for aggregation).

    Returns
    -------
    DataFrame
        One row per (scene, judge): R, G, A, N, S_scene, ``values_read``, ``unreadable``.
    """
    _require(verdicts, ("scene_id", "judge", "status"), "scene verdicts")
    rows = []
    for (scene_id, judge), group in verdicts.groupby(["scene_id", "judge"], sort=True):
        read = group[group["status"] == "read"]
        unreadable = int((group["status"] != "read").sum())
        if read.empty:
            rows.append((scene_id, judge, np.nan, np.nan, np.nan, np.nan, 0, unreadable))
            continue
        pos = read["pos_ok"].astype(bool).to_numpy()
        neg = read["neg_ok"].astype(bool).to_numpy()
        realism = float(np.mean((pos.astype(float) + neg.astype(float)) / 2))
        grounding = float(np.mean(read["cultural_grounding"].astype(float) / 5))
        affordance = float(np.mean(read["affordance_richness"].astype(float) / 5))
        neutrality = float(np.mean(pos & neg))
        rows.append((scene_id, judge, realism, grounding, affordance, neutrality, len(read), unreadable))
    scores = pd.DataFrame(
        rows, columns=["scene_id", "judge", *SCENE_DIMENSIONS, "values_read", "unreadable"]
    )
    scores["S_scene"] = scores[list(SCENE_DIMENSIONS)].mean(axis=1, skipna=False)
    return _apply_constraints(scores, scenes, "scene_id", "S_scene")


def action_scores(verdicts: pd.DataFrame, actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compute the normalized action dimensions and S_action per (action, judge).

    Parameters
    ----------
    verdicts
        Rows of :func:`vatnb.generation.judge_actions`: ``action_id``,
        ``judge``, ``status`` and the four 1-5 ratings.
    actions
        Optional action table with ``action_id`` and ``constraint_ok``
        (plus any grouping columns such as ``country``, ``topic``, ``value``).
    """
    _require(verdicts, ("action_id", "judge", "status"), "action verdicts")
    scores = verdicts[["action_id", "judge", "status"]].copy()
    read = verdicts["status"] == "read"
    for name in ACTION_DIMENSIONS:
        scores[name] = np.where(read, pd.to_numeric(verdicts[name], errors="coerce") / 5, np.nan)
    scores["unreadable"] = (~read).astype(int)
    scores["S_action"] = scores[list(ACTION_DIMENSIONS)].mean(axis=1, skipna=False)
    return _apply_constraints(scores.drop(columns="status"), actions, "action_id", "S_action")


def final_action_quality(scores: pd.DataFrame) -> pd.DataFrame:
    """Average S_action over the judges per action (NaN judges skipped; NaN if none was read)."""
    group_columns = [c for c in scores.columns if c not in ("judge", "S_action", "unreadable", *ACTION_DIMENSIONS)]
    return (
        scores.groupby(group_columns, dropna=False, sort=True)
        .agg(S_action=("S_action", "mean"), judges_read=("S_action", "count"))
        .reset_index()
    )


def aggregate_quality(
    scores: pd.DataFrame, by: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """Return mean, standard deviation and count of each score column per group.

    Typical groups are ``["country"]``, ``["topic"]`` or ``["judge"]``.
    The count is of non-missing scores.
    """
    _require(scores, (*by, *columns), "scores")
    table = scores.groupby(list(by), sort=True)[list(columns)].agg(["mean", "std", "count"])
    table.columns = [f"{column}_{statistic}" for column, statistic in table.columns]
    return table.reset_index()


def judge_disagreement(scores: pd.DataFrame, item: str, column: str) -> dict[str, float]:
    """Summarize how much the judges disagree on one score.

    For each item rated by at least two judges, the spread is the largest
    minus the smallest judge score. With exactly two judges this is their
    absolute difference. Also returns the Pearson and Spearman correlation
    between the first two judges (in sorted name order) over the items both
    scored; NaN with a warning when fewer than 3 items are shared or one
    judge's scores are constant.

    Returns
    -------
    dict
        ``items`` compared, ``mean_spread``, ``max_spread``, ``pearson``, ``spearman``.
    """
    _require(scores, (item, "judge", column), "scores")
    wide = scores.pivot_table(index=item, columns="judge", values=column, aggfunc="mean")
    judges = sorted(wide.columns)
    both = wide.dropna(thresh=2)
    spread = both.max(axis=1) - both.min(axis=1)
    result = {
        "items": int(len(both)),
        "mean_spread": float(spread.mean()) if len(both) else float("nan"),
        "max_spread": float(spread.max()) if len(both) else float("nan"),
        "pearson": float("nan"),
        "spearman": float("nan"),
    }
    if len(judges) >= 2:
        pair = wide[judges[:2]].dropna()
        constant = len(pair) >= 3 and bool((pair.nunique() < 2).any())
        if len(pair) < 3 or constant:
            warnings.warn(
                f"judge correlation on {column} is undefined: {len(pair)} shared items"
                + (" and a constant judge" if constant else ""),
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            result["pearson"] = float(pair.iloc[:, 0].corr(pair.iloc[:, 1], method="pearson"))
            result["spearman"] = float(pair.iloc[:, 0].corr(pair.iloc[:, 1], method="spearman"))
    return result


def _apply_constraints(
    scores: pd.DataFrame, items: pd.DataFrame | None, key: str, score: str
) -> pd.DataFrame:
    if items is None:
        scores["constraint_ok"] = True
        return scores
    _require(items, (key, "constraint_ok"), "items")
    carried = [c for c in ("country", "topic", "micro_value", "value", "polarity") if c in items.columns]
    merged = scores.merge(items[[key, "constraint_ok", *carried]], on=key, how="left", validate="many_to_one")
    if merged["constraint_ok"].isna().any():
        unknown = merged.loc[merged["constraint_ok"].isna(), key].unique()[:5]
        raise ValueError(f"verdicts name {key} values absent from the item table: {list(unknown)}")
    merged["constraint_ok"] = merged["constraint_ok"].astype(bool)
    merged.loc[~merged["constraint_ok"], score] = 0.0
    return merged


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(f"{name} lack the columns {missing}; columns found: {list(table.columns)}")
