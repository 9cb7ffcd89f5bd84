"""The canonical scenario-value-action table and loaders into it.

Every source of actions ends up as one pandas DataFrame with the columns in
:data:`SCHEMA_COLUMNS`, one row per action:

============== ===============================================================
``scene_id``    scenario identifier; splits and resampling work on it
``country``     one of the 12 countries (``COUNTRIES``)
``topic``       social topic, spelled as the source spells it
``scene``       scene text, or missing when the source has no scene text
``micro_value`` canonical micro-value name (``vatnb.taxonomy.MICRO_VALUES``)
``value``       its Schwartz value, derived from the fixed mapping
``polarity``    ``"express"`` or ``"suppress"`` (sign +1 / -1, ``POLARITY_SIGN``)
``action``      action text, or missing when it could not be read
``split``       ``"train"``, ``"test"`` or missing before splitting
``provenance``  where the row comes from (source name and file or dataset id)
============== ===============================================================

Public functions
----------------
- :func:`empty_records` -- an empty table with the schema's columns.
- :func:`validate_records` -- check and normalize a table to the schema.
- :func:`load_hf_dataset` -- the paper's Hugging Face dataset
  (``Tinyhope/Value_Alignment_Tax``) or any local ``datasets`` source, with
  column mapping.
- :func:`load_value_action_lens` -- the 14,784 real ValueActionLens actions,
  with a :class:`ActionParseReport` of repaired and unreadable rows.
- :func:`load_table` -- a user's CSV or Parquet file.
- :func:`builtin_offline_set` -- a templated placeholder set that needs no
  network; its text is NOT real data and its provenance column says so.
- :func:`sign_of` -- polarity name to +1 / -1.

Splits into train and test parts live in :mod:`vatnb.splits`
(``split_scenes``, ``value_training_splits``).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from vatnb.action_json import ActionParseReport, parse_action_outputs
from vatnb.taxonomy import MICRO_VALUES, canonical_micro_value, value_of

log = logging.getLogger(__name__)

SCHEMA_COLUMNS: tuple[str, ...] = (
    "scene_id",
    "country",
    "topic",
    "scene",
    "micro_value",
    "value",
    "polarity",
    "action",
    "split",
    "provenance",
)

POLARITY_SIGN: dict[str, int] = {"express": 1, "suppress": -1}

# Spellings of polarity found in sources, mapped to the schema's two names.
_POLARITY_ALIASES: dict[str, str] = {
    "express": "express",
    "expressive": "express",
    "expressing": "express",
    "reinforce": "express",
    "positive": "express",
    "pos": "express",
    "+1": "express",
    "1": "express",
    "suppress": "suppress",
    "suppressing": "suppress",
    "negative": "suppress",
    "neg": "suppress",
    "-1": "suppress",
}

# Countries and topics of the paper's Cartesian design (paper, Table 5).
COUNTRIES: tuple[str, ...] = (
    "United States",
    "India",
    "Pakistan",
    "Nigeria",
    "Philippines",
    "United Kingdom",
    "Germany",
    "Uganda",
    "Canada",
    "Egypt",
    "France",
    "Australia",
)
TOPICS: tuple[str, ...] = (
    "Politics",
    "Social Networks",
    "Inequality",
    "Family",
    "Work",
    "Religion",
    "Environment",
    "National Identity",
    "Citizenship",
    "Leisure",
    "Health",
)
SCENES_PER_PAIR = 2

HF_DATASET_ID = "Tinyhope/Value_Alignment_Tax"

# Column names tried, in order, for each schema column of a foreign table.
COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "scene_id": ("scene_id", "scenario_id", "scene_idx", "context_id"),
    "country": ("country", "culture", "nation"),
    "topic": ("topic", "social_topic", "domain"),
    "scene": ("scene", "scenario", "scene_text", "context", "situation"),
    "micro_value": ("micro_value", "sub_value", "subvalue", "fine_value", "value"),
    "value": ("schwartz_value", "value_type", "high_level_value"),
    "polarity": ("polarity", "direction", "stance"),
    "action": ("action", "action_text", "human_action", "generated_action", "response"),
    "split": ("split",),
}
REQUIRED_FOREIGN_COLUMNS: tuple[str, ...] = ("micro_value", "polarity", "action")


def sign_of(polarity: str) -> int:
    """Return +1 for an expressing and -1 for a suppressing polarity (any known spelling)."""
    return POLARITY_SIGN[canonical_polarity(polarity)]


def canonical_polarity(polarity: object) -> str:
    """Return ``"express"`` or ``"suppress"`` for a known spelling of a polarity.

    Raises
    ------
    ValueError
        If the spelling is unknown; the message quotes it.
    """
    key = str(polarity).strip().casefold()
    if key.endswith(".0"):
        key = key[:-2]
    try:
        return _POLARITY_ALIASES[key]
    except KeyError:
        raise ValueError(
            f"unknown polarity {polarity!r}: expected one of "
            f"{sorted(set(_POLARITY_ALIASES))}"
        ) from None


def empty_records() -> pd.DataFrame:
    """Return an empty table with the schema's columns."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in SCHEMA_COLUMNS})


def validate_records(records: pd.DataFrame) -> pd.DataFrame:
    """Check a table against the schema and return a normalized copy.

    Canonicalizes micro-value names and polarity spellings, derives ``value``
    from the micro-value, adds missing optional columns (``scene``, ``split``,
    ``provenance``) as missing values, and orders the columns as
    :data:`SCHEMA_COLUMNS`. Extra columns are kept after the schema's.

    Raises
    ------
    TypeError
        If ``records`` is not a DataFrame.
    ValueError
        If a required column is absent, or a polarity is unknown.
    vatnb.taxonomy.UnknownValueError
        If a micro-value name matches no known spelling.
    """
    if not isinstance(records, pd.DataFrame):
        raise TypeError(f"records must be a pandas DataFrame, got {type(records).__name__}")
    required = ("scene_id", "country", "topic", "micro_value", "polarity", "action")
    missing = [column for column in required if column not in records.columns]
    if missing:
        raise ValueError(
            f"records lack the columns {missing}; columns found: {list(records.columns)}"
        )
    table = records.copy()
    table["micro_value"] = [canonical_micro_value(name) for name in table["micro_value"]]
    table["value"] = [value_of(name) for name in table["micro_value"]]
    table["polarity"] = [canonical_polarity(name) for name in table["polarity"]]
    for column in ("scene", "split", "provenance"):
        if column not in table.columns:
            table[column] = None
    table["scene_id"] = table["scene_id"].astype(str)
    extra = [column for column in table.columns if column not in SCHEMA_COLUMNS]
    return table[list(SCHEMA_COLUMNS) + extra].reset_index(drop=True)


def map_columns(
    table: pd.DataFrame,
    column_map: Mapping[str, str] | None = None,
    source: str = "table",
) -> pd.DataFrame:
    """Rename a foreign table's columns to the schema's and fill what can be derived.

    Each schema column takes the column named in ``column_map`` (schema name
    to source name) or else the first match from :data:`COLUMN_CANDIDATES`
    (case-insensitive). A missing ``scene_id`` is built from country, topic
    and, when present, the scene text, so that rows of one scene share it.

    Raises
    ------
    ValueError
        When a required column (micro-value, polarity, action) has no match.
        The message lists the columns found and says how to pass ``column_map``.
    """
    column_map = dict(column_map or {})
    unknown_targets = sorted(set(column_map) - set(SCHEMA_COLUMNS))
    if unknown_targets:
        raise ValueError(
            f"column_map keys must be schema columns {list(SCHEMA_COLUMNS)}; got {unknown_targets}"
        )
    by_folded_name = {str(column).casefold(): column for column in table.columns}
    chosen: dict[str, str] = {}
    for target in SCHEMA_COLUMNS:
        if target in column_map:
            if column_map[target] not in table.columns:
                raise ValueError(
                    f"column_map names {column_map[target]!r} for {target!r}, but {source} "
                    f"has no such column; columns found: {list(table.columns)}"
                )
            chosen[target] = column_map[target]
            continue
        for candidate in COLUMN_CANDIDATES.get(target, ()):
            column = by_folded_name.get(candidate)
            if column is not None and column not in chosen.values():
                chosen[target] = column
                break
    missing = [target for target in REQUIRED_FOREIGN_COLUMNS if target not in chosen]
    if missing:
        raise ValueError(
            f"cannot map {source} to the dataset schema: no column found for {missing}. "
            f"Columns found: {list(table.columns)}. Pass column_map={{schema column: "
            f"source column}}, e.g. column_map={{'action': 'my_action_column'}}."
        )
    mapped = pd.DataFrame({target: table[column].to_numpy() for target, column in chosen.items()})
    for column in ("country", "topic"):
        if column not in mapped.columns:
            mapped[column] = None
    if "scene_id" not in mapped.columns:
        mapped["scene_id"] = _derived_scene_ids(mapped)
    mapped = mapped.drop(columns=["value"], errors="ignore")
    return mapped


def _derived_scene_ids(table: pd.DataFrame) -> list[str]:
    if "scene" in table.columns and table["scene"].notna().any():
        codes = pd.factorize(table["scene"].astype(str))[0]
        return [f"{country}|{topic}|s{code}" for country, topic, code in
                zip(table["country"], table["topic"], codes)]
    return [f"{country}|{topic}" for country, topic in zip(table["country"], table["topic"])]


def load_hf_dataset(
    name: str = HF_DATASET_ID,
    split: str | None = None,
    column_map: Mapping[str, str] | None = None,
    **load_kwargs,
) -> pd.DataFrame:
    """Load the paper's Hugging Face dataset (or any ``datasets`` source) into the schema.

    Parameters
    ----------
    name
        Hub id (default ``Tinyhope/Value_Alignment_Tax``), a local folder
        written by ``Dataset.save_to_disk``, or a builder name such as
        ``"csv"`` with ``data_files=`` in ``load_kwargs``.
    split
        One split to load; ``None`` loads all and keeps each row's split name
        in the ``split`` column (unless the data has a split column itself).
    column_map
        Schema column -> source column, for columns the candidates miss.

    Raises
    ------
    ValueError
        When the columns cannot be mapped; the message lists those found.

    Notes
    -----
    NOTE: the schema of ``Tinyhope/Value_Alignment_Tax`` was not available
    when this loader was written, so the mapping relies on
    :data:`COLUMN_CANDIDATES`; it is tested only on locally built datasets.
    """
    import datasets

    local = Path(name).expanduser()
    saved_by_datasets = (local / "dataset_info.json").exists() or (local / "dataset_dict.json").exists()
    if local.is_dir() and saved_by_datasets:
        loaded = datasets.load_from_disk(str(local))
    else:
        loaded = datasets.load_dataset(name, split=split, **load_kwargs)
    if isinstance(loaded, datasets.DatasetDict):
        parts = []
        names = [split] if split is not None else list(loaded)
        for split_name in names:
            part = loaded[split_name].to_pandas()
            if "split" not in part.columns:
                part["split"] = split_name
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True)
    else:
        frame = loaded.to_pandas()
        if split is not None and "split" not in frame.columns:
            frame["split"] = split
    mapped = map_columns(frame, column_map, source=f"dataset {name!r}")
    mapped["provenance"] = f"huggingface:{name}"
    return validate_records(mapped)


def load_table(path: str | Path, column_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Load a user's CSV or Parquet file of actions into the schema.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the suffix is neither ``.csv`` nor ``.parquet``, or the columns
        cannot be mapped (the message lists those found).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"action table {path} does not exist")
    suffix = path.suffix.casefold()
    if suffix == ".csv":
        frame = pd.read_csv(path)
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        raise ValueError(f"{path}: expected a .csv or .parquet file, got suffix {path.suffix!r}")
    mapped = map_columns(frame, column_map, source=str(path))
    if "provenance" not in mapped.columns:
        mapped["provenance"] = f"file:{path.name}"
    return validate_records(mapped)


def load_value_action_lens(path: str | Path | None = None) -> tuple[pd.DataFrame, ActionParseReport]:
    """Load the 14,784 real ValueActionLens actions (GPT-4o, Shen et al. 2025).

    The source has no scene text: each country x topic pair is one context,
    so ``scene_id`` is ``"country|topic"`` and ``scene`` is missing. The
    action is the ``"Human Action"`` field of the model's raw JSON-like
    output, repaired where needed (see :mod:`vatnb.action_json`).

    Parameters
    ----------
    path
        The zip (or the CSV inside it); default ``vatnb.data.fetch("actions")``.

    Returns
    -------
    records, report
        The table in the schema (rows whose action could not be read keep a
        missing ``action``) and the counts of clean, repaired and unreadable outputs.
    """
    if path is None:
        from vatnb.data import fetch

        path = fetch("actions")
    path = Path(path)
    raw = _read_single_csv(path)
    expected = {"country", "topic", "value", "polarity", "generation_prompt"}
    missing = sorted(expected - set(raw.columns))
    if missing:
        raise ValueError(
            f"{path} lacks the ValueActionLens columns {missing}; columns found: {list(raw.columns)}"
        )
    actions, report = parse_action_outputs(raw["generation_prompt"].tolist())
    records = pd.DataFrame(
        {
            "scene_id": [f"{c}|{t}" for c, t in zip(raw["country"], raw["topic"])],
            "country": raw["country"].to_numpy(),
            "topic": raw["topic"].to_numpy(),
            "scene": None,
            "micro_value": raw["value"].to_numpy(),
            "polarity": raw["polarity"].to_numpy(),
            "action": actions,
            "split": None,
            "provenance": f"value-action-lens:{path.name}",
        }
    )
    log.info(
        "read %d ValueActionLens actions from %s (%d repaired, %d unreadable)",
        len(records), path, report.repaired, report.unreadable,
    )
    return validate_records(records), report


def _read_single_csv(path: Path) -> pd.DataFrame:
    if path.suffix.casefold() != ".zip":
        return pd.read_csv(path)
    with zipfile.ZipFile(path) as archive:
        members = [
            info.filename for info in archive.infolist()
            if info.filename.endswith(".csv") and not info.filename.startswith("__MACOSX")
        ]
        if len(members) != 1:
            raise ValueError(f"{path}: expected one CSV file in the zip, found {members}")
        with archive.open(members[0]) as handle:
            return pd.read_csv(handle)


BUILTIN_PROVENANCE = "builtin-template (placeholder text, not real data)"


def builtin_offline_set(
    countries: Sequence[str] = COUNTRIES,
    topics: Sequence[str] = TOPICS,
    scenes_per_pair: int = SCENES_PER_PAIR,
    micro_values: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Build a templated placeholder dataset with the paper's Cartesian design.

    Every (country, topic) pair gets ``scenes_per_pair`` scenes, and every
    scene gets one expressing and one suppressing action per micro-value. The
    defaults give 12 x 11 x 2 = 264 scenes and 264 x 56 x 2 = 29,568 rows,
    the counts of the paper's dataset (paper, Table 5). The texts are filled
    from fixed templates and the micro-value glosses: they exercise the code
    paths (splits, tables, loaders) without network, and say nothing about
    how any model behaves. The ``provenance`` column is
    :data:`BUILTIN_PROVENANCE` on every row.

    Raises
    ------
    ValueError
        If ``scenes_per_pair`` is below 1 or a list is empty.
    """
    if scenes_per_pair < 1:
        raise ValueError(f"scenes_per_pair must be at least 1, got {scenes_per_pair}")
    names = list(MICRO_VALUES) if micro_values is None else [canonical_micro_value(m) for m in micro_values]
    if not countries or not topics or not names:
        raise ValueError("countries, topics and micro_values must each name at least one item")
    rows = []
    for country in countries:
        for topic in topics:
            for scene_index in range(scenes_per_pair):
                scene_id = f"{country}|{topic}|s{scene_index}"
                scene = (
                    f"[template] Placeholder scene {scene_index + 1} set in {country} "
                    f"about {topic.lower()}: several people with different roles and "
                    "obligations meet, and none of them is told what to do."
                )
                for name in names:
                    gloss = MICRO_VALUES[name][1]
                    for polarity, verb in (("express", "act on"), ("suppress", "set aside")):
                        rows.append(
                            (scene_id, country, topic, scene, name, polarity,
                             f"[template] I {verb} {gloss} in this {topic.lower()} situation.")
                        )
    table = pd.DataFrame(
        rows, columns=["scene_id", "country", "topic", "scene", "micro_value", "polarity", "action"]
    )
    table["provenance"] = BUILTIN_PROVENANCE
    return validate_records(table)
