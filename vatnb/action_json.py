"""Read the action out of the JSON-like outputs of the ValueActionLens generator.

Each output should be a JSON object with the keys "Human Action", "Feature
Attributions" and "Natural Language Explanation". Real outputs deviate: some
are wrapped in Markdown code fences or preceded by prose, some use Python
style single quotes, and some of those contain unescaped apostrophes inside
single-quoted strings, which no parser accepts. The repairs are tried in
order, from strict to lenient, and each output is counted as clean, repaired
(with the repair that worked) or unreadable.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass, field

ACTION_KEY = "Human Action"
OUTPUT_KEYS = ("Human Action", "Feature Attributions", "Natural Language Explanation")

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)\s*```", re.DOTALL)


@dataclass
class ActionParseReport:
    """Counts of generator outputs by how their action was read."""

    total: int = 0
    clean: int = 0
    repaired: int = 0
    unreadable: int = 0
    repairs: Counter = field(default_factory=Counter)
    unreadable_rows: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Return the counts as a flat mapping (repair kinds prefixed with ``repaired:``)."""
        counts = {
            "total": self.total,
            "clean": self.clean,
            "repaired": self.repaired,
            "unreadable": self.unreadable,
        }
        for kind, count in sorted(self.repairs.items()):
            counts[f"repaired: {kind}"] = count
        return counts


def parse_action_output(text: object) -> tuple[str | None, str]:
    """Return the action of one generator output and how it was read.

    The second item is ``"clean"`` (strict JSON), one of the repair kinds
    ``"code fence or prose removed"``, ``"single quotes"``,
    ``"fields cut at key positions"``, or ``"unreadable"`` (then the action is None).
    """
    if not isinstance(text, str) or not text.strip():
        return None, "unreadable"
    stripped = text.strip()
    action = _action_from_json(stripped)
    if action is not None:
        return action, "clean"
    body = _object_text(stripped)
    if body is None:
        return None, "unreadable"
    action = _action_from_json(body)
    if action is not None:
        return action, "code fence or prose removed"
    action = _action_from_python_literal(body)
    if action is not None:
        return action, "single quotes"
    action = _action_from_key_positions(body)
    if action is not None:
        return action, "fields cut at key positions"
    return None, "unreadable"


def parse_action_outputs(texts: list[object]) -> tuple[list[str | None], ActionParseReport]:
    """Parse many generator outputs; return the actions (None where unreadable) and the counts."""
    report = ActionParseReport(total=len(texts))
    actions: list[str | None] = []
    for row, text in enumerate(texts):
        action, kind = parse_action_output(text)
        actions.append(action)
        if kind == "clean":
            report.clean += 1
        elif kind == "unreadable":
            report.unreadable += 1
            report.unreadable_rows.append(row)
        else:
            report.repaired += 1
            report.repairs[kind] += 1
    return actions, report


def _object_text(text: str) -> str | None:
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0:
        return None
    if end <= start:
        # A truncated output has no closing brace; the key-position reader may still find the action.
        return text[start:]
    return text[start : end + 1]


def _clean_action(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def _action_from_json(text: str) -> str | None:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return None
    return _clean_action(parsed.get(ACTION_KEY)) if isinstance(parsed, dict) else None


def _action_from_python_literal(text: str) -> str | None:
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return _clean_action(parsed.get(ACTION_KEY)) if isinstance(parsed, dict) else None


def _action_from_key_positions(text: str) -> str | None:
    """Cut the action between its key and the next known key.

    This tolerates apostrophes inside single-quoted strings ("India's"),
    because it never tokenizes the string itself.
    """
    key = re.search(r"""["']Human Action["']\s*:\s*""", text)
    if key is None:
        return None
    rest = text[key.end():]
    next_keys = [
        match.start()
        for other in OUTPUT_KEYS[1:]
        for match in [re.search(rf"""["']{other}["']\s*:""", rest)]
        if match is not None
    ]
    if next_keys:
        end = min(next_keys)
    else:
        end = rest.rfind("}")
    if end <= 0:
        return None
    value = rest[:end].strip().rstrip(",").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return _clean_action(value)
