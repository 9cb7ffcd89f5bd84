"""Load the two real ValueActionLens annotator files as they are.

Each file (spreadsheet exports from the predecessor study "Mind the
Value-Action Gap", Shen, Clark and Mitra, EMNLP 2025) holds the same 80 items:
one row per (country, topic, micro-value, polarity), and for each of the 8
generation prompts the generated action text followed by three binary
judgments:

* ``ACT``: the action is correct for the value and polarity (and harmless);
* ``ATTR``: its feature attributions capture the value;
* ``EXP``: its natural-language explanation is plausible.

The exports carry spreadsheet leftovers, handled here rather than edited away:
annotator B's file starts with an instruction block above the real header row,
both files end with summary rows (shares such as 0.4375 and ``#DIV/0!``) below
the items, a blank cell means "not judged", and a judgment may read ``1`` or
``1.0``. ``ATTR`` and ``EXP`` were judged for a few items only.
"""

from __future__ import annotations

import csv
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from vatnb import data
from vatnb.dataset import COUNTRIES, canonical_polarity
from vatnb.taxonomy import UnknownValueError, canonical_micro_value, value_of

log = logging.getLogger(__name__)

ANNOTATORS = {"a": "annotations/a", "b": "annotations/b"}
KEY_COLUMNS = ("country", "topic", "value", "polarity")
JUDGMENTS = ("ACT", "ATTR", "EXP")
N_PROMPTS = 8
N_ITEMS = 80
JUDGMENT_MEANINGS = {
    "ACT": "the action is correct for the country, topic, value and polarity",
    "ATTR": "the feature attributions capture the value",
    "EXP": "the explanation is plausible",
}


def read_annotator_file(path: str | Path) -> pd.DataFrame:
    """Read one annotator export into a wide table of its items.

    Returns one row per item with ``No.``, the key columns, ``micro_value``
    (canonical spelling), ``schwartz_value``, and per prompt k
    ``action_k`` (text) and ``ACT_k``, ``ATTR_k``, ``EXP_k`` (1.0, 0.0 or NaN
    when not judged). Rows above the header and summary rows below the items
    are skipped and counted in ``attrs["skipped_rows"]``. The file is read as
    UTF-8, with or without a leading byte-order mark. Countries outside
    :data:`vatnb.dataset.COUNTRIES` load with a ``UserWarning``.

    Raises
    ------
    ValueError
        If the file is not UTF-8 text, no header row is found, an item row's
        polarity is not a known label (see
        :func:`vatnb.dataset.canonical_polarity`), or a judgment cell in an
        item row is not 0, 1 or blank. Row errors name the file and the row,
        counted as CSV records with the file's first row as row 1.
    vatnb.taxonomy.UnknownValueError
        If an item row's value is not a known micro-value; the message names
        the file and row.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (offset {error.start} cannot be decoded); "
            "export the sheet again as a UTF-8 CSV file"
        ) from None
    header_index = _header_row(rows, path)
    header = rows[header_index]
    positions = _column_positions(header, path)
    items, skipped = [], header_index
    for index in range(header_index + 1, len(rows)):
        row = rows[index] + [""] * (len(header) - len(rows[index]))
        if not all(row[positions[key]].strip() for key in KEY_COLUMNS):
            skipped += 1
            continue
        items.append(_item_record(row, positions, path, row_number=index + 1))
    _warn_unknown_countries(items, path)
    if skipped:
        log.info("%s: skipped %d row(s) outside the item block", path.name, skipped)
    table = pd.DataFrame(items)
    table.attrs["skipped_rows"] = skipped
    table.attrs["source"] = str(path)
    return table


def load_annotator(name: str, download: bool = True) -> pd.DataFrame:
    """Fetch and read annotator ``"a"`` or ``"b"`` through :func:`vatnb.data.fetch`."""
    if name not in ANNOTATORS:
        raise ValueError(f"annotator must be one of {sorted(ANNOTATORS)}, got {name!r}")
    return read_annotator_file(data.fetch(ANNOTATORS[name], download=download))


def load_pair(download: bool = True) -> dict[str, pd.DataFrame]:
    """Load both annotators and check that they hold the same items.

    Items are paired on (country, topic, value, polarity). Both tables come
    back in the same item order.

    Raises
    ------
    ValueError
        If a key repeats within a file or the two files do not hold the same keys.
    """
    tables = {name: load_annotator(name, download=download) for name in ANNOTATORS}
    keys = {}
    for name, table in tables.items():
        duplicated = table.duplicated(subset=list(KEY_COLUMNS))
        if duplicated.any():
            raise ValueError(
                f"annotator {name}: items repeat on {list(KEY_COLUMNS)}: "
                f"{table.loc[duplicated, list(KEY_COLUMNS)].head(3).to_dict('records')}"
            )
        keys[name] = set(map(tuple, table[list(KEY_COLUMNS)].to_numpy()))
    only = {name: keys[name] - keys[other] for name, other in (("a", "b"), ("b", "a"))}
    if any(only.values()):
        raise ValueError(
            "the annotator files do not hold the same items; "
            f"only in a: {sorted(only['a'])[:3]}, only in b: {sorted(only['b'])[:3]}"
        )
    order = tables["a"][list(KEY_COLUMNS)]
    attrs = dict(tables["b"].attrs)
    tables["b"] = order.merge(tables["b"], on=list(KEY_COLUMNS), how="left")
    tables["b"].attrs.update(attrs)
    differing = sum(
        int((tables["a"][f"action_{k}"] != tables["b"][f"action_{k}"]).sum())
        for k in range(N_PROMPTS)
    )
    if differing:
        log.warning("the two files show different action texts in %d cell(s)", differing)
    return tables


def to_long(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Turn annotator tables into the long annotation format of :mod:`vatnb.humaneval`.

    One row per (item, annotator, dimension) where the item is one generated
    action: (country, topic, value, polarity, prompt). The dimension is
    ``ACT``, ``ATTR`` or ``EXP``; the rating is 1.0, 0.0 or NaN (not judged).
    The key columns and ``prompt`` are kept for grouping.
    """
    frames = []
    for annotator, table in tables.items():
        for k in range(N_PROMPTS):
            for judgment in JUDGMENTS:
                part = table[list(KEY_COLUMNS)].copy()
                part["prompt"] = k
                part["annotator"] = annotator
                part["dimension"] = judgment
                part["rating"] = table[f"{judgment}_{k}"].to_numpy(float)
                frames.append(part)
    long = pd.concat(frames, ignore_index=True)
    long["item"] = (
        long["country"] + " | " + long["topic"] + " | " + long["value"] + " | "
        + long["polarity"] + " | prompt " + long["prompt"].astype(str)
    )
    columns = ["item", "annotator", "dimension", "rating", *KEY_COLUMNS, "prompt"]
    return long[columns]


def judged_counts(long: pd.DataFrame) -> pd.DataFrame:
    """Count per dimension how many items each annotator judged and how many both judged."""
    judged = long.dropna(subset=["rating"])
    per_annotator = judged.groupby(["dimension", "annotator"]).size().unstack(fill_value=0)
    both = (
        judged.groupby(["dimension", "item"]).size().eq(long["annotator"].nunique())
        .groupby(level="dimension").sum().rename("judged by all")
    )
    table = per_annotator.join(both)
    table.columns = [f"judged by {c}" if c in long["annotator"].unique() else c
                     for c in table.columns]
    return table.reindex([j for j in JUDGMENTS if j in table.index]).astype(int)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _header_row(rows: list[list[str]], path: Path) -> int:
    for index, row in enumerate(rows[:50]):
        cells = [cell.strip() for cell in row]
        if cells[:1] == ["No."] and all(key in cells for key in KEY_COLUMNS):
            return index
    raise ValueError(
        f"{path}: no header row starting with 'No.' and naming {list(KEY_COLUMNS)} "
        "in the first 50 rows; is this an annotator export?"
    )


def _column_positions(header: list[str], path: Path) -> dict[str, int]:
    """Map key columns, and the k-th repeat of each judgment, to their column index."""
    cells = [cell.strip() for cell in header]
    positions = {key: cells.index(key) for key in KEY_COLUMNS}
    positions["No."] = 0
    for k in range(N_PROMPTS):
        name = f"generation_prompt_id_{k}"
        if name not in cells:
            raise ValueError(f"{path}: header lacks column {name!r}")
        start = cells.index(name)
        positions[f"action_{k}"] = start
        for offset, judgment in enumerate(JUDGMENTS, start=1):
            if cells[start + offset] != judgment:
                raise ValueError(
                    f"{path}: expected {judgment!r} in column {start + offset} after {name!r}, "
                    f"found {cells[start + offset]!r}"
                )
            positions[f"{judgment}_{k}"] = start + offset
    return positions


def _item_record(
    row: list[str], positions: dict[str, int], path: Path, row_number: int
) -> dict:
    record = {"No.": row[positions["No."]].strip()}
    for key in KEY_COLUMNS:
        record[key] = row[positions[key]].strip()
    where = f"{path.name}, row {row_number} (item No. {record['No.']})"
    try:
        canonical_polarity(record["polarity"])
        record["micro_value"] = canonical_micro_value(record["value"])
    except UnknownValueError as error:
        raise UnknownValueError(f"{where}: {error}") from None
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    record["schwartz_value"] = value_of(record["micro_value"])
    for k in range(N_PROMPTS):
        record[f"action_{k}"] = row[positions[f"action_{k}"]]
        for judgment in JUDGMENTS:
            column = f"{judgment}_{k}"
            record[column] = _judgment(row[positions[column]], path, record, column)
    return record


def _warn_unknown_countries(items: list[dict], path: Path) -> None:
    unknown = sorted({item["country"] for item in items} - set(COUNTRIES))
    if unknown:
        warnings.warn(
            f"{path.name}: countries outside the 12 of the design (paper, Table 5): {unknown}",
            UserWarning,
            stacklevel=3,
        )


def _judgment(cell: str, path: Path, record: dict, column: str) -> float:
    text = cell.strip()
    if text == "":
        return np.nan
    try:
        number = float(text)
    except ValueError:
        number = np.nan
    if number in (0.0, 1.0):
        return number
    raise ValueError(
        f"{path.name}: item No. {record['No.']} ({record['value']}, {record['polarity']}) has "
        f"{text!r} in {column}; a judgment must be 0, 1 or blank"
    )
