"""The elicitation loop: prompts in, judgment records out, through one cache."""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from vatnb.elicit.cache import JudgmentCache, judgment_key
from vatnb.metrics import RECORD_COLUMNS

log = logging.getLogger(__name__)

ITEM_COLUMNS = (*RECORD_COLUMNS[:6], "scale_points", "scale_descending", "prompt")
JUDGMENT_FIELDS = ("rating", "expected_rating", "valid_mass", "status", "reason")
STATUSES = ("full", "unread", "failed")


class LikertBackend(Protocol):
    """Interface of an elicitation backend.

    ``judge`` receives item dicts (``prompt`` plus the record columns) that
    share one scale and calls ``on_judgment(position, judgment)`` once per
    item as soon as that item is done. A judgment is a dict with ``rating``
    (int or None), ``expected_rating`` and ``valid_mass`` (float or None),
    ``status`` (``"full"``, ``"unread"`` or ``"failed"``) and ``reason``.
    Failed judgments are not cached, so a rerun tries them again.
    """

    name: str
    model: str
    batch_size: int

    def settings(self) -> dict: ...

    def judge(self, items: list[dict], points: int, on_judgment) -> None: ...


def make_judgment(rating=None, expected_rating=None, valid_mass=None, status=None, reason=None) -> dict:
    """Return a judgment dict with the standard fields; status defaults from the rating."""
    if status is None:
        status = "full" if rating is not None else "unread"
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    return {
        "rating": None if rating is None else int(rating),
        "expected_rating": None if expected_rating is None else float(expected_rating),
        "valid_mass": None if valid_mass is None else float(valid_mass),
        "status": status,
        "reason": reason,
    }


def elicit(
    items: pd.DataFrame,
    backend: LikertBackend,
    cache: JudgmentCache | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Elicit one Likert judgment per item and return the judgment records.

    Parameters
    ----------
    items
        One row per prompt with the columns :data:`ITEM_COLUMNS` (as
        :func:`vatnb.steering.evaluation_items` builds them).
    backend
        An ``hf``, ``openai``, ``simulated`` or ``replay`` backend.
    cache
        Where judgments are looked up first and stored as they arrive; None
        elicits everything and stores nothing.

    Returns
    -------
    DataFrame
        The record columns plus ``expected_rating``, ``valid_mass``
        (probability-reading backends), ``status``, ``reason`` and ``key``.
        ``rating`` is missing where the answer could not be read; counts per
        condition come from :func:`unreadable_counts`. ``attrs["calls"]``
        holds the number of items sent to the backend.

    Raises
    ------
    RuntimeError
        When the backend returns from ``judge`` without a judgment for every
        item it was given. The judgments it did return are cached first.
    """
    missing = [column for column in ITEM_COLUMNS if column not in items.columns]
    if missing:
        raise ValueError(f"items lack the columns {missing}; expected {list(ITEM_COLUMNS)}")
    settings = backend.settings()
    table = items.reset_index(drop=True)
    keys = [
        judgment_key(backend.name, backend.model, prompt, {**settings, "points": int(points)})
        for prompt, points in zip(table["prompt"], table["scale_points"])
    ]
    judgments: list[dict | None] = [None] * len(table)
    found = cache.get_many(set(keys)) if cache is not None else {}
    for position, key in enumerate(keys):
        if key in found:
            judgments[position] = found[key]
    todo = [position for position, judgment in enumerate(judgments) if judgment is None]
    log.info(
        "eliciting %d of %d judgments with %s/%s (%d from the cache)",
        len(todo), len(table), backend.name, backend.model, len(table) - len(todo),
    )
    calls = _run_backend(table, todo, keys, judgments, backend, cache, progress)

    frame = table.drop(columns=["prompt"]).copy()
    for field in JUDGMENT_FIELDS:
        frame[field] = [judgment.get(field) if judgment else None for judgment in judgments]
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce").astype(float)
    for field in ("expected_rating", "valid_mass"):
        frame[field] = pd.to_numeric(frame[field], errors="coerce").astype(float)
    frame["key"] = keys
    frame.attrs["calls"] = calls
    return frame


def _run_backend(table, todo, keys, judgments, backend, cache, progress) -> int:
    if not todo:
        return 0
    bar = tqdm(total=len(todo), desc=f"{backend.name} judgments", disable=not progress)
    calls = 0
    # Slow network backends commit every judgment; local ones commit per chunk.
    each = bool(getattr(backend, "commit_each_item", False))
    for points, group in pd.Series(todo).groupby(table["scale_points"].to_numpy()[todo]):
        positions = group.to_list()
        rows = table.loc[positions].to_dict("records")
        batch = max(1, int(getattr(backend, "batch_size", 1) or 1))
        for start in range(0, len(positions), max(batch, 256)):
            chunk = positions[start : start + max(batch, 256)]
            chunk_rows = rows[start : start + max(batch, 256)]

            def store(index, judgment, chunk=chunk):
                position = chunk[index]
                judgments[position] = judgment
                if cache is not None and judgment.get("status") != "failed":
                    cache.put(keys[position], backend.name, backend.model, judgment, commit=each)
                bar.update(1)

            backend.judge(chunk_rows, int(points), store)
            if cache is not None:
                cache.commit()
            calls += len(chunk)
            _check_all_judged(backend, chunk, judgments)
    bar.close()
    return calls


def _check_all_judged(backend, positions, judgments) -> None:
    """Raise RuntimeError when ``backend.judge`` returned without a judgment for some of ``positions``."""
    unjudged = [position for position in positions if judgments[position] is None]
    if not unjudged:
        return
    rows = ", ".join(map(str, unjudged[:5])) + (" and more" if len(unjudged) > 5 else "")
    raise RuntimeError(
        f"backend {backend.name} (model {backend.model}) returned no judgment for {len(unjudged)} of "
        f"{len(positions)} items (rows {rows} of the items table, counted from 0). The judgments it "
        "did return are in the cache, if one was given. A backend must call on_judgment once per "
        f"item, so check its settings, such as batch_size={getattr(backend, 'batch_size', None)!r}."
    )


def probabilities_to_judgment(probabilities, valid_mass_floor: float = 0.0) -> dict:
    """Turn next-token probabilities of the options 1..k into a judgment.

    ``probabilities`` are the raw (unnormalised over the options) next-token
    probabilities of "1".."k". The rating is their argmax; the expected
    rating is sum(r * p_r) / sum(p_r); ``valid_mass`` is sum(p_r), the share
    of the next-token distribution that fell on a valid option. A valid mass
    of 0 (or below ``valid_mass_floor``) is unread.
    """
    probs = np.asarray(probabilities, dtype=float)
    mass = float(probs.sum())
    if not math.isfinite(mass) or mass <= valid_mass_floor or mass == 0.0:
        return make_judgment(valid_mass=mass if math.isfinite(mass) else None, reason="no_valid_mass")
    options = np.arange(1, len(probs) + 1)
    return make_judgment(
        rating=int(options[int(np.argmax(probs))]),
        expected_rating=float((options * probs).sum() / mass),
        valid_mass=mass,
    )


def unreadable_counts(records: pd.DataFrame) -> pd.DataFrame:
    """Count unreadable and failed judgments per condition (they stay missing, never imputed)."""
    table = records.assign(
        unread=records["status"].eq("unread"), failed=records["status"].eq("failed")
    )
    counts = table.groupby("condition", observed=True)[["unread", "failed"]].sum()
    counts["judgments"] = table.groupby("condition", observed=True).size()
    counts["unread share"] = counts["unread"] / counts["judgments"]
    return counts.reset_index()
