"""Figures shared by the chapters: coupling heatmaps, VAT radars and mean-shift bars.

Every figure carries a ``source`` line under it (real data with file and
commit, simulation with its seed, or the paper's table), because a reader who
meets a figure out of context must still know where its numbers came from.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _add_source(figure: plt.Figure, source: str) -> None:
    figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35", ha="left", va="bottom")


def coupling_heatmap(
    coupling: pd.DataFrame, title: str, source: str, annotate: bool | None = None
) -> plt.Figure:
    """Draw the coupling matrix R with a diverging colour map fixed to [-1, 1].

    The diagonal is blanked out because it is excluded from every tax.
    """
    values = coupling.to_numpy(float).copy()
    np.fill_diagonal(values, np.nan)
    size = len(coupling)
    annotate = size <= 12 if annotate is None else annotate
    scale = 0.55 if size <= 12 else 0.2
    figure, axis = plt.subplots(figsize=(2.5 + scale * size, 1.8 + scale * size))
    image = axis.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
    axis.set_xticks(range(size), coupling.columns, rotation=60, ha="right",
                    fontsize=8 if size <= 12 else 5)
    axis.set_yticks(range(size), coupling.index, fontsize=8 if size <= 12 else 5)
    if annotate:
        for row in range(size):
            for column in range(size):
                if row != column and not np.isnan(values[row, column]):
                    axis.text(column, row, f"{values[row, column]:.2f}", ha="center",
                              va="center", fontsize=6.5)
    figure.colorbar(image, ax=axis, shrink=0.8, label="R (rank correlation of shifts)")
    axis.set_title(title, fontsize=10)
    _add_source(figure, source)
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure


def vat_radar(profiles: dict[str, pd.Series], title: str, source: str) -> plt.Figure:
    """Draw VAT(u)/nVAT profiles on a radar, one line per profile.

    A ratio of 1 means the value carries the average load; above 1, more.
    """
    names = list(next(iter(profiles.values())).index)
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    closed = np.concatenate([angles, angles[:1]])
    size = 6 if len(names) <= 12 else 9
    figure = plt.figure(figsize=(size, size))
    axis = figure.add_subplot(projection="polar")
    for label, profile in profiles.items():
        ratio = profile.reindex(names).to_numpy(float)
        axis.plot(closed, np.concatenate([ratio, ratio[:1]]), marker="o", label=label)
        axis.fill(closed, np.concatenate([ratio, ratio[:1]]), alpha=0.1)
    axis.plot(closed, np.ones_like(closed), color="0.5", linestyle="--", linewidth=0.8)
    axis.set_xticks(angles, names, fontsize=8 if len(names) <= 12 else 5)
    axis.set_title(title, fontsize=10, pad=18)
    axis.legend(loc="upper right", bbox_to_anchor=(1.3, 1.12), fontsize=8)
    _add_source(figure, source)
    return figure


def mean_shift_bars(mean_shifts: pd.Series, title: str, source: str,
                    xlabel: str = "mean shift E[delta] (evidence units, -2..2)") -> plt.Figure:
    """Draw the mean shift of each value as horizontal bars (positive = more endorsed after)."""
    figure, axis = plt.subplots(figsize=(6, 0.35 * len(mean_shifts) + 1.2))
    colours = ["#b2182b" if x > 0 else "#2166ac" for x in mean_shifts.to_numpy(float)]
    axis.barh(list(mean_shifts.index)[::-1], mean_shifts.to_numpy(float)[::-1], color=colours[::-1])
    axis.axvline(0, color="0.3", linewidth=0.8)
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=10)
    _add_source(figure, source)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def null_histogram(null_draws, observed: float, floor: float, title: str,
                   source: str) -> plt.Figure:
    """Draw the permutation null of nVAT with the observed value and the analytic floor."""
    figure, axis = plt.subplots(figsize=(6, 3))
    axis.hist(null_draws, bins=30, color="0.7", label="permutation null")
    axis.axvline(floor, color="#2166ac", linestyle="--", label=f"analytic floor {floor:.3f}")
    axis.axvline(observed, color="#b2182b", label=f"observed nVAT {observed:.3f}")
    axis.set_xlabel("nVAT")
    axis.set_ylabel("draws")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    _add_source(figure, source)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def compare_bars(table: pd.DataFrame, label: str, columns: list[str], title: str,
                 source: str, xlabel: str = "") -> plt.Figure:
    """Draw one group of horizontal bars per row of ``table``, one bar per column.

    Used to set this project's numbers beside the paper's (a column whose name
    starts with "paper" should carry the table number).
    """
    rows = len(table)
    height = 0.8 / max(len(columns), 1)
    figure, axis = plt.subplots(figsize=(6.5, 0.45 * rows * max(len(columns), 1) / 1.6 + 1.4))
    positions = np.arange(rows)
    for index, column in enumerate(columns):
        axis.barh(positions + index * height, table[column].to_numpy(float), height=height,
                  label=column)
    axis.set_yticks(positions + height * (len(columns) - 1) / 2, table[label])
    axis.invert_yaxis()
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    _add_source(figure, source)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure
