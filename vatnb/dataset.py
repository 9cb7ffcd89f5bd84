"""The canonical scenario-value-action table and loaders into it.

Every source of actions ends up as one pandas DataFrame with the columns in
:data:`SCHEMA_COLUMNS`, one row per action:

============== ===============================================================
``scene_id``    scenario identifier; splits and resampling work on it
``country``     country; the design's 12 are ``COUNTRIES``, others load with a warning
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

import csv
import io
import logging
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from vatnb.action_json import ActionParseReport, parse_action_outputs
from vatnb.taxonomy import (
    MICRO_VALUES,
    UnknownValueError,
    canonical_micro_value,
    canonical_value,
    value_of,
)

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
    # "value" comes last: it is also a micro-value candidate and goes to
    # micro_value when the table has no micro-value column of its own.
    "value": ("schwartz_value", "value_type", "high_level_value", "value"),
    "polarity": ("polarity", "direction", "stance"),
    "action": ("action", "action_text", "human_action", "generated_action", "response"),
    "split": ("split",),
}
REQUIRED_FOREIGN_COLUMNS: tuple[str, ...] = ("micro_value", "polarity", "action")
# A foreign table must identify each row's scene by one of these column sets.
SCENE_KEY_COLUMNS: tuple[tuple[str, ...], ...] = (("scene_id",), ("country", "topic"))
# Rows listed in an error message before the rest are only counted.
_ROWS_SHOWN = 3


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


def validate_records(
    records: pd.DataFrame, *, source: str = "records", first_row: int = 0
) -> pd.DataFrame:
    """Check a table against the schema and return a normalized copy.

    Canonicalizes micro-value names and polarity spellings, derives ``value``
    from the micro-value, adds missing optional columns (``scene``, ``split``,
    ``provenance``) as missing values, and orders the columns as
    :data:`SCHEMA_COLUMNS`. Extra columns are kept after the schema's. A
    ``value`` column that is already present must agree with the derived one
    wherever it is filled in.

    Parameters
    ----------
    records
        The table to check.
    source, first_row
        Name of the table and the row number of its first row, used in error
        messages (a CSV file with a header row passes ``first_row=2``).

    Raises
    ------
    TypeError
        If ``records`` is not a DataFrame.
    ValueError
        If a required column is absent, a polarity or Schwartz value is
        unknown, or a given Schwartz value is not the parent of the row's
        micro-value. The message names the rows.
    vatnb.taxonomy.UnknownValueError
        If a micro-value name matches no known spelling; the message names the rows.
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
    table["micro_value"] = _canonical_cells(
        table["micro_value"], canonical_micro_value, source, first_row
    )
    derived_values = [value_of(name) for name in table["micro_value"]]
    if "value" in table.columns:
        _check_parent_values(table, derived_values, source, first_row)
    table["value"] = derived_values
    table["polarity"] = _canonical_cells(table["polarity"], canonical_polarity, source, first_row)
    for column in ("scene", "split", "provenance"):
        if column not in table.columns:
            table[column] = None
    table["scene_id"] = table["scene_id"].astype(str)
    extra = [column for column in table.columns if column not in SCHEMA_COLUMNS]
    return table[list(SCHEMA_COLUMNS) + extra].reset_index(drop=True)


def _row_list(positions: Sequence[int], first_row: int) -> str:
    """Name the first rows of ``positions`` ("row 4", "rows 4, 7 and 2 more") for messages."""
    shown = ", ".join(str(position + first_row) for position in positions[:_ROWS_SHOWN])
    rest = len(positions) - _ROWS_SHOWN
    noun = "row" if len(positions) == 1 else "rows"
    return f"{noun} {shown} and {rest} more" if rest > 0 else f"{noun} {shown}"


def _canonical_cells(cells: pd.Series, canonicalize, source: str, first_row: int) -> list[str]:
    """Apply ``canonicalize`` to every cell; re-raise its first error with the rows that fail.

    The error keeps its type (``UnknownValueError`` or ``ValueError``) so that
    callers catching it still do.
    """
    canonical, failures = [], []
    for position, cell in enumerate(cells):
        try:
            canonical.append(canonicalize(cell))
        except (KeyError, ValueError) as error:
            failures.append((position, error))
    if failures:
        position, error = failures[0]
        message = f"{source}, row {position + first_row}, column {cells.name!r}: {error}"
        if len(failures) > 1:
            rows = _row_list([failed for failed, _ in failures], first_row)
            message += f" ({len(failures)} rows fail: {rows})"
        raise type(error)(message) from None
    return canonical


def _check_parent_values(
    table: pd.DataFrame, derived_values: list[str], source: str, first_row: int
) -> None:
    """Raise when a filled-in ``value`` cell is not the parent of the row's micro-value."""
    given = table["value"]
    filled = given.notna().to_numpy()
    given_canonical = _canonical_cells(given[filled], canonical_value, source, first_row)
    filled_positions = [position for position, is_filled in enumerate(filled) if is_filled]
    conflicts = [
        (position, stated)
        for position, stated in zip(filled_positions, given_canonical)
        if stated != derived_values[position]
    ]
    if conflicts:
        position, stated = conflicts[0]
        micro_value = table["micro_value"].iloc[position]
        raise ValueError(
            f"{source}, row {position + first_row}: the Schwartz-value column has {stated!r}, but "
            f"micro-value {micro_value!r} belongs to {derived_values[position]!r} "
            f"({len(conflicts)} row(s) disagree: "
            f"{_row_list([conflict for conflict, _ in conflicts], first_row)}). "
            "The value "
            "is derived from the micro-value, so fix the micro-value or the value cell, "
            "or drop the value column."
        )


def map_columns(
    table: pd.DataFrame,
    column_map: Mapping[str, str] | None = None,
    source: str = "table",
    *,
    first_row: int = 0,
) -> pd.DataFrame:
    """Rename a foreign table's columns to the schema's and fill what can be derived.

    Each schema column takes the column named in ``column_map`` (schema name
    to source name) or else the first match from :data:`COLUMN_CANDIDATES`
    (case-insensitive). A missing ``scene_id`` is built from country, topic
    and, when present, the scene text, so that rows of one scene share it. A
    Schwartz-value column is kept as ``value`` so that
    :func:`validate_records` can check it against the micro-value.

    Raises
    ------
    ValueError
        When a required column (micro-value, polarity, action) has no match,
        or when neither ``scene_id`` nor both ``country`` and ``topic`` match.
        The message lists the columns found and advises renaming them in the
        source or to pass ``column_map``.
        Also when a mapped identifying or required column has empty or
        whitespace-only cells.
        That message names the column and the rows, counted from ``first_row``.
    """
    column_map = dict(column_map or {})
    unknown_targets = sorted(set(column_map) - set(SCHEMA_COLUMNS))
    if unknown_targets:
        raise ValueError(
            f"column_map keys must be schema columns {list(SCHEMA_COLUMNS)}; got {unknown_targets}"
        )
    chosen = _choose_columns(table, column_map, source)
    mapped = pd.DataFrame({target: table[column].to_numpy() for target, column in chosen.items()})
    _check_filled(mapped, chosen, source, first_row)
    for column in ("country", "topic"):
        if column not in mapped.columns:
            mapped[column] = None
    if "scene_id" not in mapped.columns:
        mapped["scene_id"] = _derived_scene_ids(mapped)
    return mapped


def _choose_columns(table: pd.DataFrame, column_map: dict[str, str], source: str) -> dict[str, str]:
    """Pick the source column for each schema column; raise when required ones are missing."""
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
            f"Columns found: {list(table.columns)}. {_RENAME_ADVICE} e.g. "
            f"column_map={{'{missing[0]}': 'my_{missing[0]}_column'}}."
        )
    if not any(all(column in chosen for column in key) for key in SCENE_KEY_COLUMNS):
        found = [column for key in SCENE_KEY_COLUMNS for column in key if column in chosen]
        raise ValueError(
            f"cannot map {source} to the dataset schema: no columns identify the scene of "
            f"each row. Needed: 'scene_id', or both 'country' and 'topic'; matched only "
            f"{found}. Columns found: {list(table.columns)}. Add the columns, or rename "
            f"existing ones in the header. {_RENAME_ADVICE} e.g. "
            f"column_map={{'scene_id': 'my_scene_column'}}."
        )
    return chosen


# How to fix unmatched column names. A chapter or command-line user cannot pass column_map,
# so renaming the header comes first.
_RENAME_ADVICE = (
    "Rename the columns in the header to the schema names (micro_value, polarity, action, "
    "and scene_id or country and topic). That is the only fix when the file is passed as a "
    "chapter's dataset parameter or on the command line. When calling the loader from "
    "Python you can pass column_map={schema column: source column} instead,"
)


def _check_filled(
    mapped: pd.DataFrame, chosen: Mapping[str, str], source: str, first_row: int
) -> None:
    """Raise when an identifying or required column has empty or whitespace-only cells."""
    checked = ("scene_id", "country", "topic", *REQUIRED_FOREIGN_COLUMNS)
    for target in checked:
        if target not in mapped.columns:
            continue
        cells = mapped[target]
        blank = cells.map(lambda cell: isinstance(cell, str) and not cell.strip())
        empty = [int(position) for position in mapped.index[cells.isna() | blank]]
        if empty:
            name = repr(chosen[target])
            if chosen[target] != target:
                name += f" (schema column {target!r})"
            raise ValueError(
                f"{source}: column {name} is empty or only whitespace in "
                f"{_row_list(empty, first_row)}. Fill in or drop those rows."
            )


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
        When the columns cannot be mapped (the message lists those found),
        or a row fails the checks of :func:`load_table`; rows are numbered
        from 0 in the order of the loaded table.

    Countries outside :data:`COUNTRIES` load with a ``UserWarning``.

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
    source = f"dataset {name!r}"
    mapped = map_columns(frame, column_map, source=source)
    mapped["provenance"] = f"huggingface:{name}"
    records = validate_records(mapped, source=source)
    _warn_unknown_countries(records, source)
    return records


def load_table(path: str | Path, column_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Load a user's CSV or Parquet file of actions into the schema.

    The file needs micro-value, polarity and action columns, and either a
    ``scene_id`` column or both ``country`` and ``topic``. Error messages give
    row numbers as they appear in the file: in a CSV file the header is row 1
    and the first data row is row 2 (a cell spanning several lines still counts
    as one row). In a Parquet file the first row is row 0.

    Countries outside :data:`COUNTRIES` (the 12 of the design, paper Table 5) load
    as given, with a ``UserWarning`` naming them, because a user's own data
    may cover other countries.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the suffix is neither ``.csv`` nor ``.parquet``, or the file is
        empty, has no data rows, or is not UTF-8 text. If a CSV file is not
        comma-separated, has a row with more or fewer cells than the header,
        or ends inside a quoted cell (a truncated file). If the columns cannot
        be mapped (the message lists those found). If a row has an empty or
        whitespace-only required cell, an unknown polarity or Schwartz value,
        or a Schwartz value that is not the parent of its micro-value. If a
        row repeats an earlier one (same scene, micro-value, polarity and
        action). The message names the file and rows.
    vatnb.taxonomy.UnknownValueError
        If a micro-value name is unknown; the message names the file and rows.

    Notes
    -----
    NOTE: a CSV file cut off inside its last cell, with every cell of that
    row present, still loads, because the cut text looks like a short action.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"action table {path} does not exist")
    suffix = path.suffix.casefold()
    if suffix == ".csv":
        frame = _read_user_csv(path)
        first_row = 2
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        first_row = 0
    else:
        raise ValueError(f"{path}: expected a .csv or .parquet file, got suffix {path.suffix!r}")
    if frame.empty:
        raise ValueError(f"{path} has a header but no data rows; add one row per action")
    mapped = map_columns(frame, column_map, source=str(path), first_row=first_row)
    if "provenance" not in mapped.columns:
        mapped["provenance"] = f"file:{path.name}"
    records = validate_records(mapped, source=str(path), first_row=first_row)
    _reject_repeated_rows(records, str(path), first_row)
    _warn_unknown_countries(records, str(path))
    return records


# Columns that identify one action: two rows that agree on all of them describe the same action.
_ACTION_KEY_COLUMNS = ("scene_id", "micro_value", "polarity", "action")


def _reject_repeated_rows(records: pd.DataFrame, source: str, first_row: int) -> None:
    """Raise when a row repeats an earlier row's scene, micro-value, polarity and action.

    A repeated action would be drawn and rated twice, so it would weigh double
    in every mean. The file does not show whether a copy is an accident or
    intended, so nothing is dropped here.
    """
    repeated = records.duplicated(subset=list(_ACTION_KEY_COLUMNS), keep="first")
    if not repeated.any():
        return
    positions = [int(position) for position in records.index[repeated]]
    keys = records[list(_ACTION_KEY_COLUMNS)]
    original = int((keys == keys.iloc[positions[0]]).all(axis=1).to_numpy().argmax())
    verb = "repeats" if len(positions) == 1 else "repeat"
    raise ValueError(
        f"{source}: {len(positions)} of {len(records)} rows {verb} an earlier row with the "
        f"same scene, micro-value, polarity and action: {_row_list(positions, first_row)} "
        f"(row {positions[0] + first_row} repeats row {original + first_row}). Remove the "
        "repeated rows, or make each action's text or scene distinct."
    )


def _read_user_csv(path: Path) -> pd.DataFrame:
    """Read a CSV file as UTF-8 (a leading byte-order mark is allowed), with readable errors."""
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.ParserError as error:
        _check_csv_rows(path)
        raise ValueError(f"{path} is not a readable CSV file: {error}") from None
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path} is empty: expected a header row and one row per action"
        ) from None
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start} cannot be decoded). Save it as a UTF-8 CSV file, or as Parquet, "
            "and load that file."
        ) from None
    _check_csv_rows(path)
    return frame


# Delimiters that, found in the header of a one-column table, show the file is not comma-separated.
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}


def _check_csv_rows(path: Path) -> None:
    """Raise when a CSV file uses another delimiter, or a row has more or fewer cells than the header.

    pandas fills a short row with missing cells and, when data rows have one
    cell more than the header, silently reads the first column as the index.
    Both hide a damaged file, typically one cut off in its last row. Rows are
    numbered as in :func:`load_table`: the header is row 1, and blank lines do not count.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    rows = _csv_rows(text)
    if not rows:
        return
    header = rows[0]
    if len(header) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                raise ValueError(
                    f"{path} is not comma-separated: its header {header[0]!r} is one column "
                    f"that contains {name}s. Save the file as a comma-separated CSV (or as "
                    "Parquet) and load that file."
                )
    open_quote = _unclosed_quote_row(text)
    if open_quote is not None:
        raise ValueError(
            f"{path}: the quoted cell that starts in row {open_quote} is never closed, so the "
            "file ends inside it. The file is probably cut off, or that cell has an unbalanced "
            'quote (write a quote inside a quoted cell as ""). Complete or fix that row.'
        )
    for number, row in enumerate(rows[1:], start=2):
        if len(row) == len(header):
            continue
        last = number == len(rows)
        if last and len(row) < len(header) and not text.endswith(("\n", "\r")):
            raise ValueError(
                f"{path} looks cut off: its last row (row {number}) has only {len(row)} of the "
                f"header's {len(header)} cells and the file does not end with a line break. "
                "Restore the complete file, or delete that row."
            )
        raise ValueError(
            f"{path}: row {number} has {_cells(len(row))}, but the header has {len(header)} "
            f"({', '.join(header)}). Give every row one cell per header column (an empty cell "
            "is two commas in a row), and quote a cell that contains a comma."
        )


def _cells(count: int) -> str:
    return f"{count} cell" if count == 1 else f"{count} cells"


def _unclosed_quote_row(text: str) -> int | None:
    """Return the row in which a quoted cell opens and is never closed, or None."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), strict=True):
            pass
    except csv.Error as error:
        if "unexpected end of data" not in str(error):
            return None  # another quoting quirk, which pandas reads leniently
        # The lenient reader puts the rest of the file into the open cell, so that cell's
        # row is the last one.
        return len(_csv_rows(text))
    return None


def _csv_rows(text: str) -> list[list[str]]:
    """Split CSV text into rows, leaving out the blank and whitespace-only lines that pandas skips."""
    rows = csv.reader(io.StringIO(text, newline=""))
    return [row for row in rows if row and not (len(row) == 1 and not row[0].strip())]


def _warn_unknown_countries(records: pd.DataFrame, source: str) -> None:
    """Warn when countries fall outside :data:`COUNTRIES`."""
    countries = pd.unique(records["country"].dropna())
    unknown = sorted(str(country) for country in countries if country not in COUNTRIES)
    if unknown:
        warnings.warn(
            f"{source}: countries outside the 12 of the design (paper, Table 5): {unknown}. "
            "They are kept as given; check their spelling against vatnb.dataset.COUNTRIES.",
            UserWarning,
            stacklevel=3,
        )


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
