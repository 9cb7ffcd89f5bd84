"""Figures and cards for the case-study chapter: amplification of hubs vs non-hubs, pre/post cards."""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vatnb.casestudies import sample_value_amplification

HUB_COLOR = "#c0392b"
OTHER_COLOR = "#7f8c8d"


def amplification_distribution(
    pairs_by_condition: dict[str, pd.DataFrame], hubs, title: str, source: str
) -> plt.Figure:
    """Draw, per condition, the spread of (sample, value) amplification for hubs and non-hubs.

    The shape follows the paper's Figure 5: one pair of boxes per condition
    (steering objective or model comparison), hubs left and non-hubs right,
    with the mean as a white dot. A dashed line marks zero (no change in how
    extreme the answers are).
    """
    hubs = set(hubs)
    figure, axis = plt.subplots(figsize=(1.6 + 1.5 * len(pairs_by_condition), 3.6))
    positions, labels = [], []
    for index, (condition, pairs) in enumerate(pairs_by_condition.items()):
        units = sample_value_amplification(pairs)
        groups = (
            (units.loc[units["value"].isin(hubs), "amplification"], HUB_COLOR, -0.2),
            (units.loc[~units["value"].isin(hubs), "amplification"], OTHER_COLOR, 0.2),
        )
        for values, color, offset in groups:
            if values.empty:
                continue
            box = axis.boxplot(values.to_numpy(), positions=[index + offset], widths=0.34,
                               patch_artist=True, showfliers=False)
            box["boxes"][0].set(facecolor=color, alpha=0.55)
            box["medians"][0].set(color="black")
            axis.plot(index + offset, values.mean(), "o", color="white", markeredgecolor="black",
                      markersize=5, zorder=3)
        positions.append(index)
        labels.append(str(condition))
    axis.axhline(0.0, color="0.4", linestyle="--", linewidth=0.8)
    axis.set_xticks(positions, labels, rotation=20, ha="right")
    axis.set_ylabel("amplification |phi(post)| - |phi(pre)|\n(mean per sample and value)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=HUB_COLOR, alpha=0.55),
               plt.Rectangle((0, 0), 1, 1, color=OTHER_COLOR, alpha=0.55)]
    axis.legend(handles, ["coordination hubs", "non-hubs"], fontsize=8, loc="upper right")
    axis.set_title(title, fontsize=10)
    figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35", ha="left", va="bottom")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def value_amplification_bars(table: pd.DataFrame, hubs, title: str, source: str) -> plt.Figure:
    """Draw mean amplification per value (rows of ``table``), hubs in red."""
    hubs = set(hubs)
    colors = [HUB_COLOR if value in hubs else OTHER_COLOR for value in table.index]
    figure, axis = plt.subplots(figsize=(6.5, 3.2))
    axis.bar(range(len(table)), table["amplification"], color=colors, alpha=0.8)
    axis.axhline(0.0, color="0.4", linewidth=0.8)
    axis.set_xticks(range(len(table)), table.index, rotation=45, ha="right", fontsize=8)
    axis.set_ylabel("mean amplification")
    axis.set_title(title, fontsize=10)
    figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35", ha="left", va="bottom")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def _describe_rating(rating: float, phi_value: float) -> str:
    if np.isnan(rating):
        return "no readable rating"
    return f"rating {rating:g} (phi {phi_value:+.2f})"


def case_cards_html(
    cases: pd.DataFrame,
    title_columns=("value", "micro_value"),
    context_columns=("scene_id",),
    pre_label: str = "before",
    post_label: str = "after",
    text_pre: str | None = None,
    text_post: str | None = None,
) -> str:
    """Render selected pairs as side-by-side before/after cards in HTML.

    Each card names the value and micro-value, the context (``context_columns``),
    both ratings with their phi, the optional answer texts (``text_pre`` and
    ``text_post`` name columns of ``cases``) and the amplification. All text
    is HTML-escaped.
    """
    cards = []
    for _, case in cases.iterrows():
        heading = " / ".join(html.escape(str(case[c])) for c in title_columns if c in case)
        context = "; ".join(f"{html.escape(c)}: {html.escape(str(case[c]))}"
                            for c in context_columns if c in case)
        sides = []
        for label, suffix, text_column in ((pre_label, "pre", text_pre), (post_label, "post", text_post)):
            line = _describe_rating(case[f"rating_{suffix}"], case[f"phi_{suffix}"])
            text = ""
            if text_column and text_column in case and str(case[text_column]):
                text = f"<div style='font-family:monospace;font-size:85%'>{html.escape(str(case[text_column]))}</div>"
            sides.append(
                "<div style='flex:1;padding:6px;border:1px solid #ccc;border-radius:4px'>"
                f"<b>{html.escape(label)}</b><br>{html.escape(line)}{text}</div>"
            )
        cards.append(
            "<div style='margin:8px 0;padding:8px;border:1px solid #999;border-radius:6px'>"
            f"<div><b>{heading}</b> &middot; {context} &middot; "
            f"amplification {case['amplification']:+.2f}</div>"
            f"<div style='display:flex;gap:8px;margin-top:4px'>{''.join(sides)}</div></div>"
        )
    return "\n".join(cards)


def case_cards_markdown(
    cases: pd.DataFrame,
    title_columns=("value", "micro_value"),
    context_columns=("scene_id",),
    pre_label: str = "before",
    post_label: str = "after",
    text_pre: str | None = None,
    text_post: str | None = None,
) -> str:
    """Render selected pairs as a markdown table, one row per case, before and after side by side."""
    header = f"| case | context | {pre_label} | {post_label} | amplification |\n|---|---|---|---|---|"
    rows = [header]
    for _, case in cases.iterrows():
        heading = " / ".join(str(case[c]) for c in title_columns if c in case)
        context = "; ".join(str(case[c]) for c in context_columns if c in case)
        cells = []
        for suffix, text_column in (("pre", text_pre), ("post", text_post)):
            cell = _describe_rating(case[f"rating_{suffix}"], case[f"phi_{suffix}"])
            if text_column and text_column in case and str(case[text_column]):
                cell += f": `{str(case[text_column]).replace('|', '/').replace('`', '')}`"
            cells.append(cell)
        rows.append(f"| {heading} | {context} | {cells[0]} | {cells[1]} | "
                    f"{case['amplification']:+.2f} |")
    return "\n".join(rows)
