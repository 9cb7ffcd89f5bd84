"""Read Likert answers out of raw model text, and say exactly what could not be read.

Real answers arrive as bare JSON, JSON inside code fences, JSON after a
paragraph of prose, JSON with single quotes, values written as ``"1"``,
``"1: strongly agree"`` or just ``"strongly agree"``, and refusals with no JSON
at all. The parsers here read every one of these forms and never guess: a
value that cannot be read is reported with its reason and left missing.

Status of a parsed answer:

* ``full``: every expected item was read;
* ``partial``: some items were read, the others are listed in ``reasons``;
* ``unread``: nothing could be read; ``reasons`` says why (``empty``,
  ``refusal``, ``no_json``, ``invalid_json``, ``no_readable_items``).

Reasons for single items: ``unknown_name``, ``out_of_range``,
``not_applicable``, ``unreadable_value`` (including NaN and infinity),
``ambiguous`` (a range such as "1-2"), ``conflicting_duplicate`` and
``missing_item`` (an expected micro-value the answer did not mention). An
answer cut off before its closing brace is read up to its last complete
``"key": "value"`` pair and carries the reason ``truncated``.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from vatnb.taxonomy import MICRO_VALUES, UnknownValueError, canonical_micro_value

# Option labels of the ValueActionLens value survey (4 points, descending:
# 1 = strongest agreement). Claim framing and portrait framing.
SURVEY_LABELS: dict[str, int] = {
    "strongly agree": 1,
    "agree": 2,
    "disagree": 3,
    "strongly disagree": 4,
    "very much like me": 1,
    "like me": 2,
    "not like me": 3,
    "not like me at all": 4,
}

NOT_APPLICABLE = {"na", "n/a", "none", "not applicable", "null", ""}

_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i can(?:'|no)t|i cannot|i'm unable|i am unable|as an ai)\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"```[a-zA-Z]*\s*(\{.*?\})\s*```", re.DOTALL)
_COMPLETE_PAIR = re.compile(r'"([^"\n]+)"\s*:\s*"([^"\n]*)"\s*[,\n]')
# A number at the start, followed by a label separator or nothing ("2", "2: agree", "2.").
_LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:[:.)]|-\s*\D|$)")
# Two numbers joined by a dash or "to" ("1-2", "4 to 5") name a range, not one rating.
_RANGE = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:-|–|to)\s*\d", re.IGNORECASE)


@dataclass
class ParsedAnswer:
    """What a parser read from one answer, and why the rest could not be read."""

    status: str
    ratings: dict[str, int] = field(default_factory=dict)
    reasons: Counter = field(default_factory=Counter)
    unknown_names: list[str] = field(default_factory=list)

    @property
    def rating(self) -> int | None:
        """The single rating of a one-item answer (``parse_single_rating``)."""
        return self.ratings.get("rating")


def _json_candidate(text: str) -> str | None:
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        return None
    return text[start : end + 1]


def _truncated_pairs(text: str) -> list[tuple[str, object]] | None:
    """Return the complete ``"key": value`` pairs of an object cut off before its ``}``."""
    start = text.find("{")
    if start == -1 or "}" in text[start:]:
        return None
    pairs = _COMPLETE_PAIR.findall(text[start:])
    return [(key, value) for key, value in pairs] or None


def _load_object(candidate: str) -> list[tuple[str, object]] | None:
    """Return the key/value pairs of a JSON-like object, duplicates kept, or None."""
    try:
        return json.loads(candidate, object_pairs_hook=list)
    except json.JSONDecodeError:
        pass
    # Repairs for model output: trailing commas, then Python-style single quotes.
    repaired = re.sub(r",\s*([}\]])", r"\1", candidate)
    try:
        return json.loads(repaired, object_pairs_hook=list)
    except json.JSONDecodeError:
        pass
    try:
        value = ast.literal_eval(repaired)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return list(value.items()) if isinstance(value, dict) else None


def read_rating_value(value: object, points: int, labels: dict[str, int] | None = None):
    """Read one rating written as 2, "2", "2: agree" or "agree".

    Returns ``(rating, None)`` on success and ``(None, reason)`` otherwise.
    """
    if isinstance(value, bool):
        return None, "unreadable_value"
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return None, "unreadable_value"
    elif isinstance(value, str):
        text = value.strip().strip("*").strip()
        folded = text.casefold()
        if folded in NOT_APPLICABLE:
            return None, "not_applicable"
        if _RANGE.match(text):
            return None, "ambiguous"
        match = _LEADING_NUMBER.match(text)
        if match:
            number = float(match.group(1))
        elif labels and folded.rstrip(".") in labels:
            return labels[folded.rstrip(".")], None
        else:
            return None, "unreadable_value"
    elif value is None:
        return None, "not_applicable"
    else:
        return None, "unreadable_value"
    if number != int(number) or not 1 <= number <= points:
        return None, "out_of_range"
    return int(number), None


def parse_survey_answer(
    text: object, points: int = 4, labels: dict[str, int] | None = None
) -> ParsedAnswer:
    """Parse a value-survey answer that rates many micro-values in one JSON object.

    Parameters
    ----------
    text
        The raw model output (NaN or None count as ``empty``).
    points
        Number of scale points; ratings outside ``1..points`` are ``out_of_range``.
    labels
        Option labels accepted in place of numbers (default: the ValueActionLens
        4-point labels, :data:`SURVEY_LABELS`).

    Returns
    -------
    ParsedAnswer
        ``ratings`` maps canonical micro-value names to integer ratings as
        written (direction is applied later, by :func:`vatnb.metrics.phi`).
    """
    labels = SURVEY_LABELS if labels is None else labels
    if not isinstance(text, str) or not text.strip():
        return ParsedAnswer("unread", reasons=Counter(empty=1))
    answer = ParsedAnswer("unread")
    candidate = _json_candidate(text)
    if candidate is not None:
        pairs = _load_object(candidate)
        if pairs is None:
            return ParsedAnswer("unread", reasons=Counter(invalid_json=1))
    else:
        # An answer cut off mid-object keeps the pairs that were written in full.
        pairs = _truncated_pairs(text)
        if pairs is None:
            reason = "refusal" if _REFUSAL.search(text) else "no_json"
            return ParsedAnswer("unread", reasons=Counter({reason: 1}))
        answer.reasons["truncated"] += 1
    seen: dict[str, int | None] = {}
    for key, value in pairs:
        try:
            name = canonical_micro_value(str(key))
        except UnknownValueError:
            answer.reasons["unknown_name"] += 1
            answer.unknown_names.append(str(key))
            continue
        rating, reason = read_rating_value(value, points, labels)
        if name in seen and seen[name] != rating:
            seen[name] = None
            answer.reasons["conflicting_duplicate"] += 1
            continue
        seen.setdefault(name, rating)
        if reason:
            answer.reasons[reason] += 1
    answer.ratings = {name: rating for name, rating in seen.items() if rating is not None}
    missing = [name for name in MICRO_VALUES if name not in seen]
    if missing:
        answer.reasons["missing_item"] += len(missing)
    if not answer.ratings:
        answer.status = "unread"
        answer.reasons["no_readable_items"] += 1
    elif len(answer.ratings) == len(MICRO_VALUES):
        answer.status = "full"
    else:
        answer.status = "partial"
    return answer


def parse_single_rating(
    text: object, points: int = 5, labels: dict[str, int] | None = None
) -> ParsedAnswer:
    """Parse a one-item Likert answer such as ``"4"``, ``"Rating: 4"`` or ``{"rating": 4}``.

    A JSON object is read from its ``rating``/``answer``/``score`` key. Otherwise
    the answer is read when it starts with a number, or when it mentions exactly
    one distinct number in ``1..points``; anything else is ``unread`` with the
    reason ``ambiguous`` or ``no_rating``.
    """
    if not isinstance(text, str) or not text.strip():
        return ParsedAnswer("unread", reasons=Counter(empty=1))
    candidate = _json_candidate(text)
    if candidate is not None:
        pairs = _load_object(candidate)
        if pairs:
            lookup = {str(key).casefold(): value for key, value in pairs}
            for key in ("rating", "answer", "score", "response"):
                if key in lookup:
                    rating, reason = read_rating_value(lookup[key], points, labels)
                    return _single(rating, reason)
    rating, reason = read_rating_value(text, points, labels)
    if rating is not None or reason == "out_of_range":
        return _single(rating, reason)
    if re.search(r"\d[eE][+-]?\d", text):
        return _single(None, "unreadable_value")  # scientific notation is no Likert answer
    numbers = {int(n) for n in re.findall(r"(?<![\d.])(\d+)(?!\d|\.\d)", text)}
    in_range = {n for n in numbers if 1 <= n <= points}
    if len(in_range) == 1:
        return _single(in_range.pop(), None)
    if len(in_range) > 1:
        return _single(None, "ambiguous")
    if _REFUSAL.search(text):
        return _single(None, "refusal")
    return _single(None, "no_rating")


def _single(rating: int | None, reason: str | None) -> ParsedAnswer:
    if rating is None:
        return ParsedAnswer("unread", reasons=Counter({reason or "no_rating": 1}))
    return ParsedAnswer("full", ratings={"rating": rating})
