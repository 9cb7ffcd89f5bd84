"""Recompute the numbers in the paper's tables that follow from other printed numbers.

Each check compares a printed value with the value recomputed from other
printed values (or from the stated design of the dataset) and says whether
the two agree within the printed rounding. Neither side is adjusted: a
mismatch is reported as it is, with a note on what could explain it when the
paper itself offers an explanation.

Rounding tolerance. A printed value with d decimals is off by at most
0.5 * 10^-d, and so is a mean of such values. A recomputed mean therefore
agrees with a printed one when they differ by at most 10^-d. Sums of
integers, labels and marks must match exactly.

The checks come in four kinds (column ``kind``):

``arithmetic``
    sums, means and composites that must hold exactly up to rounding;
``rule``
    labels and marks the paper defines by a rule (training stage, Pareto
    efficiency), recomputed with the rules of :func:`training_stage` and
    :func:`pareto_efficient`;
``design``
    counts against the stated dataset design (12 countries x 11 topics x
    2 scenes x 56 micro-values x 2 polarities = 29,568 and the 70/30 split);
``bound``
    ranges a printed value must lie in, given other printed values
    (a mean inside its printed range, a share of three annotators, an
    attainable rank correlation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from vatnb.paper_tables import DESIGN, paper_table
from vatnb.taxonomy import VALUES, micro_values_of

CHECK_COLUMNS = (
    "table", "quantity", "kind", "paper", "recomputed", "difference", "tolerance", "agree", "note",
)

STAGE_EDGES = (1.0 / 3.0, 2.0 / 3.0)
SAMPLES_PER_SCENE = DESIGN["micro_values"] * DESIGN["polarities"]  # 112 actions per scene
N_VALUES = len(VALUES)


# ---------------------------------------------------------------------------
# Rules the paper states, as functions
# ---------------------------------------------------------------------------


def training_stage(step: float, last_step: float) -> str:
    """Return the training stage of a checkpoint: Early, Mid or Late.

    The stage is the checkpoint's step divided by the method's last step:
    Early below 1/3, Mid below 2/3, Late from 2/3 on.

    Examples
    --------
    >>> [training_stage(s, 348) for s in (40, 120, 240)]
    ['Early', 'Mid', 'Late']
    """
    if last_step <= 0:
        raise ValueError(f"last_step must be positive, got {last_step!r}")
    position = step / last_step
    if position < STAGE_EDGES[0]:
        return "Early"
    if position < STAGE_EDGES[1]:
        return "Mid"
    return "Late"


def pareto_efficient(gain: Sequence[float], nvat: Sequence[float]) -> np.ndarray:
    """Mark the points that maximise Gain and minimise nVAT (Pareto efficiency).

    A point is efficient when no other point has Gain >= and nVAT <= with at
    least one of the two strict. Exact ties with another point leave both
    efficient.

    Examples
    --------
    >>> pareto_efficient([0.1, 0.2, 0.15], [0.12, 0.13, 0.14]).tolist()
    [True, True, False]
    """
    gains = np.asarray(gain, dtype=float)
    taxes = np.asarray(nvat, dtype=float)
    if gains.shape != taxes.shape or gains.ndim != 1:
        raise ValueError(
            f"gain and nvat must be 1-D and of equal length, got {gains.shape} and {taxes.shape}"
        )
    if np.isnan(gains).any() or np.isnan(taxes).any():
        raise ValueError("gain and nvat must not contain NaN; drop undefined checkpoints first")
    at_least_as_good = (gains[None, :] >= gains[:, None]) & (taxes[None, :] <= taxes[:, None])
    strictly_better = (gains[None, :] > gains[:, None]) | (taxes[None, :] < taxes[:, None])
    dominated = (at_least_as_good & strictly_better).any(axis=1)
    return ~dominated


def attainable_spearman(n_items: int) -> np.ndarray:
    """Return every value Spearman's rho can take between two rankings of n items without ties.

    rho = 1 - 6 * sum(d^2) / (n (n^2 - 1)), and sum(d^2) is always even, so
    the values are 1 - 12 j / (n (n^2 - 1)) for j = 0 .. n (n^2 - 1) / 6.
    """
    if n_items < 2:
        raise ValueError(f"n_items must be at least 2, got {n_items!r}")
    denominator = n_items * (n_items**2 - 1)
    steps = np.arange(0, denominator // 6 + 1)
    return 1.0 - 12.0 * steps / denominator


# ---------------------------------------------------------------------------
# The check table
# ---------------------------------------------------------------------------


def _row(table, quantity, kind, paper, recomputed, tolerance=0.0, note="", agree=None):
    difference = np.nan
    if agree is None:
        difference = float(recomputed) - float(paper)
        agree = bool(abs(difference) <= tolerance + 1e-12)
    return {
        "table": table,
        "quantity": quantity,
        "kind": kind,
        "paper": paper,
        "recomputed": recomputed,
        "difference": difference,
        "tolerance": tolerance,
        "agree": agree,
        "note": note,
    }


def _rounding(decimals: int) -> float:
    return 10.0 ** (-decimals)


def check_human_evaluation() -> list[dict]:
    """Check Table 1 against Table 8 and the majority ratio against the agreement share."""
    human = paper_table(1)
    agreement = paper_table(8)
    rows = []

    # Composite scores of section 4: unweighted means of the four scene and four action dimensions.
    for group, name in (("scene", "S_scene"), ("action", "S_action")):
        part = human[human["group"] == group]
        rows.append(
            _row(
                "1", f"composite {name} = mean of the {len(part)} {group} means",
                "arithmetic", "not printed", round(float(part["mean"].mean()), 4),
                note="the paper defines the composite but prints no value for the human ratings",
                agree=pd.NA,
            )
        )

    # Table 8 repeats the agreement column of Table 1 under shorter names.
    names_in_table1 = {
        "Plausibility": "Action plausibility",
        "Sufficiency": "Action sufficiency",
    }
    by_dimension = human.set_index("dimension")["agreement"]
    for dimension, share, ratio in agreement.itertuples(index=False):
        twin = names_in_table1.get(dimension, dimension)
        rows.append(
            _row("8 vs 1", f"agreement of {dimension} (Table 1: {twin})", "arithmetic",
                 share, float(by_dimension[twin]), tolerance=0.0)
        )

    # With three annotators, an item with agreement has majority ratio 2/3 or 1 and an item
    # without has 1/3, so the mean ratio lies in [a*2/3 + (1-a)/3, a + (1-a)/3].
    slack = 0.005 + 0.005  # rounding of the printed ratio and of the printed share
    for dimension, share, ratio in agreement.itertuples(index=False):
        low = share * 2.0 / 3.0 + (1.0 - share) / 3.0 - slack
        high = share + (1.0 - share) / 3.0 + slack
        rows.append(
            _row("8", f"majority ratio of {dimension} within the range its agreement allows",
                 "bound", ratio, f"[{low:.3f}, {high:.3f}]",
                 note="three annotators per instance", agree=bool(low <= ratio <= high))
        )
    return rows


def check_training_trajectories() -> list[dict]:
    """Recompute Table 3's stages and Pareto marks and compare Table 13's Power means with it."""
    checkpoints = paper_table(3)
    summary = paper_table(13)
    rows = []
    for method, part in checkpoints.groupby("method", sort=False):
        last_step = part["checkpoint"].max()
        efficient = pareto_efficient(part["gain"], part["nvat"])
        for (step, printed_stage, printed_mark), mark in zip(
            part[["checkpoint", "stage", "pareto"]].itertuples(index=False), efficient
        ):
            rows.append(
                _row("3", f"{method} step {step}: stage (step / {last_step})", "rule",
                     printed_stage, training_stage(step, last_step),
                     agree=printed_stage == training_stage(step, last_step))
            )
            rows.append(
                _row("3", f"{method} step {step}: Pareto-efficient within {method}", "rule",
                     bool(printed_mark), bool(mark), agree=bool(printed_mark) == bool(mark))
            )
        rows.append(
            _row("3", f"{method}: number of checkpoints (six per trajectory, section 6.2)",
                 "design", DESIGN["checkpoints_per_trajectory"], len(part))
        )

    # Table 13's Power rows average the same Qwen checkpoints that Table 3 lists.
    tolerance = _rounding(3)
    for method, part in checkpoints.groupby("method", sort=False):
        printed = summary[(summary["target"] == "Power") & (summary["method"] == method)].iloc[0]
        rows.append(
            _row("13 vs 3", f"Power {method}: N checkpoints", "arithmetic",
                 int(printed["n_checkpoints"]), len(part))
        )
        for column, source in (("mean_gain", "gain"), ("mean_nvat", "nvat")):
            rows.append(
                _row("13 vs 3", f"Power {method}: {column} = mean of Table 3 {source}",
                     "arithmetic", float(printed[column]), round(float(part[source].mean()), 5),
                     tolerance=tolerance)
            )

    for target, method, count, _, _ in summary.itertuples(index=False):
        note = ""
        if target == "Hedonism":
            note = "appendix G.3 says Hedonism has fewer stable checkpoints"
        rows.append(
            _row("13", f"{target} {method}: N checkpoints vs six per trajectory", "design",
                 DESIGN["checkpoints_per_trajectory"], int(count), note=note)
        )
    return rows


def check_split_sizes() -> list[dict]:
    """Check Table 9 and the split sizes of section 4 against the stated design."""
    counts = paper_table(9)
    train = counts[counts["split"] == "Train"]["total_samples"]
    test = int(counts[counts["split"] == "Test"]["total_samples"].iloc[0])
    design_total = (
        DESIGN["countries"] * DESIGN["topics"] * DESIGN["scenes_per_country_topic"]
        * DESIGN["micro_values"] * DESIGN["polarities"]
    )
    design_scenes = DESIGN["countries"] * DESIGN["topics"] * DESIGN["scenes_per_country_topic"]
    text_train, text_test = DESIGN["train_samples_text"], DESIGN["test_samples_text"]
    rows = [
        _row("design", "total samples = 12 x 11 x 2 x 56 x 2", "design",
             DESIGN["total_samples"], design_total),
        _row("text", "scenes: 29,568 'scenarios' (section 1) vs 12 x 11 x 2 scenes", "design",
             DESIGN["total_samples"], design_scenes,
             note="section 1 calls the 29,568 scene-action samples scenarios; Table 5 has 264 scenes"),
        _row("text", "train + test samples (section 4: 20,566 + 9,002)", "arithmetic",
             DESIGN["total_samples"], text_train + text_test),
        _row("text", "test share 9,002 / 29,568 (stated 30%)", "design",
             DESIGN["test_share"], round(text_test / DESIGN["total_samples"], 4),
             tolerance=0.005),
        _row("9", "train samples: sum of the ten value splits vs 20,566 (section 4)",
             "arithmetic", text_train, int(train.sum())),
        _row("9", "train + test samples vs 29,568", "arithmetic",
             DESIGN["total_samples"], int(train.sum()) + test),
        _row("9", "test samples: 9,002 as in section 4", "arithmetic", text_test, test),
        _row("9", "test samples are whole scenes of 112 (nearest multiple)", "design",
             test, SAMPLES_PER_SCENE * round(test / SAMPLES_PER_SCENE),
             note="appendix C says split sizes also reflect filtering during construction"),
    ]
    return rows


def implied_train_scenes() -> pd.DataFrame:
    """Return, per Table 9 train split, the number of scenes its count implies.

    A value with m micro-values contributes 2 m samples per scene (one
    expressing and one suppressing action for each), so count / (2 m) scenes.
    The stated 70/30 split of 264 scenes gives 184.8 train scenes.
    """
    counts = paper_table(9)
    train = counts[counts["split"] == "Train"]
    rows = []
    for value, count in zip(train["value"], train["total_samples"]):
        micro = len(micro_values_of(value))
        rows.append(
            {
                "value": value,
                "micro_values": micro,
                "train_samples": int(count),
                "implied_scenes": count / (DESIGN["polarities"] * micro),
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["design_train_scenes"] = (
        DESIGN["train_share"] * DESIGN["countries"] * DESIGN["topics"]
        * DESIGN["scenes_per_country_topic"]
    )
    return frame


def check_robustness_tables() -> list[dict]:
    """Check Tables 11 and 12 against their printed ranges and the text of appendix G.2."""
    sweep = paper_table(11)
    ranks = paper_table(12)
    rows = []
    for beta, mean_gain, low, high, mean_nvat, _, _ in sweep.itertuples(index=False):
        rows.append(
            _row("11", f"beta {beta}: mean Gain inside the printed Gain range", "bound",
                 mean_gain, f"[{low:.2f}, {high:.2f}]",
                 agree=bool(low - 0.005 <= mean_gain <= high + 0.005))
        )
        rows.append(
            _row("11", f"beta {beta}: mean nVAT inside the band of the text (about 0.12-0.14)",
                 "bound", mean_nvat, "[0.12, 0.14]", agree=bool(0.12 <= mean_nvat <= 0.14))
        )
    rows.append(
        _row("12", "smallest rho vs the text's 'rho >= 0.78'", "bound",
             0.78, float(ranks["spearman_rho"].min()), tolerance=0.0,
             agree=bool(ranks["spearman_rho"].min() >= 0.78))
    )
    attainable = attainable_spearman(N_VALUES)
    for beta, rho in ranks.itertuples(index=False):
        nearest = float(attainable[np.argmin(np.abs(attainable - rho))])
        rows.append(
            _row("12", f"beta {beta}: rho is attainable for two rankings of {N_VALUES} values",
                 "bound", rho, round(nearest, 4), tolerance=0.005,
                 note="nearest value 1 - 12 j / 990 (rankings without ties)")
        )
    return rows


def check_steering_tables() -> list[dict]:
    """Check that every Gini and nVAT in Tables 2 and 10 lies in its possible range.

    Gini over |V| = 10 loads lies in [0, 0.9]; nVAT (diagonal excluded) lies in
    [0, sqrt(|V| - 1)] = [0, 3].
    """
    rows = []
    gini_max = (N_VALUES - 1) / N_VALUES
    nvat_max = math.sqrt(N_VALUES - 1)
    for number in (2, 10):
        table = paper_table(number)
        outside = int(((table["gini"] < 0) | (table["gini"] > gini_max)).sum())
        rows.append(
            _row(str(number), f"Gini entries outside [0, {gini_max:.1f}]", "bound", 0, outside)
        )
        outside = int(((table["nvat"] < 0) | (table["nvat"] > nvat_max)).sum())
        rows.append(
            _row(str(number), f"nVAT entries outside [0, {nvat_max:.0f}]", "bound", 0, outside)
        )
    return rows


def self_checks() -> pd.DataFrame:
    """Run every self-consistency check and return one row per check.

    Columns: ``table`` (which table or "text"), ``quantity``, ``kind``,
    ``paper`` (the printed value), ``recomputed``, ``difference``
    (recomputed - paper, where both are numbers), ``tolerance`` (the printed
    rounding), ``agree`` (True, False, or NA where the paper prints no value)
    and ``note``.
    """
    rows = (
        check_human_evaluation()
        + check_training_trajectories()
        + check_split_sizes()
        + check_robustness_tables()
        + check_steering_tables()
    )
    frame = pd.DataFrame(rows, columns=list(CHECK_COLUMNS))
    frame["agree"] = frame["agree"].astype("boolean")
    return frame


def mismatches(checks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the checks whose paper and recomputed values disagree."""
    table = self_checks() if checks is None else checks
    return table[table["agree"].eq(False).fillna(False).astype(bool)]
