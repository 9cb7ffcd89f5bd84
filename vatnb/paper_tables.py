"""The paper's own tables, transcribed as reference data.

Source: Chen and Shen, "Value Alignment Tax: Measuring Value Trade-offs in
LLM Alignment", Tables 1, 2, 3, 8, 9, 10, 11, 12 and 13. Every number is
copied as printed, with the printed number of decimals, and nothing is
corrected: where the paper's numbers disagree with each other,
:mod:`vatnb.selfcheck` reports it and this module keeps both sides as they
are. Each table is a tidy DataFrame (one row per observation, one column per
quantity); ``frame.attrs`` holds ``table``, ``section``, ``caption`` (the
first sentence of the printed caption) and ``decimals`` (the printed
precision of each numeric column, which sets the rounding tolerance of the
self-checks).

Examples
--------
>>> from vatnb.paper_tables import paper_table
>>> paper_table(3).query("method == 'DPO'")["gain"].tolist()
[-0.005, 0.12, 0.103, 0.125, 0.105, 0.109]
"""

from __future__ import annotations

import pandas as pd

TABLE_NUMBERS: tuple[int, ...] = (1, 2, 3, 8, 9, 10, 11, 12, 13)

MODELS = ("DeepSeek", "GPT", "Gemini", "Qwen")
SHOTS = (2, 4, 8)


def _frame(rows, columns, *, table: int, section: str, caption: str, decimals: dict):
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs.update(table=table, section=section, caption=caption, decimals=dict(decimals))
    return frame


def _wide_by_shots(rows) -> list[tuple]:
    """Turn (model, target, 3 gains, 3 nVATs, 3 Ginis[, 3 stds]) rows into one row per shot."""
    long_rows = []
    for model, target, *numbers in rows:
        groups = [numbers[i : i + 3] for i in range(0, len(numbers), 3)]
        for position, shots in enumerate(SHOTS):
            long_rows.append((model, target, shots, *(group[position] for group in groups)))
    return long_rows


def table1() -> pd.DataFrame:
    """Table 1 (section 4, Human Evaluation): human ratings of the dataset.

    Caption (first sentence): "Human evaluation results aggregated across all
    scenarios and cultures." Five-point Likert scales; ``agreement`` is the
    share of scenarios where at least two annotators share a stance (agree 4-5,
    neutral 3, disagree 1-2). Columns: ``dimension``, ``group`` (scene or
    action, following the composite scores S_scene and S_action of section 4),
    ``mean``, ``std``, ``agreement``.
    """
    rows = [
        ("Scenario realism", "scene", 3.77, 0.64, 1.00),
        ("Cultural grounding", "scene", 3.24, 0.68, 0.67),
        ("Affordance richness", "scene", 3.60, 0.47, 0.89),
        ("Normative neutrality", "scene", 2.97, 0.60, 0.67),
        ("Action correctness", "action", 4.20, 0.25, 0.89),
        ("Action plausibility", "action", 3.87, 0.42, 0.89),
        ("Action sufficiency", "action", 3.89, 0.30, 0.89),
        ("Harmlessness", "action", 4.30, 0.48, 0.89),
    ]
    return _frame(
        rows,
        ["dimension", "group", "mean", "std", "agreement"],
        table=1,
        section="4 (Data Construction, Human Evaluation)",
        caption="Human evaluation results aggregated across all scenarios and cultures.",
        decimals={"mean": 2, "std": 2, "agreement": 2},
    )


# Steering direction of each target in Tables 2 and 10: section 5 reinforces Security and
# suppresses Power, Stimulation and Hedonism; Table 10 steers toward Benevolence and
# Universalism. The tables print no direction column of their own.
STEERING_DIRECTIONS = {
    "Security": "reinforce", "Power": "suppress", "Stimulation": "suppress", "Hedonism": "suppress",
    "Benevolence": "reinforce", "Universalism": "reinforce",
}


def table2() -> pd.DataFrame:
    """Table 2 (section 6.1): prompt-steering results of four models on four targets.

    Caption (first sentence): "Prompt-based alignment results." One row per
    (model, steered value, shots); columns ``gain`` (higher is better),
    ``nvat`` (lower is better), ``gini`` and ``nvat_std`` (the printed
    "± std (nVAT)" column, from scene-level resampling). Security is steered to
    reinforce it; Power, Stimulation and Hedonism to suppress it (section 5).
    The colour marks of the printed table (blue efficient, red risky) are not
    in the text the project has, so they are not transcribed.
    """
    rows = [
        ("DeepSeek", "Security", 0.08, 0.02, 0.05, 0.11, 0.10, 0.11, 0.15, 0.14, 0.14, 0.01, 0.02, 0.01),
        ("DeepSeek", "Power", 0.06, 0.11, 0.11, 0.12, 0.09, 0.11, 0.10, 0.08, 0.07, 0.02, 0.01, 0.02),
        ("DeepSeek", "Hedonism", 0.34, 0.42, 0.44, 0.11, 0.10, 0.10, 0.08, 0.13, 0.13, 0.01, 0.01, 0.01),
        ("DeepSeek", "Stimulation", 0.35, 0.55, 0.51, 0.10, 0.12, 0.11, 0.09, 0.16, 0.13, 0.02, 0.02, 0.02),
        ("GPT", "Security", 0.07, 0.14, 0.09, 0.15, 0.13, 0.14, 0.12, 0.11, 0.12, 0.02, 0.02, 0.01),
        ("GPT", "Power", 0.12, 0.09, 0.08, 0.14, 0.13, 0.13, 0.09, 0.08, 0.11, 0.02, 0.02, 0.02),
        ("GPT", "Hedonism", 0.05, 0.02, 0.06, 0.14, 0.14, 0.13, 0.15, 0.16, 0.14, 0.02, 0.01, 0.02),
        ("GPT", "Stimulation", -0.11, -0.18, -0.14, 0.14, 0.13, 0.12, 0.14, 0.13, 0.15, 0.02, 0.02, 0.02),
        ("Gemini", "Security", 0.20, 0.24, 0.20, 0.13, 0.13, 0.12, 0.12, 0.09, 0.11, 0.01, 0.02, 0.02),
        ("Gemini", "Power", 0.22, 0.26, 0.23, 0.12, 0.13, 0.12, 0.10, 0.14, 0.13, 0.02, 0.02, 0.02),
        ("Gemini", "Hedonism", 0.76, 0.65, 0.83, 0.12, 0.13, 0.13, 0.08, 0.13, 0.07, 0.02, 0.02, 0.01),
        ("Gemini", "Stimulation", 0.32, 0.40, 0.38, 0.12, 0.13, 0.11, 0.10, 0.11, 0.12, 0.02, 0.02, 0.02),
        ("Qwen", "Security", 0.14, 0.12, 0.16, 0.11, 0.11, 0.11, 0.13, 0.15, 0.13, 0.01, 0.01, 0.02),
        ("Qwen", "Power", 0.07, 0.09, 0.09, 0.11, 0.11, 0.10, 0.11, 0.10, 0.09, 0.02, 0.02, 0.01),
        ("Qwen", "Hedonism", 0.41, 0.39, 0.45, 0.10, 0.10, 0.09, 0.12, 0.12, 0.10, 0.01, 0.02, 0.01),
        ("Qwen", "Stimulation", 0.52, 0.50, 0.56, 0.12, 0.12, 0.12, 0.14, 0.13, 0.15, 0.02, 0.01, 0.02),
    ]
    return _frame(
        _wide_by_shots(rows),
        ["model", "target", "shots", "gain", "nvat", "gini", "nvat_std"],
        table=2,
        section="6.1 (Can VAT identify trade-offs beyond on-target alignment gain?)",
        caption="Prompt-based alignment results.",
        decimals={"gain": 2, "nvat": 2, "gini": 2, "nvat_std": 2},
    )


def table3() -> pd.DataFrame:
    """Table 3 (section 6.2): Qwen SFT and DPO checkpoints when suppressing Power.

    Caption: "Chronological distribution of Pareto-efficient checkpoints
    across training phases." One row per checkpoint; ``checkpoint`` is the
    training step, ``stage`` the printed phase (Early, Mid, Late) and
    ``pareto`` whether the printed table marks it efficient. The target
    (Power, suppressed) comes from the caption of the paper's Figure 3, which
    plots the same checkpoints.
    """
    rows = [
        ("DPO", 40, -0.005, 0.122, "Early", True),
        ("DPO", 120, 0.120, 0.126, "Mid", True),
        ("DPO", 160, 0.103, 0.141, "Mid", False),
        ("DPO", 240, 0.125, 0.131, "Late", True),
        ("DPO", 280, 0.105, 0.134, "Late", False),
        ("DPO", 348, 0.109, 0.158, "Late", False),
        ("SFT", 40, -0.081, 0.124, "Early", False),
        ("SFT", 120, 0.029, 0.112, "Mid", True),
        ("SFT", 160, 0.012, 0.121, "Mid", False),
        ("SFT", 240, -0.028, 0.124, "Late", False),
        ("SFT", 280, -0.013, 0.099, "Late", True),
        ("SFT", 348, -0.008, 0.128, "Late", False),
    ]
    return _frame(
        rows,
        ["method", "checkpoint", "gain", "nvat", "stage", "pareto"],
        table=3,
        section="6.2 (Pareto efficiency emerges across training phases)",
        caption="Chronological distribution of Pareto-efficient checkpoints across training phases.",
        decimals={"gain": 3, "nvat": 3},
    )


def table8() -> pd.DataFrame:
    """Table 8 (appendix C, with the metrics of appendix B.4): annotator agreement.

    Caption (first sentence): "Annotator agreement statistics from human
    evaluation." Three annotators per instance. ``agreement_at_least_2`` is
    the share of instances where at least two annotators share a stance;
    ``majority_ratio`` is the mean of max_c n_c / 3 over instances. Dimension
    names are as printed (Table 1 spells three of them differently).
    """
    rows = [
        ("Scenario realism", 1.00, 0.87),
        ("Cultural grounding", 0.67, 0.65),
        ("Affordance richness", 0.89, 0.81),
        ("Normative neutrality", 0.67, 0.60),
        ("Action correctness", 0.89, 0.75),
        ("Harmlessness", 0.89, 0.81),
        ("Sufficiency", 0.89, 0.75),
        ("Plausibility", 0.89, 0.82),
    ]
    return _frame(
        rows,
        ["dimension", "agreement_at_least_2", "majority_ratio"],
        table=8,
        section="C (Dataset Statistics); metrics defined in B.4",
        caption="Annotator agreement statistics from human evaluation.",
        decimals={"agreement_at_least_2": 2, "majority_ratio": 2},
    )


def table9() -> pd.DataFrame:
    """Table 9 (appendix C): sample counts of the value-specific train splits and the test set.

    Caption (first sentence): "Dataset statistics." Columns ``split``
    (Train or Test), ``value`` (as printed: "Self-direction", and "All values"
    for the test set) and ``total_samples``.
    """
    rows = [
        ("Train", "Universalism", 3398),
        ("Train", "Benevolence", 3384),
        ("Train", "Security", 2646),
        ("Train", "Tradition", 2270),
        ("Train", "Achievement", 2264),
        ("Train", "Self-direction", 1876),
        ("Train", "Power", 1874),
        ("Train", "Conformity", 1500),
        ("Train", "Stimulation", 1118),
        ("Train", "Hedonism", 748),
        ("Test", "All values", 9002),
    ]
    return _frame(
        rows,
        ["split", "value", "total_samples"],
        table=9,
        section="C (Dataset Statistics)",
        caption="Dataset statistics.",
        decimals={"total_samples": 0},
    )


def table10() -> pd.DataFrame:
    """Table 10 (appendix F): prompt steering toward Benevolence and Universalism.

    Caption (first sentence): "Additional diagnostic experiments covering the
    Self-Transcendence sector of the Schwartz circumplex." Same layout as
    :func:`table2` without the std column, printed with three decimals.
    """
    rows = [
        ("DeepSeek", "Benevolence", 0.079, 0.084, 0.083, 0.115, 0.115, 0.097, 0.123, 0.114, 0.205),
        ("DeepSeek", "Universalism", 0.026, -0.042, 0.020, 0.121, 0.104, 0.117, 0.122, 0.109, 0.133),
        ("GPT", "Benevolence", 0.128, 0.174, 0.127, 0.141, 0.136, 0.127, 0.138, 0.093, 0.137),
        ("GPT", "Universalism", -0.094, 0.179, 0.021, 0.143, 0.147, 0.120, 0.094, 0.140, 0.148),
        ("Gemini", "Benevolence", 0.134, 0.134, 0.146, 0.113, 0.124, 0.136, 0.113, 0.138, 0.100),
        ("Gemini", "Universalism", 0.096, 0.110, 0.108, 0.139, 0.135, 0.138, 0.122, 0.088, 0.080),
        ("Qwen", "Benevolence", 0.182, 0.237, 0.113, 0.118, 0.132, 0.114, 0.150, 0.132, 0.113),
        ("Qwen", "Universalism", 0.207, 0.341, 0.237, 0.108, 0.110, 0.136, 0.093, 0.106, 0.122),
    ]
    return _frame(
        _wide_by_shots(rows),
        ["model", "target", "shots", "gain", "nvat", "gini"],
        table=10,
        section="F (Additional prompt-based alignment results)",
        caption="Additional diagnostic experiments covering the Self-Transcendence sector "
        "of the Schwartz circumplex.",
        decimals={"gain": 3, "nvat": 3, "gini": 3},
    )


def table11() -> pd.DataFrame:
    """Table 11 (appendix G.2): DPO under three values of the preference parameter beta.

    Caption: "Sensitivity of DPO to the preference parameter beta under
    identical training configurations." One row per beta; the printed
    "Gain Range [low, high]" becomes ``gain_min`` and ``gain_max``.
    """
    rows = [
        (0.01, 0.015, 0.00, 0.06, 0.135, 0.010, 0.106),
        (0.05, 0.015, -0.01, 0.06, 0.127, 0.006, 0.110),
        (0.50, 0.014, -0.01, 0.06, 0.128, 0.008, 0.106),
    ]
    return _frame(
        rows,
        ["beta", "mean_gain", "gain_min", "gain_max", "mean_nvat", "nvat_std", "mean_gini"],
        table=11,
        section="G.2 (Sensitivity to the DPO Preference Parameter)",
        caption="Sensitivity of DPO to the preference parameter beta under identical "
        "training configurations.",
        decimals={
            "mean_gain": 3, "gain_min": 2, "gain_max": 2,
            "mean_nvat": 3, "nvat_std": 3, "mean_gini": 3,
        },
    )


def table12() -> pd.DataFrame:
    """Table 12 (appendix G.2): Spearman rho of each beta's VAT ranking against beta = 0.01.

    Caption: "Stability of VAT value rankings relative to beta = 0.01."
    Columns ``beta`` and ``spearman_rho``; the reference beta is in
    ``attrs["reference_beta"]``.
    """
    frame = _frame(
        [(0.05, 0.94), (0.50, 0.78)],
        ["beta", "spearman_rho"],
        table=12,
        section="G.2 (Sensitivity to the DPO Preference Parameter)",
        caption="Stability of VAT value rankings relative to beta = 0.01.",
        decimals={"spearman_rho": 2},
    )
    frame.attrs["reference_beta"] = 0.01
    return frame


def table13() -> pd.DataFrame:
    """Table 13 (appendix G.3): SFT and DPO statistics per target, over checkpoints.

    Caption (first sentence): "Cross-target statistics for SFT and DPO under
    matched training configurations." Means are over all available
    checkpoints of a method and target; the printed "DPO (N=4)" becomes
    ``method`` = DPO and ``n_checkpoints`` = 4.
    """
    rows = [
        ("Hedonism", "DPO", 4, 0.091, 0.121),
        ("Hedonism", "SFT", 1, 0.069, 0.122),
        ("Power", "DPO", 6, 0.093, 0.135),
        ("Power", "SFT", 6, -0.011, 0.118),
        ("Security", "DPO", 6, -0.148, 0.121),
        ("Security", "SFT", 6, -0.118, 0.101),
        ("Stimulation", "DPO", 6, 0.081, 0.111),
        ("Stimulation", "SFT", 6, 0.253, 0.110),
    ]
    return _frame(
        rows,
        ["target", "method", "n_checkpoints", "mean_gain", "mean_nvat"],
        table=13,
        section="G.3 (Cross-Target Comparative Analysis of SFT and DPO)",
        caption="Cross-target statistics for SFT and DPO under matched training configurations.",
        decimals={"mean_gain": 3, "mean_nvat": 3},
    )


_BUILDERS = {
    1: table1, 2: table2, 3: table3, 8: table8, 9: table9,
    10: table10, 11: table11, 12: table12, 13: table13,
}


def paper_table(number: int) -> pd.DataFrame:
    """Return a fresh copy of the paper's Table ``number`` (one of :data:`TABLE_NUMBERS`).

    Raises
    ------
    ValueError
        If the table is not transcribed here.
    """
    if number not in _BUILDERS:
        raise ValueError(
            f"paper Table {number!r} is not transcribed; available: {list(TABLE_NUMBERS)}"
        )
    return _BUILDERS[number]()


def table_index() -> pd.DataFrame:
    """Return one row per transcribed table: number, section, caption and row count."""
    rows = []
    for number in TABLE_NUMBERS:
        frame = paper_table(number)
        rows.append(
            {
                "table": number,
                "section": frame.attrs["section"],
                "caption": frame.attrs["caption"],
                "rows": len(frame),
            }
        )
    return pd.DataFrame(rows)


# Stated design of the dataset (paper, section 4 and Table 5): every count the
# self-checks compare split sizes against.
DESIGN = {
    "countries": 12,
    "topics": 11,
    "scenes_per_country_topic": 2,
    "micro_values": 56,
    "polarities": 2,
    "total_samples": 29568,
    "train_samples_text": 20566,
    "test_samples_text": 9002,
    "train_share": 0.70,
    "test_share": 0.30,
    "checkpoints_per_trajectory": 6,
}
