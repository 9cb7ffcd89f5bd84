"""Backend ``replay``: judgments read back from a file of earlier records.

Every row is checked when the backend is built, so that an invalid file is
reported by name, row and column before anything is elicited or cached.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from vatnb.elicit.engine import STATUSES, make_judgment

log = logging.getLogger(__name__)

MATCH_COLUMNS = ("condition", "sample_id", "micro_value", "sign")
# Columns passed on to the judgment; rows repeated for one item must agree on them.
REPLAYED_COLUMNS = ("rating", "expected_rating", "valid_mass", "status")
# A valid mass summed in float32 can exceed 1 by rounding.
VALID_MASS_TOLERANCE = 1e-6
# Rows named in one error message; the count of the rest follows them.
MAX_ROWS_NAMED = 5


class ReplayMissError(KeyError):
    """The replayed file holds no judgment for a requested item."""

    def __str__(self) -> str:
        return str(self.args[0])


RECORDS_HELP = (
    "pass a CSV or Parquet file of records with the columns prompt and rating, or "
    f"{', '.join(MATCH_COLUMNS)} and rating, such as the records file a chapter saves"
)
RATING_HELP = (
    "a rating must be a whole number from 1 to the scale's number of points, or empty "
    "for a judgment whose answer could not be read; correct the row or re-elicit it"
)


def _read_table(source) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"replay file {path} not found; {RECORDS_HELP}")
    if path.suffix not in (".csv", ".parquet"):
        raise ValueError(f"replay file {path} is not a .csv or .parquet file; {RECORDS_HELP}")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (UnicodeDecodeError, ValueError, OSError) as error:
        raise ValueError(f"replay file {path} could not be read ({type(error).__name__}); {RECORDS_HELP}") from None


def records_fingerprint(table: pd.DataFrame) -> str:
    """Return a SHA-256 of a records table's contents, so that an edited file gets new cache keys."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, table.columns)).encode())
    digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return digest.hexdigest()


class RecordsChecker:
    """Raise ValueError for invalid values of a records table, naming the source, rows and column.

    Rows of a file are numbered from 1 after the header line, because a
    prompt with line breaks spans several lines of a CSV file. Rows of a
    DataFrame are named by their index labels.
    """

    def __init__(self, table: pd.DataFrame, source):
        self.table = table
        self.from_file = not isinstance(source, pd.DataFrame)
        if self.from_file:
            self.origin = f"replay file {source}"
            self.labels = list(range(1, len(table) + 1))
        else:
            self.origin = "replay records table"
            self.labels = list(table.index)

    def rows_text(self, positions) -> str:
        positions = list(positions)
        named = ", ".join(str(self.labels[p]) for p in positions[:MAX_ROWS_NAMED])
        more = len(positions) - MAX_ROWS_NAMED
        if more > 0:
            named += f" and {more} more"
        plural = len(positions) > 1
        if self.from_file:
            return f"{'rows' if plural else 'row'} {named} (numbered from 1 after the header)"
        return f"{'index labels' if plural else 'index label'} {named}"

    def fail(self, column: str, positions, reason: str, advice: str):
        positions = list(positions)
        examples = ", ".join(repr(_plain(self.table[column].iloc[p])) for p in positions[:3])
        values = "value" if len(positions) == 1 else "values"
        raise ValueError(
            f"{self.origin}, column {column!r}, {self.rows_text(positions)}: "
            f"invalid {values} {examples} ({reason}); {advice}"
        )

    def require_values(self, column: str, advice: str) -> None:
        empty = np.flatnonzero(self.table[column].isna().to_numpy())
        if empty.size:
            raise ValueError(
                f"{self.origin}, column {column!r}, {self.rows_text(empty)}: value missing; {advice}"
            )

    def numbers(self, column: str, advice: str) -> np.ndarray:
        """Return the column as floats, missing values as NaN, after rejecting values that are not numbers."""
        values = self.table[column]
        numeric = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
        text = np.flatnonzero(values.notna().to_numpy() & np.isnan(numeric))
        if text.size:
            self.fail(column, text, "not a number", advice)
        return numeric

    def whole_numbers(self, column: str, values: np.ndarray, advice: str) -> None:
        present = ~np.isnan(values)
        whole = np.isfinite(values) & (values == np.round(values))
        fractional = np.flatnonzero(present & ~whole)
        if fractional.size:
            self.fail(column, fractional, "not a whole number", advice)

    def within(self, column: str, values: np.ndarray, low, high, advice: str) -> None:
        outside = np.flatnonzero(~np.isnan(values) & ((values < low) | (values > high)))
        if outside.size:
            self.fail(column, outside, f"outside {_range_text(low, high)}", advice)


def _plain(value):
    """Return a NumPy scalar as the Python value it contains, so that messages show 2.7, not np.float64(2.7)."""
    return value.item() if isinstance(value, np.generic) else value


def _range_text(low, high) -> str:
    if np.ndim(high) > 0:
        return f"{low:g} to the row's scale_points"
    if math.isinf(high):
        return f"{low:g} and up"
    return f"{low:g} to {high:g}"


def checked_records(table: pd.DataFrame, source, by_prompt: bool) -> tuple[pd.DataFrame, RecordsChecker]:
    """Return the match and replayed columns with numeric columns as floats, after checking every row.

    Raises
    ------
    ValueError
        For an empty match value or a sign other than +1 or -1. For a rating
        that is not a whole number from 1 to the row's ``scale_points`` (the
        upper bound applies when the table has that column). For an expected
        rating, valid mass or status that cannot belong to a judgment. The
        message names the source, the first rows and the column.
    """
    checker = RecordsChecker(table, source)
    clean = pd.DataFrame(index=range(len(table)))
    for column in (["prompt"] if by_prompt else MATCH_COLUMNS[:3]):
        checker.require_values(column, "every row needs the values that match it to an item")
        clean[column] = table[column].to_numpy()
    if not by_prompt:
        sign_help = "sign must be 1 (the action expresses the micro-value) or -1 (it suppresses it)"
        checker.require_values("sign", sign_help)
        signs = checker.numbers("sign", sign_help)
        wrong = np.flatnonzero((signs != 1) & (signs != -1))
        if wrong.size:
            checker.fail("sign", wrong, "neither 1 nor -1", sign_help)
        clean["sign"] = signs.astype(int)

    high: float | np.ndarray = math.inf
    if "scale_points" in table.columns:
        scale_help = "scale_points must be the whole number of options on the rating scale, such as 5"
        checker.require_values("scale_points", scale_help)
        points = checker.numbers("scale_points", scale_help)
        checker.whole_numbers("scale_points", points, scale_help)
        checker.within("scale_points", points, 2, math.inf, scale_help)
        clean["scale_points"] = points
        high = points

    ratings = checker.numbers("rating", RATING_HELP)
    checker.whole_numbers("rating", ratings, RATING_HELP)
    checker.within("rating", ratings, 1, high, RATING_HELP)
    clean["rating"] = ratings
    if "expected_rating" in table.columns:
        expected_help = "an expected rating must lie on the rating scale, or be empty"
        expected = checker.numbers("expected_rating", expected_help)
        checker.within("expected_rating", expected, 1, high, expected_help)
        clean["expected_rating"] = expected
    if "valid_mass" in table.columns:
        mass_help = "a valid mass is a probability from 0 to 1, or empty"
        mass = checker.numbers("valid_mass", mass_help)
        checker.within("valid_mass", mass, 0, 1 + VALID_MASS_TOLERANCE, mass_help)
        clean["valid_mass"] = mass
    if "status" in table.columns:
        statuses = table["status"]
        unknown = np.flatnonzero(statuses.notna().to_numpy() & ~statuses.isin(STATUSES).to_numpy())
        if unknown.size:
            checker.fail("status", unknown, f"not one of {', '.join(STATUSES)}",
                         "a status must be one of these, or empty")
        clean["status"] = statuses.to_numpy()
    return clean, checker


def _same_values(first: dict, second: dict) -> bool:
    for column in REPLAYED_COLUMNS:
        a, b = first.get(column), second.get(column)
        if pd.isna(a) and pd.isna(b):
            continue
        if pd.isna(a) or pd.isna(b) or a != b:
            return False
    return True


class ReplayBackend:
    """Answer each item with the rating recorded for it in a records table.

    Items are matched on ``prompt`` when the file has that column, otherwise on
    (condition, sample_id, micro_value, sign). A missing rating in the file is
    replayed as unread, or as failed where the row's ``status`` is
    ``"failed"``; an item the file does not contain raises
    :class:`ReplayMissError` naming it. Rows repeated for one item with the
    same rating, expected rating, valid mass and status are read once.

    Raises
    ------
    ValueError
        When built, for invalid values (see :func:`checked_records`) and for
        rows of one item that disagree. When judging, for a rating or a
        ``scale_points`` that does not fit the item's scale. Each message
        names the file (or "replay records table" for a DataFrame), the rows
        and the column.
    """

    name = "replay"
    batch_size = 1024

    def __init__(self, source, model: str | None = None):
        table = _read_table(source)
        self.by_prompt = "prompt" in table.columns
        columns = ["prompt"] if self.by_prompt else list(MATCH_COLUMNS)
        missing = [c for c in (*columns, "rating") if c not in table.columns]
        if missing:
            raise ValueError(f"replay table lacks the columns {missing}; found {list(table.columns)}")
        self.fingerprint = records_fingerprint(table)
        clean, self._checker = checked_records(table, source, self.by_prompt)
        self._lookup: dict = {}
        conflicts: dict = {}
        for position, row in enumerate(clean.to_dict("records")):
            row["position"] = position
            key = self._match(row)
            first = self._lookup.setdefault(key, row)
            if first is not row and not _same_values(first, row):
                conflicts.setdefault(key, [first["position"]]).append(position)
        if conflicts:
            self._report_conflicts(conflicts)
        self.model = model or (str(source) if not isinstance(source, pd.DataFrame) else "table")

    def _report_conflicts(self, conflicts: dict) -> None:
        key, positions = next(iter(conflicts.items()))
        columns = [c for c in REPLAYED_COLUMNS if c in self._checker.table.columns]
        values = self._checker.table.iloc[positions][columns].to_dict("records")
        others = len(conflicts) - 1
        raise ValueError(
            f"{self._checker.origin}, {self._checker.rows_text(positions)}: the rows of the item {key!r} disagree "
            f"({values})"
            + (f", and so do the rows of {others} more items" if others else "")
            + "; keep one row per item, so that the replay does not have to choose one"
        )

    def _match(self, row: dict):
        if self.by_prompt:
            return row["prompt"]
        return tuple(str(row[c]) for c in MATCH_COLUMNS[:3]) + (int(row["sign"]),)

    def settings(self) -> dict:
        # The cache key must change when the file's contents change under the same path.
        return {"replay": True, "records_sha256": self.fingerprint}

    def _check_scale(self, row: dict, points: int) -> None:
        where = f"{self._checker.origin}, {self._checker.rows_text([row['position']])}"
        recorded = row.get("scale_points")
        if recorded is not None and int(recorded) != points:
            raise ValueError(
                f"{where} recorded its rating on a {int(recorded)}-point scale (column 'scale_points'), "
                f"but the item is asked on a {points}-point scale; replay records of the same protocol"
            )
        for column in ("rating", "expected_rating"):
            value = row.get(column)
            if value is not None and not pd.isna(value) and value > points:
                raise ValueError(
                    f"{where}, column {column!r}: invalid value {value:g} (outside the item's "
                    f"{points}-point scale); "
                    f"{RATING_HELP}"
                )

    def judge(self, items: list[dict], points: int, on_judgment) -> None:
        for index, item in enumerate(items):
            key = self._match(item)
            if key not in self._lookup:
                raise ReplayMissError(f"{self._checker.origin} has no judgment for item {key!r}")
            row = self._lookup[key]
            self._check_scale(row, int(points))
            if pd.isna(row["rating"]):
                status = "failed" if row.get("status") == "failed" else "unread"
                on_judgment(index, make_judgment(status=status, reason="missing_in_replay"))
                continue
            expected, mass = row.get("expected_rating"), row.get("valid_mass")
            on_judgment(index, make_judgment(
                rating=int(row["rating"]),
                expected_rating=None if expected is None or pd.isna(expected) else expected,
                valid_mass=None if mass is None or pd.isna(mass) else mass,
            ))
