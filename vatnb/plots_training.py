"""Figure-3-shaped plots of training runs: Gain against nVAT per checkpoint, with dashed Pareto fronts.

Each point is one checkpoint, labelled with its step; each method has its own
colour, and a dashed line joins the method's Pareto-efficient checkpoints in
order of nVAT (the layout of Figure 3 in Chen and Shen, "Value Alignment Tax").
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vatnb.trajectory import pareto_efficient

METHOD_COLORS = {"SFT": "tab:blue", "DPO": "tab:orange"}


def gain_tax_axes(
    axis: plt.Axes, frame: pd.DataFrame, title: str, gain: str = "Gain", nvat: str = "nVAT",
    step: str = "step", by: str = "method",
) -> plt.Axes:
    """Draw one run's checkpoints (nVAT on x, Gain on y) and dashed Pareto fronts onto ``axis``.

    Rows with a missing Gain or nVAT are left out of the plot.
    """
    missing = [column for column in (gain, nvat, step, by) if column not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks the columns {missing}; columns found: {list(frame.columns)}")
    shown = frame.dropna(subset=[gain, nvat])
    efficient = pareto_efficient(shown, gain, nvat, by)
    groups = [(method, group, METHOD_COLORS.get(str(method).upper(), None))
              for method, group in shown.groupby(by, sort=True)]
    for method, group, color in groups:
        axis.scatter(group[nvat], group[gain], color=color, label=str(method), zorder=3, s=28)
        front = group[efficient.loc[group.index]].sort_values(nvat)
        axis.plot(front[nvat], front[gain], linestyle="--", color=color, linewidth=1.2, zorder=2)
    # Labels are placed once every point is drawn, because their overlap depends on the final limits.
    axis.autoscale_view()
    for _, group, color in groups:
        label_checkpoints(axis, group[nvat].to_numpy(float), group[gain].to_numpy(float),
                          group[step].astype(int).to_numpy(), color)
    axis.axhline(0.0, color="0.7", linewidth=0.8, zorder=1)
    axis.set_xlabel("nVAT (lower is better)")
    axis.set_ylabel("Gain (higher is better)")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8, title="method (dashed: Pareto front)", title_fontsize=7)
    return axis


def label_checkpoints(axis: plt.Axes, x, y, steps, color, width_px: float = 28.0,
                      height_px: float = 10.0) -> list[str]:
    """Write each checkpoint's step beside its point, one joined label where labels would overlap.

    Points closer than ``width_px`` across and ``height_px`` up or down on the
    screen share one label, such as "6, 12, 18", at the point of the earliest
    step. Returns the label texts in the order they were written.
    """
    if len(steps) == 0:
        return []
    screen = axis.transData.transform(np.column_stack([x, y]))
    labelled = np.zeros(len(steps), dtype=bool)
    texts = []
    for first in np.argsort(steps, kind="stable"):
        if labelled[first]:
            continue
        offset = np.abs(screen - screen[first])
        members = ~labelled & (offset[:, 0] < width_px) & (offset[:, 1] < height_px)
        labelled |= members
        text = ", ".join(str(step) for step in sorted(steps[members]))
        axis.annotate(text, (x[first], y[first]), textcoords="offset points", xytext=(4, 3),
                      fontsize=7, color=color)
        texts.append(text)
    return texts


def gain_tax_trajectories(panels: dict[str, pd.DataFrame], source: str, **columns) -> plt.Figure:
    """Draw one :func:`gain_tax_axes` panel per entry of ``panels`` ({title: checkpoint table}) side by side.

    ``source`` is printed under the figure and must say where each panel's
    numbers come from (this run, or "paper, Table 3").
    """
    if not panels:
        raise ValueError("panels is empty; pass at least one {title: checkpoint table}")
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for axis, (title, frame) in zip(axes[0], panels.items()):
        gain_tax_axes(axis, frame, title, **columns)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35", ha="left", va="bottom")
    return figure


def loss_curves(histories: dict[str, pd.DataFrame], source: str) -> plt.Figure:
    """Plot the training loss per step of each run ({name: frame with ``step`` and ``loss``}) in its own panel.

    SFT and DPO losses are on different scales (token cross-entropy against
    the DPO sigmoid loss, which starts at ln 2), so they are not drawn on one axis.
    """
    if not histories:
        raise ValueError("histories is empty; pass at least one {run name: loss table}")
    figure, axes = plt.subplots(1, len(histories), figsize=(4.0 * len(histories), 3.0), squeeze=False)
    for axis, (name, history) in zip(axes[0], histories.items()):
        axis.plot(history["step"], history["loss"], marker=".", linewidth=1)
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("optimizer step")
        axis.set_ylabel("training loss")
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35", ha="left", va="bottom")
    return figure
