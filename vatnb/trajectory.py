"""Gain-tax trajectories of training runs: Pareto-efficient checkpoints, training stages, summary tables.

Chen and Shen, "Value Alignment Tax" (section 6.2, Table 3 and Figure 3),
place each training checkpoint at (nVAT, Gain) and ask which checkpoints are
Pareto-efficient and in which phase of training they occur. The rules here:

* A checkpoint is Pareto-efficient within its method when no other
  checkpoint of the same method has Gain >= and nVAT <= with at least one
  of the two strict (high Gain is better, low nVAT is better).
* Its stage is early when step / last step < 1/3, mid when < 2/3, and late
  otherwise, where the last step is the method's largest step.

Both functions take a tidy table with one row per checkpoint and columns
``method``, ``step``, ``Gain`` and ``nVAT`` (names configurable), so they run
on this project's runs and on the paper's printed Table 3 alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STAGES = ("Early", "Mid", "Late")
PARETO_MARK = "✓"


def _check_columns(frame: pd.DataFrame, columns) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"trajectory table lacks the columns {missing}; columns found: {list(frame.columns)}")


def pareto_efficient(
    frame: pd.DataFrame, gain: str = "Gain", nvat: str = "nVAT", by: str | None = "method"
) -> pd.Series:
    """Return a boolean Series: is each row Pareto-efficient (max Gain, min nVAT) within its ``by`` group?

    A row with a missing Gain or nVAT is never efficient and never dominates.
    Two rows with equal Gain and equal nVAT do not dominate each other, so
    both can be efficient.

    Examples
    --------
    >>> points = pd.DataFrame({"Gain": [0.1, 0.2, 0.0], "nVAT": [0.1, 0.3, 0.2]})
    >>> pareto_efficient(points, by=None).tolist()
    [True, True, False]
    """
    _check_columns(frame, [gain, nvat] + ([by] if by else []))
    result = pd.Series(False, index=frame.index, dtype=bool)
    groups = frame.groupby(by, sort=False) if by else [(None, frame)]
    for _, group in groups:
        values = group[[gain, nvat]].to_numpy(dtype=float)
        defined = ~np.isnan(values).any(axis=1)
        for position, index in enumerate(group.index):
            if not defined[position]:
                continue
            g, t = values[position]
            others = values[defined & (np.arange(len(values)) != position)]
            dominated = (
                (others[:, 0] >= g) & (others[:, 1] <= t) & ((others[:, 0] > g) | (others[:, 1] < t))
            ).any()
            result.loc[index] = not dominated
    return result


def training_stage(step: int, last_step: int) -> str:
    """Return "Early", "Mid" or "Late" for ``step / last_step`` below 1/3, below 2/3, or from 2/3.

    The comparison is done in integers (3 * step against last_step), so a
    step exactly at one third is Mid, with no rounding error.

    Examples
    --------
    >>> [training_stage(step, 348) for step in (40, 120, 240)]
    ['Early', 'Mid', 'Late']
    """
    step, last_step = int(step), int(last_step)
    if last_step < 1 or step < 0 or step > last_step:
        raise ValueError(f"need 0 <= step <= last_step and last_step >= 1, got step={step}, last_step={last_step}")
    if 3 * step < last_step:
        return "Early"
    if 3 * step < 2 * last_step:
        return "Mid"
    return "Late"


def stage_labels(frame: pd.DataFrame, step: str = "step", by: str | None = "method") -> pd.Series:
    """Return the stage of every row, with the last step taken as the largest step of its ``by`` group."""
    _check_columns(frame, [step] + ([by] if by else []))
    last = frame.groupby(by)[step].transform("max") if by else pd.Series(frame[step].max(), index=frame.index)
    return pd.Series(
        [training_stage(s, l) for s, l in zip(frame[step], last)], index=frame.index, dtype=object
    )


def trajectory_table(
    frame: pd.DataFrame, gain: str = "Gain", nvat: str = "nVAT", step: str = "step", by: str = "method"
) -> pd.DataFrame:
    """Return the Table-3-shaped table: Method, Checkpoint, Step, Gain, nVAT, Stage, Pareto.

    Rows are sorted by method and step; ``Pareto`` contains a check mark for
    efficient checkpoints and is empty otherwise. The ``checkpoint`` column
    of the input (a label or folder) is kept as ``Checkpoint`` when present.
    """
    _check_columns(frame, [gain, nvat, step, by])
    table = pd.DataFrame(
        {
            "Method": frame[by],
            "Checkpoint": frame["checkpoint"] if "checkpoint" in frame else frame[step].astype(str),
            "Step": frame[step].astype(int),
            "Gain": frame[gain].astype(float),
            "nVAT": frame[nvat].astype(float),
            "Stage": stage_labels(frame, step, by),
            "Pareto": np.where(pareto_efficient(frame, gain, nvat, by), PARETO_MARK, ""),
        }
    )
    return table.sort_values(["Method", "Step"]).reset_index(drop=True)


def cross_target_summary(
    frame: pd.DataFrame, gain: str = "Gain", nvat: str = "nVAT", target: str = "target", by: str = "method"
) -> pd.DataFrame:
    """Return the Table-13-shaped summary: per target and method, N checkpoints, mean Gain, mean nVAT.

    Means skip missing values; ``N`` counts the checkpoints with both Gain
    and nVAT defined, and ``Method`` is printed as the paper prints it,
    for example ``"DPO (N=6)"``.
    """
    _check_columns(frame, [gain, nvat, target, by])
    defined = frame.dropna(subset=[gain, nvat])
    grouped = defined.groupby([target, by], sort=True)
    summary = grouped.agg(N=(gain, "size"), mean_gain=(gain, "mean"), mean_nvat=(nvat, "mean")).reset_index()
    return pd.DataFrame(
        {
            "Target": summary[target],
            "Method": [f"{m} (N={n})" for m, n in zip(summary[by], summary["N"])],
            "N": summary["N"].astype(int),
            "Mean Gain": summary["mean_gain"],
            "Mean nVAT": summary["mean_nvat"],
        }
    )
