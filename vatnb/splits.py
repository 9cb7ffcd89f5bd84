"""Scene-level train/test splits and the value-specific training splits.

Chen and Shen, "Value Alignment Tax", split its 264 scenes 70/30, stratified by (country, topic), so that
no scene contributes actions to both parts; the training part is then cut
into one split per Schwartz value, each the training data of one steering
objective (their section 4 and Appendix C, Table 9).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from vatnb.taxonomy import VALUES

log = logging.getLogger(__name__)

STRATA = ("country", "topic")


def split_scenes(
    records: pd.DataFrame,
    test_fraction: float = 0.3,
    seed: int | np.random.Generator = 0,
    strata: tuple[str, ...] = STRATA,
) -> pd.DataFrame:
    """Assign every scene to ``"train"`` or ``"test"`` and return the records with ``split`` set.

    The number of test scenes is ``round(test_fraction * n_scenes)``. It is
    shared out over the strata in proportion to their scene counts by the
    largest-remainder method: each stratum gets the integer part of its
    quota, and the leftover scenes go to the strata with the largest
    fractional parts, ties broken by the seeded generator. Within a stratum
    the test scenes are a seeded random draw. With two scenes per stratum
    (the design of Chen and Shen) and 30% test, most strata keep both scenes in one
    part, because a stratum cannot hold 0.6 test scenes.

    Parameters
    ----------
    records
        Table in the :mod:`vatnb.dataset` schema.
    test_fraction
        Share of scenes in the test part, strictly between 0 and 1.
    seed
        Integer seed or a ``numpy.random.Generator``.
    strata
        Columns that define the strata (default country and topic).

    Raises
    ------
    ValueError
        If ``test_fraction`` is outside (0, 1), a stratum column is missing,
        or one scene id appears under two strata.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    missing = [column for column in ("scene_id", *strata) if column not in records.columns]
    if missing:
        raise ValueError(f"records lack the columns {missing} needed to split by scene")
    rng = np.random.default_rng(seed)

    scenes = records[["scene_id", *strata]].drop_duplicates()
    duplicated = scenes["scene_id"][scenes["scene_id"].duplicated()]
    if len(duplicated):
        raise ValueError(
            f"scene ids {sorted(set(duplicated))[:5]} appear under more than one "
            f"{'/'.join(strata)} combination; a scene must belong to one stratum"
        )
    scenes = scenes.sort_values(["scene_id"]).reset_index(drop=True)
    groups = {key: list(frame["scene_id"]) for key, frame in scenes.groupby(list(strata), sort=True)}

    keys = list(groups)
    quotas = np.array([test_fraction * len(groups[key]) for key in keys])
    counts = np.floor(quotas).astype(int)
    leftover = int(round(test_fraction * len(scenes))) - int(counts.sum())
    if leftover > 0:
        remainders = quotas - counts
        tie_breaker = rng.random(len(keys))
        order = np.lexsort((tie_breaker, -remainders))
        counts[order[:leftover]] += 1

    test_scenes: set[str] = set()
    for key, count in zip(keys, counts):
        members = groups[key]
        chosen = rng.choice(len(members), size=count, replace=False)
        test_scenes.update(members[index] for index in chosen)

    result = records.copy()
    result["split"] = np.where(result["scene_id"].isin(test_scenes), "test", "train")
    log.info(
        "split %d scenes into %d train and %d test (%d strata)",
        len(scenes), len(scenes) - len(test_scenes), len(test_scenes), len(keys),
    )
    return result


def value_training_splits(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the training rows of each Schwartz value, both polarities, in circumplex order.

    Raises
    ------
    ValueError
        If no row has ``split == "train"`` (call :func:`split_scenes` first).
    """
    train = records[records["split"] == "train"]
    if train.empty:
        raise ValueError("records have no rows with split == 'train'; call split_scenes first")
    return {
        value: train[train["value"] == value].reset_index(drop=True)
        for value in VALUES
        if (train["value"] == value).any()
    }


def split_table(records: pd.DataFrame) -> pd.DataFrame:
    """Count samples per split in the layout of the paper's Table 9.

    One row per value-specific training split (largest first), then one row
    for the test part over all values. Columns: ``split``, ``value``,
    ``samples``, ``scenes``.
    """
    rows = []
    for value, frame in value_training_splits(records).items():
        rows.append(("Train", value, len(frame), frame["scene_id"].nunique()))
    rows.sort(key=lambda row: (-row[2], row[1]))
    test = records[records["split"] == "test"]
    rows.append(("Test", "All values", len(test), test["scene_id"].nunique()))
    return pd.DataFrame(rows, columns=["split", "value", "samples", "scenes"])


# Sample counts per split from Chen and Shen, "Value Alignment Tax", Table 9.
PAPER_TABLE_9: tuple[tuple[str, str, int], ...] = (
    ("Train", "Universalism", 3398),
    ("Train", "Benevolence", 3384),
    ("Train", "Security", 2646),
    ("Train", "Tradition", 2270),
    ("Train", "Achievement", 2264),
    ("Train", "Self-Direction", 1876),
    ("Train", "Power", 1874),
    ("Train", "Conformity", 1500),
    ("Train", "Stimulation", 1118),
    ("Train", "Hedonism", 748),
    ("Test", "All values", 9002),
)


def paper_table_9() -> pd.DataFrame:
    """Return the paper's Table 9 (columns ``split``, ``value``, ``samples``)."""
    return pd.DataFrame(list(PAPER_TABLE_9), columns=["split", "value", "samples"])
