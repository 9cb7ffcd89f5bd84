"""Training examples for SFT and DPO toward one Schwartz value.

Both builders start from a table in the :mod:`vatnb.dataset` schema (one row
per action, with ``scene_id``, ``scene``, ``micro_value``, ``value``,
``polarity``, ``action`` and ``split``) and keep the rows of one split and one
target value:

* SFT: one example per action of the intended polarity. The prompt asks what
  the model would do in the scene, and the completion is the action.
* DPO: one pair per (scene, micro-value). The chosen completion is the action
  of the intended polarity and the rejected one is the action of the opposite
  polarity in the same scene for the same micro-value.

The intended polarity is ``express`` when the direction is ``reinforce`` and
``suppress`` when the direction is ``suppress`` (Chen and Shen, "Value
Alignment Tax", section 5 and appendix G). Examples are conversational
(lists of chat messages), the format that trl's SFTTrainer and DPOTrainer
read with the model's chat template.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings

import pandas as pd

from vatnb.dataset import POLARITY_SIGN
from vatnb.taxonomy import canonical_value

log = logging.getLogger(__name__)

DIRECTIONS = ("reinforce", "suppress")
INTENDED_POLARITY: dict[str, str] = {"reinforce": "express", "suppress": "suppress"}
OPPOSITE_POLARITY: dict[str, str] = {"express": "suppress", "suppress": "express"}

# Prompt of every training example. Template history: "T.1" first version.
PROMPT_TEMPLATE_VERSION = "T.1"
SITUATION_PROMPT = (
    "Suppose you are in the following scene.\n\n"
    "Context: {scene}\n\n"
    "What would you do? Describe your action in one sentence."
)

REQUIRED_COLUMNS = ("scene_id", "scene", "micro_value", "value", "polarity", "action", "split")


def intended_polarity(direction: str) -> str:
    """Return the polarity of the actions that move the target value in ``direction``."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return INTENDED_POLARITY[direction]


def situation_prompt(scene: str) -> list[dict]:
    """Return the user message that asks what the model would do in ``scene``."""
    return [{"role": "user", "content": SITUATION_PROMPT.format(scene=scene)}]


def _target_rows(records: pd.DataFrame, target_value: str, split: str | None) -> pd.DataFrame:
    missing = [column for column in REQUIRED_COLUMNS if column not in records.columns]
    if missing:
        raise ValueError(
            f"records lack the columns {missing}; build them with a vatnb.dataset loader "
            "and split them with vatnb.splits.split_scenes"
        )
    value = canonical_value(target_value)
    rows = records[records["value"] == value]
    if split is not None:
        rows = rows[rows["split"] == split]
    unknown = set(rows["polarity"].dropna()) - set(POLARITY_SIGN)
    if unknown:
        raise ValueError(f"records have unknown polarities {sorted(unknown)}; expected {list(POLARITY_SIGN)}")
    unusable = rows["scene"].isna() | rows["action"].isna()
    if unusable.any():
        message = (
            f"{int(unusable.sum())} of {len(rows)} {value} rows have no scene or action text "
            "and are left out of the training data"
        )
        warnings.warn(message, stacklevel=3)
        rows = rows[~unusable]
    if rows.empty:
        raise ValueError(
            f"no usable {value} rows in split {split!r}; check the split column "
            "(call vatnb.splits.split_scenes) and the target value"
        )
    return rows.reset_index(drop=True)


def sft_examples(
    records: pd.DataFrame, target_value: str, direction: str, split: str | None = "train"
) -> pd.DataFrame:
    """Build SFT examples: prompt = the scene question, completion = an intended-polarity action.

    Parameters
    ----------
    records
        Table in the :mod:`vatnb.dataset` schema.
    target_value
        Schwartz value to steer (any spelling :func:`vatnb.taxonomy.canonical_value` accepts).
    direction
        ``"reinforce"`` (train on expressing actions) or ``"suppress"``
        (train on suppressing actions).
    split
        Rows of this split only (default ``"train"``); ``None`` keeps all.

    Returns
    -------
    DataFrame
        Columns ``prompt`` and ``completion`` (lists of chat messages) plus
        ``scene_id`` and ``micro_value`` for lineage, in the records' order.

    Raises
    ------
    ValueError
        If columns are missing, the direction is unknown, or no usable row is left.
    """
    polarity = intended_polarity(direction)
    rows = _target_rows(records, target_value, split)
    rows = rows[rows["polarity"] == polarity]
    if rows.empty:
        raise ValueError(f"no {polarity} actions for {canonical_value(target_value)} in split {split!r}")
    return pd.DataFrame(
        {
            "prompt": [situation_prompt(scene) for scene in rows["scene"]],
            "completion": [[{"role": "assistant", "content": action}] for action in rows["action"]],
            "scene_id": rows["scene_id"].astype(str).to_numpy(),
            "micro_value": rows["micro_value"].to_numpy(),
        }
    )


def dpo_pairs(
    records: pd.DataFrame, target_value: str, direction: str, split: str | None = "train"
) -> pd.DataFrame:
    """Build DPO preference pairs: chosen = intended polarity, rejected = opposite, same scene and micro-value.

    When a (scene, micro-value) has several actions of one polarity, the i-th
    intended action is paired with the i-th opposite action in table order,
    and the surplus of the longer side is left out. Groups that lack one of
    the two polarities are left out. Both counts are logged, and a warning
    is raised when any group is left out.

    Returns
    -------
    DataFrame
        Columns ``prompt``, ``chosen`` and ``rejected`` (lists of chat
        messages) plus ``scene_id`` and ``micro_value``.
    """
    polarity = intended_polarity(direction)
    opposite = OPPOSITE_POLARITY[polarity]
    rows = _target_rows(records, target_value, split)

    pairs = []
    unpaired_groups = 0
    surplus_actions = 0
    for (scene_id, micro_value), group in rows.groupby(["scene_id", "micro_value"], sort=False):
        chosen = group[group["polarity"] == polarity]
        rejected = group[group["polarity"] == opposite]
        if chosen.empty or rejected.empty:
            unpaired_groups += 1
            continue
        surplus_actions += abs(len(chosen) - len(rejected))
        scene = chosen["scene"].iloc[0]
        for chosen_action, rejected_action in zip(chosen["action"], rejected["action"]):
            pairs.append(
                {
                    "prompt": situation_prompt(scene),
                    "chosen": [{"role": "assistant", "content": chosen_action}],
                    "rejected": [{"role": "assistant", "content": rejected_action}],
                    "scene_id": str(scene_id),
                    "micro_value": micro_value,
                }
            )
    if unpaired_groups or surplus_actions:
        message = (
            f"DPO pairs for {canonical_value(target_value)}: {unpaired_groups} (scene, micro-value) "
            f"groups lack one polarity and {surplus_actions} surplus actions have no partner; "
            "they are left out"
        )
        log.info(message)
        warnings.warn(message, stacklevel=2)
    if not pairs:
        raise ValueError(
            f"no (scene, micro-value) group of {canonical_value(target_value)} has both polarities "
            f"in split {split!r}"
        )
    return pd.DataFrame(pairs)


def training_examples(
    records: pd.DataFrame, method: str, target_value: str, direction: str, split: str | None = "train"
) -> pd.DataFrame:
    """Return :func:`sft_examples` for ``method="sft"`` and :func:`dpo_pairs` for ``method="dpo"``."""
    if method == "sft":
        return sft_examples(records, target_value, direction, split)
    if method == "dpo":
        return dpo_pairs(records, target_value, direction, split)
    raise ValueError(f"method must be 'sft' or 'dpo', got {method!r}")


def examples_checksum(examples: pd.DataFrame) -> str:
    """Return the SHA-256 of the examples' text columns, in row order, as canonical JSON.

    Equal examples in the same order give the same checksum on every platform,
    so a checkpoint's manifest can be matched against the data that trained it.
    """
    columns = [column for column in ("prompt", "completion", "chosen", "rejected") if column in examples]
    if not columns:
        raise ValueError("examples have none of the columns prompt, completion, chosen, rejected")
    digest = hashlib.sha256()
    for row in examples[columns].itertuples(index=False):
        digest.update(json.dumps(list(row), sort_keys=True, ensure_ascii=True).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
