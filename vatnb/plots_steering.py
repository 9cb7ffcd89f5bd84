"""Figures of the prompt-steering chapter: chord diagrams, circumplex projection, planted vs recovered.

Each figure carries a ``source`` line, as the figures of :mod:`vatnb.plots` do.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from vatnb.plots import _add_source
from vatnb.simulator import off_diagonal, recovery_correlation
from vatnb.taxonomy import VALUE_ANGLES, canonical_value

POSITIVE = "#b2182b"
NEGATIVE = "#2166ac"


def strongest_edges(coupling: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """Return the ``top`` value pairs with the largest |R|, columns ``u``, ``w``, ``r``."""
    names = list(coupling.index)
    rows, cols = np.triu_indices(len(names), k=1)
    values = coupling.to_numpy(float)[rows, cols]
    table = pd.DataFrame({"u": [names[i] for i in rows], "w": [names[j] for j in cols], "r": values})
    table = table.dropna(subset=["r"])
    return table.reindex(table["r"].abs().sort_values(ascending=False).index).head(top).reset_index(drop=True)


def _position(value: str) -> tuple[float, float]:
    angle = np.pi / 2 - VALUE_ANGLES[canonical_value(value)]
    return float(np.cos(angle)), float(np.sin(angle))


def chord_diagram(coupling: pd.DataFrame, title: str, source: str, top: int = 8, axis=None) -> plt.Figure:
    """Draw the ``top`` strongest |R| edges between values placed around the circumplex.

    Red edges are positive couplings (the two values shift together), blue
    ones negative (one rises as the other falls); line width grows with |R|.
    """
    figure = None
    if axis is None:
        figure, axis = plt.subplots(figsize=(4.6, 4.6))
    for value in coupling.index:
        x, y = _position(value)
        axis.plot(x, y, "o", color="0.3", markersize=5)
        axis.text(1.13 * x, 1.13 * y, value, ha="center", va="center", fontsize=7.5)
    for edge in strongest_edges(coupling, top).itertuples():
        start, end = _position(edge.u), _position(edge.w)
        path = MplPath([start, (0.0, 0.0), end], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
        colour = POSITIVE if edge.r > 0 else NEGATIVE
        axis.add_patch(PathPatch(path, facecolor="none", edgecolor=colour, linewidth=0.5 + 5 * abs(edge.r),
                                 alpha=0.75))
    axis.set_xlim(-1.45, 1.45)
    axis.set_ylim(-1.35, 1.35)
    axis.set_aspect("equal")
    axis.axis("off")
    axis.set_title(title, fontsize=9)
    if figure is not None:
        _add_source(figure, source)
    return figure if figure is not None else axis.figure


def circumplex_projection(vat: pd.Series, title: str, source: str, axis=None) -> plt.Figure:
    """Place VAT(v)/nVAT at each value's circumplex angle, with the load's resultant vector.

    The resultant sum_v VAT(v) (cos a_v, sin a_v) / sum_v VAT(v) points to the
    sector that carries the coupling load; its length (0..1) measures how
    one-sided the load is (0 = spread evenly around the circle).
    """
    figure = None
    if axis is None:
        figure, axis = plt.subplots(figsize=(4.6, 4.6))
    loads = vat.dropna()
    circle = np.linspace(0, 2 * np.pi, 200)
    axis.plot(np.cos(circle), np.sin(circle), color="0.8", linewidth=0.8)
    axis.set_xlim(-1.9, 1.9)
    axis.set_ylim(-1.9, 1.9)
    axis.set_aspect("equal")
    axis.axis("off")
    if loads.empty or not loads.sum() > 0:
        # Every VAT(v) is NaN (constant shifts) or 0, so there is no load to place.
        axis.text(0, 0, "VAT(v) undefined or zero\nfor every value:\nno load to place",
                  ha="center", va="center", fontsize=8)
        axis.set_title(title, fontsize=9)
        if figure is not None:
            _add_source(figure, source)
        return figure if figure is not None else axis.figure
    ratio = loads / np.sqrt((loads**2).mean())
    points = np.array([_position(v) for v in loads.index])
    scaled = points * ratio.to_numpy()[:, None]
    closed = np.vstack([scaled, scaled[:1]])
    axis.plot(closed[:, 0], closed[:, 1], "-", color="0.5", linewidth=0.8)
    axis.scatter(scaled[:, 0], scaled[:, 1], s=25, color="0.2", zorder=3)
    for value, (x, y) in zip(loads.index, points):
        axis.text(1.6 * x, 1.6 * y, value, ha="center", va="center", fontsize=7.5)
    resultant = (points * loads.to_numpy()[:, None]).sum(axis=0) / loads.sum()
    axis.annotate("", xy=tuple(resultant * 1.4), xytext=(0, 0),
                  arrowprops={"arrowstyle": "->", "color": POSITIVE, "linewidth": 2})
    axis.set_title(f"{title}\nresultant length {np.hypot(*resultant):.2f} (arrow x1.4)", fontsize=9)
    if figure is not None:
        _add_source(figure, source)
    return figure if figure is not None else axis.figure


def planted_vs_recovered(estimated: pd.DataFrame, expected: pd.DataFrame, planted: pd.DataFrame,
                         title: str, source: str) -> plt.Figure:
    """Scatter the off-diagonal estimated R against the expected observable and the planted C."""
    labels = list(planted.index)
    estimate = off_diagonal(estimated.loc[labels, labels])
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.8), sharey=True)
    for axis, reference, name in ((axes[0], expected, "expected observable coupling"),
                                  (axes[1], planted, "planted C")):
        truth = off_diagonal(reference.loc[labels, labels])
        axis.scatter(truth, estimate, s=14, color="0.25")
        low = min(truth.min(), np.nanmin(estimate), -0.1)
        high = max(truth.max(), np.nanmax(estimate), 0.1)
        axis.plot([low, high], [low, high], color="0.6", linestyle="--", linewidth=0.8)
        axis.set_xlabel(name)
        axis.set_title(f"r = {recovery_correlation(estimated, reference):.3f}", fontsize=9)
    axes[0].set_ylabel("estimated R (off-diagonal)")
    figure.suptitle(title, fontsize=10)
    _add_source(figure, source)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure
