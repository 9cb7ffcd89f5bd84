"""Backend ``replay``: judgments read back from a file of earlier records."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pandas as pd

from vatnb.elicit.engine import make_judgment

log = logging.getLogger(__name__)

MATCH_COLUMNS = ("condition", "sample_id", "micro_value", "sign")


class ReplayMissError(KeyError):
    """The replayed file holds no judgment for a requested item."""

    def __str__(self) -> str:
        return str(self.args[0])


RECORDS_HELP = (
    "pass a CSV or Parquet file of records with the columns prompt and rating, or "
    f"{', '.join(MATCH_COLUMNS)} and rating, such as the records file a chapter saves"
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


class ReplayBackend:
    """Answer each item with the rating recorded for it in a records table.

    Items are matched on ``prompt`` when the file has that column, otherwise on
    (condition, sample_id, micro_value, sign). A missing rating in the file is
    replayed as unread; an item the file does not contain raises
    :class:`ReplayMissError` naming it.
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
        self._lookup = {}
        for row in table.to_dict("records"):
            self._lookup[self._match(row)] = row
        self.model = model or (str(source) if not isinstance(source, pd.DataFrame) else "table")

    def _match(self, row: dict):
        if self.by_prompt:
            return row["prompt"]
        return tuple(str(row[c]) for c in MATCH_COLUMNS[:3]) + (int(row["sign"]),)

    def settings(self) -> dict:
        # The cache key must change when the file's contents change under the same path.
        return {"replay": True, "records_sha256": self.fingerprint}

    def judge(self, items: list[dict], points: int, on_judgment) -> None:
        for index, item in enumerate(items):
            key = self._match(item)
            if key not in self._lookup:
                raise ReplayMissError(f"replay file has no judgment for item {key!r}")
            row = self._lookup[key]
            rating = row["rating"]
            if pd.isna(rating):
                on_judgment(index, make_judgment(reason="missing_in_replay"))
                continue
            on_judgment(index, make_judgment(
                rating=int(rating),
                expected_rating=None if pd.isna(row.get("expected_rating", float("nan"))) else row.get("expected_rating"),
                valid_mass=None if pd.isna(row.get("valid_mass", float("nan"))) else row.get("valid_mass"),
            ))
