"""Robustness checks of VAT: correlation choice, scene resampling, granularity, DPO beta.

The four checks of Chen and Shen, "Value Alignment Tax", appendices E and G:

* rank agreement (:func:`rank_agreement`): is the ranking of VAT(u) the same
  when the coupling uses Spearman's rho or Kendall's tau-b? Reported as the
  Spearman rho and the Kendall tau between the two VAT vectors;
* scene resampling (:func:`resampling_table`): nVAT over repeated 80% samples
  of the scenes (mean and std), or over bootstrap draws (percentile interval);
* 56D vs 10D (:func:`granularity_agreement`): for each Schwartz value, the
  mean of the 56D VAT(u) over its micro-values, rank-correlated with the 10D
  VAT vector;
* beta sweep (:func:`beta_sweep_table`, :func:`ranking_stability`): Gain,
  nVAT and Gini over the checkpoints of DPO runs at several beta, and the
  Spearman rho of each run's VAT ranking against the smallest beta's.

A *comparison* is one pre/post pair of conditions of a records table
(:data:`vatnb.metrics.RECORD_COLUMNS`); :func:`comparison_shifts` turns it
into the shifts every check starts from.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from vatnb import metrics
from vatnb.resampling import SCHEMES, resample_nvat, resampling_summary
from vatnb.taxonomy import value_of

log = logging.getLogger(__name__)


@dataclass
class Comparison:
    """Shifts of one pre/post comparison at both levels, with the scene of each sample."""

    label: str
    value_shifts: pd.DataFrame
    micro_shifts: pd.DataFrame
    scenes: pd.Series


def comparison_shifts(records: pd.DataFrame, pre: str, post: str, label: str | None = None) -> Comparison:
    """Compute the 10D and 56D shifts of one comparison and the scene of each paired sample.

    Raises
    ------
    ValueError
        If a sample carries more than one scene id (resampling by scene would
        then be ill defined).
    """
    return comparisons_from_records(records, [(pre, post, label)])[0]


def comparisons_from_records(records: pd.DataFrame, pairs) -> list[Comparison]:
    """Build one :class:`Comparison` per (pre, post, label) from one records table.

    The value scores are computed once for all conditions; a label of None
    becomes "pre -> post".
    """
    scene_counts = records.groupby("sample_id")["scene_id"].nunique()
    if (scene_counts > 1).any():
        examples = list(scene_counts[scene_counts > 1].index[:3])
        raise ValueError(
            f"samples {examples} belong to more than one scene; give every sample one scene_id"
        )
    scene_of_sample = records.groupby("sample_id")["scene_id"].first()
    value_scores = metrics.value_scores(records, "value")
    micro_scores = metrics.value_scores(records, "micro_value")
    comparisons = []
    for pre, post, label in pairs:
        value_shifts = metrics.paired_shifts(value_scores, pre, post)
        micro_shifts = metrics.paired_shifts(micro_scores, pre, post)
        comparisons.append(
            Comparison(
                label=label or f"{pre} -> {post}",
                value_shifts=value_shifts,
                micro_shifts=micro_shifts,
                scenes=scene_of_sample.loc[value_shifts.index],
            )
        )
    return comparisons


def _vat(shifts: pd.DataFrame, method: str) -> pd.Series:
    with warnings.catch_warnings():
        # A constant trajectory gives a NaN VAT(u); rank agreement drops it below.
        warnings.simplefilter("ignore", metrics.UndefinedMetricWarning)
        return metrics.vat_per_value(metrics.coupling_matrix(shifts, method=method))


def _rank_correlations(first: pd.Series, second: pd.Series) -> tuple[float, float, int]:
    both = pd.concat([first, second], axis=1).dropna()
    if len(both) < 3:
        return float("nan"), float("nan"), len(both)
    rho = stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1]).statistic
    tau = stats.kendalltau(both.iloc[:, 0], both.iloc[:, 1]).statistic
    return float(rho), float(tau), len(both)


def rank_agreement(shifts: pd.DataFrame) -> pd.Series:
    """Compare the VAT(u) vector under Spearman coupling with the one under Kendall coupling.

    Returns
    -------
    Series with ``spearman_rho`` and ``kendall_tau`` between the two VAT
    vectors (1 = the same ranking), and ``values`` (how many had a defined
    VAT under both). Fewer than three defined values give NaN.
    """
    rho, tau, count = _rank_correlations(_vat(shifts, "spearman"), _vat(shifts, "kendall"))
    return pd.Series({"spearman_rho": rho, "kendall_tau": tau, "values": count})


def rank_agreement_table(comparisons: list[Comparison], level: str = "value") -> pd.DataFrame:
    """Return :func:`rank_agreement` for every comparison (rows) at ``level`` ("value" or "micro_value")."""
    rows = {item.label: rank_agreement(_shifts_at(item, level)) for item in comparisons}
    table = pd.DataFrame(rows).T
    table["values"] = table["values"].astype(int)
    table.index.name = "comparison"
    return table


def resampling_table(
    comparisons: list[Comparison],
    level: str = "value",
    n_draws: int = 200,
    fraction: float = 0.8,
    method: str = "spearman",
    scheme: str = "subsample",
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Resample scenes for every comparison and summarise nVAT (observed, mean, std, interval).

    Each comparison gets its own Generator, spawned from ``seed``, so adding a
    comparison does not change the draws of the others.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    generators = np.random.default_rng(seed).spawn(len(comparisons))
    rows = {}
    for item, generator in zip(comparisons, generators):
        shifts = _shifts_at(item, level)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.UndefinedMetricWarning)
            observed = metrics.nvat(metrics.coupling_matrix(shifts, method=method))
        draws = resample_nvat(
            shifts, item.scenes, n_draws=n_draws, fraction=fraction, method=method,
            seed=generator, scheme=scheme,
        )
        summary = resampling_summary(draws, observed=observed, confidence=confidence)
        summary["scenes"] = item.scenes.nunique()
        summary["samples"] = len(shifts)
        rows[item.label] = summary
    table = pd.DataFrame(rows).T
    for column in ("draws", "undefined draws", "scenes", "samples"):
        table[column] = table[column].astype(int)
    table.index.name = "comparison"
    return table


def granularity_agreement(value_shifts: pd.DataFrame, micro_shifts: pd.DataFrame,
                          method: str = "spearman") -> pd.Series:
    """Rank-correlate the 10D VAT vector with each value's mean 56D micro-value VAT.

    Returns
    -------
    Series with ``spearman_rho`` and ``kendall_tau`` between the two vectors,
    and ``values`` (values with a defined VAT at both levels).
    """
    value_vat = _vat(value_shifts, method)
    micro_vat = _vat(micro_shifts, method)
    aggregated = micro_vat.groupby(micro_vat.index.map(value_of)).mean()
    rho, tau, count = _rank_correlations(value_vat, aggregated.reindex(value_vat.index))
    return pd.Series({"spearman_rho": rho, "kendall_tau": tau, "values": count})


def granularity_table(comparisons: list[Comparison], method: str = "spearman") -> pd.DataFrame:
    """Return :func:`granularity_agreement` for every comparison."""
    rows = {
        item.label: granularity_agreement(item.value_shifts, item.micro_shifts, method)
        for item in comparisons
    }
    table = pd.DataFrame(rows).T
    table["values"] = table["values"].astype(int)
    table.index.name = "comparison"
    return table


def run_metrics(shifts: pd.DataFrame, target: str, direction: str,
                method: str = "spearman") -> pd.Series:
    """Return Gain, nVAT and Gini of one run or checkpoint (one row of a beta-sweep table)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.UndefinedMetricWarning)
        coupling = metrics.coupling_matrix(shifts, method=method)
        vat = metrics.vat_per_value(coupling)
        return pd.Series(
            {
                "gain": metrics.gain(shifts, target, direction),
                "nvat": metrics.nvat(coupling),
                "gini": metrics.gini(vat.to_numpy()),
            }
        )


def beta_sweep_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Summarise checkpoints of DPO runs per beta in the layout of Table 11 of Chen and Shen.

    Parameters
    ----------
    runs : DataFrame
        One row per evaluated checkpoint, with columns ``beta``, ``gain``,
        ``nvat`` and ``gini`` (as from :func:`run_metrics`).

    Returns
    -------
    DataFrame with rows Mean Gain, Gain Range, Mean nVAT, nVAT Std, Mean
    Gini, Checkpoints and one column per beta (ascending). Gain Range is
    written "[min, max]".
    """
    missing = [column for column in ("beta", "gain", "nvat", "gini") if column not in runs]
    if missing:
        raise ValueError(f"runs is missing columns {missing}; expected beta, gain, nvat, gini")
    columns = {}
    for beta, group in runs.groupby("beta", sort=True):
        columns[f"beta = {beta:g}"] = {
            "Mean Gain": f"{group['gain'].mean():.3f}",
            "Gain Range": f"[{group['gain'].min():.2f}, {group['gain'].max():.2f}]",
            "Mean nVAT": f"{group['nvat'].mean():.3f}",
            "nVAT Std": f"{group['nvat'].std(ddof=1):.3f}" if len(group) > 1 else "n/a",
            "Mean Gini": f"{group['gini'].mean():.3f}",
            "Checkpoints": str(len(group)),
        }
    table = pd.DataFrame(columns)
    table.index.name = "metric"
    return table


def ranking_stability(vat_by_beta: dict[float, pd.Series]) -> pd.DataFrame:
    """Spearman rho of each beta's VAT(u) ranking against the smallest beta's (layout of Table 12 of Chen and Shen).

    ``vat_by_beta`` maps beta to one VAT(u) vector per run (for example the
    mean over its checkpoints).
    """
    if len(vat_by_beta) < 2:
        raise ValueError("ranking stability needs VAT vectors for at least two beta values")
    reference_beta = min(vat_by_beta)
    reference = vat_by_beta[reference_beta]
    rows = []
    for beta in sorted(vat_by_beta):
        if beta == reference_beta:
            continue
        rho, _, count = _rank_correlations(reference, vat_by_beta[beta])
        rows.append({"beta": beta, "spearman_rho": rho, "values": count})
    table = pd.DataFrame(rows).set_index("beta")
    table.attrs["reference_beta"] = reference_beta
    return table


def beta_runs_from_records(records_by_beta: dict[float, pd.DataFrame], target: str,
                           direction: str, pre: str = "pre",
                           method: str = "spearman") -> tuple[pd.DataFrame, dict]:
    """Evaluate every checkpoint of DPO runs at several beta.

    Parameters
    ----------
    records_by_beta : dict
        beta -> records table holding the ``pre`` condition and one condition
        per evaluated checkpoint of the run at that beta.
    target, direction
        The trained value and ``"reinforce"`` or ``"suppress"`` (for Gain).

    Returns
    -------
    runs : DataFrame
        One row per checkpoint: beta, checkpoint, gain, nvat, gini (input of
        :func:`beta_sweep_table`).
    vat_by_beta : dict
        beta -> mean VAT(u) over that run's checkpoints (input of
        :func:`ranking_stability`).
    """
    rows, vat_by_beta = [], {}
    for beta, records in sorted(records_by_beta.items()):
        scores = metrics.value_scores(records, "value")
        checkpoints = [c for c in records["condition"].unique() if c != pre]
        if not checkpoints:
            raise ValueError(f"records for beta {beta} hold no condition besides {pre!r}")
        vats = []
        for checkpoint in checkpoints:
            shifts = metrics.paired_shifts(scores, pre, checkpoint)
            rows.append({"beta": beta, "checkpoint": checkpoint,
                         **run_metrics(shifts, target, direction, method).to_dict()})
            vats.append(_vat(shifts, method))
        vat_by_beta[beta] = pd.concat(vats, axis=1).mean(axis=1)
    return pd.DataFrame(rows), vat_by_beta


def simulated_beta_records(betas, n_scenes: int, target: str, direction: str,
                           checkpoints: int = 3, seed: int = 0) -> dict[float, pd.DataFrame]:
    """Simulate a stand-in for DPO runs at several beta (no trained model involved).

    Each beta gets its own simulated run from :func:`vatnb.simulator.simulate`
    with the same settings, and each checkpoint is one post condition of that
    run. Beta has NO effect in the simulator, so the resulting tables show
    only how much Gain, nVAT and the VAT ranking vary between runs by chance:
    a real beta effect has to exceed this spread to be seen.
    """
    from vatnb.simulator import simulate

    generators = np.random.default_rng(seed).spawn(len(betas))
    records = {}
    for beta, generator in zip(betas, generators):
        simulation = simulate(n_scenes, target=target, direction=direction,
                              shots=tuple(range(1, checkpoints + 1)), seed=generator)
        records[float(beta)] = simulation.records
    return records


def evenly_spaced_steps(max_steps: int, checkpoints: int) -> tuple[int, ...]:
    """Return ``checkpoints`` training steps spread evenly up to ``max_steps``, the last one included.

    Examples
    --------
    >>> evenly_spaced_steps(12, 3)
    (4, 8, 12)
    """
    if max_steps < 1 or checkpoints < 1:
        raise ValueError(f"max_steps and checkpoints must be at least 1, got {max_steps} and {checkpoints}")
    steps = np.ceil(np.arange(1, checkpoints + 1) * max_steps / checkpoints).astype(int)
    return tuple(int(step) for step in np.unique(steps))


def trained_beta_records(
    betas,
    records: pd.DataFrame,
    target: str,
    direction: str,
    output_dir,
    profile: str = "tiny",
    max_steps: int | None = None,
    checkpoints: int = 3,
    test_scenes: int | None = None,
    micro_values_per_value: int | None = 1,
    batch_size: int = 16,
    rating_rule: str = "auto",
    seed: int = 0,
    progress: bool = False,
) -> tuple[dict[float, pd.DataFrame], dict[float, list]]:
    """Train one DPO run per beta with :mod:`vatnb.training` and score its checkpoints.

    Every run uses the same preference pairs, profile and seed and differs
    only in beta. Each run's checkpoints and the base model are scored on the
    same test actions by :func:`vatnb.checkpoint_eval.evaluate_checkpoints`,
    so the records feed :func:`beta_runs_from_records` with ``pre="base"``.
    Runs and judgments are kept under ``output_dir`` (one folder per run,
    named by beta and a fingerprint of all settings, and one judgment cache),
    so a rerun with the same settings trains and scores nothing again.

    Parameters
    ----------
    betas
        DPO preference parameters, one run each.
    records
        Dataset table with the ``split`` column set (see :func:`vatnb.splits.split_scenes`).
    target, direction
        The trained value and ``"reinforce"`` or ``"suppress"``.
    profile
        Training profile of :func:`vatnb.training.profile_config`: ``"tiny"``
        on a CPU, ``"paper"`` at full size on a GPU.
    max_steps
        Optimizer steps per run; ``None`` keeps the profile's (tiny: 24; the
        paper profile trains 6 epochs).
    checkpoints
        Checkpoints per run, evenly spaced over ``max_steps``; with
        ``max_steps=None`` the profile's own schedule is kept.
    test_scenes, micro_values_per_value
        Size of the test set (:func:`vatnb.checkpoint_eval.select_test_items`); ``None`` keeps all.
    rating_rule
        ``"argmax"``, ``"stochastic-rounding"`` or ``"auto"`` (stochastic
        rounding for the tiny profile, whose option probabilities are near uniform).

    Returns
    -------
    records_by_beta : dict
        beta -> judgment records with condition ``"base"`` and one condition per checkpoint.
    checkpoints_by_beta : dict
        beta -> the run's checkpoint folders in step order.
    """
    from dataclasses import replace
    from pathlib import Path

    from vatnb import checkpoint_eval, training
    from vatnb.training_data import training_examples

    if rating_rule == "auto":
        rating_rule = "stochastic-rounding" if profile == "tiny" else "argmax"
    output_dir = Path(output_dir)
    examples = training_examples(records, "dpo", target, direction)
    items = checkpoint_eval.select_test_items(
        records, n_scenes=test_scenes, micro_values_per_value=micro_values_per_value, seed=seed)
    overrides = {"target_value": target, "direction": direction, "seed": seed}
    if max_steps is not None:
        overrides["max_steps"] = int(max_steps)
        overrides["checkpoint_steps"] = evenly_spaced_steps(int(max_steps), checkpoints)
    records_by_beta, checkpoints_by_beta = {}, {}
    for beta in sorted(float(b) for b in betas):
        settings = training.profile_config(profile, "dpo", output_dir, beta=beta, **overrides)
        folder = output_dir / f"dpo-beta{beta:g}-{training.config_fingerprint(settings)}"
        config = replace(settings, output_dir=str(folder))
        log.info("DPO run at beta %g in %s", beta, folder)
        paths = training.train(config, examples)
        load_kwargs = {} if profile == "tiny" else training.model_load_kwargs(config)
        judged = checkpoint_eval.evaluate_checkpoints(
            paths, items, cache_path=output_dir / "judgments.sqlite", batch_size=batch_size,
            load_kwargs=load_kwargs, progress=progress)
        records_by_beta[beta] = checkpoint_eval.apply_rating_rule(judged, rating_rule, seed=seed)
        checkpoints_by_beta[beta] = paths
    return records_by_beta, checkpoints_by_beta


def beta_run_diagnostics(records_by_beta: dict[float, pd.DataFrame], pre: str = "base",
                         runs_by_beta: dict | None = None) -> pd.DataFrame:
    """Measure how far each beta's last checkpoint moved from the base model and from the smallest beta's.

    Rounded ratings can hide small moves, so this reads the expected rating
    (the probability-weighted mean of the options) of every test item.

    Parameters
    ----------
    records_by_beta : dict
        beta -> judgment records with an ``expected_rating`` column, the
        ``pre`` condition and the checkpoints in step order (as from
        :func:`trained_beta_records`).
    runs_by_beta : dict, optional
        beta -> checkpoint folders of the run; adds the last logged training loss.

    Returns
    -------
    DataFrame indexed by beta with columns ``last checkpoint``, ``mean |shift| from base``
    (mean absolute change of the expected rating), ``max |difference| from smallest beta``
    (largest absolute difference of the expected rating from the smallest beta's last
    checkpoint) and, with ``runs_by_beta``, ``last training loss``.
    """
    keys = ["sample_id", "micro_value", "sign"]
    last = {}
    rows = []
    for beta in sorted(records_by_beta):
        records = records_by_beta[beta]
        if "expected_rating" not in records.columns:
            raise ValueError(f"records for beta {beta} have no expected_rating column; "
                             "score them with vatnb.checkpoint_eval.evaluate_checkpoints")
        conditions = [c for c in pd.unique(records["condition"]) if c != pre]
        if not conditions:
            raise ValueError(f"records for beta {beta} hold no condition besides {pre!r}")
        expected = records.set_index(keys + ["condition"])["expected_rating"]
        base = expected.xs(pre, level="condition")
        last[beta] = expected.xs(conditions[-1], level="condition")
        row = {"beta": beta, "last checkpoint": conditions[-1],
               "mean |shift| from base": float((last[beta] - base).abs().mean())}
        if runs_by_beta is not None:
            from pathlib import Path

            from vatnb.training import loss_history

            history = loss_history(Path(runs_by_beta[beta][-1]).parent)
            row["last training loss"] = float(history["loss"].iloc[-1])
        rows.append(row)
    reference = last[min(last)]
    table = pd.DataFrame(rows).set_index("beta")
    table.insert(2, "max |difference| from smallest beta",
                 [float((last[beta] - reference).abs().max()) for beta in table.index])
    return table


def agreement_bars(table: pd.DataFrame, column: str, title: str, source: str) -> plt.Figure:
    """Draw one bar per comparison for a rank-agreement column (Figure 7 and 8 shape)."""
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(table) + 1.5))
    axes.barh(table.index.astype(str), table[column].astype(float), color="#4c72b0")
    axes.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlim(min(0.0, float(table[column].min()) - 0.05), 1.05)
    axes.invert_yaxis()
    axes.set_xlabel(column.replace("_", " "))
    axes.set_title(title)
    figure.text(0.01, 0.005, source, fontsize=7, color="grey")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure


def resampling_bars(table: pd.DataFrame, title: str, source: str) -> plt.Figure:
    """Draw mean nVAT per comparison with a one-std error bar (Figure 6 shape)."""
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(table) + 1.5))
    axes.barh(table.index.astype(str), table["mean"].astype(float),
              xerr=table["std"].astype(float), color="#55a868", capsize=3)
    axes.scatter(table["observed"].astype(float), table.index.astype(str), color="black",
                 zorder=3, s=12, label="all scenes")
    axes.invert_yaxis()
    # Room right of the longest whisker, so that the legend in the lower right covers no bar.
    right = np.nanmax([(table["mean"] + table["std"]).astype(float).max(), table["observed"].astype(float).max()])
    if np.isfinite(right) and right > 0:
        axes.set_xlim(0.0, 1.3 * right)
    axes.set_xlabel("nVAT (bar: mean over draws, whisker: std)")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=8)
    figure.text(0.01, 0.005, source, fontsize=7, color="grey")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure


def _shifts_at(item: Comparison, level: str) -> pd.DataFrame:
    if level == "value":
        return item.value_shifts
    if level == "micro_value":
        return item.micro_shifts
    raise ValueError(f"level must be 'value' or 'micro_value', got {level!r}")


__all__ = [
    "comparisons_from_records",
    "beta_runs_from_records",
    "simulated_beta_records",
    "trained_beta_records",
    "beta_run_diagnostics",
    "evenly_spaced_steps",
    "Comparison",
    "agreement_bars",
    "beta_sweep_table",
    "comparison_shifts",
    "granularity_agreement",
    "granularity_table",
    "rank_agreement",
    "rank_agreement_table",
    "ranking_stability",
    "resampling_bars",
    "resampling_table",
    "run_metrics",
]
