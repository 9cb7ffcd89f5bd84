"""Draw the landing page's figure: from per-sample shifts to the coupling matrix to the taxes.

Run from the repository root after changing the figure or the metrics:

    .venv/bin/python book/make_figures.py

It writes ``book/figures/vat_pipeline.svg`` (committed, about 100 kB). The
numbers are simulated: shifts drawn by ``vatnb.validation.latent_shifts`` with
a planted circumplex coupling, then measured with the same ``vatnb.metrics``
functions the chapters use. The SVG has a fixed seed, no date and fixed
element ids, and the draws do not depend on which eigenvectors LAPACK
returns (``vatnb.simulator.covariance_root``), so a rerun gives the same
bytes unless float rounding differs between machines. A test compares
the bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vatnb import metrics  # noqa: E402
from vatnb.validation import latent_shifts  # noqa: E402

FIGURE = Path(__file__).resolve().parent / "figures" / "vat_pipeline.svg"
RHO = 0.5  # planted coupling strength
N_SAMPLES = 300
SHOWN_SAMPLES = 40  # rows of the shift panel
SEED = 0


def draw_pipeline(rho: float = RHO, n_samples: int = N_SAMPLES, seed: int = SEED) -> plt.Figure:
    """Draw the three panels: shifts delta_s(v), coupling R, and VAT(u) beside nVAT."""
    shifts = latent_shifts(n_samples, rho=rho, seed=seed)
    coupling = metrics.coupling_matrix(shifts)
    vat = metrics.vat_per_value(coupling)
    system_tax = metrics.nvat(coupling)
    floor = metrics.null_floor(len(vat), len(shifts))
    values = list(shifts.columns)

    figure, axes = plt.subplots(
        1, 3, figsize=(11.5, 3.9), gridspec_kw={"width_ratios": [1.0, 1.15, 1.0], "wspace": 0.55}
    )

    # 1. Shifts: one row per sample, one column per value.
    shown = shifts.iloc[:SHOWN_SAMPLES].to_numpy()
    limit = np.abs(shown).max()
    axes[0].imshow(shown, aspect="auto", cmap="PuOr", vmin=-limit, vmax=limit)
    axes[0].set_title("1. shifts $\\delta_s(v)$\npost minus pre, per sample", fontsize=10)
    axes[0].set_xticks(range(len(values)), values, rotation=90, fontsize=7)
    axes[0].set_ylabel(f"sample s (first {SHOWN_SAMPLES} of {n_samples})", fontsize=8)
    axes[0].set_yticks([])

    # 2. Coupling: Spearman correlation of the shift columns, diagonal left blank.
    matrix = coupling.to_numpy(copy=True)
    np.fill_diagonal(matrix, np.nan)
    image = axes[1].imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    axes[1].set_title("2. coupling $R_{uw}$\nrank correlation across samples", fontsize=10)
    axes[1].set_xticks(range(len(values)), values, rotation=90, fontsize=7)
    axes[1].set_yticks(range(len(values)), values, fontsize=7)
    colorbar = figure.colorbar(image, ax=axes[1], fraction=0.046, pad=0.04)

    # 3. The two taxes: value-level VAT(u) and system-level nVAT, with the noise floor.
    positions = np.arange(len(values))
    axes[2].barh(positions, vat.to_numpy(), color="#7a6fb0")
    axes[2].axvline(system_tax, color="black", linestyle="--", linewidth=1.2)
    axes[2].axvline(floor, color="grey", linestyle=":", linewidth=1.2)
    axes[2].set_yticks(positions, values, fontsize=7)
    axes[2].invert_yaxis()
    axes[2].set_xlabel("VAT(u) = length of row u of R", fontsize=8)
    axes[2].set_title(
        f"3. taxes: VAT(u) per value,\nnVAT = {system_tax:.2f} (dashed), floor {floor:.2f} (dotted)",
        fontsize=10,
    )

    figure.subplots_adjust(left=0.08, right=0.98, top=0.84, bottom=0.27)
    # Arrows in the gaps between the panels (the second one after the colour bar).
    gaps = [
        (axes[0].get_position().x1, axes[1].get_position().x0),
        (colorbar.ax.get_position().x1 + 0.035, axes[2].get_position().x0),
    ]
    for left, right in gaps:
        figure.add_artist(matplotlib.patches.FancyArrowPatch(
            (left + 0.01, 0.55), (right - 0.03, 0.55), transform=figure.transFigure,
            arrowstyle="-|>", mutation_scale=14, color="black",
        ))
    figure.text(
        0.01, 0.005,
        f"Simulated: {n_samples} samples of latent shifts with planted circumplex coupling "
        f"rho = {rho} (vatnb.validation.latent_shifts, seed {seed}); Spearman coupling.",
        fontsize=7, color="dimgrey",
    )
    return figure


def write_figure(path: Path = FIGURE) -> Path:
    """Draw the figure and save it as a reproducible SVG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"svg.hashsalt": "vatnb", "svg.fonttype": "none"}):
        figure = draw_pipeline()
        figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else FIGURE
    print(f"wrote {write_figure(target)}")
